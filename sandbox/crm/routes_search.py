"""``POST /crm/v3/objects/{objectType}/search``: filterGroups, sorts, offset paging and the 10,000-result cap.

Search pages by offset (``after`` is the index of the next result, ``paging.next`` has no ``link``), returns
``total`` across all matches, and refuses any page starting at or beyond the cap with a 400: a client must
narrow its filter (e.g. on ``hs_lastmodifieddate``) rather than page further, exactly as against HubSpot.
"""

from __future__ import annotations

from sandbox.crm.context import CrmContext
from sandbox.crm.errors import validation_error
from sandbox.crm.routes_objects import unknown_type
from sandbox.crm.search import SearchError, compile_search
from sandbox.crm.views import object_type, project, split_names
from sandbox.http import Request, Response

SEARCH_LIMIT_DEFAULT = 10
SEARCH_LIMIT_MAX = 200


def register(ctx: CrmContext) -> None:
    # HubSpot's search responses carry no X-HubSpot-RateLimit-* headers (search has its own limit)
    @ctx.route("POST", "/crm/v3/objects/{objectType}/search", rate_headers=False)
    def search(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        try:
            body = req.json() or {}
        except ValueError:
            return validation_error(req, "Invalid input JSON on line 1")
        if not isinstance(body, dict):
            return validation_error(req, "the search request must be a JSON object")
        limit = body.get("limit", SEARCH_LIMIT_DEFAULT)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= SEARCH_LIMIT_MAX:
            return validation_error(req, f"limit must be an integer between 0 and {SEARCH_LIMIT_MAX}")
        after_raw = body.get("after")
        after_text = "0" if after_raw in (None, "") else str(after_raw)
        if not after_text.isdigit():
            return validation_error(req, f"Invalid after value: {after_raw}")
        offset = int(after_text)
        cap = ctx.search_result_cap
        if offset >= cap:
            return validation_error(
                req,
                f"The search request cannot page beyond {cap:,} results (after={offset}); "
                "narrow the filters to fewer results.",
            )
        try:
            compiled = compile_search(ctx.catalog, type_name, body)
        except SearchError as exc:
            return validation_error(req, str(exc))
        page_limit = min(limit, cap - offset)  # no result past the cap is ever returned
        total, rows = ctx.records.search(
            type_name, compiled.where, compiled.params, compiled.order, offset=offset, limit=page_limit
        )
        requested = split_names(body.get("properties") or [])
        out: dict = {"total": total, "results": [project(obj, type_name, requested, ctx.catalog) for obj in rows]}
        next_offset = offset + len(rows)
        if rows and next_offset < total:
            out["paging"] = {"next": {"after": str(next_offset)}}
        return Response.json(out)
