"""The web API's issue fields: per-project issue numbers (short ids such as WEB-101), assignment to
a user or a team, merging (the merged issue points to its target), who has seen an issue, and
indexes for sorting a status's issues by events and by age.

Existing issues are numbered per project in the order they were first seen."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def number_existing_issues(apps, schema_editor):
    Issue = apps.get_model("bugsink_issues", "Issue")
    ProjectSettings = apps.get_model("bugsink_issues", "ProjectSettings")
    from bugsink_issues.conf import app_settings

    project_ids = Issue.objects.values_list("project_id", flat=True).distinct().order_by()
    for project_id in list(project_ids):
        ids = Issue.objects.filter(project_id=project_id).order_by("first_seen", "id")
        numbered = []
        for number, pk in enumerate(ids.values_list("id", flat=True).iterator(), start=1):
            numbered.append(Issue(pk=pk, number=number))
            if len(numbered) >= 1000:
                Issue.objects.bulk_update(numbered, ["number"])
                numbered = []
        Issue.objects.bulk_update(numbered, ["number"])
        last = Issue.objects.filter(project_id=project_id).count()
        row, _ = ProjectSettings.objects.get_or_create(
            project_id=project_id, defaults={"grouping_version": app_settings.GROUPING_VERSION}
        )
        ProjectSettings.objects.filter(pk=row.pk).update(last_issue_number=last)


class Migration(migrations.Migration):

    dependencies = [
        ('bugsink_ingest', '0004_spoolsweep'),
        ('bugsink_issues', '0012_release_health'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='IssueSeen',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_seen_at', models.DateTimeField()),
            ],
            options={
                'verbose_name_plural': 'issue seen',
            },
        ),
        migrations.AddField(
            model_name='issue',
            name='assigned_team',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='bugsink_issues.team'),
        ),
        migrations.AddField(
            model_name='issue',
            name='assigned_user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='issue',
            name='merged_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='bugsink_issues.issue'),
        ),
        migrations.AddField(
            model_name='issue',
            name='number',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='projectsettings',
            name='last_issue_number',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='issuehistory',
            name='kind',
            field=models.CharField(choices=[('created', 'Created'), ('resolved', 'Resolved'), ('resolved_in_release', 'Resolved In Release'), ('resolved_in_next_release', 'Resolved In Next Release'), ('reopened', 'Reopened'), ('regressed', 'Regressed'), ('muted', 'Muted'), ('unmuted', 'Unmuted'), ('comment', 'Comment'), ('assigned', 'Assigned'), ('unassigned', 'Unassigned'), ('merged', 'Merged'), ('merged_into', 'Merged Into')], max_length=32),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['project', 'status', '-event_count'], name='bi_issue_status_count'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(fields=['project', 'status', '-first_seen'], name='bi_issue_status_first'),
        ),
        migrations.RunPython(number_existing_issues, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='issue',
            constraint=models.UniqueConstraint(condition=models.Q(('number__gt', 0)), fields=('project', 'number'), name='bi_issue_project_number'),
        ),
        migrations.AddConstraint(
            model_name='issue',
            constraint=models.CheckConstraint(condition=models.Q(('assigned_user__isnull', True), ('assigned_team__isnull', True), _connector='OR'), name='bi_issue_one_assignee'),
        ),
        migrations.AddField(
            model_name='issueseen',
            name='issue',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='seen', to='bugsink_issues.issue'),
        ),
        migrations.AddField(
            model_name='issueseen',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='issueseen',
            constraint=models.UniqueConstraint(fields=('issue', 'user'), name='bi_issueseen_unique'),
        ),
    ]
