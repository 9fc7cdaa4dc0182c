"""Billing source: Stripe's REST API into ``raw_billing`` (tables, keys and cursor: see README.md)."""

from __future__ import annotations

import os
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.requests import RequestException

from pipelines.sources.billing import helpers, settings
from pipelines.sources.http_client import CountingClient, RequestStats

TOKEN_ARGUMENT = "api_key"


@dlt.source(name=settings.SOURCE_NAME, max_table_nesting=0)
def source(
    base_url: str = settings.DEFAULT_BASE_URL,
    api_key: TSecretStrValue = settings.SANDBOX_API_KEY,
    api_version: str = settings.API_VERSION,
    client: CountingClient | None = None,
    listing_workers: int = settings.LISTING_WORKERS,
) -> Any:
    """Customers, products, prices, subscriptions (+ items), invoices (+ lines), invoice items, invoice payments,
    payment intents, charges, refunds, credit notes (+ lines), balance transactions and events.

    The first run backfills every collection; later runs apply the newest state of each object from
    ``/v1/events`` (a backfill again if the cursor left Stripe's 30-day event window). ``client`` is the
    retrying, counting HTTP client (the runner passes one; a fresh one otherwise). A backfill lists the
    collections in ``listing_workers`` worker processes (-1: one per core; 0: in this process, in threads).
    """
    client = client or CountingClient(RequestStats())
    session = client.session
    api = helpers.StripeApi(base_url, api_key, api_version, session)
    events_state = dlt.current.source_state().get("resources", {}).get("events", {})
    try:
        plan = helpers.plan_run(api, events_state)  # before anything is listed: the cursor comes first
    except (helpers.StripeApiError, RequestException) as exc:
        return helpers.failed_run(exc)  # raised again during extraction: the run's summary carries it
    workers = (os.cpu_count() or 1) if listing_workers < 0 else listing_workers
    if plan.backfill:
        listed = helpers.backfill_resources(api, plan, client, workers)
    else:
        listed = helpers.event_state_resources(api, plan)
    return [
        *listed,
        helpers.events_resource(api, plan),
        helpers.balance_transactions_resource(api, plan),
    ]
