"""Scrubbing one normalised event in place.

Structured parts (request, user, tags, extra, contexts, breadcrumb data, frame variables, log
parameters, anything unknown): a value whose key is sensitive is replaced by "[Filtered]" (an
object under such a key is walked instead, as Sentry does, so its harmless entries stay); every
other string is searched for card numbers, bearer tokens, passwords in URLs and key=value pairs
with a sensitive key (form bodies, query strings, JSON or reprs sent as one string).

Free text (exception values, log messages, breadcrumb messages): card numbers, bearer tokens and
passwords in URLs only; the rest stays readable (a title must still say what broke).

Cookies are replaced whatever their name. Safe fields are left as sent, with all under them. The
structural fields (ids, timestamps, levels, release, SDK, modules, frame locations and source
context, fingerprints, the SDK's own `_meta` notes) are not looked at.

How, fast: the event is cut into pieces (each part; each frame's variables), each piece is dumped
to JSON and the rules' gate runs once over all of them. Only the pieces it hits are walked, and
in them only the strings that hold what it found: most events have a few sensitive keys (often
filtered by the SDK already) in one or two pieces, and nothing else to do.
"""

import re
from collections.abc import Callable
from typing import NamedTuple

import orjson

from bugsink_issues.scrubbing.rules import (
    FILTERED,
    IP_HEADERS,
    SAFE,
    SENSITIVE,
    Rules,
    ScrubbingConfig,
    replace_cards,
    rules_for,
)

MAX_FIELD_NAMES = 20
# An integer this large may be a card number sent as a JSON number.
_CARD_SIZED = 10**12
_COOKIE_PAIR = re.compile(r"([^=;,\s]+)(\s*=\s*)([^;]*)")


def scrub_event(data: dict, config: ScrubbingConfig) -> int:
    """Scrub `data` (a normalised event) in place; the number of values replaced. When any were,
    `data["_scrubbed"]` says how many and under which names, so the UI can tell."""
    if not config.enabled:
        return 0
    walk = _Walk(rules_for(config))
    pieces: list[_Piece] = []
    for key, value in data.items():
        part = _PARTS.get(key, _unknown_part)
        if part is not None:
            part(pieces, data, key, value)
    for piece in walk.gate(pieces):
        piece.scrub(walk)
    if walk.count:
        data["_scrubbed"] = {"count": walk.count, "fields": sorted(walk.names)}
    return walk.count


class _Piece(NamedTuple):
    scrub: Callable[["_Walk"], None]
    # What the gate looks at: the JSON value that `scrub` may change.
    value: object
    # Walked whatever the gate finds when IP addresses are scrubbed (the gate does not look for
    # addresses): the request and the user.
    holds_addresses: bool = False


