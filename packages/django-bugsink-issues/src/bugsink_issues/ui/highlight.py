"""Source context highlighted with Pygments: the only HTML the UI marks safe (Pygments escapes it)."""

from functools import lru_cache

from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

PLATFORM_LEXERS = {
    "python": "python",
    "javascript": "javascript",
    "node": "javascript",
    "php": "php",
    "ruby": "ruby",
    "java": "java",
    "go": "go",
    "csharp": "csharp",
    "elixir": "elixir",
    "native": "c",
}


@lru_cache(maxsize=256)
def _lexer(filename, platform):
    try:
        if filename:
            return get_lexer_for_filename(filename, stripnl=False, ensurenl=False)
    except ClassNotFound:
        pass
    try:
        return get_lexer_by_name(
            PLATFORM_LEXERS.get(platform, "text"), stripnl=False, ensurenl=False
        )
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=False)


_FORMATTER = HtmlFormatter(nowrap=True)


def highlight_lines(lines, filename="", platform=""):
    """Each source line as safe highlighted HTML. Lines are highlighted together (multi-line
    strings stay right) and split back; a count mismatch falls back to per-line highlighting."""
    lines = [line if isinstance(line, str) else "" for line in lines]
    if not lines:
        return []
    lexer = _lexer((filename or "")[-200:], platform or "")
    html = highlight("\n".join(lines) + "\n", lexer, _FORMATTER)
    out = html.split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != len(lines):
        out = [highlight(line + "\n", lexer, _FORMATTER).rstrip("\n") for line in lines]
    # Pygments' HtmlFormatter escapes every token of its input; this is the only mark_safe.
    return [mark_safe(line) for line in out]
