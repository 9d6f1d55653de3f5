"""The foreman: claims due tasks in batches and runs them in a pool of worker threads.

One main thread owns every write to the queue (claims, outcomes, heartbeat); workers only run tasks
and hand their outcomes back, so the queue file sees a few short transactions per batch instead of
several per task.
"""

import collections
import fcntl
import logging
import os
import queue as stdlib_queue
import signal
import socket
import threading
import time
import traceback
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType

from django.db import DatabaseError, connections

from snappea import queue
from snappea.conf import BackendSettings, SnappeaSettings, backend_settings_for, snappea_settings
from snappea.execution import exception_path, run_claimed_task
from snappea.models import ForemanHeartbeat
from snappea.queue import ClaimedTask, Outcome, orm_datetime, utc_now
from snappea.sqlite import lock_file_path, queue_db_path, wake_file_path
from snappea.wakeup import WakeWatcher

logger = logging.getLogger("snappea.foreman")
# What a worker takes from the ready queue: (-priority, id, task), or _STOP to end the worker.
_Ready = tuple[float, int, ClaimedTask | None]
_STOP: _Ready = (float("inf"), 0, None)
_PRUNE_EVERY = 60.0
_PREFETCH_SECONDS = 0.05
# A wall clock that moves back by more than this against the monotonic clock has been stepped.
_CLOCK_STEP_TOLERANCE = 1.0


class ForemanAlreadyRunning(Exception):
    pass


