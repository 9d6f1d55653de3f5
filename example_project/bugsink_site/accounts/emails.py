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


SELF_SIGNUP_MARK = "_bugsink_self_signup"  # set on the user by the adapters' save_user


def trust_admin_set_address(user) -> None:
    """Record the address an administrator set as verified, when allauth has none for the user.

    Users made outside allauth's sign-up (BUGSINK_ADMIN, the Django admin, createsuperuser) have
    their address from an administrator. Without a verified record, mandatory verification would
    hold their first login until a link is clicked, MFA could not be set up, and the first SSO
    login matching the address would wipe their password (allauth takes an address without a
    verified record for one an attacker may have signed up with).
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


def on_user_saved(sender, instance, created, raw=False, **kwargs):
    """post_save of the user model: a user created outside allauth's sign-up is admin-made."""
    if created and not raw and not getattr(instance, SELF_SIGNUP_MARK, False):
        trust_admin_set_address(instance)
