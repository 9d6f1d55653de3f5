"""Release health and client reports: `session`, `sessions` and `client_report` items, counted as
they arrive (inside the digest's write transaction) into models/health.py.

- A `session` item is one update of one session (`sid`): `init` on its first, then updates with
  its `status` ("ok" while it runs, then "exited", "crashed" or "abnormal") and `errors` so far.
  The session is counted once, at the first update seen of its sid (whether or not that update
  says `init`: an init lost or late must not lose the session), in the hour it `started`. It is
  errored once its `errors` are above 0 or it crashed or ended abnormally; crashed and abnormal
  once it ends so. Its first final status is its final status: later updates of an ended session
  (and out-of-order ones, whatever their `seq`) change nothing.
- A `sessions` item holds aggregates (server-mode SDKs): per started minute and optional `did`,
  how many sessions `exited`, `errored`, `abnormal` and `crashed`, which are final statuses, so
  they are added as they are.
- Users: the `did` (hashed) of a session or aggregate goes to its hour's distinct users, marked
  crashed if a session of theirs crashed; an hour keeps at most RELEASE_HEALTH_MAX_USERS_PER_HOUR.
- A session without a release is not counted (release health is per release).
- A `client_report` adds each `discarded_events` entry's quantity to its (category, reason).

Every item is counted at most once, so a batch delivered again counts nothing twice: a `session`
item by its session's state (its sid is known and each of its counts is taken once: a session, its
errored, its final status), the other kinds by the id ingest gave them (a receipt kept two days).
A session item needs no receipt of its own: one a row fewer for each, the commonest item of all
(with release health on, one per error event and more). Malformed items are skipped, never raised
on.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import F
from django.utils import timezone

from bugsink_issues.conf import app_settings
from bugsink_issues.lifecycle.releases import ensure_release
from bugsink_issues.models import (
    ClientReportCount,
    HealthItemReceipt,
    ReleaseHealthBucket,
    ReleaseHealthUser,
    SessionState,
)

logger = logging.getLogger(__name__)

HEALTH_KINDS = frozenset({"session", "sessions", "client_report"})
FINAL_STATUSES = frozenset({"exited", "crashed", "abnormal"})
ERROR_STATUSES = frozenset({"errored", "crashed", "abnormal"})
SESSION_STATE_DAYS = 1  # a session's updates come within this time of each other
RECEIPT_DAYS = 2
MAX_COUNT = 1_000_000  # per aggregate group or client-report entry: more is not believable
MAX_ENTRIES = 500  # aggregate groups or discarded_events entries read per item


def _hash(value):
    return hashlib.blake2b(str(value).encode(), digest_size=16).hexdigest()


def _count(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return min(value, MAX_COUNT)


def _text(value, limit):
    return value[:limit] if isinstance(value, str) else ""


def _hour(value, fallback):
    """The UTC hour `value` (ISO 8601 or epoch seconds) falls in; the fallback's if it is missing,
    unreadable, or more than a day from when the item arrived."""
    when = None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            when = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            when = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            when = None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when is None or abs(when - fallback) > timedelta(days=1):
        when = fallback
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class _Deltas:
    sessions: int = 0
    errored: int = 0
    crashed: int = 0
    abnormal: int = 0


class _Batch:
    """The counts of one project's health items of one batch, written in a few statements."""

    def __init__(self, project_id):
        self.project_id = project_id
        self.buckets = {}  # (release, environment, hour) -> ReleaseHealthBucket
        self.deltas = {}  # bucket pk -> _Deltas
        self.users = {}  # (bucket pk, user hash) -> crashed
        self.releases = set()

    def bucket(self, release, environment, hour):
        key = (release, environment, hour)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket, _ = ReleaseHealthBucket.objects.get_or_create(
                project_id=self.project_id, release=release, environment=environment, hour=hour
            )
            self.buckets[key] = bucket
            self.releases.add(release)
        return bucket

    def add(self, bucket_id, **deltas):
        d = self.deltas.setdefault(bucket_id, _Deltas())
        for name, n in deltas.items():
            setattr(d, name, getattr(d, name) + n)

    def user(self, bucket_id, user_hash, crashed=False):
        if user_hash:
            key = (bucket_id, user_hash)
            self.users[key] = self.users.get(key, False) or crashed

    def write(self):
        for release in sorted(self.releases):
            ensure_release(self.project_id, release)
        for bucket_id, d in self.deltas.items():
            ReleaseHealthBucket.objects.filter(pk=bucket_id).update(
                sessions=F("sessions") + d.sessions,
                errored=F("errored") + d.errored,
                crashed=F("crashed") + d.crashed,
                abnormal=F("abnormal") + d.abnormal,
            )
        self._write_users()

    def _write_users(self):
        cap = app_settings.RELEASE_HEALTH_MAX_USERS_PER_HOUR
        by_bucket: dict[int, dict[str, bool]] = {}
        for (bucket_id, user_hash), crashed in self.users.items():
            by_bucket.setdefault(bucket_id, {})[user_hash] = crashed
        for bucket_id, users in by_bucket.items():
            known = set(
                ReleaseHealthUser.objects.filter(
                    bucket_id=bucket_id, user_hash__in=list(users)
                ).values_list("user_hash", flat=True)
            )
            new = [h for h in users if h not in known]
            room = cap - ReleaseHealthUser.objects.filter(bucket_id=bucket_id).count()
            if len(new) > room:
                ReleaseHealthBucket.objects.filter(pk=bucket_id).update(users_capped=True)
                new = new[: max(room, 0)]
            ReleaseHealthUser.objects.bulk_create(
                [ReleaseHealthUser(bucket_id=bucket_id, user_hash=h, crashed=users[h]) for h in new]
            )
            crashed = [h for h in known if users[h]]
            if crashed:
                ReleaseHealthUser.objects.filter(
                    bucket_id=bucket_id, user_hash__in=crashed, crashed=False
                ).update(crashed=True)


