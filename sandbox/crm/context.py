"""The state every CRM route reads: records, property catalog, clock, and the search result cap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.clock import SandboxClock
from sandbox.crm.errors import rate_limit_headers
from sandbox.crm.properties import PropertyCatalog
from sandbox.crm.records import CrmRecords
from sandbox.http import App, Handler, Request, Response

SEARCH_RESULT_CAP = 10_000  # HubSpot refuses to page a search beyond its 10,000th result


@dataclass
class CrmContext:
    app: App
    records: CrmRecords
    catalog: PropertyCatalog
    clock: SandboxClock
    search_result_cap: int = SEARCH_RESULT_CAP

    def route(self, method: str, pattern: str, *, rate_headers: bool = True) -> Callable[[Handler], Handler]:
        """Register a handler; non-search responses carry X-HubSpot-RateLimit-* headers as HubSpot's do."""

        def register(handler: Handler) -> Handler:
            def wrapped(req: Request) -> Response:
                response = handler(req)
                if rate_headers and response.status < 400:
                    response.headers = {**rate_limit_headers(), **response.headers}
                return response

            self.app.route(method, pattern)(wrapped)
            return handler

        return register
