"""Settings of the UI (prefix BUGSINK_ISSUES_), kept apart from the digest's conf.py."""

from appconf import AppConf
from django.conf import settings  # noqa: F401  (AppConf needs settings imported)


class BugsinkIssuesUIConf(AppConf):
    # The template bugsink_issues/base.html extends. A host site names its own layout here; it must
    # define the blocks `title`, `extra_head` and `content` (see the README).
    UI_OUTER_TEMPLATE = "bugsink_issues/standalone.html"
    # Days shown in sparklines and the issue volume chart.
    UI_SPARKLINE_DAYS = 14
    UI_CHART_DAYS = 30

    class Meta:
        prefix = "BUGSINK_ISSUES"
