"""Source maps, applied in the digest's CPU phase: JavaScript frames get their original file, line,
column, function name and context lines, so the stored event, its grouping and the UI all see
the code as written (a new build of the same code does not split an issue).

A frame's map is found
- by debug id: `debug_meta.images` of type `sourcemap` name a debug id per minified file (what
  `sentry-cli sourcemaps inject` and the bundler plugins put in the code); or
- by release and URL: the event's release and dist, the frame's URL as uploaded (`~/path` stands
  for any scheme and host), then the minified file's `Sourcemap` header or `sourceMappingURL`.
The lookup uses symbolic's SourceMapCache (Sentry's own source-map code, MIT): built from the map
and the minified source, it also recovers the original function names from the source's scopes.

The minified frames are kept as the exception's `raw_stacktrace` (Sentry's name), for the UI's
switch. A frame whose map should exist but does not (the event came before its upload) stays as
it was and the event says so in `_sourcemaps.missing`; an event with nothing to map is untouched.

Parsed maps are kept per process in an LRU bounded by the bytes they were built from
(BUGSINK_ISSUES_SOURCEMAP_CACHE_BYTES), file lookups in a small TTL cache: the database is asked
once per file per few seconds, not once per event.
"""

import base64
import logging
import re
import threading
import time
from collections import OrderedDict
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

from bugsink_issues.artifacts.bundles import normalize_debug_id
from bugsink_issues.artifacts.store import StoreNotConfigured, blob_store
from bugsink_issues.conf import app_settings
from bugsink_issues.models import ArtifactFile

__all__ = ["apply_source_maps", "clear_caches"]

logger = logging.getLogger(__name__)

JS_PLATFORMS = frozenset({"javascript", "node"})
CONTEXT_LINES = 5
MAX_CONTEXT_LINE = 500
MAX_MISSING_NOTED = 10
# How long a file lookup is remembered: found files change only by deletion or a re-upload.
FOUND_TTL = 60.0
NOT_FOUND_TTL = 2.0
_SOURCE_MAPPING_URL = re.compile(rb"[#@]\s*sourceMappingURL=(\S+)\s*$", re.MULTILINE)


class _LRU:
    """A thread-safe LRU bounded by the summed cost of its values."""

    def __init__(self):
        self._items = OrderedDict()
        self._cost = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key, value, cost, limit):
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (value, cost)
            self._cost += cost
            while self._cost > limit and len(self._items) > 1:
                _, (_, old_cost) = self._items.popitem(last=False)
                self._cost -= old_cost

    def clear(self):
        with self._lock:
            self._items.clear()
            self._cost = 0


class _TTLCache:
    def __init__(self, max_items=10_000):
        self._items = OrderedDict()
        self._lock = threading.Lock()
        self.max_items = max_items

    def get(self, key, now):
        with self._lock:
            item = self._items.get(key)
            if item is None or item[1] < now:
                return None
            return item

    def put(self, key, value, ttl, now):
        with self._lock:
            self._items[key] = (value, now + ttl)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def clear(self):
        with self._lock:
            self._items.clear()


_maps = _LRU()
_lookups = _TTLCache()
_positions = _LRU()
# Resolved positions remembered per process (a few KB each, with their context lines).
MAX_POSITIONS = 20_000


def clear_caches():
    _maps.clear()
    _lookups.clear()
    _positions.clear()


# --- what an event asks for -----------------------------------------------------------------------


def _is_javascript(data):
    return data.get("platform") in JS_PLATFORMS


def _stacktraces(data):
    """(owner, stacktrace) of each exception value and thread with frames."""
    for key in ("exception", "threads"):
        container = data.get(key)
        values = container.get("values") if isinstance(container, dict) else container
        if not isinstance(values, list):
            continue
        for owner in values:
            if not isinstance(owner, dict):
                continue
            stacktrace = owner.get("stacktrace")
            if isinstance(stacktrace, dict) and isinstance(stacktrace.get("frames"), list):
                yield owner, stacktrace


