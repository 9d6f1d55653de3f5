"""The one way to read the app's settings: `app_settings`, at call time, with the AppConf defaults."""

import pytest
from django.conf import settings
from django.test import override_settings

from bugsink_issues.conf import DEFAULTS, PREFIX, app_settings


def test_every_setting_reads_its_default():
    for name, default in DEFAULTS.items():
        assert getattr(app_settings, name) == default, name
    # The UI's settings are among them: one AppConf, one set of defaults.
    assert {"UI_OUTER_TEMPLATE", "UI_SPARKLINE_DAYS", "UI_CHART_DAYS"} <= set(DEFAULTS)


@override_settings(BUGSINK_ISSUES_UI_CHART_DAYS=7, BUGSINK_ISSUES_RETENTION_EVICT_BATCH=3)
def test_override_settings_wins():
    assert app_settings.UI_CHART_DAYS == 7
    assert app_settings.RETENTION_EVICT_BATCH == 3


def test_the_default_is_used_when_the_settings_object_lost_the_attribute():
    # What an override_settings block does to defaults appconf attached inside it: at its end they
    # are gone from django.conf.settings. Reading through app_settings still finds the default.
    with override_settings():
        del settings.BUGSINK_ISSUES_UI_OUTER_TEMPLATE
        assert not hasattr(settings, PREFIX + "UI_OUTER_TEMPLATE")
        assert app_settings.UI_OUTER_TEMPLATE == "bugsink_issues/standalone.html"


def test_an_unknown_name_is_an_error():
    with pytest.raises(AttributeError, match="no setting 'UI_CHART_DAY'"):
        app_settings.UI_CHART_DAY  # noqa: B018
