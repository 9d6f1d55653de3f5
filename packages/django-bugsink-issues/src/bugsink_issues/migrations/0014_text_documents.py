"""The full-text index keeps one document per issue and distinct text, counted by events, instead
of one per event (models/fulltext/): a search reads as many documents as there are distinct
texts. Every stored event is read once (its payload decompressed), in batches, to index it."""

import importlib

from django.db import migrations, models

from bugsink_issues.models import fulltext

ui_workflow = importlib.import_module("bugsink_issues.migrations.0009_ui_workflow")


def replace_index(apps, schema_editor):
    ui_workflow.drop_v1_index(schema_editor)
    fulltext.create_index(schema_editor)
    fulltext.backfill(apps.get_model("bugsink_issues", "Event"), schema_editor.connection)


def restore_v1_index(apps, schema_editor):
    # Backwards: the first form's structures, empty (0009 made them so on a new database too).
    fulltext.drop_index(schema_editor)
    ui_workflow.create_fulltext_index(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("bugsink_issues", "0013_api_issues"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="search_doc_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(replace_index, restore_v1_index),
    ]
