"""The addresses a user has proven: what invitations are checked against (USER_EMAILS)."""

from django.db import IntegrityError, transaction


def verified_addresses(user) -> list[str]:
    """allauth's verified addresses of `user`; for a user allauth has no address of (created by
    an administrator: BUGSINK_ADMIN, the Django admin, createsuperuser), the `email` field."""
    from allauth.account.models import EmailAddress

    rows = list(EmailAddress.objects.filter(user=user).values_list("email", "verified"))
    if not rows:
        return [user.email] if user.email else []
    return [email for email, verified in rows if verified]


def trust_admin_set_address(user) -> None:
    """Record the address an administrator set as verified, when allauth has none for the user.

    Before a login: with mandatory verification allauth would otherwise hold the first login of such
    a user until a link is clicked, and the first SSO login matching the address would wipe the
    user's password (it takes an address without a record for one an attacker signed up with).
    A user who signed up through allauth always has records, so this trusts administrators only.
    """
    from allauth.account.models import EmailAddress

    if not user.pk or not user.email or EmailAddress.objects.filter(user=user).exists():
        return
    try:
        with transaction.atomic():
            EmailAddress.objects.create(
                user=user, email=user.email.lower(), verified=True, primary=True
            )
    except IntegrityError:
        pass  # another account has this address verified: leave both as they are
