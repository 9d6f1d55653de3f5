"""The issue indexes by status gain merged_into (every list's query has merged_into IS NULL, from
the manager): a status's issues are counted from the index alone. Rebuilt from the issue table
(100,000 issues: under a second)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bugsink_issues', '0017_text_scope'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='issue',
            name='bi_issue_status_seen',
        ),
        migrations.RemoveIndex(
            model_name='issue',
            name='bi_issue_status_count',
        ),
        migrations.RemoveIndex(
            model_name='issue',
            name='bi_issue_status_first',
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['project', 'status', 'merged_into', '-last_seen'], name='bi_issue_status_seen'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['project', 'status', 'merged_into', '-event_count'], name='bi_issue_status_count'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['project', 'status', 'merged_into', '-first_seen'], name='bi_issue_status_first'),
        ),
    ]
