"""Stack frames as grouping sees them: which frames count, and the stable parts of each.

Both the grouping key and the choice of an exception group's main exception (exceptions.py) compare
frames this way, so it lives apart from both. What a version of grouping takes from frames is a
FrameRules value; version 1's rules must never change (its keys are stored).
"""

import re
from typing import NamedTuple

MAX_GROUPING_FRAMES = 50
# Longer source lines are nearly always minified or generated code: a change anywhere on such a line
# would split the issue, so these frames fall back to their location and function.
MAX_CONTEXT_LINE = 150

_FILENAME_HASH = re.compile(r"(?<=[.\-_])(?=[0-9a-z]*\d)[0-9a-z]{6,}(?=\.)", re.I)
_ADDRESS = re.compile(r"0x[0-9a-f]+", re.I)

# The SDK's own frames (see is_sdk_frame).
_SDK_MODULE = re.compile(r"^(?:sentry_sdk|raven)(?:\.|$)|^@sentry(?:-internal)?[./]|^io\.sentry\.")
_SDK_PATH = re.compile(
    r"(?:^|[/\\])(?:@sentry(?:-internal)?[/\\]|sentry_sdk[/\\]|raven-js[/\\])|"
    r"(?:^|[/\\.])(?:sentry-cdn|ravenjs)\.com/"
)
# V8 names a method call "Receiver.name [as alias]": the name is the part after the last dot.
_SDK_FUNCTION = re.compile(r"(?:^|\.)sentryWrapped(?: \[as [^\]]*\])?$")


class FrameRules(NamedTuple):
    """What a grouping version takes from frames."""

    # The in-app frames' whitespace-normalised source line (`context_line`) as a third part.
    context_lines: bool = False
    # Drop the SDK's own frames (is_sdk_frame) before anything else.
    skip_sdk_frames: bool = False


V1_FRAMES = FrameRules()


def frames_of(value):
    stacktrace = value.get("stacktrace") if isinstance(value, dict) else None
    if not isinstance(stacktrace, dict):
        return []
    return stacktrace.get("frames") or []


def is_sdk_frame(frame):
    """A frame of a Sentry SDK itself, never of the application: its module is `sentry_sdk`, `raven`,
    an `@sentry/...` package (the Node SDK writes `@sentry.core.build...`) or `io.sentry.` (Java
    and Android); or its filename or abs_path lies in an `@sentry/` or `@sentry-internal/` package
    directory, a `sentry_sdk/` or `raven-js/` directory, or on the SDK's CDN; or its function is
    the browser SDK's wrapper `sentryWrapped` (as V8 names it: `EventTarget.sentryWrapped`,
    `sentryWrapped [as x]`), the one SDK frame whose name survives when the SDK is bundled into
    the application's own file."""
    module = frame.get("module")
    if isinstance(module, str) and _SDK_MODULE.search(module):
        return True
    function = frame.get("function")
    if isinstance(function, str) and _SDK_FUNCTION.search(function):
        return True
    for key in ("filename", "abs_path"):
        path = frame.get(key)
        if isinstance(path, str) and _SDK_PATH.search(path):
            return True
    return False


def grouping_frames(frames, rules=V1_FRAMES):
    """The parts of the in-app frames; of all frames when the in-app ones say nothing."""
    frames = [f for f in frames if isinstance(f, dict)]
    if rules.skip_sdk_frames:
        frames = [f for f in frames if not is_sdk_frame(f)]
    in_app = [f for f in frames if f.get("in_app") is True]
    # Source lines only of in-app frames: a library's lines change with every upgrade of it.
    return (_frame_parts(in_app, rules.context_lines) if in_app else []) or _frame_parts(
        frames, False
    )


def _frame_parts(frames, context_lines):
    parts: list[list[str]] = []
    for frame in frames[-MAX_GROUPING_FRAMES:]:
        function = frame.get("function") or ""
        if function in ("?", "<unknown>"):
            function = ""
        location = frame.get("module") or _normalize_filename(
            frame.get("filename") or frame.get("abs_path") or frame.get("package") or ""
        )
        line = context_line(frame) if context_lines else ""
        if not function and not location:
            continue
        part = [location, _ADDRESS.sub("<addr>", function)]
        if line:
            part.append(line)
        if parts and parts[-1] == part:
            continue  # recursion: one frame stands for the run
        parts.append(part)
    # Frames without a function name or a source line (unsymbolicated addresses) say nothing
    # stable.
    if not any(part[1] or len(part) > 2 for part in parts):
        return []
    return parts


def context_line(frame):
    """The frame's source line with its whitespace normalised; "" when missing or too long."""
    line = frame.get("context_line")
    if not isinstance(line, str) or len(line) > 4 * MAX_CONTEXT_LINE:
        return ""
    line = " ".join(line.split())
    return line if len(line) <= MAX_CONTEXT_LINE else ""


def _normalize_filename(filename):
    filename = str(filename).split("?", 1)[0].split("#", 1)[0]
    if "://" in filename:
        filename = "/" + filename.split("://", 1)[1].partition("/")[2]
    return _FILENAME_HASH.sub("<hash>", filename)
