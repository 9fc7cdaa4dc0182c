"""``/crm/v3/properties/{objectType}``: the property definitions, HubSpot's and q2c's custom ones."""

from __future__ import annotations

from sandbox.crm.context import CrmContext
from sandbox.crm.errors import error
from sandbox.crm.routes_objects import unknown_type
from sandbox.crm.views import object_type
from sandbox.http import Request, Response


def register(ctx: CrmContext) -> None:
    @ctx.route("GET", "/crm/v3/properties/{objectType}")
    def list_properties(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        return Response.json({"results": ctx.catalog.as_json(type_name)})

    @ctx.route("GET", "/crm/v3/properties/{objectType}/{propertyName}")
    def get_property(req: Request) -> Response:
        type_name = object_type(req.params["objectType"])
        if type_name is None:
            return unknown_type(req, req.params["objectType"])
        name = req.params["propertyName"]
        for definition in ctx.catalog.as_json(type_name):
            if definition["name"] == name:
                return Response.json(definition)
        return error(req, 404, "OBJECT_NOT_FOUND", f"Unable to find property {name} for object type {type_name}")
