"""The RQ worker class of BUGSINK_TASKS_BACKEND=rq (`rqworker --worker-class`): RQ's own worker,
made to come back by itself from a Redis that restarted empty (no persistence, or a failover).

- RQ's worker registers itself once, at birth; after such a restart its heartbeats write a bare key
  that no registry lists, and the readiness check would see no worker at all. Here a heartbeat that
  finds its worker unregistered registers it again.
- The scheduler (which moves deferred tasks, `run_after`, to the queue) is a child process that
  exits when Redis goes away; the worker starts it again in its maintenance pass, which RQ runs
  every 10 minutes. Every MAINTENANCE_SECONDS here: the ingest sweep and the drain's retries wait
  on that scheduler, and a killed worker's jobs are cleaned up as soon.
- Such a restart also loses the queued drains and the sweep's deferred link. Ingest re-arms its
  sweep where events arrive and where a drain starts, so on a site gone quiet nothing would: the
  events already acknowledged would wait for the next one. So each maintenance pass arms the sweep
  too while events wait (bugsink_ingest.tasks.arm_sweep: a look at the spool's sweep marker, a new
  chain only once the old one's marker went stale), and they are drained within about a minute.
"""

from rq import Worker as RQWorker
from rq import worker_registration

MAINTENANCE_SECONDS = 15
JOB_MONITORING_SECONDS = 10


class Worker(RQWorker):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", MAINTENANCE_SECONDS)
        # While a job runs the worker beats at this interval (RQ's default, 30 s, is the readiness
        # check's whole limit: a worker busy with a 30 s drain would look dead now and then).
        kwargs.setdefault("job_monitoring_interval", JOB_MONITORING_SECONDS)
        super().__init__(*args, **kwargs)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        from django.db import connections

        from bugsink_ingest.spool import get_spool
        from bugsink_ingest.tasks import arm_sweep

        try:
            if get_spool().backlog_size():  # an idle site needs no sweep chain
                arm_sweep()  # logs and returns on any error
        except Exception:
            self.log.exception("could not look at the ingest spool; the next pass tries again")
        finally:
            # This is the worker's main process: a connection left open here would be shared by
            # every job's forked work horse.
            connections.close_all()

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is None and self.birth_date is not None:
            self._register_again_if_forgotten()
        return super().heartbeat(timeout, pipeline)

    def _register_again_if_forgotten(self) -> None:
        if self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
            return
        self.log.warning("Worker %s: not registered in Redis (was it restarted?); again", self.name)
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipeline)
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()
