"""Create an API token and print it as the last line (for provisioning CI):

manage.py bugsink_create_token --user ci@example.com --scope project:releases --scope org:read
manage.py bugsink_create_token --user admin@example.com --organization --name "CI uploads"
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from bugsink_issues.api.organization import public_base_url
from bugsink_issues.conf import app_settings
from bugsink_issues.models.api import DEFAULT_USER_SCOPES, SCOPES, ApiToken


class Command(BaseCommand):
    help = (
        "Create a web API token and print it (shown this once) as the last line. A user token "
        "acts as --user; an --organization token (sentry-cli's sntrys_ form, scope org:ci) "
        "belongs to no user and names this server, so SENTRY_AUTH_TOKEN alone configures "
        "sentry-cli."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            required=True,
            help="E-mail or username: the token's user (or, with --organization, its creator).",
        )
        parser.add_argument(
            "--scope",
            action="append",
            choices=SCOPES,
            metavar="SCOPE",
            help=f"Repeat for several (default: {' '.join(DEFAULT_USER_SCOPES)}). "
            f"One of: {', '.join(SCOPES)}.",
        )
        parser.add_argument(
            "--organization", action="store_true", help="An organization token (scope org:ci)."
        )
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument(
            "--url",
            default="",
            help="The public base URL embedded in an organization token "
            "(default: BUGSINK_ISSUES_BASE_URL).",
        )

    def handle(self, *args, **options):
        user = self._user(options["user"])
        if options["organization"]:
            if options["scope"]:
                raise CommandError("An organization token has the scope org:ci; drop --scope.")
            base_url = options["url"] or public_base_url()
            if not base_url:
                raise CommandError(
                    "An organization token embeds this server's public URL: set "
                    "BUGSINK_ISSUES_BASE_URL or pass --url."
                )
            row, secret = ApiToken.objects.create_organization_token(
                base_url=base_url,
                organization_slug=app_settings.ORGANIZATION_SLUG,
                name=options["name"],
                created_by=user,
            )
        else:
            row, secret = ApiToken.objects.create_user_token(
                user, name=options["name"], scopes=options["scope"] or DEFAULT_USER_SCOPES
            )
        self.stderr.write(
            f"Created {row.get_kind_display().lower()} {row.display} with scopes "
            f"{' '.join(row.scopes)}; it is shown this once:"
        )
        self.stdout.write(secret)

    def _user(self, who):
        User = get_user_model()
        lookup = Q(**{User.USERNAME_FIELD: who})
        if hasattr(User, "email"):
            lookup |= Q(email__iexact=who)
        users = list(User.objects.filter(lookup)[:2])
        if len(users) != 1:
            raise CommandError(
                f"No user {who!r}." if not users else f"Several users match {who!r}."
            )
        if not users[0].is_active:
            raise CommandError(f"User {who!r} is inactive.")
        return users[0]
