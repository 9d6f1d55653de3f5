"""Events per issue and day kept by the digest (models/volume.py), counted from the stored events
once here: one INSERT ... SELECT ... GROUP BY over the event table."""

import django.db.models.deletion
from django.db import migrations, models

from bugsink_issues.models import volume


def count_stored_events(apps, schema_editor):
    volume.backfill(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('bugsink_ingest', '0005_spoolattachmentchunk'),
        ('bugsink_issues', '0015_health_receipts_per_batch'),
    ]

    operations = [
        migrations.CreateModel(
            name='IssueDayCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('events', models.PositiveBigIntegerField()),
                ('issue', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='bugsink_issues.issue')),
                ('project', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='bugsink_ingest.project')),
            ],
            options={
                'indexes': [models.Index(fields=['project', 'day'], name='bi_issueday_project')],
                'constraints': [models.UniqueConstraint(fields=('issue', 'day'), name='bi_issueday_unique')],
            },
        ),
        migrations.RunPython(count_stored_events, migrations.RunPython.noop),
    ]