def _parse(spooled):
    try:
        body = json.loads(spooled.payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def record_health(project_id, items):
    """Count a project's health items (SpooledEvents of HEALTH_KINDS), oldest first."""
    fresh = _drop_counted(project_id, [s for s in items if s.kind != "session"])
    fresh += _once_each([s for s in items if s.kind == "session"])
    fresh.sort(key=lambda s: s.spool_id)
    if not fresh:
        return
    batch = _Batch(project_id)
    sessions = []
    for spooled in fresh:
        body = _parse(spooled)
        if body is None:
            logger.info("bugsink_issues: a %s item that is not a JSON object", spooled.kind)
        elif spooled.kind == "session":
            sessions.append((spooled, body))
        elif spooled.kind == "sessions":
            _aggregates(batch, spooled, body)
        else:
            _client_report(project_id, spooled, body)
    if sessions:
        _sessions(batch, sessions)
    batch.write()
    _prune(project_id)


def _once_each(items):
    """The items of a batch, each id once (SessionState makes a session's counts idempotent
    across batches)."""
    seen, out = set(), []
    for s in items:
        if s.event_id not in seen:
            seen.add(s.event_id)
            out.append(s)
    return out


def _drop_counted(project_id, items):
    if not items:
        return []
    ids = {s.event_id for s in items}
    counted = set(
        HealthItemReceipt.objects.filter(project_id=project_id, item_id__in=ids).values_list(
            "item_id", flat=True
        )
    )
    fresh, seen = [], set(counted)
    for s in sorted(items, key=lambda s: s.spool_id):
        if s.event_id not in seen:
            seen.add(s.event_id)
            fresh.append(s)
    HealthItemReceipt.objects.bulk_create(
        [
            HealthItemReceipt(project_id=project_id, item_id=s.event_id, received_at=s.received_at)
            for s in fresh
        ]
    )
    return fresh


def _release_environment(body):
    attrs = body.get("attrs")
    attrs = attrs if isinstance(attrs, dict) else {}
    return _text(attrs.get("release"), 250).strip(), _text(attrs.get("environment"), 64).strip()


def _sessions(batch, sessions):
    parsed = []
    for spooled, body in sessions:
        release, environment = _release_environment(body)
        sid = body.get("sid")
        if not release or not isinstance(sid, str) or not sid:
            continue
        parsed.append((spooled, body, release, environment, _hash(sid)))
    states = {
        s.sid_hash: s
        for s in SessionState.objects.filter(
            project_id=batch.project_id, sid_hash__in={p[4] for p in parsed}
        )
    }
    changed = {}
    now = timezone.now()
    for spooled, body, release, environment, sid_hash in parsed:
        status = _text(body.get("status"), 16) or "ok"
        state = states.get(sid_hash)
        if state is None:
            bucket = batch.bucket(
                release, environment, _hour(body.get("started"), spooled.received_at)
            )
            did = body.get("did")
            state = SessionState(
                project_id=batch.project_id,
                sid_hash=sid_hash,
                bucket=bucket,
                user_hash=_hash(did) if isinstance(did, str | int) and did != "" else "",
            )
            states[sid_hash] = state
            batch.add(bucket.pk, sessions=1)
            batch.user(bucket.pk, state.user_hash)
        elif state.status in FINAL_STATUSES:
            continue  # ended: its final status is counted
        errored = _count(body.get("errors")) > 0 or status in ERROR_STATUSES
        if errored and not state.errored:
            state.errored = True
            batch.add(state.bucket_id, errored=1)
        if status == "crashed":
            batch.add(state.bucket_id, crashed=1)
            batch.user(state.bucket_id, state.user_hash, crashed=True)
        elif status == "abnormal":
            batch.add(state.bucket_id, abnormal=1)
        state.status = status if status in FINAL_STATUSES else "ok"
        state.updated_at = now
        changed[sid_hash] = state
    # Split before the insert: bulk_create sets the new rows' pks, and updating them again (a
    # CASE per field over the whole batch) cost more than the rest of the session counting.
    new = [s for s in changed.values() if s.pk is None]
    known = [s for s in changed.values() if s.pk is not None]
    SessionState.objects.bulk_create(new)
    if known:
        SessionState.objects.bulk_update(known, ["status", "errored", "updated_at"])


def _aggregates(batch, spooled, body):
    release, environment = _release_environment(body)
    groups = body.get("aggregates")
    if not release or not isinstance(groups, list):
        return
    for group in groups[:MAX_ENTRIES]:
        if not isinstance(group, dict):
            continue
        exited, errored, abnormal, crashed = (
            _count(group.get(name)) for name in ("exited", "errored", "abnormal", "crashed")
        )
        total = exited + errored + abnormal + crashed
        if not total:
            continue
        bucket = batch.bucket(
            release, environment, _hour(group.get("started"), spooled.received_at)
        )
        batch.add(
            bucket.pk,
            sessions=total,
            errored=errored + abnormal + crashed,
            crashed=crashed,
            abnormal=abnormal,
        )
        did = group.get("did")
        if isinstance(did, str | int) and did != "":
            batch.user(bucket.pk, _hash(did), crashed=crashed > 0)


def _client_report(project_id, spooled, body):
    entries = body.get("discarded_events")
    if not isinstance(entries, list):
        return
    totals: dict[tuple[str, str], int] = {}
    for entry in entries[:MAX_ENTRIES]:
        if not isinstance(entry, dict):
            continue
        category = _text(entry.get("category"), 64) or "unknown"
        reason = _text(entry.get("reason"), 64) or "unknown"
        quantity = _count(entry.get("quantity"))
        if quantity:
            totals[(category, reason)] = totals.get((category, reason), 0) + quantity
    when = spooled.received_at
    for (category, reason), quantity in totals.items():
        row, created = ClientReportCount.objects.get_or_create(
            project_id=project_id,
            category=category,
            reason=reason,
            defaults={"quantity": quantity, "first_seen": when, "last_seen": when},
        )
        if not created:
            ClientReportCount.objects.filter(pk=row.pk).update(
                quantity=F("quantity") + quantity, last_seen=max(row.last_seen, when)
            )


def _prune(project_id):
    now = timezone.now()
    SessionState.objects.filter(
        project_id=project_id, updated_at__lt=now - timedelta(days=SESSION_STATE_DAYS)
    ).delete()
    HealthItemReceipt.objects.filter(
        project_id=project_id, received_at__lt=now - timedelta(days=RECEIPT_DAYS)
    ).delete()
    days = app_settings.RELEASE_HEALTH_RETENTION_DAYS
    ReleaseHealthBucket.objects.filter(
        project_id=project_id, hour__lt=now - timedelta(days=days)
    ).delete()
