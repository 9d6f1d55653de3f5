"""Readiness of the worker side, for any health framework to call (snappea has no view of its own).

`foreman_readiness()` says whether the foreman is doing its job: its state is running or idle, its
heartbeat is at most SNAPPEA_READY_MAX_HEARTBEAT_AGE seconds old, and no due task has waited longer
than SNAPPEA_READY_MAX_TASK_WAIT seconds. SnappeaConfig.readiness_checks names it, so a registry
that collects readiness checks from app configs finds it.
"""

import logging
from typing import NotRequired, TypedDict

from snappea.conf import snappea_settings
from snappea.status import HEALTHY_STATES, State, foreman_status

logger = logging.getLogger("snappea.health")


class Readiness(TypedDict):
    ok: bool
    # The figures (absent only when the settings themselves cannot be read):
    state: NotRequired[State]
    heartbeat_age_seconds: NotRequired[float | None]
    backlog: NotRequired[int | None]
    oldest_waiting_seconds: NotRequired[float | None]
    failed: NotRequired[int | None]
    max_heartbeat_age_seconds: NotRequired[float]
    max_task_wait_seconds: NotRequired[float]
    reason: NotRequired[str]  # why not ready (absent when ready)
    error: NotRequired[str]  # the queue or the settings could not be read


def foreman_readiness() -> Readiness:
    """{"ok": bool, ...figures}: JSON-serialisable, and it never raises."""
    try:
        conf = snappea_settings()
        status = foreman_status()
    except Exception as exc:  # a readiness probe reports, it does not crash
        logger.warning("snappea readiness: %s", exc)
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    age = status["heartbeat_age_seconds"]
    waited = status["oldest_waiting_seconds"]
    readiness: Readiness = {
        "ok": True,
        "state": status["state"],
        "heartbeat_age_seconds": age,
        "backlog": status["backlog"],
        "oldest_waiting_seconds": waited,
        "failed": status["failed"],
        "max_heartbeat_age_seconds": conf.ready_max_heartbeat_age,
        "max_task_wait_seconds": conf.ready_max_task_wait,
    }
    reason = None
    if "error" in status:
        reason = "the queue database cannot be read"
        readiness["error"] = status["error"]
    elif status["state"] not in HEALTHY_STATES:
        reason = f"the foreman is {status['state']}"
    elif age is None or age > conf.ready_max_heartbeat_age:
        reason = "the foreman's heartbeat is older than SNAPPEA_READY_MAX_HEARTBEAT_AGE"
    elif waited is not None and waited > conf.ready_max_task_wait:
        reason = "a due task has waited longer than SNAPPEA_READY_MAX_TASK_WAIT"
    if reason is not None:
        readiness["ok"] = False
        readiness["reason"] = reason
    return readiness
