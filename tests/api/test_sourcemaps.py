"""Source maps applied in the digest: by debug id and by release + URL, grouping on the original
frames, the note for a missing map, and the bounded cache. The builds are real esbuild output; the
events are shaped as @sentry/browser sends them (tests/e2e and tests/browser send real ones)."""

import pytest

from bugsink_issues.digest import sourcemap_files
from bugsink_issues.digest.storage import load_payload
from bugsink_issues.models import ApiToken, Event, Issue
from tests.api.bundles import (
    APP_TS,
    THROW_LINE,
    build,
    cli_bundle,
    new_cli_bundle,
    position_of,
    upload_bundle,
)
from tests.factories import spooled

DEBUG_ID = "7f1c9f3e-2b8d-4c1a-9e77-0d5b2f6a8c31"
URL = "https://shop.example.com/static/app.js"


@pytest.fixture
def root(world):
    return ApiToken.objects.create_user_token(world["root"])[1]


def browser_event(minified, *, url=URL, debug_id=None, release=None, dist=None):
    line, column = position_of(minified, "throw")
    caller_line, caller_column = position_of(minified, "+=")
    event = {
        "platform": "javascript",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "Error",
                    "value": "negative total for order 7",
                    "mechanism": {"type": "onerror", "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": url,
                                "abs_path": url,
                                "function": "n",
                                "in_app": True,
                                "lineno": caller_line,
                                "colno": caller_column,
                            },
                            {
                                "filename": url,
                                "abs_path": url,
                                "function": "e",
                                "in_app": True,
                                "lineno": line,
                                "colno": column,
                            },
                        ]  # fmt: skip
                    },
                }
            ]
        },
    }
    if debug_id:
        event["debug_meta"] = {
            "images": [{"type": "sourcemap", "code_file": url, "debug_id": debug_id}]
        }
    if release:
        event["release"] = release
    if dist:
        event["dist"] = dist
    return event


def stored_frames(issue=None):
    event = (Event.objects.filter(issue=issue) if issue else Event.objects).order_by("pk").last()
    data = load_payload(event)
    value = data["exception"]["values"][-1]
    return data, value["stacktrace"]["frames"], value.get("raw_stacktrace")


def files(minified, source_map, *, debug_id=None, url="~/static/app.js", header="sourcemap"):
    headers = {"debug-id": debug_id} if debug_id else {}
    return [
        (url, "minified_source", minified, {**headers, header: "app.js.map"}),
        (url + ".map", "source_map", source_map, headers),
    ]


def test_mapped_by_debug_id(client, world, root, tmp_path, digest):
    minified, source_map = build(tmp_path)
    data = cli_bundle(files(minified, source_map, debug_id=DEBUG_ID, url="~/_/whatever.js"))
    assert upload_bundle(client, root, data, projects=["alpha"])["state"] == "ok"
    digest([spooled(world["alpha"], browser_event(minified, debug_id=DEBUG_ID))])
    data, frames, raw = stored_frames()
    top = frames[-1]
    assert top["filename"] == "src/app.ts"
    assert top["lineno"] == THROW_LINE
    assert top["function"] == "computeTotal"
    assert "throw new Error" in top["context_line"]
    assert top["pre_context"][-1].strip() == "if (order.total < 0) {"
    assert top["data"]["resolved_with"] == "debug-id"
    assert frames[0]["function"] == "checkout"
    # The minified frames are kept, for the UI's switch.
    assert raw["frames"][-1]["function"] == "e" and raw["frames"][-1]["abs_path"] == URL
    assert data["_sourcemaps"] == {"mapped_frames": 2, "missing": []}


def test_mapped_by_release_and_url_with_the_new_cli_bundle(client, world, root, tmp_path, digest):
    minified, source_map = build(tmp_path)
    bundle = new_cli_bundle(files(minified, source_map, header="Sourcemap"))
    assert (
        upload_bundle(client, root, bundle, projects=["alpha"], version="1.0", dist="web1")["state"]
        == "ok"
    )
    url = URL + "?v=3#x"  # query and fragment are not part of the uploaded name
    digest([spooled(world["alpha"], browser_event(minified, url=url, release="1.0", dist="web1"))])
    _, frames, _ = stored_frames()
    assert (
        frames[-1]["filename"] == "src/app.ts" and frames[-1]["data"]["resolved_with"] == "release"
    )
    # Another dist (or none) is another build: not mapped, and nothing was uploaded for it.
    digest([spooled(world["alpha"], browser_event(minified, release="1.0", dist="web2"))])
    data, frames, _ = stored_frames()
    assert frames[-1]["function"] == "e" and "_sourcemaps" not in data


def test_release_file_found_through_its_source_mapping_url(client, world, root, tmp_path, digest):
    minified, source_map = build(tmp_path)  # ends with //# sourceMappingURL=app.js.map
    headers = {"Authorization": f"Bearer {root}"}
    client.post(
        "/api/0/projects/bugsink/alpha/releases/", {"version": "r1"},
        content_type="application/json", headers=headers,
    )  # fmt: skip
    from django.core.files.uploadedfile import SimpleUploadedFile

    base = "/api/0/projects/bugsink/alpha/releases/r1/files/"
    for name, content in (("~/static/app.js", minified), ("~/static/app.js.map", source_map)):
        part = SimpleUploadedFile(name.rsplit("/", 1)[1], content)
        assert client.post(base, {"file": part, "name": name}, headers=headers).status_code == 201
    digest([spooled(world["alpha"], browser_event(minified, release="r1"))])
    _, frames, _ = stored_frames()
    assert frames[-1]["function"] == "computeTotal"


