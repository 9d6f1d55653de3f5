from django.contrib.auth import views as auth_views
from django.urls import path

from bugsink_issues.ui.views import auth, detail, issues, projects, teams

app_name = "bugsink_issues"

issue = "issues/<int:issue_id>/"
urlpatterns = [
    path("", projects.project_list, name="projects"),
    path("projects/new/", projects.project_create, name="project_create"),
    path("projects/<int:project_id>/", issues.project_issues, name="project_issues"),
    path("projects/<int:project_id>/setup/", projects.project_setup, name="project_setup"),
    path(
        "projects/<int:project_id>/keys/new/",
        projects.project_key_create,
        name="project_key_create",
    ),
    path(
        "projects/<int:project_id>/keys/<int:key_id>/deactivate/",
        projects.project_key_deactivate,
        name="project_key_deactivate",
    ),
    path("projects/<int:project_id>/settings/", projects.project_settings, name="project_settings"),
    path("projects/<int:project_id>/channels/new/", projects.channel_create, name="channel_create"),
    path(
        "projects/<int:project_id>/channels/<int:channel_id>/test/",
        projects.channel_test,
        name="channel_test",
    ),
    path(
        "projects/<int:project_id>/channels/<int:channel_id>/delete/",
        projects.channel_delete,
        name="channel_delete",
    ),
    path("issues/", issues.all_issues, name="all_issues"),
    path("issues/bulk/", issues.bulk_action, name="bulk_action"),
    path(issue, detail.issue_detail, name="issue"),
    path(issue + "action/", issues.issue_action, name="issue_action"),
    path(issue + "comment/", issues.issue_comment, name="issue_comment"),
    path(issue + "assign/", issues.issue_assign, name="issue_assign"),
    path(issue + "export.<str:fmt>", detail.issue_export, name="issue_export"),
    path(issue + "events/<int:event_pk>/", detail.issue_detail, name="event"),
    path(
        issue + "events/<int:event_pk>/export.<str:fmt>", detail.event_export, name="event_export"
    ),
    path(issue + "events/id/<str:event_id>/", detail.event_by_id, name="event_by_id"),
    path("teams/", teams.team_list, name="teams"),
    path("teams/<int:team_id>/", teams.team_detail, name="team"),
    path("teams/<int:team_id>/members/", teams.member_add, name="member_add"),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/",
        teams.member_change,
        name="member_change",
    ),
    path("teams/<int:team_id>/invitations/", teams.invitation_create, name="invitation_create"),
    path("invitations/<str:token>/", teams.invitation_accept, name="invitation"),
    path("preferences/", teams.preferences, name="preferences"),
    # For standalone use; an embedding host keeps its own login (LOGIN_URL is respected).
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