class _Walk:
    __slots__ = ("count", "digit_runs", "everything", "names", "rules", "urls", "words")

    def __init__(self, rules: Rules):
        self.rules = rules
        self.count = 0
        self.names: set[str] = set()
        # What the gate found outside keys: strings holding none of it need no look.
        self.words: set[str] = set()
        self.digit_runs: set[str] = set()
        self.urls = False
        self.everything = False

    def hit(self, name, n=1):
        self.count += n
        if len(self.names) < MAX_FIELD_NAMES:
            self.names.add(str(name)[:64])

    def gate(self, pieces):
        """The pieces the rules' gate finds anything in, and with scrub_ip_addresses those that
        hold addresses."""
        dumps = []
        for piece in pieces:
            try:
                dumps.append(orjson.dumps(piece.value))
            except TypeError:  # beyond 64-bit integers, lone surrogates: a full look at all
                self.everything = True
                return pieces
        hit, found = self.rules.gate.find(dumps)
        self.words, self.digit_runs, self.urls = found.words, found.digit_runs, found.urls
        self.everything = found.everything
        if self.rules.config.scrub_ip_addresses:
            hit.update(i for i, piece in enumerate(pieces) if piece.holds_addresses)
        return [pieces[i] for i in sorted(hit)]

    def needs_look(self, text):
        if self.everything:
            return True
        if self.words:
            lowered = text.lower()
            if any(word in lowered for word in self.words):
                return True
        if self.urls and "://" in text:
            return True
        return any(run in text for run in self.digit_runs)

    # --- structured values ------------------------------------------------------------------------

    def value(self, value):
        """The scrubbed value (the same object when nothing changed in a string)."""
        kind = type(value)
        if kind is str:
            return self.string(value)
        if kind is dict:
            self.mapping(value)
        elif kind is list:
            self.sequence(value)
        elif (
            kind is int
            and (self.digit_runs or self.everything)
            and not -_CARD_SIZED < value < _CARD_SIZED
        ):
            text, n = replace_cards(str(value))
            if n:
                self.hit("card number", n)
                return FILTERED
        return value

    def string(self, value):
        if len(value) < 6 or not self.needs_look(value):
            return value
        return self.rules.scrub_structured(value, self)

    def free_text(self, value):
        if type(value) is not str or len(value) < 6 or not self.needs_look(value):
            return value
        return self.rules.scrub_free_text(value, self)

    def mapping(self, mapping):
        verdict = self.rules.verdict
        for key, value in mapping.items():
            kind = verdict(key)
            if kind == SAFE:
                continue
            new = self.sensitive(key, value) if kind == SENSITIVE else self.value(value)
            if new is not value:
                mapping[key] = new

    def sequence(self, items):
        for i, item in enumerate(items):
            if type(item) is list and len(item) == 2 and type(item[0]) is str:
                self.pair(item)  # headers, cookies and query strings as [name, value] lists
                continue
            new = self.value(item)
            if new is not item:
                items[i] = new

    def pair(self, item):
        kind = self.rules.verdict(item[0])
        if kind == SAFE:
            return
        if kind == SENSITIVE:
            item[1] = self.sensitive(item[0], item[1])
        else:
            item[1] = self.value(item[1])

    def sensitive(self, key, value):
        """What a value under a sensitive key becomes: objects are walked, booleans and nothing
        stay (they carry no secret), everything else is filtered."""
        if type(value) is dict:
            self.mapping(value)
            return value
        if value is None or value is True or value is False or value == "" or value == FILTERED:
            return value
        self.hit(key)
        return FILTERED

    def cookies(self, name, value):
        """Every cookie's value, whatever its name (a cookie's name says nothing of whether it
        authenticates); the names stay."""
        if type(value) is dict:
            for key, item in value.items():
                if self.rules.verdict(key) != SAFE:
                    value[key] = self.sensitive(name, item)
            return value
        if type(value) is list:
            for item in value:
                if type(item) is list and len(item) == 2 and self.rules.verdict(item[0]) != SAFE:
                    item[1] = self.sensitive(name, item[1])
            return value
        if type(value) is str:

            def replace(match):
                if self.rules.verdict(match.group(1)) == SAFE or match.group(3) in ("", FILTERED):
                    return match.group()
                self.hit(name)
                return match.group(1) + match.group(2) + FILTERED

            return _COOKIE_PAIR.sub(replace, value)
        return self.sensitive(name, value)

    def ip(self, name, value):
        if value in (None, "", FILTERED):
            return value
        self.hit(name)
        return FILTERED


# --- the parts of an event: each adds (scrub(walk), the value the gate looks at) pieces ------------


def _unknown_part(pieces: list[_Piece], data, key, value):
    def scrub(walk):
        kind = walk.rules.verdict(key)
        if kind != SAFE:
            data[key] = walk.sensitive(key, value) if kind == SENSITIVE else walk.value(value)

    pieces.append(_Piece(scrub, [key, value]))


def _structured_part(pieces, data, key, value):
    def scrub(walk):
        if walk.rules.verdict(key) != SAFE:
            data[key] = walk.value(value)

    pieces.append(_Piece(scrub, value))


def _request(pieces, data, key, request):
    if type(request) is not dict:
        return _unknown_part(pieces, data, key, request)

    def scrub(walk):
        verdict = walk.rules.verdict
        scrub_ip = walk.rules.config.scrub_ip_addresses
        for name, value in request.items():
            kind = verdict(name)
            if kind == SAFE:
                continue
            if name == "cookies":
                request[name] = walk.cookies("cookies", value)
            elif name == "headers" and type(value) is list:
                for header in value:
                    if type(header) is not list or len(header) != 2:
                        continue
                    lowered = str(header[0]).lower()
                    if lowered == "cookie" and verdict(header[0]) != SAFE:
                        header[1] = walk.cookies(header[0], header[1])
                    elif scrub_ip and lowered in IP_HEADERS and verdict(header[0]) != SAFE:
                        header[1] = walk.ip(header[0], header[1])
                    else:
                        walk.pair(header)
            elif name == "env" and type(value) is dict and scrub_ip:
                for env_key in value:
                    if env_key.lower() in IP_HEADERS and verdict(env_key) != SAFE:
                        value[env_key] = walk.ip(env_key, value[env_key])
                walk.mapping(value)
            elif kind == SENSITIVE:
                request[name] = walk.sensitive(name, value)
            else:
                request[name] = walk.value(value)

    pieces.append(_Piece(scrub, request, holds_addresses=True))


