"""Mount at the site root, as Sentry's clients require (sentry-cli refuses an API under a prefix):

    path("api/0/", include("bugsink_issues.api.urls")),

after bugsink_ingest's URLs (`api/<project id>/envelope/` and the like stay ingest's).
"""

from django.urls import re_path

from bugsink_issues.api.errors import json_errors, unknown_path
from bugsink_issues.api.instance import api

patterns, _app_name, namespace = api.urls
for pattern in patterns:
    pattern.callback = json_errors(pattern.callback)

app_name = namespace
urlpatterns = [*patterns, re_path(r"^.*$", unknown_path, name="unknown")]
