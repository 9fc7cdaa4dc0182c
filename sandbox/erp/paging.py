"""``limit``/``offset`` paging as NetSuite REST does it for record lists and SuiteQL."""

from __future__ import annotations

from urllib.parse import urlencode

from sandbox.erp.errors import NetSuiteError
from sandbox.http import Request

MAX_LIMIT = 1000


def page_params(req: Request, *, default_limit: int = MAX_LIMIT) -> tuple[int, int]:
    """(limit, offset); limit 1–1000, offset ≥ 0 and a multiple of limit, as NetSuite requires."""
    values = {}
    for name, default in (("limit", default_limit), ("offset", 0)):
        raw = req.arg(name)
        try:
            values[name] = default if raw in (None, "") else int(raw)
        except ValueError:
            raise NetSuiteError(
                400, "INVALID_PARAMETER", f"Invalid value for query parameter {name}: {raw}", query_param=name
            ) from None
    limit, offset = values["limit"], values["offset"]
    if not 1 <= limit <= MAX_LIMIT:
        raise NetSuiteError(
            400,
            "INVALID_PARAMETER",
            f"The value of the query parameter limit must be between 1 and {MAX_LIMIT}.",
            query_param="limit",
        )
    if offset < 0 or offset % limit:
        raise NetSuiteError(
            400,
            "INVALID_PARAMETER",
            "The value of the query parameter offset must be a non-negative multiple of limit.",
            query_param="offset",
        )
    return limit, offset


def page_links(url: str, *, limit: int, offset: int, total: int, has_more: bool) -> list[dict[str, str]]:
    """NetSuite's navigation links: prev/first/next/last when they apply, then self."""

    def href(at: int) -> str:
        return f"{url}?{urlencode({'limit': limit, 'offset': at})}"

    links = []
    if offset > 0:
        links.append({"rel": "previous", "href": href(max(offset - limit, 0))})
        links.append({"rel": "first", "href": href(0)})
    if has_more:
        links.append({"rel": "next", "href": href(offset + limit)})
        last = max(((total - 1) // limit) * limit, 0)
        links.append({"rel": "last", "href": href(last)})
    links.append({"rel": "self", "href": href(offset)})
    return links
