"""Users, and the answer of GET /api/0/ (what `sentry-cli info` shows)."""

from datetime import datetime

from ninja import Schema

__all__ = ["AuthOut", "IndexOut", "UserOut", "user_out"]


class UserOut(Schema):
    id: str
    name: str
    username: str
    email: str
    isActive: bool
    isSuperuser: bool
    dateJoined: datetime
    lastLogin: datetime | None


class AuthOut(Schema):
    scopes: list[str]


class IndexOut(Schema):
    version: str
    auth: AuthOut | None
    user: UserOut | None


def user_out(user):
    return UserOut(
        id=str(user.pk),
        name=user.get_full_name() or user.get_username(),
        username=user.get_username(),
        email=getattr(user, "email", "") or "",
        isActive=user.is_active,
        isSuperuser=user.is_superuser,
        dateJoined=user.date_joined,
        lastLogin=user.last_login,
    )
