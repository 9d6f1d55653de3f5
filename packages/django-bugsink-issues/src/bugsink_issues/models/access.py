"""Who may see what: teams, their members (admins or not), invitations, and user preferences."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

__all__ = [
    "Invitation",
    "LastAdminError",
    "ProjectTeam",
    "Team",
    "TeamMembership",
    "TeamRole",
    "UserPreferences",
    "visible_projects",
]


def visible_projects(user):
    """The projects `user` may see: those of their teams; every project for a superuser.

    A function, not a queryset method: Project belongs to bugsink_ingest, which knows nothing of
    teams. The other visibility rules build on this one."""
    from bugsink_ingest.models import Project

    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(team_link__team__memberships__user=user)


class TeamQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The teams `user` is a member of; every team for a superuser."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user)

    def administered_by(self, user):
        """The teams `user` is an admin of; every team for a superuser."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user, memberships__role=TeamRole.ADMIN)


class Team(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TeamRole(models.TextChoices):
    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"


class LastAdminError(ValueError):
    """The change would leave a team without an admin."""

    def __init__(self):
        super().__init__("A team keeps at least one admin: make another member admin first.")


class TeamMembershipManager(models.Manager["TeamMembership"]):
    """Membership changes, each keeping every team with at least one admin. The team row is locked
    first, so two admins demoting each other at once cannot both succeed."""

    def _lock(self, team):
        Team.objects.select_for_update().filter(pk=team.pk).first()

    def _is_last_admin(self, membership):
        return (
            membership.role == TeamRole.ADMIN
            and not self.filter(team_id=membership.team_id, role=TeamRole.ADMIN)
            .exclude(pk=membership.pk)
            .exists()
        )

    @transaction.atomic
    def set_role(self, team, user, role):
        """Add `user` to `team` with `role`, or change their role. LastAdminError if that demotes
        the team's last admin."""
        self._lock(team)
        membership = self.filter(team=team, user=user).first()
        if membership is None:
            return self.create(team=team, user=user, role=role)
        if role != TeamRole.ADMIN and self._is_last_admin(membership):
            raise LastAdminError()
        if membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        return membership

    @transaction.atomic
    def remove(self, membership):
        """LastAdminError if `membership` is the team's last admin."""
        self._lock(membership.team)
        if self._is_last_admin(membership):
            raise LastAdminError()
        membership.delete()


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bugsink_memberships"
    )
    role = models.CharField(max_length=8, choices=TeamRole.choices, default=TeamRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamMembershipManager()

    class Meta:
        ordering = ["team", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="bi_membership_unique")
        ]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def is_admin(self):
        return self.role == TeamRole.ADMIN


class ProjectTeamManager(models.Manager):
    def assign(self, project, team):
        """Give `project` to `team` (moving it from the team it had)."""
        link, _ = self.update_or_create(project=project, defaults={"team": team})
        return link


class ProjectTeam(models.Model):
    """The team a project belongs to. A project without one is visible to superusers only, who
    give it a team in its settings."""

    project = models.OneToOneField(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="team_link"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="project_links")

    objects = ProjectTeamManager()

    def __str__(self):
        return f"{self.project} -> {self.team}"


def new_invitation_token():
    return secrets.token_urlsafe(24)


def invitation_expiry():
    from bugsink_issues.conf import app_settings

    return timezone.now() + timedelta(days=app_settings.INVITATION_DAYS)


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        """Neither accepted nor expired: the ones a team admin still sees (and may revoke)."""
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An invitation to join a team, for one address: only a user who has proven that address
    accepts it (bugsink_issues.invitations), once, before it expires."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # stored lower-case (invitations.create)
    role = models.CharField(max_length=8, choices=TeamRole.choices, default=TeamRole.MEMBER)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} -> {self.team}"

    @property
    def is_used(self):
        return self.accepted_at is not None

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()


class Theme(models.TextChoices):
    AUTO = "auto", "Follow the system"
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


class UserPreferences(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bugsink_preferences"
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.AUTO)

    class Meta:
        verbose_name_plural = "user preferences"

    def __str__(self):
        return f"preferences of {self.user}"
