# Releases ordered within their package, and the full-text index of events (models/fulltext/).
# The data step reads the releases of each project once. The index made here is the first form
# (one document per event), frozen below; 0014_text_documents replaces it and indexes the events.

from django.db import migrations, models

from bugsink_issues.lifecycle.releases import in_release_order, package_of

V1_TABLE = "bugsink_issues_eventsearch"
V1_SQLITE = [
    f"CREATE VIRTUAL TABLE {V1_TABLE} USING fts5("
    "document, issue_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS {V1_TABLE}_delete AFTER DELETE ON bugsink_issues_event "
    f"BEGIN DELETE FROM {V1_TABLE} WHERE rowid = OLD.id; END",
]
V1_POSTGRES = [
    f"CREATE TABLE {V1_TABLE} (event_id bigint PRIMARY KEY, issue_id bigint NOT NULL, "
    "document tsvector NOT NULL)",
    f"CREATE INDEX {V1_TABLE}_document ON {V1_TABLE} USING GIN (document)",
    f"""CREATE OR REPLACE FUNCTION {V1_TABLE}_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN DELETE FROM {V1_TABLE} s USING gone WHERE s.event_id = gone.id; RETURN NULL; END $$""",
    f"""CREATE TRIGGER {V1_TABLE}_delete AFTER DELETE ON bugsink_issues_event
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {V1_TABLE}_delete()""",
    f"""CREATE OR REPLACE FUNCTION {V1_TABLE}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN TRUNCATE {V1_TABLE}; RETURN NULL; END $$""",
    f"""CREATE TRIGGER {V1_TABLE}_truncate AFTER TRUNCATE ON bugsink_issues_event
    FOR EACH STATEMENT EXECUTE FUNCTION {V1_TABLE}_truncate()""",
]


def drop_v1_index(schema_editor):
    """Also 0014's first step."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {V1_TABLE}_delete")
        schema_editor.execute(f"DROP TABLE IF EXISTS {V1_TABLE}")
    elif vendor == "postgresql":
        for name in ("delete", "truncate"):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {V1_TABLE}_{name} ON bugsink_issues_event"
            )
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {V1_TABLE}_{name}()")
        schema_editor.execute(f"DROP TABLE IF EXISTS {V1_TABLE}")


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
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": V1_SQLITE, "postgresql": V1_POSTGRES}.get(vendor, []):
        schema_editor.execute(statement)


def drop_fulltext_index(apps, schema_editor):
    drop_v1_index(schema_editor)


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
