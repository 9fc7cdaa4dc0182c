"""Writes: create, update (PATCH), archive (DELETE) and merge.

Every write stamps the sandbox clock into the last-modified property and ``updatedAt``, so a client that
searches "modified since my last run" sees its own and the scenario's changes, as against HubSpot.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.clock import to_iso_ms
from sandbox.crm.context import CrmContext
from sandbox.crm.errors import error, object_not_found, validation_error
from sandbox.crm.objects import ASSOCIATION_TYPES, LAST_MODIFIED_PROPERTY, record
from sandbox.crm.records import iso_to_ms, numeric_id
from sandbox.crm.routes_objects import lookup, unknown_type
from sandbox.crm.views import object_type
from sandbox.http import Request, Response

# properties HubSpot sets itself; a write naming them is refused
_SYSTEM = {"hs_object_id", "createdate", "hs_lastmodifieddate", "lastmodifieddate", "hs_merged_object_ids"}
# which (from, to) pair each default association type id belongs to
_TYPE_PAIRS: dict[int, tuple[str, str]] = {}
for _pair, (_unlabeled, _primary) in ASSOCIATION_TYPES.items():
    _TYPE_PAIRS[_unlabeled] = _pair
    if _primary is not None:
        _TYPE_PAIRS[_primary] = _pair

MERGEABLE = ("companies", "contacts", "deals")


def _invalid_properties(ctx: CrmContext, type_name: str, props: dict[str, Any]) -> list[dict]:
    """HubSpot's per-property validation results for a write (empty when every value is acceptable)."""
    problems = []
    for name, value in props.items():
        definition = ctx.catalog.get(type_name, name)
        if definition is None:
            problems.append((name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
        elif name in _SYSTEM or definition.read_only:
            problems.append((name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'))
        elif definition.options and value not in (None, "") and str(value) not in definition.options:
            allowed = ", ".join(definition.options)
            problems.append((name, "INVALID_OPTION", f"{value} was not one of the allowed options: [{allowed}]"))
    return [
        {"isValid": False, "message": msg, "error": code, "name": name, "localizedErrorMessage": msg}
        for name, code, msg in problems
    ]


def _refuse(req: Request, problems: list[dict]) -> Response:
    return error(
        req,
        400,
        "VALIDATION_ERROR",
        "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
        errors=[
            {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}} for p in problems
        ],
    )


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """An empty string clears a property, as in HubSpot."""
    return {k: (None if v in (None, "") else v) for k, v in props.items()}


def _full(obj: dict) -> dict:
    """A write's response: the record with every property that has a value."""
    out = dict(obj)
    out["properties"] = {k: v for k, v in obj["properties"].items() if v is not None}
    return out


def _checked_write(ctx: CrmContext, req: Request) -> tuple[str, dict, dict[str, Any]] | Response:
    """(object type, body, properties) of a create or update, or the refusal HubSpot would send."""
    type_name = object_type(req.params["objectType"])
    if type_name is None:
        return unknown_type(req, req.params["objectType"])
    body = req.json() or {}
    props = body.get("properties")
    if not isinstance(props, dict):
        return validation_error(req, "properties is required and must be an object")
    problems = _invalid_properties(ctx, type_name, props)
    if problems:
        return _refuse(req, problems)
    return type_name, body, props


def register(ctx: CrmContext) -> None:
    records = ctx.records

    @ctx.route("POST", "/crm/v3/objects/{objectType}")
    def create(req: Request) -> Response:
        checked = _checked_write(ctx, req)
        if isinstance(checked, Response):
            return checked
        type_name, body, props = checked
        links: list[tuple[str, int, list[dict]]] = []
        for assoc in body.get("associations") or []:
            to_id = numeric_id(((assoc or {}).get("to") or {}).get("id", ""))
            types = [
                {"category": t.get("associationCategory", "HUBSPOT_DEFINED"), "typeId": int(t["associationTypeId"])}
                for t in (assoc.get("types") or [])
                if "associationTypeId" in t
            ]
            pairs = {_TYPE_PAIRS.get(t["typeId"]) for t in types}
            if to_id is None or len(pairs) != 1 or None in pairs or next(iter(pairs))[0] != type_name:
                return validation_error(req, f"Invalid association {json.dumps(assoc)} for {type_name}")
            to_type = next(iter(pairs))[1]
            if records.get(to_type, records.resolve(to_type, to_id)) is None:
                return validation_error(req, f"Associated {to_type} {to_id} does not exist")
            unlabeled = ASSOCIATION_TYPES[(type_name, to_type)][0]
            labels = [{"category": "HUBSPOT_DEFINED", "typeId": unlabeled, "label": None}] + [
                {**t, "label": "Primary"} for t in types if t["typeId"] != unlabeled
            ]
            links.append((to_type, records.resolve(to_type, to_id), labels))
        with records.write_lock:
            oid = records.next_id(type_name)
            now = ctx.clock.now_ms()
            obj = record(type_name, id=oid, properties=_clean(props), created_ms=now)
            records.put(type_name, obj)
        records.associate((type_name, oid, to_type, to_id, labels) for to_type, to_id, labels in links)
        return Response.json(_full(obj), status=201)

    @ctx.route("PATCH", "/crm/v3/objects/{objectType}/{objectId}")
    def update(req: Request) -> Response:
        checked = _checked_write(ctx, req)
        if isinstance(checked, Response):
            return checked
        type_name, _body, props = checked
        with records.write_lock:
            current = lookup(ctx, type_name, req.params["objectId"], req.arg("idProperty"))
            if current is None or current.get("archived"):
                return object_not_found(req, req.params["objectId"])
            merged = {k: v for k, v in current["properties"].items() if k not in _SYSTEM}
            if type_name == "line_items" and ("quantity" in props or "price" in props) and "amount" not in props:
                merged["amount"] = None  # recalculated from the new quantity × price
            merged.update(_clean(props))
            kept = {"hs_merged_object_ids": current["properties"].get("hs_merged_object_ids")}
            obj = record(
                type_name,
                id=current["id"],
                properties={**merged, **{k: v for k, v in kept.items() if v is not None}},
                created_ms=iso_to_ms(current["createdAt"]),
                updated_ms=_next_write_ms(ctx, current, type_name),
            )
            records.put(type_name, obj)
        return Response.json(_full(obj))

    @ctx.route("DELETE", "/crm/v3/objects/{objectType}/{objectId}")
    def archive(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        with records.write_lock:
            current = lookup(ctx, type_name, req.params["objectId"], None)
            if current is not None and not current.get("archived"):
                now = ctx.clock.now_ms()
                current["archived"] = True
                current["archivedAt"] = to_iso_ms(now)
                current["updatedAt"] = to_iso_ms(now)
                records.put(type_name, current)
        return Response.empty(204)  # HubSpot answers 204 for an unknown id too: archiving is idempotent

    @ctx.route("POST", "/crm/v3/objects/{objectType}/merge")
    def merge(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        if type_name not in MERGEABLE:
            return validation_error(req, f"Merging is not supported for {type_name}")
        body = req.json() or {}
        primary_text, other_text = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if primary_text in (None, "") or other_text in (None, ""):
            return validation_error(req, "primaryObjectId and objectIdToMerge are required")
        with records.write_lock:
            winner = lookup(ctx, type_name, str(primary_text), None)
            loser = lookup(ctx, type_name, str(other_text), None)
            for found, text in ((winner, primary_text), (loser, other_text)):
                if found is None or found.get("archived"):
                    return object_not_found(req, str(text))
            if winner["id"] == loser["id"]:
                return validation_error(req, f"{type_name} {other_text} is already merged into {winner['id']}")
            obj = _merged_record(ctx, type_name, winner, loser)
            records.put(type_name, obj)
            loser_id, winner_id = int(loser["id"]), int(winner["id"])
            records.delete(type_name, loser_id)
            records.add_merged(type_name, [(loser_id, winner_id)])
            records.move_associations(type_name, loser_id, winner_id)
        return Response.json(_full(obj))


def _next_write_ms(ctx: CrmContext, current: dict, type_name: str) -> int:
    """Now, but never before the record's last write (a fixture may be dated after the clock's start)."""
    last = current["properties"].get(LAST_MODIFIED_PROPERTY[type_name]) or current["updatedAt"]
    return max(ctx.clock.now_ms(), iso_to_ms(last) + 1)


def _merged_record(ctx: CrmContext, type_name: str, winner: dict, loser: dict) -> dict:
    """The winner keeps its values, gains the loser's where it has none, and lists every merged id."""
    props = {k: v for k, v in winner["properties"].items() if k not in _SYSTEM}
    for key, value in loser["properties"].items():
        if key not in _SYSTEM and props.get(key) is None and value is not None:
            props[key] = value
    merged_ids = [
        *filter(None, (winner["properties"].get("hs_merged_object_ids") or "").split(";")),
        loser["id"],
        *filter(None, (loser["properties"].get("hs_merged_object_ids") or "").split(";")),
    ]
    props["hs_merged_object_ids"] = ";".join(merged_ids)
    return record(
        type_name,
        id=winner["id"],
        properties=props,
        created_ms=iso_to_ms(winner["createdAt"]),
        updated_ms=_next_write_ms(ctx, winner, type_name),
    )
