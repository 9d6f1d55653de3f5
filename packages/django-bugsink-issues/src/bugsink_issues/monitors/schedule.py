"""A monitor's schedule, as the SDKs' `monitor_config` gives it, and when its next check-in is due.

Crontab expressions are read by cronsim (the cron evaluator of Healthchecks.io, made for exactly
this: when is a cron job next due, in a time zone, across DST changes); the nicknames (@daily...)
are mapped to their five fields first, as cronsim takes five fields only.
"""

import calendar
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cronsim import CronSim, CronSimError

NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
INTERVAL_UNITS = {"minute", "hour", "day", "week", "month", "year"}
MAX_INTERVAL = 10_000  # units: a bound against absurd values, far above any real schedule


class InvalidConfig(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    type: str  # "crontab" | "interval"
    value: str  # the crontab expression, or the interval's count
    unit: str = ""  # interval only
    timezone: str = "UTC"

    def describe(self) -> str:
        if self.type == "interval":
            count = int(self.value)
            return f"every {count} {self.unit}{'s' if count != 1 else ''}"
        return f"{self.value} ({self.timezone})"

    def next_after(self, moment: datetime) -> datetime:
        """The first due time strictly after `moment` (aware), in UTC."""
        tz = zone(self.timezone)
        local = moment.astimezone(tz)
        if self.type == "interval":
            due = _add(local, int(self.value), self.unit)
        else:
            due = next(CronSim(crontab(self.value), local))
        return due.astimezone(zoneinfo.ZoneInfo("UTC"))


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def crontab(value: str) -> str:
    return NICKNAMES.get(value.strip().lower(), value.strip())


def _add(moment: datetime, count: int, unit: str) -> datetime:
    if unit in ("month", "year"):
        months = count * (12 if unit == "year" else 1)
        year, month = divmod(moment.month - 1 + months, 12)
        year += moment.year
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)
    return moment + timedelta(**{f"{unit}s": count})


def parse_config(config: Any) -> dict[str, Any]:
    """The Monitor fields a `monitor_config` sets; InvalidConfig says what is wrong with it."""
    if not isinstance(config, dict):
        raise InvalidConfig("monitor_config is not an object")
    raw = config.get("schedule")
    if not isinstance(raw, dict):
        raise InvalidConfig("monitor_config has no schedule object")
    kind = raw.get("type")
    fields: dict[str, Any] = {}
    if kind == "crontab":
        value = raw.get("value")
        if not isinstance(value, str) or not value.strip() or len(value) > 128:
            raise InvalidConfig("crontab schedule without a crontab expression")
        try:
            CronSim(crontab(value), datetime(2000, 1, 1))
        except CronSimError as exc:
            raise InvalidConfig(f"crontab {value!r}: {exc}") from None
        fields.update(schedule_type="crontab", schedule_value=value.strip(), schedule_unit="")
    elif kind == "interval":
        value, unit = raw.get("value"), raw.get("unit")
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_INTERVAL:
            raise InvalidConfig("interval schedule without a positive count")
        if unit not in INTERVAL_UNITS:
            raise InvalidConfig(f"interval unit {unit!r} is none of {sorted(INTERVAL_UNITS)}")
        fields.update(schedule_type="interval", schedule_value=str(value), schedule_unit=unit)
    else:
        raise InvalidConfig(f"schedule type {kind!r} is neither crontab nor interval")
    for name in ("checkin_margin", "max_runtime"):
        minutes = config.get(name)
        if isinstance(minutes, (int, float)) and not isinstance(minutes, bool) and minutes >= 0:
            fields[name] = min(int(minutes), 10**6)
    tz = config.get("timezone")
    if isinstance(tz, str) and tz:
        fields["timezone"] = tz if len(tz) <= 64 and zone(tz).key == tz else "UTC"
    return fields


def schedule_of(monitor) -> Schedule | None:
    if not monitor.schedule_type:
        return None
    return Schedule(
        monitor.schedule_type, monitor.schedule_value, monitor.schedule_unit, monitor.timezone
    )
