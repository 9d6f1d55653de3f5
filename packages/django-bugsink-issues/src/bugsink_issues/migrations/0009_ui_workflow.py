# Releases ordered within their package, and the full-text index of events (models/fulltext.py).
# Both data steps read every row once: the releases of each project, then every stored event
# (its payload decompressed to index its message and exception values), in batches.

from django.db import migrations, models

from bugsink_issues.lifecycle.releases import in_release_order, package_of
from bugsink_issues.models import fulltext


def order_releases_by_package(apps, schema_editor):
    Release = apps.get_model("bugsink_issues", "Release")
    manager = Release.objects.using(schema_editor.connection.alias)
    project_ids = manager.values_list("project_id", flat=True).distinct()
    for project_id in list(project_ids):
        by_package: dict[str, list] = {}
        for release in manager.filter(project_id=project_id):
            release.package = package_of(release.version)
            by_package.setdefault(release.package, []).append(release)
        rows = []
        for group in by_package.values():
            for position, release in enumerate(in_release_order(group), start=1):
                release.sort_order = position
                rows.append(release)
        manager.bulk_update(rows, ["package", "sort_order"], batch_size=500)


def create_fulltext_index(apps, schema_editor):
    fulltext.create_index(schema_editor)
    fulltext.backfill(apps.get_model("bugsink_issues", "Event"), schema_editor.connection)


def drop_fulltext_index(apps, schema_editor):
    fulltext.drop_index(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("bugsink_ingest", "0004_spoolsweep"),
        ("bugsink_issues", "0008_scrubbing"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="release",
            name="bi_release_order",
        ),
        migrations.AddField(
            model_name="release",
            name="package",
            field=models.CharField(blank=True, max_length=250),
        ),
        migrations.AddIndex(
            model_name="release",
            index=models.Index(
                fields=["project", "package", "sort_order"], name="bi_release_pkg_order"
            ),
        ),
        migrations.RunPython(order_releases_by_package, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_fulltext_index, drop_fulltext_index),
    ]
