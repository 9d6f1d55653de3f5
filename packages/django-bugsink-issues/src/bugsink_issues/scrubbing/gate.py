"""The gate: one linear pass over the JSON text of an event's pieces that finds every place where
the scrubbing rules could replace anything, so that only those pieces are walked.

RE2 (google-re2), because it matches all alternatives in one pass over the text, where Python's
re tries each alternative at each position and costs twenty to fifty times more on event-sized
text. Without capture groups RE2 needs only its DFA (twice as fast again); what a match is, is
told afterwards by Python patterns over the few short matches.

Everything the rules replace must be found here (tests compare the gated walk with a full one):
the patterns read JSON text, where a string's quotes, backslashes and control characters are
escaped, and take those escapes wherever the rules take the characters.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass, field

import re2  # type: ignore[import-untyped, unused-ignore]

_JSON_SPACE = r"(?:\s|\\[a-z]|\\u[0-9a-f]{4})"
_JSON_STRING_CHAR = r"(?:[^\"\\]|\\.)"
_URL_PASSWORD = r"://[^/\s:@\"'<>]*:[^/\s@\"'<>]+@"
# Values that a sensitive key keeps (event.py's `sensitive`), as JSON after the key.
_UNCHANGED = (b'"[Filtered]"', b"null", b"true", b"false", b'""')


@dataclass
class Found:
    """What the walk must look for in the strings of the pieces that were hit."""

    words: set[str] = field(default_factory=set)
    digit_runs: set[str] = field(default_factory=set)
    urls: bool = False
    # Every string gets the full look (a match the classifiers could not tell; undumpable).
    everything: bool = False


class Gate:
    def __init__(self, words: str, extra_fields: tuple[str, ...]):
        any_chars = _JSON_STRING_CHAR + "*"
        # (kind, pattern), in the order RE2 prefers them at one position (leftmost first).
        kinds = [
            # A sensitive word in a key: the walk's key verdict replaces its value.
            ("key", rf"(?:{words}){any_chars}\":"),
            # One followed by = or : inside a string (form and JSON bodies, query strings).
            ("pair", rf"({words})[\w.\-\[\]]*[\\\"']*{_JSON_SPACE}*[:=]"),
            ("bearer", rf"bearer{_JSON_SPACE}+[a-z0-9\-._~+/]{{8,}}"),
            # RE2 has no look-behind: the character before the run is part of the match; not a
            # dot, so the decimals of a number are no run.
            ("digits", r"(?:^|[^0-9.])([0-9](?:[ -]?[0-9]){12,})"),
            ("url", _URL_PASSWORD),
        ]
        if extra_fields:
            kinds.append(("extra", "(" + "|".join(re.escape(w) for w in extra_fields) + ")"))
        options = re2.Options()
        options.max_mem = 16 << 20
        self.main = re2.compile(
            ("(?i)" + "|".join(_without_groups(p) for _, p in kinds)).encode(), options
        )
        self.kinds = [(kind, re.compile(("(?i)" + p).encode())) for kind, p in kinds]
        # A sensitive word in the name of a [name, value] pair (headers, cookies and query
        # strings as lists). Apart: a match hides what it spans from the other alternatives, and
        # this one spans a whole string; its literal start makes its pass cheap.
        self.pairs = re2.compile(
            rf"(?i)\[\"{any_chars}(?:{_without_groups(words)}){any_chars}\",".encode(), options
        )

    def find(self, dumps: list[bytes]) -> tuple[set[int], Found]:
        """The indices of the dumps that hold anything, and what to look for in them."""
        text = b"\0".join(dumps)  # NUL is escaped inside JSON: no match spans two pieces
        starts, offset = [], 0
        for dumped in dumps:
            starts.append(offset)
            offset += len(dumped) + 1
        hit: set[int] = set()
        found = Found()
        for match in self.main.finditer(text):
            if self._tell(match.group(), found) == "key" and text.startswith(
                _UNCHANGED, match.end()
            ):
                continue  # a sensitive key whose value the walk would keep: filtered already
            hit.add(bisect_right(starts, match.start()) - 1)
        if b'["' in text:
            for match in self.pairs.finditer(text):
                hit.add(bisect_right(starts, match.start()) - 1)
        return hit, found

    def _tell(self, matched: bytes, found: Found) -> str | None:
        """What the match is (its kind), and what the walk must look for because of it."""
        for kind, pattern in self.kinds:
            told = pattern.fullmatch(matched)
            if told is None:
                continue
            if kind == "pair" or kind == "extra":
                found.words.add(told.group(1).decode().lower())
            elif kind == "bearer":
                found.words.add("bearer")
            elif kind == "digits":
                found.digit_runs.add(told.group(1).decode())
            elif kind == "url":
                found.urls = True
            return kind
        # RE2's case folding is Unicode's (Python's bytes patterns fold ASCII only): the match is
        # something, so everything gets looked at.
        found.everything = True
        return None


def _without_groups(pattern):
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)
