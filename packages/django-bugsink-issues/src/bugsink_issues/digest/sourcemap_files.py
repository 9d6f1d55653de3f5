"""Finding a frame's source map: the uploaded files (digest/sourcemaps.py applies them).

By debug id (`debug_meta.images`), else by release, dist and URL (`~/path` for any scheme and
host, then the minified file's `Sourcemap` header or `sourceMappingURL`). Parsed maps (symbolic's
SourceMapCache) are kept per process in an LRU bounded by the bytes they were built from
(BUGSINK_ISSUES_SOURCEMAP_CACHE_BYTES); file lookups in a small TTL cache, so the database is asked
once per file every few seconds, not once per event.
"""

import base64
import logging
import re
import threading
import time
from collections import OrderedDict
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

from bugsink_issues.conf import app_settings
from bugsink_issues.models import ArtifactFile

__all__ = [
    "FOUND_TTL",
    "LRU",
    "NOT_FOUND_TTL",
    "MapResolver",
    "ParsedMap",
    "TTLCache",
    "clear_caches",
    "url_candidates",
]

logger = logging.getLogger(__name__)

# How long a file lookup is remembered: found files change only by deletion or a re-upload.
FOUND_TTL = 60.0
NOT_FOUND_TTL = 2.0
_SOURCE_MAPPING_URL = re.compile(rb"[#@]\s*sourceMappingURL=(\S+)\s*$", re.MULTILINE)


class LRU:
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


class TTLCache:
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


_maps = LRU()
_lookups = TTLCache()


def clear_caches():
    _maps.clear()
    _lookups.clear()


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


class ParsedMap:
    """A parsed map (symbolic's SourceMapCache) and its key in the map cache."""

    __slots__ = ("cache", "key")

    def __init__(self, cache, key):
        self.cache, self.key = cache, key


class MapResolver:
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
        return ParsedMap(cache, key), source_map[1], how

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
        return ParsedMap(cache, ("inline", minified[3])), minified[1], "release"


def _build(map_bytes, source_bytes):
    from symbolic.sourcemapcache import SourceMapCache

    try:
        return SourceMapCache.from_bytes(source_bytes, map_bytes)
    except Exception as exc:  # symbolic raises its own error types for a malformed map
        logger.info("bugsink_issues: unreadable source map: %s", exc)
        return None
