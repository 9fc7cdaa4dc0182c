"""GET routes: list and retrieve for every collection, invoice and credit-note lines, and events."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.billing import events
from sandbox.billing.errors import invalid_param, no_such
from sandbox.billing.lists import Filter, ListQuery, expand_object, list_body, page, parse_expand, parse_list_query
from sandbox.billing.service import Billing, Ctx
from sandbox.billing.storage import COLLECTIONS
from sandbox.fixtures import dumps
from sandbox.http import App, Request, Response, nested_params

FilterBuilder = Callable[[dict], list[Filter]]


def _eq(param: str, path: str | None = None) -> FilterBuilder:
    def build(params: dict) -> list[Filter]:
        value = params.get(param)
        if value in (None, ""):
            return []
        if not isinstance(value, str):
            raise invalid_param(param, f"Invalid string: {value}")
        return [Filter(path or param, "=", value)]

    return build


def _bool(param: str, path: str | None = None) -> FilterBuilder:
    def build(params: dict) -> list[Filter]:
        value = params.get(param)
        if value in (None, ""):
            return []
        if value not in ("true", "false"):
            raise invalid_param(param, f"Invalid boolean: {value}")
        return [Filter(path or param, "=", value == "true")]

    return build


def _subscription_status(params: dict) -> list[Filter]:
    # Stripe lists subscriptions that are not canceled unless asked for status=canceled or status=all
    status = params.get("status")
    if status == "all":
        return []
    if status:
        return [Filter("status", "=", status)]
    return [Filter("status", "!=", "canceled")]


def _pending(params: dict) -> list[Filter]:
    value = params.get("pending")
    if value in (None, ""):
        return []
    return [Filter("invoice", "is null" if value == "true" else "not null")]


def _require(param: str) -> FilterBuilder:
    def build(params: dict) -> list[Filter]:
        if not params.get(param):
            raise invalid_param(param, f"Missing required param: {param}.", "parameter_missing")
        return [Filter(param, "=", params[param])]

    return build


def _payment(params: dict) -> list[Filter]:
    payment = params.get("payment")
    if isinstance(payment, dict) and payment.get("payment_intent"):
        return [Filter("payment.payment_intent", "=", payment["payment_intent"])]
    return []


LIST_FILTERS: dict[str, list[FilterBuilder]] = {
    "customers": [_eq("email")],
    "products": [_bool("active")],
    "prices": [_eq("product"), _bool("active"), _eq("currency"), _eq("type")],
    "subscriptions": [_eq("customer"), _subscription_status],
    "subscription_items": [_require("subscription")],
    "invoices": [
        _eq("customer"),
        _eq("status"),
        _eq("collection_method"),
        _eq("subscription", "parent.subscription_details.subscription"),
    ],
    "invoiceitems": [_eq("customer"), _eq("invoice"), _pending],
    "invoice_payments": [_eq("invoice"), _eq("status"), _payment],
    "payment_intents": [_eq("customer")],
    "charges": [_eq("customer"), _eq("payment_intent")],
    "refunds": [_eq("charge"), _eq("payment_intent")],
    "credit_notes": [_eq("customer"), _eq("invoice")],
    "balance_transactions": [_eq("type"), _eq("source"), _eq("currency")],
}


def _url(req: Request, collection: str, params: dict) -> str:
    if collection == "subscription_items":
        return f"/v1/subscription_items?subscription={params.get('subscription', '')}"
    return f"/v1/{collection}"


def register(app: App, billing: Billing) -> None:
    for name in LIST_FILTERS:
        app.route("GET", f"/v1/{name}")(billing.handler(_list_handler(billing, name)))
        app.route("GET", f"/v1/{name}/{{id}}")(billing.handler(_retrieve_handler(billing, name)))
    app.route("GET", "/v1/events")(billing.handler(_events_list(billing)))
    app.route("GET", "/v1/events/{id}")(billing.handler(_event_retrieve(billing)))
    for parent in ("invoices", "credit_notes"):
        app.route("GET", f"/v1/{parent}/{{id}}/lines")(billing.handler(_lines_handler(billing, parent)))


def _list_handler(billing: Billing, name: str):
    def handle(req: Request, ctx: Ctx) -> Response:
        params = nested_params(req.query)
        q = parse_list_query(params)
        filters = [f for build in LIST_FILTERS[name] for f in build(params)]
        rows, has_more = page(billing.store, name, q, filters)
        return Response.raw_json(list_body(billing.store, rows, has_more, _url(req, name, params), q.expand))

    return handle


def _retrieve_handler(billing: Billing, name: str):
    noun = COLLECTIONS[name].noun

    def handle(req: Request, ctx: Ctx) -> Response:
        obj_id = req.params["id"]
        expand = parse_expand(nested_params(req.query))
        if not expand:
            raw = billing.store.get_raw(name, obj_id)
            if raw is None:
                raise no_such(noun, obj_id)
            return Response.raw_json(raw)
        obj = billing.store.get(name, obj_id)
        if obj is None:
            raise no_such(noun, obj_id)
        return Response.raw_json(dumps(expand_object(billing.store, obj, expand)))

    return handle


def _events_list(billing: Billing):
    def handle(req: Request, ctx: Ctx) -> Response:
        params = nested_params(req.query)
        q = parse_list_query(params)
        filters: list[Filter] = []
        if params.get("type"):
            filters.append(Filter("type", "=", params["type"]))
        types = params.get("types")
        if types:
            if isinstance(types, str):
                types = [types]
            if len(types) > 20:
                raise invalid_param("types", "You may pass at most 20 types.")
            filters.append(Filter("type", "in", list(types)))
        window = [(">=", events.window_start(billing))]
        rows, has_more = page(billing.store, "events", q, filters, ranges=window)
        rows = events.deliver(billing, rows, q.starting_after)
        return Response.raw_json(list_body(billing.store, rows, has_more, "/v1/events", q.expand))

    return handle


def _event_retrieve(billing: Billing):
    def handle(req: Request, ctx: Ctx) -> Response:
        obj = billing.store.get("events", req.params["id"])
        if obj is None or obj["created"] < events.window_start(billing):
            raise no_such("event", req.params["id"])
        return Response.raw_json(dumps(obj))

    return handle


def _lines_handler(billing: Billing, parent: str):
    noun = COLLECTIONS[parent].noun

    def handle(req: Request, ctx: Ctx) -> Response:
        parent_id = req.params["id"]
        if billing.store.get_raw(parent, parent_id) is None:
            raise no_such(noun, parent_id)
        params = nested_params(req.query)
        q: ListQuery = parse_list_query(params)
        after = before = None
        if q.starting_after:
            after = billing.store.line_position(parent_id, q.starting_after)
            if after is None:
                raise no_such(
                    "line item" if parent == "invoices" else "credit note line item", q.starting_after, "starting_after"
                )
        if q.ending_before:
            before = billing.store.line_position(parent_id, q.ending_before)
            if before is None:
                raise no_such(
                    "line item" if parent == "invoices" else "credit note line item", q.ending_before, "ending_before"
                )
        rows, has_more = billing.store.lines_page(parent_id, after=after, before=before, limit=q.limit)
        url = f"/v1/{parent}/{parent_id}/lines"
        return Response.raw_json(list_body(billing.store, rows, has_more, url, q.expand))

    return handle