def _user(pieces, data, key, user):
    if type(user) is not dict:
        return _unknown_part(pieces, data, key, user)

    def scrub(walk):
        config = walk.rules.config
        if (
            config.scrub_ip_addresses
            and user.get("ip_address")
            and "ip_address" not in (walk.rules.safe)
        ):
            del user["ip_address"]
            walk.hit("ip_address")
        walk.mapping(user)

    pieces.append(_Piece(scrub, user, holds_addresses=True))


def _breadcrumbs(pieces, data, key, breadcrumbs):
    values = breadcrumbs.get("values") if type(breadcrumbs) is dict else None
    if type(values) is not list:
        return _unknown_part(pieces, data, key, breadcrumbs)

    def scrub(walk):
        for crumb in values:
            if type(crumb) is not dict:
                continue
            if "message" in crumb:
                crumb["message"] = walk.free_text(crumb["message"])
            if "data" in crumb:
                crumb["data"] = walk.value(crumb["data"])

    pieces.append(_Piece(scrub, values))


def _exception(pieces, data, key, exception):
    values = exception.get("values") if type(exception) is dict else None
    if type(values) is not list:
        return _unknown_part(pieces, data, key, exception)
    for value in values:
        if type(value) is not dict:
            continue
        mechanism = value.get("mechanism")
        mechanism_data = mechanism.get("data") if type(mechanism) is dict else None

        def scrub(walk, value=value, mechanism=mechanism, mechanism_data=mechanism_data):
            if "value" in value:
                value["value"] = walk.free_text(value["value"])
            if mechanism_data is not None:
                mechanism["data"] = walk.value(mechanism_data)

        pieces.append(_Piece(scrub, [value.get("value"), mechanism_data]))
        _frames(pieces, value)


def _threads(pieces, data, key, threads):
    values = threads.get("values") if type(threads) is dict else None
    if type(values) is not list:
        return _unknown_part(pieces, data, key, threads)
    for thread in values:
        if type(thread) is dict:
            _frames(pieces, thread)


def _stacktrace(pieces, data, key, stacktrace):
    _frames(pieces, data)


def _frames(pieces, owner):
    stacktrace = owner.get("stacktrace")
    frames = stacktrace.get("frames") if type(stacktrace) is dict else None
    if type(frames) is not list:
        return
    for frame in frames:
        if type(frame) is dict and frame.get("vars") is not None:

            def scrub(walk, frame=frame):
                frame["vars"] = walk.value(frame["vars"])

            pieces.append(_Piece(scrub, frame["vars"]))


def _logentry(pieces, data, key, logentry):
    if type(logentry) is not dict:
        return _unknown_part(pieces, data, key, logentry)

    def scrub(walk):
        for name in ("formatted", "message"):
            if name in logentry:
                logentry[name] = walk.free_text(logentry[name])
        if "params" in logentry:
            logentry["params"] = walk.value(logentry["params"])

    pieces.append(_Piece(scrub, logentry))


def _message(pieces, data, key, message):
    def scrub(walk):
        data[key] = walk.free_text(message)

    pieces.append(_Piece(scrub, message))


def _problems(pieces, data, key, problems):
    """What normalisation could not keep: its raw reprs may hold anything."""
    if type(problems) is not list:
        return

    def scrub(walk):
        for problem in problems:
            if type(problem) is dict and type(problem.get("raw")) is str:
                problem["raw"] = walk.string(problem["raw"])

    pieces.append(_Piece(scrub, problems))


def _unparseable(pieces, data, key, text):
    def scrub(walk):
        if type(text) is str:
            data[key] = walk.string(text)

    pieces.append(_Piece(scrub, text))


# What each top-level key is; None: structural, not looked at.
_PARTS = {
    "request": _request,
    "user": _user,
    "tags": _structured_part,
    "extra": _structured_part,
    "contexts": _structured_part,
    "breadcrumbs": _breadcrumbs,
    "exception": _exception,
    "threads": _threads,
    "stacktrace": _stacktrace,
    "logentry": _logentry,
    "message": _message,
    "_problems": _problems,
    "_unparseable": _unparseable,
    "_broken": _structured_part,
    **dict.fromkeys(
        (
            "event_id",
            "timestamp",
            "start_timestamp",
            "received",
            "level",
            "platform",
            "logger",
            "release",
            "dist",
            "environment",
            "server_name",
            "transaction",
            "culprit",
            "fingerprint",
            "sdk",
            "modules",
            "debug_meta",
            "type",
            "version",
            "_scrubbed",
            # The SDK's notes on what it trimmed or filtered itself: paths and rules, no values.
            "_meta",
        )
    ),
}
