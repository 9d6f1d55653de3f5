"""How the exceptions of one event relate: "caused by", "while handling", "exception 2 of ...".

What the SDKs send (payload order: oldest first, the main exception last):

- Exception groups and what hangs off them carry `mechanism.exception_id`, `parent_id` and
  `source`. sentry-python: `exceptions[N]` for a group's members, `__cause__` (`raise ... from`)
  and `__context__` (raised while handling) for the chain of an exception inside a group (its
  `parent_id` is then always 0, so it is not trusted to name the exception). The JavaScript
  SDKs: `cause` (Error.cause), `errors[N]` (AggregateError), `error` and `suppressed`
  (SuppressedError).
- A plain Python chain (no group) carries no mark at all (sentry-python 2.x walks
  `__cause__`/`__context__` without saying which): the line that raised the newer exception
  tells, when the SDK sent it. `raise X from e` is a cause; any other raising line is an exception
  raised while handling the older one; without the line it cannot be told.
- Java, .NET, Go and JavaScript without marks chain causes only (`getCause()`, InnerException,
  wrapped errors, Error.cause): "caused by".
"""

import re
from dataclasses import dataclass

__all__ = ["Link", "chain_links"]

MEMBER = re.compile(r"^(?:exceptions|errors)\[(\d+)\]$")
CAUSE = "Caused by"
CONTEXT = "While handling"
UNKNOWN = "Caused by, or raised while handling (the SDK does not say which)"
_RAISE = re.compile(r"^\s*raise\b")
_FROM = re.compile(r"\sfrom\s+\S")
_STRING = re.compile(r"""(["'])(?:\\.|(?!\1).)*\1""")
_COMMENT = re.compile(r"#.*$")


def _code(line):
    """A line of Python with its string literals blanked and its comment cut."""
    return _COMMENT.sub("", _STRING.sub("''", line))


@dataclass
class Link:
    relation: str = ""  # how this exception belongs to another ("" for the main one)
    depth: int = 0  # nesting inside exception groups


def _mechanism(value):
    mech = value.get("mechanism")
    return mech if isinstance(mech, dict) else {}


def _describe(value):
    kind = str(value.get("type") or "exception group")[:100]
    text = str(value.get("value") or "").strip().splitlines()
    return f'{kind} "{text[0][:80]}"' if text else kind


def _open_brackets(code):
    return (
        code.count("(")
        + code.count("[")
        + code.count("{")
        - (code.count(")") + code.count("]") + code.count("}"))
    )


def _raising_statement(value):
    """The code (see _code) of the statement that raised `value`: its last frame's
    line, continued over the lines after it until its brackets close; None without source."""
    stack = value.get("stacktrace")
    frames = stack.get("frames") if isinstance(stack, dict) else None
    if not isinstance(frames, list) or not frames or not isinstance(frames[-1], dict):
        return None
    frame = frames[-1]
    line = frame.get("context_line")
    if not isinstance(line, str):
        return None
    post = frame.get("post_context")
    post = post if isinstance(post, list) else []
    statement = _code(line)
    for more in post[:10]:
        if _open_brackets(statement) <= 0:
            break
        statement += " " + _code(str(more).strip())
    return statement


def _python_chain(newer):
    """The relation of a plain chain's older exception to `newer`, read off newer's raise site."""
    statement = _raising_statement(newer)
    if statement is None:
        return UNKNOWN
    if not _RAISE.match(statement):
        return CONTEXT  # a failing call, say: only `raise ... from` makes a cause
    if _open_brackets(statement) > 0:
        return UNKNOWN  # a statement longer than what the SDK sent of it
    return CAUSE if _FROM.search(statement) else CONTEXT


def _relation(source, parent):
    if source in ("__cause__", "cause"):
        return CAUSE
    if source == "__context__":
        return CONTEXT
    member = MEMBER.match(source)
    of = _describe(parent) if parent is not None else "the exception group"
    if member:
        return f"Exception {int(member.group(1)) + 1} of {of}"
    if source == "error":
        return f"The error of {of}"
    if source == "suppressed":
        return f"Suppressed by {of}"
    return f"Linked to {of} ({source[:60]})"


def chain_links(values, platform=""):
    """A Link for each exception of `values` (payload order)."""
    by_id: dict[int, dict] = {}
    for value in values:
        exception_id = _mechanism(value).get("exception_id")
        if isinstance(exception_id, int):
            by_id.setdefault(exception_id, value)
    links = []
    for index, value in enumerate(values):
        mech = _mechanism(value)
        source = mech.get("source")
        parent_id = mech.get("parent_id")
        parent = by_id.get(parent_id) if isinstance(parent_id, int) else None
        if isinstance(source, str) and source:
            links.append(Link(_relation(source, parent), _depth(value, by_id)))
        elif index == len(values) - 1:
            links.append(Link())  # the main exception
        elif platform == "python":
            links.append(Link(_python_chain(values[index + 1])))
        else:
            links.append(Link(CAUSE))
    return links


def _depth(value, by_id):
    """How deep `value` sits in nested groups (members of the outermost group: 1)."""
    depth, seen = 0, set()
    mech = _mechanism(value)
    while MEMBER.match(str(mech.get("source") or "")) and isinstance(mech.get("parent_id"), int):
        if mech["parent_id"] in seen:
            break
        seen.add(mech["parent_id"])
        depth += 1
        parent = by_id.get(mech["parent_id"])
        if parent is None:
            break
        mech = _mechanism(parent)
    return depth
