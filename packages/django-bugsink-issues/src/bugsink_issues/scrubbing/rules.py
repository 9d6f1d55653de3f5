"""What counts as sensitive: key names, and values that carry a secret whatever their key.

A `Rules` object is compiled once per distinct ScrubbingConfig (rules_for is cached) and is then
only read (but for a cache of key verdicts, whose races are harmless), so the digest's threads can
share it. Its gate (gate.py) finds where in an event these rules could replace anything.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from bugsink_issues.scrubbing.gate import Gate

FILTERED = "[Filtered]"

# Case-insensitive substrings of a key name that make its value a secret (Sentry's list plus the
# session, cookie and CSRF names that web frameworks use). `_` also matches `-` and nothing, so
# header names (`X-Api-Key`) match as their underscore forms do.
SENSITIVE_WORDS = (
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "auth",
    "credential",
    "mysql_pwd",
    "private_key",
    "privatekey",
    "token",
    "bearer",
    "session",
    "cookie",
    "csrf",
    "xsrf",
    "card[number]",
)
# Headers and env keys that carry the client's address (scrubbed only with scrub_ip_addresses).
IP_HEADERS = frozenset(
    {
        "x-forwarded-for",
        "x-real-ip",
        "forwarded",
        "true-client-ip",
        "cf-connecting-ip",
        "x-client-ip",
        "remote_addr",
        "http_x_forwarded_for",
        "http_x_real_ip",
    }
)

# Runs of at least 13 digits, single spaces or hyphens allowed between them: where card numbers
# can be (card_number_spans decides). Not after a dot: the decimals of a number.
# (ASCII classes and case throughout: the gate, over UTF-8 JSON text, must find all they do.)
_DIGIT_RUN = re.compile(r"(?<![0-9.])[0-9](?:[ -]?[0-9]){12,}")
_DIGITS = re.compile(r"[0-9]+")
_BEARER = re.compile(r"(?ai)(\bbearer\s+)([a-z0-9\-._~+/]{8,}=*)")
# scheme://user:password@host: the password.
_URL_PASSWORD = re.compile(r"(?a)(://[^/\s:@\"'<>]*:)([^/\s@\"'<>]+)(@)")
# The value of a key=value pair in text; not one filtered already, nor a bearer token's keyword.
_PAIR_VALUE = r"(?!\[Filtered\]|bearer\s)([^\s\"'\\&,;}<>\]#]+)"

KEEP, SENSITIVE, SAFE = 0, 1, 2


def word_pattern(word):
    return "[_-]?".join(re.escape(part) for part in word.lower().split("_"))


@dataclass(frozen=True)
class ScrubbingConfig:
    """A project's scrubbing settings as the digest reads them (ProjectSettings makes these)."""

    enabled: bool = True
    scrub_ip_addresses: bool = False
    # Lower-cased extra words (sensitive like the defaults, and scrubbed as values too) and safe
    # field names (never scrubbed, nor anything under them).
    extra_fields: tuple[str, ...] = ()
    safe_fields: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, enabled, scrub_ip_addresses, extra_fields, safe_fields):
        return cls(
            bool(enabled),
            bool(scrub_ip_addresses),
            parse_field_list(extra_fields),
            parse_field_list(safe_fields),
        )


def parse_field_list(text):
    """Field names from a settings text: one per line or comma-separated, case-insensitive."""
    names = {part.strip().lower() for part in re.split(r"[\n,]", text or "")}
    return tuple(sorted(name for name in names if name))


DEFAULT_CONFIG = ScrubbingConfig()