def _debug_ids(data):
    """{code_file: debug id} from debug_meta.images of type sourcemap."""
    meta = data.get("debug_meta")
    images = meta.get("images") if isinstance(meta, dict) else None
    out = {}
    for image in images if isinstance(images, list) else ():
        if isinstance(image, dict) and image.get("type") == "sourcemap":
            code_file, debug_id = image.get("code_file"), normalize_debug_id(image.get("debug_id"))
            if isinstance(code_file, str) and debug_id:
                out[code_file] = debug_id
    return out


def _location(frame):
    """The minified file's URL or path: `abs_path` (browsers), else `filename` (Node sends the
    absolute path there)."""
    return frame.get("abs_path") or frame.get("filename")


def _mappable(frame):
    if not isinstance(frame, dict):
        return False
    path, line, column = _location(frame), frame.get("lineno"), frame.get("colno")
    return (
        isinstance(path, str)
        and path not in ("", "native", "[native code]")
        and not path.startswith(("<", "node:"))  # <anonymous>, Node's own modules
        and isinstance(line, int)
        and isinstance(column, int)
        and line > 0
        and column > 0
    )


def url_candidates(url):
    """The names a frame's URL may have been uploaded under: itself, without query and fragment,
    and `~/path` (any scheme and host)."""
    whole = url.split("#", 1)[0]
    bare = whole.split("?", 1)[0]
    out = [whole, bare]
    parts = urlsplit(bare)
    path = parts.path if parts.scheme else bare
    if path.startswith("/"):
        out.append("~" + path)
    return list(dict.fromkeys(out))


# --- finding the files ------------------------------------------------------------------------------


