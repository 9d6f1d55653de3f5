"""The Django Tasks tasks of the alerts (any Tasks backend runs them)."""

from bugsink_ingest.loopguard import ingest_chain
from bugsink_issues.alerts.delivery import send_issue_alerts_now
from bugsink_issues.alerts.feedback import send_feedback_alerts_now
from bugsink_issues.alerts.monitors import send_monitor_alerts_now
from bugsink_issues.compat import task


@task()
def send_issue_alerts(issue_id: int, trigger: str):
    # Part of the chain the digest starts: a site reporting its own errors to itself must not
    # turn a failing alert into an event that alerts again.
    with ingest_chain():
        deliveries = send_issue_alerts_now(issue_id, trigger)
    return [d.status for d in deliveries]


@task()
def send_monitor_alerts(monitor_id: int, trigger: str):
    with ingest_chain():
        deliveries = send_monitor_alerts_now(monitor_id, trigger)
    return [d.status for d in deliveries]


@task()
def send_feedback_alerts(feedback_id: int):
    with ingest_chain():
        deliveries = send_feedback_alerts_now(feedback_id)
    return [d.status for d in deliveries]
