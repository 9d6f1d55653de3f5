"""The Django Tasks task of the alerts (any Tasks backend runs it)."""

from importlib.util import find_spec

if find_spec("django.tasks") is not None:  # Django 6.x
    from django.tasks import task
else:  # Django 5.2 with the django-tasks backport
    from django_tasks import task


@task()
def send_issue_alerts(issue_id: int, trigger: str):
    from bugsink_issues.alerts import send_issue_alerts_now

    deliveries = send_issue_alerts_now(issue_id, trigger)
    return [d.status for d in deliveries]
