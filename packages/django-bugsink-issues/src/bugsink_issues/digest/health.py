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

A session whose update both starts it (`init`) and ends it, what application-mode SDKs send for a
short session, is counted whole at once and keeps no state: nothing of it can follow. Any other
session keeps a SessionState (its sid hashed) until a day after its last update.

Every item is counted at most once, so a batch delivered again counts nothing twice: each batch
writes one HealthReceipt per project with a key for each item it counted (the id ingest gave it),
kept two days; a batch's items are checked against the receipts whose spool-id range overlaps
its own (per run of ids within a minute of each other: one run but for stragglers). One row per
batch, not per item: a session item comes with nearly every error event when release health is
on, and a row for each cost more than the counting. Malformed items are skipped, never raised on.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from django.db.models import F
from django.utils import timezone

from bugsink_issues.conf import app_settings
from bugsink_issues.digest.bulk_insert import insert_values
from bugsink_issues.lifecycle.releases import ensure_release
from bugsink_issues.models import (
    ClientReportCount,
    HealthReceipt,
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
            bucket, created = ReleaseHealthBucket.objects.get_or_create(
                project_id=self.project_id, release=release, environment=environment, hour=hour
            )
            self.buckets[key] = bucket
            if created:  # the release was made with the bucket's first sessions otherwise
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
            hashes = list(users)
            stored = ReleaseHealthUser.objects.filter(bucket_id=bucket_id).count()
            if stored + len(hashes) > cap:  # only near the cap: which of them are new?
                known = set(
                    ReleaseHealthUser.objects.filter(
                        bucket_id=bucket_id, user_hash__in=hashes
                    ).values_list("user_hash", flat=True)
                )
                hashes = [h for h in hashes if h not in known]
                room = max(cap - stored, 0)
                if len(hashes) > room:
                    ReleaseHealthBucket.objects.filter(pk=bucket_id).update(users_capped=True)
                    hashes = hashes[:room]
            # Known users are skipped by the unique constraint: no query to find them first.
            insert_values(
                ReleaseHealthUser,
                ("bucket", "user_hash", "crashed"),
                [(bucket_id, h, users[h]) for h in hashes],
                ignore_conflicts=True,
            )
            crashed = [h for h, c in users.items() if c]
            if crashed:
                ReleaseHealthUser.objects.filter(
                    bucket_id=bucket_id, user_hash__in=crashed, crashed=False
                ).update(crashed=True)


def _parse(spooled):
    try:
        body = orjson.loads(spooled.payload)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def record_health(project_id, items):
    """Count a project's health items (SpooledEvents of HEALTH_KINDS), oldest first."""
    fresh, keys = _not_counted(project_id, items)
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
    now = timezone.now()
    receipts = []
    for run in _runs(list(zip(fresh, keys, strict=True))):
        first, last = run[0][0].spool_id, run[-1][0].spool_id
        receipts.append((project_id, first, last, b"".join(key for _, key in run), now))
    insert_values(
        HealthReceipt, ("project", "first_item", "last_item", "items", "created_at"), receipts
    )
    if _prune_due(project_id):
        prune(project_id)


def _key(item_id):
    """16 bytes for an item id: the id itself where it is 32 hex digits, as ingest makes them."""
    try:
        key = bytes.fromhex(item_id)
    except (TypeError, ValueError):
        key = b""
    return (
        key if len(key) == 16 else hashlib.blake2b(str(item_id).encode(), digest_size=16).digest()
    )


RUN_GAP_NS = 60 * 10**9  # spool ids further apart than this start a new run (_runs)


def _spool_time(spool_id):
    """The arrival time (ns) a spool id begins with (new_spool_id), or None."""
    head = spool_id[:20]
    return int(head) if head.isdigit() and spool_id[20:21] == "-" else None


def _runs(pairs):
    """(item, ...) tuples in spool-id order, split where the ids' times lie more than a minute
    apart. Receipts are written and looked up per run, so that a straggler (a quarantined item
    restored keeps its old id) does not make one range span days of receipts."""
    runs: list[list] = []
    last = None
    for pair in pairs:
        at = _spool_time(pair[0].spool_id)
        if not runs or (at is not None and last is not None and at - last > RUN_GAP_NS):
            runs.append([])
        runs[-1].append(pair)
        last = at if at is not None else last
    return runs


def _not_counted(project_id, items):
    """The items no receipt holds, each id once, in spool-id order; and their keys."""
    ordered = sorted(items, key=lambda s: s.spool_id)
    counted: set[bytes] = set()
    for run in _runs([(s,) for s in ordered]):
        receipts = HealthReceipt.objects.filter(
            project_id=project_id,
            last_item__gte=run[0][0].spool_id,
            first_item__lte=run[-1][0].spool_id,
        ).values_list("items", flat=True)
        for blob in receipts:
            blob = bytes(blob)
            counted.update(blob[i : i + 16] for i in range(0, len(blob), 16))
    fresh, keys = [], []
    for spooled in ordered:
        key = _key(spooled.event_id)
        if key not in counted:
            counted.add(key)
            fresh.append(spooled)
            keys.append(key)
    return fresh, keys


def _release_environment(body):
    attrs = body.get("attrs")
    attrs = attrs if isinstance(attrs, dict) else {}
    return _text(attrs.get("release"), 250).strip(), _text(attrs.get("environment"), 64).strip()


def _user_hash(body):
    did = body.get("did")
    return _hash(did) if isinstance(did, str | int) and did != "" else ""


def _sessions(batch, sessions):
    parsed = []
    for spooled, body in sessions:
        release, environment = _release_environment(body)
        sid = body.get("sid")
        if not release or not isinstance(sid, str) or not sid:
            continue
        status = _text(body.get("status"), 16) or "ok"
        if body.get("init") is True and status in FINAL_STATUSES:
            _whole_session(batch, spooled, body, release, environment, status)
        else:
            parsed.append((spooled, body, release, environment, status, _hash(sid)))
    if parsed:
        _session_updates(batch, parsed)


def _whole_session(batch, spooled, body, release, environment, status):
    """A session's first update that ends it: counted whole, no state kept."""
    bucket = batch.bucket(release, environment, _hour(body.get("started"), spooled.received_at))
    errored = _count(body.get("errors")) > 0 or status in ERROR_STATUSES
    crashed = status == "crashed"
    batch.add(
        bucket.pk,
        sessions=1,
        errored=int(errored),
        crashed=int(crashed),
        abnormal=int(status == "abnormal"),
    )
    batch.user(bucket.pk, _user_hash(body), crashed=crashed)


def _session_updates(batch, parsed):
    """Updates of sessions that may be updated again: matched to their SessionState."""
    states = {
        s.sid_hash: s
        for s in SessionState.objects.filter(
            project_id=batch.project_id, sid_hash__in={p[5] for p in parsed}
        )
    }
    changed = {}
    now = timezone.now()
    for spooled, body, release, environment, status, sid_hash in parsed:
        state = states.get(sid_hash)
        if state is None:
            bucket = batch.bucket(
                release, environment, _hour(body.get("started"), spooled.received_at)
            )
            state = SessionState(
                project_id=batch.project_id,
                sid_hash=sid_hash,
                bucket=bucket,
                user_hash=_user_hash(body),
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
    # New states are inserted as values (no pks read back); known ones updated by pk.
    fields = ("project", "sid_hash", "bucket", "user_hash", "status", "errored", "updated_at")
    insert_values(
        SessionState,
        fields,
        [
            (s.project_id, s.sid_hash, s.bucket_id, s.user_hash, s.status, s.errored, s.updated_at)
            for s in changed.values()
            if s.pk is None
        ],
    )
    known = [s for s in changed.values() if s.pk is not None]
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


PRUNE_EVERY = timedelta(minutes=1)
_pruned_at: dict[int, datetime] = {}  # project id -> when this process last pruned it


def _prune_due(project_id):
    """At most once a minute per project and process: what is pruned is a day old or more, and
    three deletes per batch were a tenth of a batch of sessions' cost."""
    now = timezone.now()
    last = _pruned_at.get(project_id)
    if last is not None and last <= now < last + PRUNE_EVERY:
        return False
    _pruned_at[project_id] = now
    return True


def prune(project_id):
    """Delete what is past its time: session states, receipts, and buckets past retention.
    States and receipts have nothing that cascades from them, so Django deletes them without
    loading them; buckets (with their users) only when there are any."""
    now = timezone.now()
    SessionState.objects.filter(
        project_id=project_id, updated_at__lt=now - timedelta(days=SESSION_STATE_DAYS)
    ).delete()
    HealthReceipt.objects.filter(
        project_id=project_id, created_at__lt=now - timedelta(days=RECEIPT_DAYS)
    ).delete()
    days = app_settings.RELEASE_HEALTH_RETENTION_DAYS
    old_buckets = ReleaseHealthBucket.objects.filter(
        project_id=project_id, hour__lt=now - timedelta(days=days)
    )
    if old_buckets.exists():
        old_buckets.delete()
