"""SQLite's full-text index gains a scope token per document (its issue's project) and the
vocabulary of its words (models/fulltext/): a search reads only the searched projects' documents
and writes a common word out as the words it starts instead of merging their postings. The
documents are copied from the index as they are (no event is read); PostgreSQL is unchanged."""

from django.db import migrations

from bugsink_issues.models import fulltext


def upgrade(apps, schema_editor):
    fulltext.upgrade_index(schema_editor)


def downgrade(apps, schema_editor):
    fulltext.downgrade_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("bugsink_issues", "0016_issue_day_counts"),
    ]

    # Backwards: the index rewritten into 0014's form, which the release before this one reads.
    operations = [migrations.RunPython(upgrade, downgrade)]
