"""Source maps, applied in the digest's CPU phase: JavaScript frames get their original file, line,
column, function name and context lines, so the stored event, its grouping and the UI all see
the code as written (a new build of the same code does not split an issue).

Each minified file's map is found by debug id or by release and URL (sourcemap_files.py); the
lookup uses symbolic's SourceMapCache (Sentry's own source-map code, MIT): built from the map and
the minified source, it also recovers the original function names from the source's scopes.
Resolved positions are remembered per process: the same crash site comes back event after event.

The minified frames are kept as the exception's `raw_stacktrace` (Sentry's name), for the UI's
switch. A frame whose map should exist but does not (the event came before its upload) stays as
it was and the event says so in `_sourcemaps.missing`; an event with nothing to map is untouched.
"""

import logging
from urllib.parse import urljoin

from bugsink_issues.artifacts.bundles import normalize_debug_id
from bugsink_issues.artifacts.store import StoreNotConfigured, blob_store
from bugsink_issues.digest import sourcemap_files
from bugsink_issues.digest.sourcemap_files import LRU, MapResolver

__all__ = ["apply_source_maps", "clean_source_path", "clear_caches"]

logger = logging.getLogger(__name__)

JS_PLATFORMS = frozenset({"javascript", "node"})
CONTEXT_LINES = 5
MAX_CONTEXT_LINE = 500
MAX_MISSING_NOTED = 10
_positions = LRU()
# Resolved positions remembered per process (a few KB each, with their context lines).
MAX_POSITIONS = 20_000


def clear_caches():
    sourcemap_files.clear_caches()
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


# --- finding the files ------------------------------------------------------------------------------


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
    resolver = MapResolver(project_id, release, dist, _debug_ids(data), store)
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
