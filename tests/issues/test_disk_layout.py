"""What keeps the bytes per stored event down: compact tag times, no duplicate indexes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db import models

from bugsink_issues.models import IssueTagValue
from bugsink_issues.models.fields import MicrosecondsField, from_microseconds, to_microseconds
from tests.factories import python_exception, spooled

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.django_db
def test_tag_first_and_last_seen_are_exact_and_span_out_of_order_batches(project, digest):
    def event(moment):
        return spooled(project, python_exception(timestamp=moment.timestamp(), environment="prod"))

    digest([event(T0 + timedelta(seconds=10)), event(T0 + timedelta(seconds=5))])
    digest([event(T0), event(T0 + timedelta(seconds=20, microseconds=7))])  # one earlier, one later
    tag = IssueTagValue.objects.get(key="environment")
    assert tag.count == 4
    # Float timestamps from the SDK carry microseconds only approximately; compare to the µs.
    assert abs(tag.first_seen - T0) < timedelta(microseconds=2)
    assert abs(tag.last_seen - (T0 + timedelta(seconds=20, microseconds=7))) < timedelta(
        microseconds=2
    )
    assert tag.first_seen.tzinfo is not None
    # Filters take datetimes, as with a DateTimeField.
    assert IssueTagValue.objects.filter(key="environment", first_seen__lte=T0).count() == 1
    assert not IssueTagValue.objects.filter(last_seen__lt=T0).exists()


def test_microseconds_round_trip_exactly():
    for moment in (T0, datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)):
        assert from_microseconds(to_microseconds(moment)) == moment
    field = MicrosecondsField()
    field.name = "seen"
    assert field.to_python(to_microseconds(T0)) == T0
    with pytest.raises(ValueError, match="naive"):
        field.get_prep_value(datetime(2026, 1, 1))


def _leading_columns(model):
    meta = model._meta
    leads = set()
    for index in meta.indexes:
        leads.add(index.fields[0].lstrip("-"))
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            leads.add(constraint.fields[0])
    for fields in meta.unique_together:
        leads.add(fields[0])
    return leads


def test_every_unindexed_foreign_key_leads_another_index():
    """A foreign key without its own index must lead a composite one: lookups by it and the
    cascades on delete would otherwise scan the table."""
    unindexed = [
        (model.__name__, field.name)
        for model in apps.get_app_config("bugsink_issues").get_models()
        for field in model._meta.fields
        if isinstance(field, models.ForeignKey) and not field.db_index
    ]
    assert ("Event", "issue") in unindexed  # the check looks at the real models
    for model_name, field_name in unindexed:
        model = apps.get_model("bugsink_issues", model_name)
        assert field_name in _leading_columns(model), f"{model_name}.{field_name} has no index"