@dataclass
class Rules:
    config: ScrubbingConfig
    sensitive_key: re.Pattern
    # Key=value or "key": value inside a string (form bodies, query strings, JSON or reprs).
    sensitive_pair: re.Pattern
    # Extra words of the project: a value containing one is scrubbed whole, as Sentry does.
    extra_value: re.Pattern | None
    safe: frozenset[str]
    # Where in an event's JSON text anything of the above can be (gate.py).
    gate: Gate
    # key -> verdict (KEEP, SENSITIVE, SAFE); keys repeat across events, matching them is not free.
    key_verdicts: dict[str, int] = field(default_factory=dict)

    def verdict(self, key):
        verdict = self.key_verdicts.get(key)
        if verdict is None:
            if len(self.key_verdicts) > 20_000:
                self.key_verdicts.clear()
            lowered = key.lower()
            if lowered in self.safe:
                verdict = SAFE
            elif self.sensitive_key.search(lowered):
                verdict = SENSITIVE
            else:
                verdict = KEEP
            self.key_verdicts[key] = verdict
        return verdict

    def scrub_free_text(self, text, walk):
        """Card numbers, bearer tokens and passwords in URLs replaced; `walk.hit` counts them."""
        if self.extra_value is not None and self.extra_value.search(text):
            walk.hit("extra sensitive field")
            return FILTERED
        text, n = replace_cards(text)
        if n:
            walk.hit("card number", n)
        text, n = _BEARER.subn(lambda m: m.group(1) + FILTERED, text)
        if n:
            walk.hit("bearer token", n)
        text, n = _URL_PASSWORD.subn(lambda m: m.group(1) + FILTERED + m.group(3), text)
        if n:
            walk.hit("password in URL", n)
        return text

    def scrub_structured(self, text, walk):
        """Free text's replacements, and the values of key=value pairs with a sensitive key."""
        text = self.scrub_free_text(text, walk)
        if text == FILTERED:
            return text

        def pair(match):
            key = match.group(1).rstrip(" \t:='\"\\")
            if key.lower() in self.safe:
                return match.group()
            walk.hit(key)
            return match.group(1) + FILTERED

        return self.sensitive_pair.sub(pair, text)


@lru_cache(maxsize=256)
def rules_for(config: ScrubbingConfig) -> Rules:
    patterns = [word_pattern(w) for w in (*SENSITIVE_WORDS, *config.extra_fields)]
    words = "|".join(patterns)
    # The key: the word and the rest of the name after it (the part before it stays as sent).
    pair_key = rf"(?:{words})[\w.\-\[\]]*(?:\\?[\"'])?\s*[:=]"
    pair = re.compile(rf"(?ai)({pair_key}\s*(?:\\?[\"'])?){_PAIR_VALUE}")
    extra = (
        re.compile("|".join(re.escape(w) for w in config.extra_fields), re.I)
        if config.extra_fields
        else None
    )
    return Rules(
        config=config,
        sensitive_key=re.compile(words, re.ASCII),
        sensitive_pair=pair,
        extra_value=extra,
        safe=frozenset(config.safe_fields),
        gate=Gate(words, config.extra_fields),
    )


def luhn_valid(digits):
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = ord(char) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def looks_like_card(digits):
    """Issuer prefix and length of the card networks (Visa, Mastercard, Amex, Discover, JCB,
    Diners, UnionPay, Maestro), and the Luhn check digit. Ids, timestamps and phone numbers
    mostly fail the prefix (now-ish epoch timestamps start with 1) or the check digit."""
    length = len(digits)
    if not 13 <= length <= 19:
        return False
    first = digits[0]
    if first == "4":
        ok = length in (13, 16, 19)
    elif first == "5":
        ok = (length == 16 and "51" <= digits[:2] <= "55") or digits[:2] in ("50", "56", "57", "58")
    elif first == "2":
        ok = length == 16 and "2221" <= digits[:4] <= "2720"
    elif first == "3":
        ok = (digits[:2] in ("34", "37") and length == 15) or digits[:2] in ("30", "35", "36", "38")
    elif first == "6":
        ok = length >= 16
    else:
        ok = False
    return ok and luhn_valid(digits)


def card_number_spans(text):
    """(start, end) of each card number in text. A run of digits may hold more than a card (a date
    before it, an amount after): windows of its separator-delimited groups are tried, the longest
    card starting at each group wins. At most 19 digits a window, so a long run costs linear time."""
    spans = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start(), m.end()) for m in _DIGITS.finditer(run.group())]
        i = 0
        while i < len(groups):
            found, digits = None, ""
            for j in range(i, len(groups)):
                digits += run.group()[groups[j][0] : groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and looks_like_card(digits):
                    found = j
            if found is None:
                i += 1
                continue
            spans.append((run.start() + groups[i][0], run.start() + groups[found][1]))
            i = found + 1
    return spans


def replace_cards(text):
    """(text with every card number replaced, how many)."""
    spans = card_number_spans(text)
    if not spans:
        return text, 0
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(FILTERED)
        last = end
    parts.append(text[last:])
    return "".join(parts), len(spans)
