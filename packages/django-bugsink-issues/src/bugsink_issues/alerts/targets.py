"""Whether a channel's target can be used, checked when the channel is saved.

A webhook URL must be http(s) with a host and a valid port; one written with an IP address must be
an address the installation lets webhooks call (addresses.py). A name is not resolved here (its
addresses may change): each send checks what it resolves to then. Email targets must be addresses.
AlertChannel.clean() calls `target_problem`, so the UI's form and the admin both refuse a bad
target with the reason, instead of the first alert failing.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from bugsink_issues.alerts.addresses import AddressRefused, check_address
from bugsink_issues.alerts.outbound import RefusedTarget, parse_target

__all__ = ["email_addresses", "target_problem"]

EMAIL = "email"


def email_addresses(target: str) -> list[str]:
    """The comma- or semicolon-separated addresses of an email channel."""
    return [a.strip() for a in target.replace(";", ",").split(",") if a.strip()]


def target_problem(kind: str, target: str) -> str | None:
    """Why `target` cannot be used for a channel of `kind`, as a sentence; None when it can."""
    if kind == EMAIL:
        addresses = email_addresses(target)
        if not addresses:
            return "Enter at least one email address."
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                return f"{address!r} is not an email address."
        return None
    try:
        parsed = parse_target(target)
    except RefusedTarget as exc:
        return f"Enter the webhook's http:// or https:// URL ({exc})."
    if parsed.literal_ip:
        try:
            check_address(parsed.literal_ip)
        except AddressRefused as exc:
            return f"The {exc}."
    return None
