"""Settings of the UI (prefix BUGSINK_ISSUES_), kept apart from the digest's conf.py."""

from appconf import AppConf
from django.conf import settings


class BugsinkIssuesUIConf(AppConf):
    # The template bugsink_issues/base.html extends. A host site names its own layout here; it must
    # define the blocks `title`, `extra_head` and `content` (see the README).
    UI_OUTER_TEMPLATE = "bugsink_issues/standalone.html"
    # Days shown in sparklines and the issue volume chart.
    UI_SPARKLINE_DAYS = 14
    UI_CHART_DAYS = 30

    class Meta:
        prefix = "BUGSINK_ISSUES"


def ui_setting(name):
    """A UI setting, read at call time. The AppConf defaults are attached to settings when this
    module is first imported; reading through here stays right even if that first import happened
    inside an override_settings block (whose end drops what was set during it)."""
    full = f"BUGSINK_ISSUES_{name}"
    return getattr(settings, full, getattr(BugsinkIssuesUIConf, name))
