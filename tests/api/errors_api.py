"""A small NinjaAPI with the web API's error handling, for the tests of bad input: the real API's
handlers and wrapper (bugsink_issues.api.errors) around endpoints that take a body or fail."""

from django.urls import include, path, re_path
from ninja import NinjaAPI, Schema

from bugsink_issues.api.errors import install_handlers, json_errors, unknown_path

api = NinjaAPI(urls_namespace="errors_test_api", docs_url=None)
install_handlers(api)


class ThingIn(Schema):
    version: str
    count: int


@api.post("/things/", auth=None)
def create_thing(request, payload: ThingIn):
    return {"version": payload.version, "count": payload.count}


@api.get("/boom/", auth=None)
def boom(request):
    raise RuntimeError("unexpected")


patterns, _, namespace = api.urls
for pattern in patterns:
    pattern.callback = json_errors(pattern.callback)

urlpatterns = [
    path("api/0/", include("bugsink_issues.api.urls")),
    path("errors-test/", include(([*patterns, re_path(r"^.*$", unknown_path)], namespace))),
]
