from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from bugsink_ingest.dsn import dsn_for_key
from bugsink_ingest.models import Project, ProjectKey


class Command(BaseCommand):
    help = "Create a project with one DSN key; the DSN is the last line of the output."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--rate-limit", type=int, default=None, help="events per minute")

    def handle(self, *args: Any, name: str, rate_limit: int | None, **options: Any) -> None:
        project = Project.objects.create(name=name, rate_limit_per_minute=rate_limit)
        key = ProjectKey.objects.create(project=project, label="default")
        self.stdout.write(
            f"Created project {project.name!r} (id {project.pk}, slug {project.slug})."
        )
        self.stdout.write(dsn_for_key(key))
