"""Team invitations: bound to the invited address, expiring, single-use.

An admin invites an address (`create`); the link is e-mailed (`send`) and shown to copy. Whoever
opens it: without an account they are led to the host's sign-up (SIGNUP_URL), with one to its login;
the invitation being followed is kept in the session (`remember`, `pending`), so that a host's
sign-up can bind itself to that address. Only a user who has proven the address (USER_EMAILS)
accepts it (`accept`), once: the claim is a conditional UPDATE, so two accepts racing each other
make one membership.
"""

import logging
import smtplib
from collections.abc import Iterable
from functools import cache

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from bugsink_issues.conf import app_settings
from bugsink_issues.models.access import Invitation, TeamMembership, TeamRole

__all__ = [
    "SESSION_KEY",
    "InvitationRefused",
    "accept",
    "address_has_account",
    "create",
    "email_field",
    "forget",
    "link_for",
    "pending",
    "refusal_for",
    "remember",
    "send",
    "user_addresses",
]

logger = logging.getLogger(__name__)

SESSION_KEY = "bugsink_issues_invitation"


class InvitationRefused(Exception):
    """Why this user cannot accept this invitation: `reason` is "used", "expired" or "address"."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def normalize(email: str) -> str:
    return email.strip().lower()


def create(team, email: str, role: str, invited_by) -> Invitation:
    """A new invitation for `email`; a pending one for the same team and address is replaced
    (its link stops working), so re-inviting is also how a lost link is renewed."""
    email = normalize(email)
    with transaction.atomic():
        team.invitations.pending().filter(email=email).delete()
        return Invitation.objects.create(team=team, email=email, role=role, invited_by=invited_by)


def link_for(invitation: Invitation, request=None) -> str:
    path = reverse("bugsink_issues:invitation", args=[invitation.token])
    base = app_settings.BASE_URL.rstrip("/")
    if base:
        return base + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def send(invitation: Invitation, link: str) -> bool:
    """E-mail the invitation to its address; False (and a log line) when the mail server fails."""
    context = {"invitation": invitation, "link": link, "team": invitation.team}
    subject = f"You are invited to join {invitation.team.name} on Bugsink"
    body = render_to_string("bugsink_issues/teams/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning(
            "invitation %s: e-mail to %s failed: %s", invitation.pk, invitation.email, exc
        )
        return False
    return True


def email_field(user) -> list[str]:
    """The default of USER_EMAILS: the user's `email` field (set by an admin, or by a host whose
    sign-up verifies it)."""
    email = getattr(user, "email", "") or ""
    return [email] if email else []


@cache
def _addresses_function(path: str):
    return import_string(path)


def user_addresses(user) -> set[str]:
    """The addresses `user` has proven, lower-case (the USER_EMAILS setting decides)."""
    if not user.is_authenticated:
        return set()
    found: Iterable[str] = _addresses_function(app_settings.USER_EMAILS)(user)
    return {normalize(address) for address in found if address}


def refusal_for(invitation: Invitation, user) -> InvitationRefused | None:
    if invitation.is_used:
        return InvitationRefused("used", "This invitation was used already.")
    if invitation.is_expired:
        return InvitationRefused(
            "expired", "This invitation has expired: ask a team admin for a new one."
        )
    if normalize(invitation.email) not in user_addresses(user):
        return InvitationRefused(
            "address",
            f"This invitation is for {invitation.email}, which is not an address of your "
            "account. Log in with that address, or ask for an invitation to yours.",
        )
    return None


def accept(invitation: Invitation, user) -> TeamMembership:
    """Make `user` a member of the invitation's team; raises InvitationRefused."""
    refusal = refusal_for(invitation, user)
    if refusal is not None:
        raise refusal
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now, accepted_by=user)
        if claimed != 1:  # accepted (or expired) since it was read
            raise InvitationRefused("used", "This invitation was used already.")
        membership, created = TeamMembership.objects.get_or_create(
            team_id=invitation.team_id, user=user, defaults={"role": invitation.role}
        )
        if not created and invitation.role == TeamRole.ADMIN and not membership.is_admin:
            membership.role = TeamRole.ADMIN
            membership.save(update_fields=["role"])
    invitation.accepted_at, invitation.accepted_by = now, user
    return membership


def address_has_account(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=normalize(email)).exists()


def remember(request, invitation: Invitation) -> None:
    """Keep the invitation being followed in the session (through sign-up or login)."""
    request.session[SESSION_KEY] = invitation.token


def pending(request) -> Invitation | None:
    """The invitation this visitor is following, if it can still be accepted (a host's sign-up
    binds itself to its address with this)."""
    token = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not token:
        return None
    invitation = Invitation.objects.pending().filter(token=token).select_related("team").first()
    if invitation is None:
        forget(request)
    return invitation


def forget(request) -> None:
    request.session.pop(SESSION_KEY, None)
