"""Associations v4: one record's associations (paged) and batch read across records.

v4 answers ``toObjectId`` as a number and lists every association type of the pair (the unlabeled one, plus
"Primary" where it applies), as HubSpot does.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sandbox.clock import to_iso_ms
from sandbox.crm.context import CrmContext
from sandbox.crm.errors import validation_error
from sandbox.crm.records import numeric_id
from sandbox.crm.routes_objects import unknown_type
from sandbox.crm.views import object_type
from sandbox.http import Request, Response

ASSOCIATIONS_LIMIT_DEFAULT = 500
ASSOCIATIONS_LIMIT_MAX = 500
BATCH_INPUTS_MAX = 1000


def _to_json(rows: list[tuple[int, list[dict]]]) -> list[dict]:
    return [{"toObjectId": to_id, "associationTypes": types} for to_id, types in rows]


def register(ctx: CrmContext) -> None:
    records = ctx.records

    @ctx.route("GET", "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}")
    def record_associations(req: Request) -> Response:
        from_type, to_type = object_type(req.params["objectType"]), object_type(req.params["toObjectType"])
        if from_type is None or to_type is None:
            return unknown_type(req, req.params["objectType"] if from_type is None else req.params["toObjectType"])
        limit_text = req.arg("limit") or str(ASSOCIATIONS_LIMIT_DEFAULT)
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= ASSOCIATIONS_LIMIT_MAX:
            return validation_error(req, f"limit must be an integer between 1 and {ASSOCIATIONS_LIMIT_MAX}")
        after_text = req.arg("after")
        if after_text and numeric_id(after_text) is None:
            return validation_error(req, f"Invalid after value: {after_text}")
        from_id = numeric_id(req.params["objectId"])
        if from_id is None:
            return Response.json({"results": []})
        rows, next_after = records.associations(
            from_type,
            records.resolve(from_type, from_id),
            to_type,
            after=numeric_id(after_text) if after_text else None,
            limit=int(limit_text),
        )
        body: dict = {"results": _to_json(rows)}
        if next_after is not None:
            query = [(k, v) for k, v in req.query if k != "after"] + [("after", str(next_after))]
            link = f"{req.base_url}{req.path}?{urlencode(query)}"
            body["paging"] = {"next": {"after": str(next_after), "link": link}}
        return Response.json(body)

    @ctx.route("POST", "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read")
    def batch_read(req: Request) -> Response:
        from_type, to_type = object_type(req.params["fromObjectType"]), object_type(req.params["toObjectType"])
        if from_type is None or to_type is None:
            bad = req.params["fromObjectType"] if from_type is None else req.params["toObjectType"]
            return unknown_type(req, bad)
        inputs = (req.json() or {}).get("inputs")
        if not isinstance(inputs, list) or len(inputs) > BATCH_INPUTS_MAX:
            return validation_error(req, f'inputs must be a list of at most {BATCH_INPUTS_MAX} {{"id": ...}} objects')
        started = to_iso_ms(ctx.clock.now_ms())
        results, empty = [], []
        for item in inputs:
            id_text = str((item or {}).get("id", ""))
            from_id = numeric_id(id_text)
            rows = records.associations(from_type, records.resolve(from_type, from_id), to_type)[0] if from_id else []
            if rows:
                results.append({"from": {"id": id_text}, "to": _to_json(rows)})
            else:
                empty.append(id_text)
        out: dict = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": to_iso_ms(ctx.clock.now_ms()),
        }
        if not empty:
            return Response.json(out)
        singular = {"companies": "company", "line_items": "line_item"}.get(from_type, from_type.rstrip("s"))
        out["numErrors"] = len(empty)
        out["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": f"No {to_type} is associated with {singular} {id_text}.",
                "context": {"fromObjectId": [id_text]},
            }
            for id_text in empty
        ]
        return Response.json(out, status=207)
