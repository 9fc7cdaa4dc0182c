"""``POST /services/rest/query/v1/suiteql``: SuiteQL with ``Prefer: transient``, limit/offset paging."""

from __future__ import annotations

import json
import time

from sandbox.erp.errors import NetSuiteError
from sandbox.erp.paging import page_links, page_params
from sandbox.erp.suiteql import SuiteQL
from sandbox.http import App, Request, Response

SUITEQL_PATH = "/services/rest/query/v1/suiteql"


def register(app: App, suiteql: SuiteQL, *, latency_seconds: float = 0.0) -> None:
    @app.route("POST", SUITEQL_PATH, write=False)
    def query(req: Request) -> Response:
        if latency_seconds:
            time.sleep(latency_seconds)
        try:
            if "transient" not in (req.headers.get("Prefer") or "").lower():
                raise NetSuiteError(
                    400,
                    "INVALID_HEADER",
                    "The request header Prefer must be set to 'transient' for SuiteQL queries.",
                    header="Prefer",
                )
            try:
                body = json.loads(req.body or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise NetSuiteError(400, "INVALID_CONTENT", "The request body is not valid JSON.") from None
            q = body.get("q") if isinstance(body, dict) else None
            if not isinstance(q, str) or not q.strip():
                raise NetSuiteError(400, "INVALID_CONTENT", "The request body must contain the query in q.", path="q")
            limit, offset = page_params(req)
            items, total = suiteql.run(q, limit=limit, offset=offset)
        except NetSuiteError as err:
            return err.response()
        reachable = min(total, suiteql.max_results)
        has_more = offset + len(items) < reachable
        url = f"{req.base_url}{SUITEQL_PATH}"
        return Response.json(
            {
                "links": page_links(url, limit=limit, offset=offset, total=reachable, has_more=has_more),
                "count": len(items),
                "hasMore": has_more,
                "items": items,
                "offset": offset,
                "totalResults": total,
            }
        )
