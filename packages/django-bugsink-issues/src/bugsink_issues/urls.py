from django.urls import path

from bugsink_issues.ui.csp import with_content_security_policy
from bugsink_issues.ui.views import (
    attachments,
    auth,
    detail,
    feedback,
    issues,
    monitors,
    notifications,
    projects,
    releases,
    teams,
    tokens,
)
from bugsink_issues.ui.views.common import styled_errors as ui

app_name = "bugsink_issues"

project = "projects/<int:project_id>/"
issue = "issues/<int:issue_id>/"
key = project + "keys/<int:key_id>/"
attachment = issue + "events/<int:event_pk>/attachments/<int:attachment_id>/"
# Every view is wrapped in `ui`: what it refuses gets the UI's own 404 and 403 pages.
urlpatterns = [
    path("", ui(projects.project_list), name="projects"),
    path("projects/new/", ui(projects.project_create), name="project_create"),
    path(project, ui(issues.project_issues), name="project_issues"),
    path(project + "setup/", ui(projects.project_setup), name="project_setup"),
    path(project + "keys/new/", ui(projects.project_key_create), name="project_key_create"),
    path(key + "deactivate/", ui(projects.project_key_deactivate), name="project_key_deactivate"),
    path(key + "reactivate/", ui(projects.project_key_reactivate), name="project_key_reactivate"),
    path(project + "settings/", ui(projects.project_settings), name="project_settings"),
    path(project + "team/", ui(projects.project_team), name="project_team"),
    path(project + "releases/", ui(releases.project_releases), name="project_releases"),
    path(
        project + "releases/<int:release_id>/",
        ui(releases.release_detail),
        name="release",
    ),
    path(project + "monitors/", ui(monitors.project_monitors), name="project_monitors"),
    path(project + "feedback/", ui(feedback.project_feedback), name="project_feedback"),
    path(
        project + "releases/<int:release_id>/delete/",
        ui(releases.release_delete),
        name="release_delete",
    ),
    path(
        project + "bundles/<int:bundle_id>/delete/",
        ui(releases.bundle_delete),
        name="bundle_delete",
    ),
    path(
        project + "files/<int:file_id>/delete/",
        ui(releases.release_file_delete),
        name="release_file_delete",
    ),
    path(project + "channels/new/", ui(projects.channel_create), name="channel_create"),
    path(
        project + "channels/<int:channel_id>/test/",
        ui(projects.channel_test),
        name="channel_test",
    ),
    path(
        project + "channels/<int:channel_id>/delete/",
        ui(projects.channel_delete),
        name="channel_delete",
    ),
    path("issues/", ui(issues.all_issues), name="all_issues"),
    path("issues/bulk/", ui(issues.bulk_action), name="bulk_action"),
    path("issues/bulk/matching/", ui(issues.bulk_matching), name="bulk_matching"),
    path(issue, ui(detail.issue_detail), name="issue"),
    path(issue + "action/", ui(issues.issue_action), name="issue_action"),
    path(issue + "comment/", ui(issues.issue_comment), name="issue_comment"),
    path(issue + "assign/", ui(issues.issue_assign), name="issue_assign"),
    path(issue + "export.<str:fmt>", ui(detail.issue_export), name="issue_export"),
    path(issue + "events/<int:event_pk>/", ui(detail.issue_detail), name="event"),
    path(
        issue + "events/<int:event_pk>/export.<str:fmt>",
        ui(detail.event_export),
        name="event_export",
    ),
    path(issue + "events/id/<str:event_id>/", ui(detail.event_by_id), name="event_by_id"),
    path(attachment, ui(attachments.attachment_preview), name="attachment"),
    path(attachment + "download/", ui(attachments.attachment_download), name="attachment_download"),
    path(attachment + "image/", ui(attachments.attachment_image), name="attachment_image"),
    path("teams/", ui(teams.team_list), name="teams"),
    path("teams/<int:team_id>/", ui(teams.team_detail), name="team"),
    path("teams/<int:team_id>/members/", ui(teams.member_add), name="member_add"),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/",
        ui(teams.member_change),
        name="member_change",
    ),
    path("teams/<int:team_id>/invitations/", ui(teams.invitation_create), name="invitation_create"),
    path(
        "teams/<int:team_id>/invitations/<int:invitation_id>/revoke/",
        ui(teams.invitation_revoke),
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", ui(teams.invitation_accept), name="invitation"),
    path("preferences/", ui(teams.preferences), name="preferences"),
    path(
        "preferences/notifications/",
        ui(notifications.notification_settings),
        name="notifications",
    ),
    path("preferences/tokens/", ui(tokens.token_list), name="tokens"),
    path("preferences/tokens/<int:token_id>/revoke/", ui(tokens.token_revoke), name="token_revoke"),
    # For standalone use; an embedding host keeps its own login (ui/login.py decides, LOGIN_URL
    # is respected).
    path("login/", ui(auth.LoginView.as_view()), name="login"),
    path("logout/", ui(auth.LogoutView.as_view()), name="logout"),
]

# Every page of the UI carries its Content-Security-Policy, wherever the UI is mounted.
urlpatterns = with_content_security_policy(urlpatterns)
