# IssueTagValue.first_seen/last_seen from text datetimes to integer microseconds (MicrosecondsField).
# Written by hand: a plain AlterField would copy the text as-is on SQLite and fail on PostgreSQL,
# so the values are converted row by row between a rename and a removal (both ways).

from datetime import UTC

from django.db import migrations

from django.db import models

import bugsink_issues.models.fields

BATCH = 2000


def _aware(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _copy_seen(apps, schema_editor, source, target, convert):
    """Every row's two `source` fields, converted, into its two `target` fields, in batches."""
    model = apps.get_model("bugsink_issues", "IssueTagValue")
    manager = model.objects.using(schema_editor.connection.alias)
    batch = []
    for row in manager.only("id", *source).iterator(chunk_size=BATCH):
        for s, t in zip(source, target, strict=True):
            setattr(row, t, convert(getattr(row, s)))
        batch.append(row)
        if len(batch) >= BATCH:
            manager.bulk_update(batch, target)
            batch = []
    if batch:
        manager.bulk_update(batch, target)


def text_to_microseconds(apps, schema_editor):
    _copy_seen(
        apps,
        schema_editor,
        ["first_seen_text", "last_seen_text"],
        ["first_seen", "last_seen"],
        _aware,
    )


def microseconds_to_text(apps, schema_editor):
    _copy_seen(
        apps,
        schema_editor,
        ["first_seen", "last_seen"],
        ["first_seen_text", "last_seen_text"],
        lambda moment: moment,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bugsink_issues", "0004_drop_redundant_indexes"),
    ]

    operations = [
        migrations.RenameField("issuetagvalue", "first_seen", "first_seen_text"),
        migrations.RenameField("issuetagvalue", "last_seen", "last_seen_text"),
        # Nullable while both exist, so that going back can re-add them before refilling them.
        migrations.AlterField("issuetagvalue", "first_seen_text", models.DateTimeField(null=True)),
        migrations.AlterField("issuetagvalue", "last_seen_text", models.DateTimeField(null=True)),
        migrations.AddField(
            model_name="issuetagvalue",
            name="first_seen",
            field=bugsink_issues.models.fields.MicrosecondsField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="issuetagvalue",
            name="last_seen",
            field=bugsink_issues.models.fields.MicrosecondsField(default=0),
            preserve_default=False,
        ),
        migrations.RunPython(text_to_microseconds, microseconds_to_text),
        migrations.RemoveField("issuetagvalue", "first_seen_text"),
        migrations.RemoveField("issuetagvalue", "last_seen_text"),
    ]
