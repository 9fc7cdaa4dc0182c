"""``/crm/v3/objects/{objectType}``: list, get by id, batch read (the reads q2c's ingest uses)."""

from __future__ import annotations

from urllib.parse import urlencode

from sandbox.clock import to_iso_ms
from sandbox.crm.context import CrmContext
from sandbox.crm.errors import error, object_not_found, validation_error
from sandbox.crm.records import numeric_id
from sandbox.crm.views import association_types_requested, object_type, project, split_names, with_associations
from sandbox.http import Request, Response

LIST_LIMIT_DEFAULT = 10
LIST_LIMIT_MAX = 100


def unknown_type(req: Request, segment: str) -> Response:
    return error(req, 400, "VALIDATION_ERROR", f"Unable to infer object type from: {segment}")


def _bool_arg(req: Request, name: str) -> bool:
    return (req.arg(name) or "false").lower() == "true"


def _int_arg(req: Request, name: str, default: int) -> int | None:
    value = req.arg(name)
    if value is None or value == "":
        return default
    return int(value) if value.strip().isdigit() else None


def lookup(ctx: CrmContext, type_name: str, id_text: str, id_property: str | None) -> dict | None:
    """The record a URL id names: by ``idProperty`` value, else by id, following merges to the winner."""
    if id_property and id_property != "hs_object_id":
        return ctx.records.find_by_property(type_name, id_property, id_text)
    oid = numeric_id(id_text)
    if oid is None:
        return None
    return ctx.records.get(type_name, ctx.records.resolve(type_name, oid))


def register(ctx: CrmContext) -> None:
    @ctx.route("GET", "/crm/v3/objects/{objectType}")
    def list_objects(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        limit = _int_arg(req, "limit", LIST_LIMIT_DEFAULT)
        if limit is None or not 1 <= limit <= LIST_LIMIT_MAX:
            return validation_error(req, f"limit must be an integer between 1 and {LIST_LIMIT_MAX}")
        after_text = req.arg("after")
        after = numeric_id(after_text) if after_text else None
        if after_text and after is None:
            return validation_error(req, f"Invalid after value: {after_text}")
        requested = split_names(req.args("properties"))
        assoc_types, _ = association_types_requested(req.args("associations"))
        rows, next_after = ctx.records.list_page(
            type_name, archived=_bool_arg(req, "archived"), after=after, limit=limit
        )
        results = []
        for obj in rows:
            out = project(obj, type_name, requested, ctx.catalog)
            results.append(with_associations(out, ctx.records, type_name, assoc_types) if assoc_types else out)
        body: dict = {"results": results}
        if next_after is not None:
            query = [(k, v) for k, v in req.query if k != "after"] + [("after", str(next_after))]
            link = f"{req.base_url}{req.path}?{urlencode(query)}"
            body["paging"] = {"next": {"after": str(next_after), "link": link}}
        return Response.json(body)

    @ctx.route("GET", "/crm/v3/objects/{objectType}/{objectId}")
    def get_object(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        obj = lookup(ctx, type_name, req.params["objectId"], req.arg("idProperty"))
        if obj is None or bool(obj.get("archived")) != _bool_arg(req, "archived"):
            return object_not_found(req, req.params["objectId"])
        out = project(obj, type_name, split_names(req.args("properties")), ctx.catalog)
        assoc_types, _ = association_types_requested(req.args("associations"))
        return Response.json(with_associations(out, ctx.records, type_name, assoc_types) if assoc_types else out)

    @ctx.route("POST", "/crm/v3/objects/{objectType}/batch/read")
    def batch_read(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        body = req.json() or {}
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or len(inputs) > 100:
            return validation_error(req, 'inputs must be a list of at most 100 {"id": ...} objects')
        started = to_iso_ms(ctx.clock.now_ms())
        requested = split_names(body.get("properties") or [])
        archived = _bool_arg(req, "archived")
        results, missing = [], []
        for item in inputs:
            id_text = str((item or {}).get("id", ""))
            obj = lookup(ctx, type_name, id_text, body.get("idProperty"))
            if obj is None or bool(obj.get("archived")) != archived:
                missing.append(id_text)
                continue
            results.append(project(obj, type_name, requested, ctx.catalog))
        out: dict = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": to_iso_ms(ctx.clock.now_ms()),
        }
        if not missing:
            return Response.json(out)
        noun = type_name.rstrip("s").upper() if type_name != "companies" else "COMPANY"
        out["numErrors"] = 1
        out["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {noun} objects, they may be deleted or not exist. "
                "Check that ids are valid.",
                "context": {"ids": missing},
            }
        ]
        return Response.json(out, status=207)
