"""POST/DELETE routes: form-encoded bodies as the SDK sends them, parsed with Stripe's bracket rules."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.billing import invoicing, mutations
from sandbox.billing.lists import expand_object, parse_expand
from sandbox.billing.service import Billing, Ctx, json_response
from sandbox.http import App, Request, Response, nested_params

Operation = Callable[[Billing, Ctx, Request, dict], dict]


def _route(billing: Billing, op: Operation) -> Callable[[Request], Response]:
    def handle(req: Request, ctx: Ctx) -> Response:
        params = nested_params(req.form())
        obj = op(billing, ctx, req, params)
        expand = parse_expand(params)
        if expand:
            obj = expand_object(billing.store, obj, expand)
        return json_response(obj)

    return billing.handler(handle)


def register(app: App, billing: Billing) -> None:
    routes: list[tuple[str, str, Operation]] = [
        ("POST", "/v1/customers", lambda b, c, r, p: mutations.create_customer(b, c, p)),
        ("POST", "/v1/customers/{id}", lambda b, c, r, p: mutations.update_customer(b, c, r.params["id"], p)),
        ("POST", "/v1/invoices/{id}/finalize", lambda b, c, r, p: invoicing.finalize(b, c, r.params["id"])),
        ("POST", "/v1/invoices/{id}/pay", lambda b, c, r, p: invoicing.pay(b, c, r.params["id"], p)),
        ("POST", "/v1/invoices/{id}/void", lambda b, c, r, p: invoicing.void(b, c, r.params["id"])),
        (
            "POST",
            "/v1/invoices/{id}/mark_uncollectible",
            lambda b, c, r, p: invoicing.mark_uncollectible(b, c, r.params["id"]),
        ),
        ("POST", "/v1/subscriptions/{id}", lambda b, c, r, p: mutations.update_subscription(b, c, r.params["id"], p)),
        ("DELETE", "/v1/subscriptions/{id}", lambda b, c, r, p: mutations.cancel_subscription(b, c, r.params["id"], p)),
        ("POST", "/v1/invoiceitems", lambda b, c, r, p: mutations.create_invoiceitem(b, c, p)),
        ("POST", "/v1/refunds", lambda b, c, r, p: mutations.create_refund(b, c, p)),
        ("POST", "/v1/credit_notes", lambda b, c, r, p: mutations.create_credit_note(b, c, p)),
    ]
    for method, path, op in routes:
        app.route(method, path)(_route(billing, op))
