"""Cursor pagination with Sentry's `Link` header.

    Link: <…?cursor=100:0:1>; rel="previous"; results="false"; cursor="100:0:1",
          <…?cursor=100:1:0>; rel="next"; results="true"; cursor="100:1:0"

sentry-cli follows `rel="next"` while it says `results="true"`, sending back only the `cursor`
attribute (it ignores the URL), and loops forever on `results="true"` without a cursor: so both
links always carry both attributes. A cursor is `<per page>:<page>:<is previous>`; the page size
is `per_page` (or `limit`, the MCP server's word), 100 at most.

In a view:

    @router.get("/things/", response=list[ThingOut])
    def things(request, response: HttpResponse):
        return paginate(request, response, Thing.objects.order_by("-id"))
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.organization import public_base_url

__all__ = ["MAX_PER_PAGE", "Cursor", "link_header", "paginate", "parse_cursor", "per_page_of"]

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Cursor:
    per_page: int
    page: int
    is_prev: bool = False

    def __str__(self):
        return f"{self.per_page}:{self.page}:{int(self.is_prev)}"

    @property
    def offset(self):
        return self.per_page * self.page


def per_page_of(request, default=MAX_PER_PAGE):
    raw = request.GET.get("per_page") or request.GET.get("limit") or ""
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"per_page must be an integer, got {raw!r}.")
    if value < 1:
        raise ApiError(400, "per_page must be at least 1.")
    return min(value, MAX_PER_PAGE)


def parse_cursor(raw, per_page):
    """The cursor a client sent back (empty: the first page)."""
    if not raw:
        return Cursor(per_page, 0)
    parts = raw.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        size, page, is_prev = (int(part) for part in parts)
        if size < 1 or page < 0 or is_prev not in (0, 1):
            raise ValueError
    except ValueError:
        raise ApiError(400, f"Invalid cursor {raw!r}.")
    # The page size of the cursor wins, so the pages stay aligned if per_page changes.
    return Cursor(min(size, MAX_PER_PAGE), page, bool(is_prev))


def link_header(request, cursor, has_next):
    base = public_base_url(request) + request.path
    params = [(k, v) for k, v in request.GET.items() if k != "cursor"]

    def link(target, rel, results):
        query = urlencode([*params, ("cursor", str(target))])
        return (
            f'<{base}?{query}>; rel="{rel}"; results="{"true" if results else "false"}"; '
            f'cursor="{target}"'
        )

    previous = Cursor(cursor.per_page, max(cursor.page - 1, 0), True)
    following = Cursor(cursor.per_page, cursor.page + 1, False)
    return ", ".join(
        [link(previous, "previous", cursor.page > 0), link(following, "next", has_next)]
    )


def paginate(request, response, items, *, default_per_page=MAX_PER_PAGE):
    """One page of `items` (a queryset or a list, already ordered); sets `Link` on `response`."""
    cursor = parse_cursor(request.GET.get("cursor", ""), per_page_of(request, default_per_page))
    window = list(items[cursor.offset : cursor.offset + cursor.per_page + 1])
    page, has_next = window[: cursor.per_page], len(window) > cursor.per_page
    response["Link"] = link_header(request, cursor, has_next)
    return page
