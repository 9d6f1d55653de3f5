"""Compact column types for rows the digest writes many of."""

from datetime import UTC, datetime, timedelta

from django.db import models

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_microseconds(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (exact)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_microseconds(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


class MicrosecondsField(models.BigIntegerField):
    """An aware datetime stored as integer microseconds since the epoch (UTC).

    Django keeps SQLite datetimes as 26-character text; this is an 8-byte integer on every
    backend, exact to the microsecond, and Python code sees datetimes both ways (filters too).
    For wide per-issue tables; columns that SQL date functions or the admin work on stay
    DateTimeField."""

    description = "Date and time as microseconds since the Unix epoch"

    def from_db_value(self, value, expression, connection):
        return None if value is None else from_microseconds(int(value))

    def to_python(self, value):
        if value is None or isinstance(value, datetime):
            return value
        return from_microseconds(int(value))

    def get_prep_value(self, value):
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{self.name}: naive datetime {value!r}; use an aware one")
            return to_microseconds(value)
        return super().get_prep_value(value)

    @property
    def validators(self):
        return []  # the integer range validators would compare datetimes with ints
