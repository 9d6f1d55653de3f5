"""PostgreSQL's full-text index gains what 0017 gave SQLite's (models/fulltext/): each document
its project as a scope lexeme, and the vocabulary of its words, so that a search reads only the
searched projects' documents and names the words a search word starts instead of merging their
postings. The documents are rewritten from themselves (no event is read) and the GIN index built
again; SQLite is unchanged."""

from django.db import migrations

from bugsink_issues.models import fulltext


def upgrade(apps, schema_editor):
    fulltext.upgrade_postgres_index(schema_editor)


def downgrade(apps, schema_editor):
    fulltext.downgrade_postgres_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("bugsink_issues", "0018_issue_status_indexes"),
    ]

    # Backwards: the index rewritten into 0014's form, which the release before this one reads.
    operations = [migrations.RunPython(upgrade, downgrade)]