def test_a_missing_map_is_noted_and_the_event_stored_as_is(
    client, world, root, tmp_path, digest, monkeypatch
):
    monkeypatch.setattr(sourcemap_files, "NOT_FOUND_TTL", 0.0)
    minified, source_map = build(tmp_path)
    digest([spooled(world["alpha"], browser_event(minified, debug_id=DEBUG_ID))])
    data, frames, raw = stored_frames()
    assert data["_sourcemaps"] == {"mapped_frames": 0, "missing": [URL]}
    assert frames[-1]["function"] == "e" and raw is None
    first_issue = Issue.objects.get()
    # The maps arrive; the next event is mapped (and, grouped by original frames, is a new issue).
    upload_bundle(client, root, cli_bundle(files(minified, source_map, debug_id=DEBUG_ID)))
    digest([spooled(world["alpha"], browser_event(minified, debug_id=DEBUG_ID))])
    _, frames, _ = stored_frames()
    assert frames[-1]["function"] == "computeTotal"
    assert Issue.objects.exclude(pk=first_issue.pk).count() == 1


def test_no_maps_expected_means_no_note(world, tmp_path, digest):
    minified, _ = build(tmp_path)
    digest([spooled(world["alpha"], browser_event(minified))])  # no release, no debug id
    data, frames, _ = stored_frames()
    assert "_sourcemaps" not in data and frames[-1]["function"] == "e"


def test_a_new_build_of_the_same_code_does_not_split_the_issue(
    client, world, root, tmp_path, digest
):
    first_min, first_map = build(tmp_path / "one")
    # The same functions after an unrelated change: other minified names and columns.
    changed = "const banner: string = 'v2 ' + Date.now();\nconsole.log(banner);\n" + APP_TS
    second_min, second_map = build(tmp_path / "two", changed)
    assert position_of(first_min, "throw") != position_of(second_min, "throw")
    other_id = "1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
    upload_bundle(client, root, cli_bundle(files(first_min, first_map, debug_id=DEBUG_ID)))
    upload_bundle(client, root, cli_bundle(files(second_min, second_map, debug_id=other_id)))
    digest(
        [
            spooled(world["alpha"], browser_event(first_min, debug_id=DEBUG_ID)),
            spooled(world["alpha"], browser_event(second_min, debug_id=other_id)),
        ]
    )
    assert Issue.objects.count() == 1 and Event.objects.count() == 2
    _, frames, _ = stored_frames()
    assert frames[-1]["lineno"] == THROW_LINE + 2


def test_a_malformed_map_leaves_the_frames_alone(client, world, root, tmp_path, digest):
    minified, _ = build(tmp_path)
    broken = b'{"version": 3, "mappings": "!!!", "sources": 5}'
    upload_bundle(client, root, cli_bundle(files(minified, broken, debug_id=DEBUG_ID)))
    digest([spooled(world["alpha"], browser_event(minified, debug_id=DEBUG_ID))])
    _, frames, _ = stored_frames()
    assert frames[-1]["function"] == "e"


def test_the_map_cache_is_bounded_by_bytes():
    cache = sourcemap_files.LRU()
    for n in range(10):
        cache.put(n, f"map {n}", cost=100, limit=350)
    assert [n for n in range(10) if cache.get(n) is not None] == [7, 8, 9]
    assert cache._cost == 300


def test_the_issue_page_shows_original_frames_and_switches_to_minified(
    client, world, root, tmp_path, digest
):
    minified, source_map = build(tmp_path)
    upload_bundle(client, root, cli_bundle(files(minified, source_map, debug_id=DEBUG_ID)))
    digest([spooled(world["alpha"], browser_event(minified, debug_id=DEBUG_ID))])
    issue = Issue.objects.get()
    client.force_login(world["alice"])
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "src/app.ts" in page and "computeTotal" in page
    assert "negative total for order" in page  # the original context line
    assert "frames=minified" in page  # the switch
    minified_page = client.get(f"/issues/{issue.pk}/?frames=minified").content.decode()
    assert URL in minified_page and "computeTotal" not in minified_page.split("bsk-frames")[1]


def test_the_issue_page_says_which_map_is_missing(world, tmp_path, digest, client):
    minified, _ = build(tmp_path)
    digest([spooled(world["alpha"], browser_event(minified, debug_id=DEBUG_ID))])
    client.force_login(world["alice"])
    page = client.get(f"/issues/{Issue.objects.get().pk}/").content.decode()
    assert f'Source map missing for <span class="mono">{URL}</span>' in page


def test_a_failure_in_the_mapping_keeps_the_event_as_sent(world, tmp_path, digest, monkeypatch):
    minified, _ = build(tmp_path)

    def broken(self, location):
        raise RuntimeError("a bug in the resolver")

    monkeypatch.setattr(sourcemap_files.MapResolver, "_find", broken)
    digest([spooled(world["alpha"], browser_event(minified, debug_id=DEBUG_ID))])
    data, frames, _ = stored_frames()
    assert "_unparseable" not in data and frames[-1]["function"] == "e"


def test_node_internals_and_library_frames_are_not_noted_missing(
    world, tmp_path, digest, client, root
):
    minified, source_map = build(tmp_path)
    upload_bundle(client, root, cli_bundle(files(minified, source_map)), version="n1")
    event = browser_event(minified, url="/srv/app/dist/other.js", release="n1")
    event["platform"] = "node"
    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    frames.insert(0, {"filename": "node:internal/modules/cjs/loader", "lineno": 1, "colno": 2,
                      "in_app": False, "function": "Module._load"})  # fmt: skip
    frames.insert(0, {"filename": "/srv/app/node_modules/lib/index.js", "lineno": 3, "colno": 4,
                      "in_app": False, "function": "lib"})  # fmt: skip
    digest([spooled(world["alpha"], event)])
    data, _, _ = stored_frames()
    assert data["_sourcemaps"]["missing"] == ["/srv/app/dist/other.js"]