class _Resolver:
    """Finds, per minified file URL, the source map (and minified source) of one event."""

    def __init__(self, project_id, release, dist, debug_ids, store):
        self.project_id, self.release, self.dist = project_id, release, dist
        self.debug_ids, self.store = debug_ids, store
        self.now = time.monotonic()
        self.sources = {}

    def _cached_query(self, key, query):
        hit = _lookups.get(key, self.now)
        if hit is not None:
            return hit[0]
        rows = tuple(query())
        _lookups.put(key, rows, FOUND_TTL if rows else NOT_FOUND_TTL, self.now)
        return rows

    def _files(self, **filters):
        return (
            ArtifactFile.objects.for_project(self.project_id)
            .filter(**filters)
            .newest_first()
            .values_list("kind", "url", "sourcemap", "checksum")
        )

    def _by_debug_id(self, debug_id):
        rows = self._cached_query(
            ("debug", self.project_id, debug_id), lambda: self._files(debug_id=debug_id)[:10]
        )
        source_map = next((r for r in rows if r[0] == "source_map"), None)
        minified = next((r for r in rows if r[0] == "minified_source"), None)
        return source_map, minified

    def _by_url(self, urls):
        key = ("release", self.project_id, self.release, self.dist, tuple(urls))
        rows = self._cached_query(
            key,
            lambda: self._files(version=self.release, dist=self.dist, url__in=urls)[:10],
        )
        # The first candidate that matched (the most specific name).
        for url in urls:
            for row in rows:
                if row[1] == url:
                    return row
        return None

    def release_has_files(self):
        key = ("release-any", self.project_id, self.release, self.dist)
        return bool(
            self._cached_query(
                key,
                lambda: (
                    ArtifactFile.objects.for_project(self.project_id)
                    .filter(version=self.release, dist=self.dist)
                    .values_list("pk")[:1]
                ),
            )
        )

    def source_for(self, abs_path):
        """(SourceMapCache, map URL, how) for a minified file, or (None, reason, how)."""
        if abs_path not in self.sources:
            self.sources[abs_path] = self._find(abs_path)
        return self.sources[abs_path]

    def _find(self, abs_path):
        debug_id = self.debug_ids.get(abs_path)
        if debug_id:
            source_map, minified = self._by_debug_id(debug_id)
            if source_map is not None:
                return self._load(source_map, minified, "debug-id")
        if self.release:
            candidates = url_candidates(abs_path)
            minified = self._by_url(candidates)
            if minified is not None and minified[0] == "minified_source":
                map_ref = minified[2] or self._mapping_url_of(minified[3])
                if map_ref.startswith("data:"):
                    return self._load_inline(map_ref, minified)
                if map_ref:
                    map_url = urljoin(minified[1], map_ref)
                    source_map = self._by_url(url_candidates(map_url))
                    if source_map is not None:
                        return self._load(source_map, minified, "release")
            source_map = self._by_url([c + ".map" for c in candidates])
            if source_map is not None:
                return self._load(source_map, minified, "release")
        expected = bool(debug_id) or (self.release and self.release_has_files())
        return None, "missing" if expected else "not-expected", None

    def _mapping_url_of(self, checksum):
        tail = self._read_tail(checksum)
        match = _SOURCE_MAPPING_URL.search(tail) if tail else None
        return match.group(1).decode("utf-8", "replace") if match else ""

    def _read_tail(self, checksum, size=4096):
        try:
            with open(self.store.blob_path(checksum), "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - size))
                return f.read()
        except OSError:
            return b""

    def _load(self, source_map, minified, how):
        key = (source_map[3], minified[3] if minified else "")
        cache = _maps.get(key)
        if cache is None:
            limit = app_settings.SOURCEMAP_MAX_BYTES
            map_bytes = self.store.read_blob(source_map[3], max_bytes=limit)
            if map_bytes is None:
                return None, "missing", how
            source_bytes = b""
            if minified is not None:
                source_bytes = self.store.read_blob(minified[3], max_bytes=limit) or b""
            cache = _build(map_bytes, source_bytes)
            if cache is None:
                return None, "unreadable", how
            _maps.put(
                key, cache, len(map_bytes) + len(source_bytes), app_settings.SOURCEMAP_CACHE_BYTES
            )
        return _Source(cache, key), source_map[1], how

    def _load_inline(self, data_url, minified):
        header, _, payload = data_url.partition(",")
        try:
            raw = (
                base64.b64decode(payload)
                if header.endswith(";base64")
                else unquote_to_bytes(payload)
            )
        except ValueError:
            return None, "unreadable", "release"
        source_bytes = self.store.read_blob(minified[3], app_settings.SOURCEMAP_MAX_BYTES) or b""
        cache = _build(raw, source_bytes)
        if cache is None:
            return None, "unreadable", "release"
        return _Source(cache, ("inline", minified[3])), minified[1], "release"


def _build(map_bytes, source_bytes):
    from symbolic.sourcemapcache import SourceMapCache

    try:
        return SourceMapCache.from_bytes(source_bytes, map_bytes)
    except Exception as exc:  # symbolic raises its own error types for a malformed map
        logger.info("bugsink_issues: unreadable source map: %s", exc)
        return None


# --- mapping frames ---------------------------------------------------------------------------------


def clean_source_path(source):
    """A display path for a map's source: "webpack://app/./src/a.ts" -> "src/a.ts",
    "../src/a.ts" -> "src/a.ts"."""
    path = source
    if "://" in path:
        scheme, _, rest = path.partition("://")
        path = rest.partition("/")[2] if scheme in ("webpack", "http", "https") else rest
    path = path.split("?", 1)[0]
    while path.startswith(("./", "../", "/")):
        path = path[path.index("/") + 1 :]
    return path or source


def _line(text):
    return text.rstrip("\r\n")[:MAX_CONTEXT_LINE]


class _Source:
    """A parsed map (symbolic's SourceMapCache) and its key in the map cache."""

    __slots__ = ("cache", "key")

    def __init__(self, cache, key):
        self.cache, self.key = cache, key


def _resolved(source, line, column, map_url):
    """What a source map says of one minified position (the frame fields to set), or None.
    Remembered per map and position: the same crash site comes back event after event."""
    key = (source.key, line, column, map_url)
    hit = _positions.get(key)
    if hit is not None:
        return hit or None
    token = source.cache.lookup(line, column, CONTEXT_LINES)
    fields = {}
    if token is not None and token.src:
        original = token.src
        # Sources are relative to the map; one uploaded under "~/…" has no real base to join.
        joinable = "://" in map_url and "://" not in original
        fields = {
            "abs_path": urljoin(map_url, original) if joinable else original,
            "filename": clean_source_path(original),
            "lineno": token.line,
            "colno": token.col,
        }
        function = token.function_name
        if function in (None, "", "<unknown>"):
            function = token.name
        if function:
            fields["function"] = function
        if token.context_line is not None:
            fields["pre_context"] = [_line(x) for x in token.pre_context]
            fields["context_line"] = _line(token.context_line)
            fields["post_context"] = [_line(x) for x in token.post_context]
        if "node_modules/" in original:
            fields["in_app"] = False
    _positions.put(key, fields, 1, MAX_POSITIONS)
    return fields or None


def _mapped_frame(frame, source, map_url, how):
    fields = _resolved(source, frame["lineno"], frame["colno"], map_url)
    if fields is None:
        return None
    mapped = {
        k: v
        for k, v in frame.items()
        if k not in ("module", "pre_context", "context_line", "post_context")
    }
    # Lists are copied: the remembered fields must not change with one event.
    mapped.update({k: list(v) if isinstance(v, list) else v for k, v in fields.items()})
    data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
    mapped["data"] = {**data, "sourcemap": map_url, "resolved_with": how}
    return mapped


def apply_source_maps(data, project_id):
    """Map the JavaScript frames of `data` (a normalised event, changed in place). Never raises:
    an event whose maps cannot be applied is stored with the frames it came with."""
    if not _is_javascript(data):
        return
    try:
        _apply(data, project_id)
    except Exception:  # a bug here, or a database hiccup, must not cost the event its parsing
        logger.exception(
            "bugsink_issues: source maps not applied to event %s", data.get("event_id")
        )


def _apply(data, project_id):
    stacks = list(_stacktraces(data))
    if not stacks or not any(_mappable(f) for _, st in stacks for f in st["frames"]):
        return
    try:
        store = blob_store()
    except StoreNotConfigured:
        return
    release = data.get("release") if isinstance(data.get("release"), str) else ""
    dist = data.get("dist") if isinstance(data.get("dist"), str) else ""
    resolver = _Resolver(project_id, release, dist, _debug_ids(data), store)
    mapped_count, missing = 0, []
    for owner, stacktrace in stacks:
        frames = stacktrace["frames"]
        new_frames, changed = [], False
        for frame in frames:
            if not _mappable(frame):
                new_frames.append(frame)
                continue
            location = _location(frame)
            source, where, how = resolver.source_for(location)
            mapped = _mapped_frame(frame, source, where, how) if source is not None else None
            if mapped is None:
                # Library frames without a debug id are often served unminified: no note.
                expected = frame.get("in_app") is not False or location in resolver.debug_ids
                if where == "missing" and expected and location not in missing:
                    missing.append(location)
                new_frames.append(frame)
                continue
            new_frames.append(mapped)
            mapped_count += 1
            changed = True
        if changed:
            # The minified frames, untouched (the mapped ones are new dicts).
            owner["raw_stacktrace"] = {**stacktrace, "frames": frames}
            stacktrace["frames"] = new_frames
    if mapped_count or missing:
        data["_sourcemaps"] = {
            "mapped_frames": mapped_count,
            "missing": missing[:MAX_MISSING_NOTED],
        }
