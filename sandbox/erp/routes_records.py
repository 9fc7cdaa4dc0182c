"""``/services/rest/record/v1``: create, read, list, upsert, update and delete records."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from sandbox.erp import objects
from sandbox.erp.errors import NetSuiteError, not_found
from sandbox.erp.paging import page_links, page_params
from sandbox.erp.records import SUBLISTS, RecordStore
from sandbox.erp.serialize import RECORD_PATH, record_url, render_record, render_sublist, self_link
from sandbox.http import App, Request, Response


def read_body(req: Request) -> dict[str, Any]:
    """The JSON body, numbers as Decimal so amounts stay exact."""
    try:
        body = json.loads(req.body or b"{}", parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NetSuiteError(400, "INVALID_CONTENT", f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise NetSuiteError(400, "INVALID_CONTENT", "The request body must be a JSON object.")
    return _plain_numbers(body)


def _plain_numbers(value: Any) -> Any:
    """Decimals to the JSON numbers the store keeps (exact: the shortest repr round-trips)."""
    if isinstance(value, Decimal):
        return objects.num(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def _record_type(req: Request) -> str:
    record_type = req.params["type"]
    if record_type not in objects.RECORD_TYPES:
        raise NetSuiteError(
            404,
            "NONEXISTENT_ID",
            f"Record type '{record_type}' does not exist.",
            url_path=req.path,
        )
    return record_type


def _replace_param(req: Request) -> list[str]:
    return [name.strip() for value in req.args("replace") for name in value.split(",") if name.strip()]


def register(app: App, records: RecordStore, *, latency_seconds: float = 0.0) -> None:
    def handle(fn):
        def wrapped(req: Request) -> Response:
            if latency_seconds:
                time.sleep(latency_seconds)  # NetSuite answers in hundreds of ms; holds the concurrency slot
            try:
                return fn(req)
            except NetSuiteError as err:
                return err.response()

        return wrapped

    def created(req: Request, record_type: str, record_id: str) -> Response:
        return Response.empty(204, headers={"Location": record_url(req.base_url, record_type, record_id)})

    @app.route("POST", f"{RECORD_PATH}/{{type}}")
    @handle
    def create(req: Request) -> Response:
        record_type = _record_type(req)
        record_id = records.create(record_type, read_body(req))
        return created(req, record_type, record_id)

    @app.route("GET", f"{RECORD_PATH}/{{type}}")
    @handle
    def list_records(req: Request) -> Response:
        record_type = _record_type(req)
        limit, offset = page_params(req)
        ids, total = records.list_ids(record_type, limit, offset)
        has_more = offset + len(ids) < total
        url = f"{req.base_url}{RECORD_PATH}/{record_type}"
        return Response.json(
            {
                "links": page_links(url, limit=limit, offset=offset, total=total, has_more=has_more),
                "count": len(ids),
                "hasMore": has_more,
                "items": [{"links": self_link(record_url(req.base_url, record_type, i)), "id": i} for i in ids],
                "offset": offset,
                "totalResults": total,
            }
        )

    @app.route("GET", f"{RECORD_PATH}/{{type}}/{{key}}")
    @handle
    def get(req: Request) -> Response:
        record_type = _record_type(req)
        record = records.get(record_type, req.params["key"])
        if record is None:
            raise not_found()
        expand = (req.arg("expandSubResources") or "").lower() == "true"
        return Response.json(render_record(req.base_url, record_type, record, expand=expand))

    @app.route("GET", f"{RECORD_PATH}/{{type}}/{{key}}/{{sublist}}")
    @handle
    def get_sublist(req: Request) -> Response:
        record_type = _record_type(req)
        sublist = req.params["sublist"]
        if sublist not in SUBLISTS.get(record_type, ()):
            raise NetSuiteError(404, "NONEXISTENT_ID", f"Invalid URL path: {req.path}", url_path=req.path)
        record = records.get(record_type, req.params["key"])
        if record is None:
            raise not_found()
        return Response.json(render_sublist(req.base_url, record_type, record, sublist))

    @app.route("PUT", f"{RECORD_PATH}/{{type}}/{{key}}")
    @handle
    def upsert(req: Request) -> Response:
        record_type = _record_type(req)
        key = req.params["key"]
        if not key.startswith("eid:"):
            raise NetSuiteError(
                400,
                "INVALID_METHOD",
                "PUT (upsert) is supported only with an external ID: /record/v1/{type}/eid:{externalId}.",
                url_path=req.path,
            )
        body = read_body(req)
        record_id = records.resolve_id(record_type, key)
        if record_id is None:
            record_id = records.create(record_type, body, external_id=key[4:])
        else:
            records.update(record_type, record_id, body, replace=_replace_param(req))
        return created(req, record_type, record_id)

    @app.route("PATCH", f"{RECORD_PATH}/{{type}}/{{key}}")
    @handle
    def update(req: Request) -> Response:
        record_type = _record_type(req)
        record_id = records.resolve_id(record_type, req.params["key"])
        if record_id is None:
            raise not_found()
        records.update(record_type, record_id, read_body(req), replace=_replace_param(req))
        return created(req, record_type, record_id)

    @app.route("DELETE", f"{RECORD_PATH}/{{type}}/{{key}}")
    @handle
    def delete(req: Request) -> Response:
        record_type = _record_type(req)
        record_id = records.resolve_id(record_type, req.params["key"])
        if record_id is None:
            raise not_found()
        records.delete(record_type, record_id)
        return Response.empty(204)