class ForemanLock:
    """An exclusive lock on a file beside the queue database: one foreman per queue."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ForemanAlreadyRunning(
                f"Another foreman (pid {holder}) is already running for the queue database "
                f"{queue_db_path()}. Only one foreman may serve a queue database: stop that one "
                f"first, or give this one another database (SNAPPEA_DATABASE)."
            )
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


class Foreman:
    """Runs the queue's tasks until stopped (or, in burst mode, until none is due)."""

    def __init__(
        self,
        *,
        workers: int | None = None,
        burst: bool = False,
        queue_names: Sequence[str] = (),
        grace_period: float | None = None,
        settings: SnappeaSettings | None = None,
    ) -> None:
        self.settings = snappea_settings() if settings is None else settings
        self.workers = workers or self.settings.workers
        self.burst = burst
        self.queue_names = list(queue_names)
        self.grace_period = self.settings.grace_period if grace_period is None else grace_period
        self.batch_size = self.settings.batch_size
        # The most claimed tasks held at once; how many are really held adapts to task duration.
        self.capacity = max(self.batch_size, self.workers * 2)
        self._average_duration: float | None = None  # seconds per task, a moving average
        # Per backend alias: whether it keeps results. Read once per alias, like the settings.
        self._backends: dict[str, BackendSettings] = {}
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = False
        self._signals = 0
        self._ready: stdlib_queue.PriorityQueue[_Ready] = stdlib_queue.PriorityQueue()
        self._outcomes: collections.deque[Outcome] = collections.deque()
        self._in_flight: set[int] = set()
        self._started: dict[int, float] = {}  # thread ident -> monotonic start of its current task
        self._threads: list[threading.Thread] = []
        self._done = self._failed = 0
        self._clock_offset = time.time() - time.monotonic()  # wall minus monotonic: steps show
        self._control_r, self._control_w = os.pipe()
        os.set_blocking(self._control_r, False)
        os.set_blocking(self._control_w, False)
        self._lock = ForemanLock(lock_file_path())
        self._last_beat = (time.monotonic(), 0)  # monotonic time and done count of the last beat

    # -- signals and wake-ups -------------------------------------------------------------------

    def _poke(self) -> None:
        try:
            os.write(self._control_w, b".")
        except BlockingIOError:
            pass  # the pipe is full: the main thread has plenty of reasons to wake already

    def _drain_control(self) -> None:
        try:
            while os.read(self._control_r, 4096):
                pass
        except BlockingIOError:
            pass

    def handle_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            logger.warning("Second %s: exiting at once.", signal.Signals(signum).name)
            os._exit(1)
        logger.warning(
            "%s: no new tasks; waiting up to %ss for %s running task(s). Send it again to exit at once.",
            signal.Signals(signum).name,
            self.grace_period,
            len(self._started),
        )
        self.stopping = True
        self._poke()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.handle_signal)
        signal.signal(signal.SIGINT, self.handle_signal)

    # -- workers --------------------------------------------------------------------------------

    def _backend(self, alias: str) -> BackendSettings:
        """The settings of a task's backend (TASKS[alias]), as its enqueuing process reads them."""
        found = self._backends.get(alias)
        if found is None:
            found = self._backends[alias] = backend_settings_for(alias)
        return found

    def _work(self) -> None:
        ident = threading.get_ident()
        max_retries = self.settings.max_retries
        backoff = self.settings.retry_backoff
        low_water = self.workers
        flush_at = max(1, self.batch_size // 2)
        while True:
            _, _, claimed = self._ready.get()
            if claimed is None:  # _STOP
                return
            self._started[ident] = time.monotonic()
            keep_result = False
            try:
                keep_result = self._backend(claimed.backend_name).results
                outcome = run_claimed_task(
                    claimed,
                    worker_id=self.worker_id,
                    keep_result=keep_result,
                    max_retries=max_retries,
                    backoff=backoff,
                )
            except Exception as exc:  # a fault outside the task (a signal receiver, ...): record it
                logger.exception("Worker failed around task #%s", claimed.id)
                now = utc_now()
                outcome = Outcome(
                    task=claimed,
                    succeeded=False,
                    started_at=now,
                    finished_at=now,
                    worker_id=self.worker_id,
                    keep_result=keep_result,
                    exception_class_path=exception_path(exc),
                    traceback="".join(traceback.format_exception(exc)),
                )
            finally:
                self._started.pop(ident, None)
            self._outcomes.append(outcome)
            # Wake the main thread only when it has something worth a transaction to do.
            if self._ready.qsize() <= low_water or len(self._outcomes) >= flush_at:
                self._poke()

    # -- the main loop --------------------------------------------------------------------------

    def run(self) -> int:
        """Until stopped; the number of tasks still running when it gave up waiting for them."""
        self._lock.acquire()
        try:
            requeued = queue.requeue_orphans()
            if requeued:
                logger.warning(
                    "%s task(s) claimed by a foreman that died will run again.", requeued
                )
            self._register()
            # A step back while no foreman ran leaves retries scheduled on the later clock.
            self._rebase_future_retries()
            watcher = WakeWatcher(
                wake_file_path(),
                self._control_r,
                self.settings.poll_interval,
                use_inotify=self.settings.inotify,
            )
            logger.info(
                "Foreman pid %s: %s worker(s) on %s (%s)%s",
                os.getpid(),
                self.workers,
                queue_db_path(),
                "inotify"
                if watcher.uses_inotify
                else f"polling every {self.settings.poll_interval}s",
                ", burst mode" if self.burst else "",
            )
            for n in range(self.workers):
                thread = threading.Thread(
                    target=self._work, name=f"snappea-worker-{n}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
            try:
                while not self.stopping:
                    try:
                        self._loop(watcher)
                        break
                    except DatabaseError:
                        # A full disk or a lock held past the busy timeout: wait, then carry on.
                        logger.exception("Queue database error; retrying in 1s")
                        connections[self.settings.database].close()
                        watcher.wait(1.0)
                        self._drain_control()
            finally:
                watcher.close()
            return self._shutdown()
        finally:
            self._lock.release()

    def _loop(self, watcher: WakeWatcher) -> None:
        heartbeat_interval = self.settings.heartbeat_interval
        next_heartbeat = next_prune = 0.0
        while not self.stopping:
            self._flush()
            self._watch_clock()
            now = utc_now()
            target = self._target_in_flight()
            room = target - len(self._in_flight)
            asked = 0
            claimed: list[ClaimedTask] = []
            # Claim in batches: not for every single free slot while the workers are busy.
            if room >= max(1, (target - self.workers) // 2) or not self._in_flight:
                asked = min(room, self.batch_size)
                claimed = queue.claim_tasks(asked, now, self.queue_names)
                for task in claimed:
                    self._in_flight.add(task.id)
                    self._ready.put((-task.priority, task.id, task))
            mono = time.monotonic()
            if mono >= next_heartbeat:
                self._heartbeat()
                next_heartbeat = mono + heartbeat_interval
            if mono >= next_prune:
                queue.prune(
                    now,
                    keep_failed_for=self.settings.keep_failed_for,
                    keep_results_for=self.settings.keep_results_for,
                )
                next_prune = mono + _PRUNE_EVERY
            if asked and len(claimed) == asked:
                continue  # a full batch: more may be due right now
            timeout = next_heartbeat - time.monotonic()
            if asked:  # the due backlog is empty: sleep until the next deferred task is due
                due = queue.next_due_at(self.queue_names)
                if self.burst and not self._in_flight and (due is None or due > now):
                    return  # a burst does not wait for deferred tasks
                if due is not None:
                    timeout = min(timeout, (due - utc_now()).total_seconds())
            if self._in_flight:
                timeout = min(timeout, 0.1)  # outcomes get recorded at least this often
            watcher.wait(timeout)
            self._drain_control()

    def _flush(self) -> None:
        outcomes = []
        while self._outcomes:
            outcomes.append(self._outcomes.popleft())
        if not outcomes:
            return
        try:
            queue.finish_tasks(outcomes)
        except DatabaseError:
            self._outcomes.extendleft(reversed(outcomes))  # recorded at the next attempt
            raise
        average = self._average_duration
        for outcome in outcomes:
            duration = outcome.elapsed
            average = duration if average is None else 0.9 * average + 0.1 * duration
            self._in_flight.discard(outcome.task.id)
            if outcome.succeeded:
                self._done += 1
            elif outcome.retry_at is None:
                self._failed += 1
        self._average_duration = average

    def _target_in_flight(self) -> int:
        """How many claimed tasks to hold: enough for PREFETCH_SECONDS of work beyond the busy
        workers. Short tasks get big batches (few transactions); long ones are claimed about one
        per free worker, so a higher-priority task enqueued later does not wait behind a batch."""
        if self._average_duration is None:
            return min(self.capacity, self.workers * 2)
        per_task = max(self._average_duration, 1e-6)
        extra = int(self.workers * _PREFETCH_SECONDS / per_task)
        return max(self.workers, min(self.capacity, self.workers + extra))

    def _shutdown(self) -> int:
        """Release what never started, let running tasks finish within the grace period."""
        not_started = []
        while True:
            try:
                _, _, task = self._ready.get_nowait()
            except stdlib_queue.Empty:
                break
            if task is not None:
                not_started.append(task.id)
        queue.release_tasks(not_started)
        self._in_flight.difference_update(not_started)
        for _ in self._threads:
            self._ready.put(_STOP)
        deadline = time.monotonic() + self.grace_period
        interval = self.settings.heartbeat_interval
        while time.monotonic() < deadline:
            alive = [thread for thread in self._threads if thread.is_alive()]
            if not alive:
                break
            alive[0].join(min(interval, max(0.0, deadline - time.monotonic())))
            # Keep beating: a long grace period must not look like a dead foreman.
            self._flush()
            self._heartbeat()
        self._flush()
        unfinished = len(self._in_flight)
        if unfinished:
            logger.warning(
                "%s task(s) still running after the %ss grace period; they run again at the next start.",
                unfinished,
                self.grace_period,
            )
        ForemanHeartbeat.objects.filter(id=1).update(
            stopped_at=orm_datetime(utc_now()),
            heartbeat_at=orm_datetime(utc_now()),
            running=unfinished,
            oldest_running_started_at=None,
            done=self._done,
            failed=self._failed,
        )
        for connection in connections.all(initialized_only=True):
            connection.close()
        logger.info("Foreman stopped: %s done, %s failed.", self._done, self._failed)
        return unfinished

    # -- clock steps ----------------------------------------------------------------------------

    def _watch_clock(self) -> None:
        """Two clock reads per loop: when the wall clock went back, rebase the retries."""
        offset = time.time() - time.monotonic()
        if offset < self._clock_offset - _CLOCK_STEP_TOLERANCE:
            self._rebase_future_retries()  # a database error raises before the offset moves on
        self._clock_offset = offset

    def _rebase_future_retries(self) -> None:
        moved = queue.rebase_future_retries(utc_now(), _CLOCK_STEP_TOLERANCE)
        if moved:
            logger.warning(
                "The wall clock went back: %s retry(s) keep their backoff, counted from now.", moved
            )

    # -- heartbeat ------------------------------------------------------------------------------

    def _register(self) -> None:
        now = orm_datetime(utc_now())
        ForemanHeartbeat.objects.update_or_create(
            id=1,
            defaults=dict(
                pid=os.getpid(),
                hostname=socket.gethostname(),
                worker_id=self.worker_id,
                workers=self.workers,
                started_at=now,
                heartbeat_at=now,
                stopped_at=None,
                running=0,
                oldest_running_started_at=None,
                done=0,
                failed=0,
                throughput=0.0,
            ),
        )
        self._last_beat = (time.monotonic(), 0)

    def _heartbeat(self) -> None:
        mono = time.monotonic()
        last_mono, last_done = self._last_beat
        elapsed = mono - last_mono
        throughput = (self._done - last_done) / elapsed if elapsed > 0 else 0.0
        self._last_beat = (mono, self._done)
        started = list(self._started.values())
        now = utc_now()
        # In the heartbeat's own clock frame: heartbeat_at - oldest is the true running time.
        running_for = max(0.0, time.monotonic() - min(started)) if started else 0.0
        oldest = now - timedelta(seconds=running_for) if started else None
        ForemanHeartbeat.objects.filter(id=1).update(
            heartbeat_at=orm_datetime(now),
            running=len(started),
            oldest_running_started_at=orm_datetime(oldest) if oldest else None,
            done=self._done,
            failed=self._failed,
            throughput=throughput,
        )
