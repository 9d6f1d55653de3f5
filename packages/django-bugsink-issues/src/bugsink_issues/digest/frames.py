"""Stack frames as grouping sees them: which frames count, and the stable parts of each.

Both the grouping key and the choice of an exception group's main exception (exceptions.py) compare
frames this way, so it lives apart from both.
"""

import re

MAX_GROUPING_FRAMES = 50

_FILENAME_HASH = re.compile(r"(?<=[.\-_])(?=[0-9a-z]*\d)[0-9a-z]{6,}(?=\.)", re.I)
_ADDRESS = re.compile(r"0x[0-9a-f]+", re.I)


def frames_of(value):
    stacktrace = value.get("stacktrace") if isinstance(value, dict) else None
    if not isinstance(stacktrace, dict):
        return []
    return stacktrace.get("frames") or []


def grouping_frames(frames):
    """[location, function] of the in-app frames; of all frames when the in-app ones say nothing."""
    frames = [f for f in frames if isinstance(f, dict)]
    in_app = [f for f in frames if f.get("in_app") is True]
    return (_frame_parts(in_app) if in_app else []) or _frame_parts(frames)


def _frame_parts(frames):
    parts: list[list[str]] = []
    for frame in frames[-MAX_GROUPING_FRAMES:]:
        function = frame.get("function") or ""
        if function in ("?", "<unknown>"):
            function = ""
        location = frame.get("module") or _normalize_filename(
            frame.get("filename") or frame.get("abs_path") or frame.get("package") or ""
        )
        if not function and not location:
            continue
        part = [location, _ADDRESS.sub("<addr>", function)]
        if parts and parts[-1] == part:
            continue  # recursion: one frame stands for the run
        parts.append(part)
    # Frames without a function name (unsymbolicated addresses) say nothing stable.
    if not any(part[1] for part in parts):
        return []
    return parts


def _normalize_filename(filename):
    filename = str(filename).split("?", 1)[0].split("#", 1)[0]
    if "://" in filename:
        filename = "/" + filename.split("://", 1)[1].partition("/")[2]
    return _FILENAME_HASH.sub("<hash>", filename)
