"""Each user's alert e-mail: which of the projects they can see e-mail their alerts to them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect

from bugsink_issues.models.access import visible_projects
from bugsink_issues.models.notifications import AlertSubscription
from bugsink_issues.ui.views.common import page


@login_required
def notification_settings(request):
    user = request.user
    projects = list(visible_projects(user).order_by("name"))
    chosen = set(AlertSubscription.objects.filter(user=user).values_list("project_id", flat=True))
    if request.method == "POST":
        wanted = {p.pk for p in projects if request.POST.get(f"project-{p.pk}") == "on"}
        with transaction.atomic():
            # Rows of projects no longer visible go too (they would not be sent anyway).
            AlertSubscription.objects.filter(user=user).exclude(project_id__in=wanted).delete()
            for project_id in wanted - chosen:  # one by one: the alert receivers see each
                AlertSubscription.objects.get_or_create(user=user, project_id=project_id)
        messages.success(
            request,
            f"Alerts of {len(wanted)} project(s) will be e-mailed to {user.email}."
            if user.email
            else "Saved, but your account has no e-mail address: nothing can be sent.",
        )
        return redirect("bugsink_issues:notifications")
    rows = [{"project": p, "chosen": p.pk in chosen} for p in projects]
    return page(request, "bugsink_issues/notifications.html", {"rows": rows})
