"""Billing (Stripe REST) source settings: endpoints, raw tables, keys and dispositions. Data, no logic."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.sources import load_seq
from pipelines.sources.raw_tables import Column, Kind, RawTable

SOURCE_NAME = "billing"
DEFAULT_BASE_URL = "http://127.0.0.1:12111"  # the sandbox (`q2c sandbox serve`)
SANDBOX_API_KEY = "sk_test_q2c_sandbox"
API_VERSION = "2026-10-28.endive"  # pinned: the object shapes this source reads (what stripe==16.1.0 pins)

PAGE_LIMIT = 100  # Stripe's maximum page size
EVENT_RETENTION_SECONDS = 30 * 86400  # Stripe lists events of the last 30 days only
EVENTS_OVERLAP_SECONDS = 300  # later runs re-read this much before the cursor: late events are still seen
# rows per Arrow table handed to dlt (dlt's cost is per table, so few large ones); a divisor of DuckDB's row group
# (122,880 rows = 15 x 8,192), so a table's load files hold whole row groups (pipelines/ingest/runner.py)
BATCH_ROWS = 8192
# a backfill lists its collections in worker processes (listing.py): one per core by default (0: in the run's
# process, in threads); the largest collections start first, so the workers end at about the same time
LISTING_WORKERS = -1  # -1: os.cpu_count()
BACKFILL_ORDER = ("invoices", "charges", "payment_intents", "invoice_payments", "invoiceitems", "subscriptions")
LINE_FETCH_WORKERS = 8  # concurrent `.../lines` requests for invoices with more lines than the embedded page
EVENT_LIST_WORKERS = 8  # concurrent /v1/events requests when a run plans from the events (list_events_since)
EVENT_PAGES_NOT_CUT = 4  # an events list with about this many pages left pages on instead of being cut in two
VERSION_SLOTS = 1000  # _q2c_state_version = created * VERSION_SLOTS + rank of the state within its second

# Merge by primary key with dlt's delete-insert, which deduplicates the staged rows. Not "upsert" (faster
# here): a run killed after its rows reached the staging table but before the job was marked done copies
# them again on recovery, and an upsert then inserts every such row twice (seen in the SIGKILL test).
MERGE = "merge"
# Immutable objects (events, balance transactions): dlt's append of the rows, which raw.duckdb's destination turns
# into "insert the rows whose id the table does not hold" (pipelines/ingest/destination.py), each id once per run
# (helpers.Batches). Repeating a load, or reading an object again, adds nothing.
INSERT_ABSENT = "append"

# extra typed columns of every table that follows object state (filled by the source, not read from objects)
STATE_COLUMNS = {"deleted": Kind.BOOLEAN, "_q2c_state_version": Kind.INTEGER}

# extra typed column of every billing table: the run that wrote the row. One value per ingest run, larger than any
# already in raw (epoch microseconds of the run's start, UTC; one more than raw's largest if the clock went back).
# It only grows along a table's row groups, so the incremental staging models skip, by DuckDB's zone maps, the
# row groups an earlier build already read (dbt_project/macros/incremental.sql); rows loaded before the column
# existed hold NULL.
LOAD_SEQ = load_seq.LOAD_SEQ
LOAD_COLUMNS = {LOAD_SEQ: Kind.INTEGER}

_ID = Column("id", Kind.ID)
_CREATED = Column("created", Kind.UNIX_SECONDS)

_STATE_WHY = (
    "merge on the Stripe id: the first run backfills the current object, later runs apply the newest state "
    "from /v1/events; _q2c_state_version keeps a late event from overwriting a newer state"
)

CUSTOMERS = RawTable(
    "customers",
    [_ID, _CREATED, Column("email", Kind.TEXT), Column("currency", Kind.TEXT)],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
PRODUCTS = RawTable(
    "products",
    [_ID, _CREATED, Column("active", Kind.BOOLEAN)],
    why=_STATE_WHY,
    write_disposition=MERGE,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
PRICES = RawTable(
    "prices",
    [
        _ID,
        _CREATED,
        Column("product", Kind.ID),
        Column("currency", Kind.TEXT),
        Column("unit_amount", Kind.MINOR_UNITS),
        Column("type", Kind.TEXT),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
SUBSCRIPTIONS = RawTable(
    "subscriptions",
    [_ID, _CREATED, Column("customer", Kind.ID), Column("status", Kind.TEXT), Column("currency", Kind.TEXT)],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
SUBSCRIPTION_ITEMS = RawTable(
    "subscription_items",
    [_ID, _CREATED, Column("price", Kind.ID), Column("quantity", Kind.INTEGER)],
    write_disposition=MERGE,
    why="merge on the item id; written with its subscription's state (items removed from it are kept, deleted)",
    extra_columns={"subscription": Kind.ID, **STATE_COLUMNS, **LOAD_COLUMNS},
)
INVOICES = RawTable(
    "invoices",
    [
        _ID,
        _CREATED,
        Column("customer", Kind.ID),
        Column("subscription", Kind.ID, path="parent.subscription_details.subscription"),
        Column("status", Kind.TEXT),
        Column("currency", Kind.TEXT),
        Column("subtotal", Kind.MINOR_UNITS),
        Column("total", Kind.MINOR_UNITS),
        Column("amount_due", Kind.MINOR_UNITS),
        Column("amount_paid", Kind.MINOR_UNITS),
        Column("amount_remaining", Kind.MINOR_UNITS),
        Column("effective_at", Kind.UNIX_SECONDS),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
INVOICE_LINES = RawTable(
    "invoice_lines",
    [_ID, Column("currency", Kind.TEXT), Column("amount", Kind.MINOR_UNITS), Column("quantity", Kind.INTEGER)],
    write_disposition=MERGE,
    why="merge on the line id; written with its invoice's state, all lines (lines a draft lost are kept, deleted)",
    extra_columns={"invoice": Kind.ID, **STATE_COLUMNS, **LOAD_COLUMNS},
)
INVOICEITEMS = RawTable(
    "invoiceitems",
    [
        _ID,
        Column("date", Kind.UNIX_SECONDS),
        Column("customer", Kind.ID),
        Column("invoice", Kind.ID),
        Column("currency", Kind.TEXT),
        Column("amount", Kind.MINOR_UNITS),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
INVOICE_PAYMENTS = RawTable(
    "invoice_payments",
    [
        _ID,
        _CREATED,
        Column("invoice", Kind.ID),
        Column("payment_intent", Kind.ID, path="payment.payment_intent"),
        Column("status", Kind.TEXT),
        Column("currency", Kind.TEXT),
        Column("amount_requested", Kind.MINOR_UNITS),
        Column("amount_paid", Kind.MINOR_UNITS),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
PAYMENT_INTENTS = RawTable(
    "payment_intents",
    [
        _ID,
        _CREATED,
        Column("customer", Kind.ID),
        Column("status", Kind.TEXT),
        Column("currency", Kind.TEXT),
        Column("amount", Kind.MINOR_UNITS),
        Column("amount_received", Kind.MINOR_UNITS),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
CHARGES = RawTable(
    "charges",
    [
        _ID,
        _CREATED,
        Column("customer", Kind.ID),
        Column("payment_intent", Kind.ID),
        Column("balance_transaction", Kind.ID),
        Column("status", Kind.TEXT),
        Column("currency", Kind.TEXT),
        Column("amount", Kind.MINOR_UNITS),
        Column("amount_refunded", Kind.MINOR_UNITS),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
REFUNDS = RawTable(
    "refunds",
    [
        _ID,
        _CREATED,
        Column("charge", Kind.ID),
        Column("payment_intent", Kind.ID),
        Column("balance_transaction", Kind.ID),
        Column("status", Kind.TEXT),
        Column("currency", Kind.TEXT),
        Column("amount", Kind.MINOR_UNITS),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
CREDIT_NOTES = RawTable(
    "credit_notes",
    [
        _ID,
        _CREATED,
        Column("customer", Kind.ID),
        Column("invoice", Kind.ID),
        Column("status", Kind.TEXT),
        Column("type", Kind.TEXT),
        Column("currency", Kind.TEXT),
        Column("total", Kind.MINOR_UNITS),
        Column("amount", Kind.MINOR_UNITS),
    ],
    write_disposition=MERGE,
    why=_STATE_WHY,
    extra_columns={**STATE_COLUMNS, **LOAD_COLUMNS},
)
CREDIT_NOTE_LINES = RawTable(
    "credit_note_lines",
    [_ID, Column("invoice_line_item", Kind.ID), Column("amount", Kind.MINOR_UNITS), Column("quantity", Kind.INTEGER)],
    write_disposition=MERGE,
    why="merge on the line id; written with its credit note's state",
    extra_columns={"credit_note": Kind.ID, **STATE_COLUMNS, **LOAD_COLUMNS},
)
BALANCE_TRANSACTIONS = RawTable(
    "balance_transactions",
    [
        _ID,
        _CREATED,
        Column("source", Kind.ID),
        Column("type", Kind.TEXT),
        Column("currency", Kind.TEXT),
        Column("amount", Kind.MINOR_UNITS),
        Column("fee", Kind.MINOR_UNITS),
        Column("net", Kind.MINOR_UNITS),
    ],
    write_disposition=INSERT_ABSENT,
    why=(
        "append the ids raw does not hold: balance transactions are immutable and have no events, so they load "
        "incrementally on `created` (created[gte] the last seen, the rows already seen in that second skipped); a "
        "row read again is the row raw holds, so it is not written again"
    ),
    extra_columns=LOAD_COLUMNS,
)
EVENTS = RawTable(
    "events",
    [
        _ID,
        _CREATED,
        Column("type", Kind.TEXT),
        Column("object_id", Kind.ID, path="data.object.id"),
        Column("object_type", Kind.TEXT, path="data.object.object"),
    ],
    write_disposition=INSERT_ABSENT,
    why=(
        "append the event ids raw does not hold: events are delivered more than once (overlap re-reads, duplicate "
        "delivery) but never change, so a merge's staging copy and delete are wasted (at L, an incremental run's "
        "87,000 events: a 1.3 s copy and a 5.6 s merge; appended, 1.2 s)"
    ),
    extra_columns=LOAD_COLUMNS,
)


@dataclass(frozen=True)
class Collection:
    """A Stripe list endpoint and the raw table its objects go to."""

    table: RawTable
    path: str
    object_type: str  # the objects' `object` value, which routes an event's object to its table
    params: tuple[tuple[str, str], ...] = ()
    child: RawTable | None = None  # lines / items, each row written with its parent's state
    child_list: str | None = None  # the parent's embedded list holding the children
    child_path: str | None = None  # where the rest of a child list is served ({id} = the parent id)
    child_parent_param: str | None = None  # a list filter (`subscription=`) when the children are not a sub-path


COLLECTIONS: tuple[Collection, ...] = (
    Collection(CUSTOMERS, "/v1/customers", "customer"),
    Collection(PRODUCTS, "/v1/products", "product"),
    Collection(PRICES, "/v1/prices", "price"),
    # without status=all Stripe leaves out canceled subscriptions
    Collection(
        SUBSCRIPTIONS,
        "/v1/subscriptions",
        "subscription",
        params=(("status", "all"),),
        child=SUBSCRIPTION_ITEMS,
        child_list="items",
        child_path="/v1/subscription_items",
        child_parent_param="subscription",
    ),
    Collection(
        INVOICES,
        "/v1/invoices",
        "invoice",
        child=INVOICE_LINES,
        child_list="lines",
        child_path="/v1/invoices/{id}/lines",
    ),
    Collection(INVOICEITEMS, "/v1/invoiceitems", "invoiceitem"),
    Collection(INVOICE_PAYMENTS, "/v1/invoice_payments", "invoice_payment"),
    Collection(PAYMENT_INTENTS, "/v1/payment_intents", "payment_intent"),
    Collection(CHARGES, "/v1/charges", "charge"),
    Collection(REFUNDS, "/v1/refunds", "refund"),
    Collection(
        CREDIT_NOTES,
        "/v1/credit_notes",
        "credit_note",
        child=CREDIT_NOTE_LINES,
        child_list="lines",
        child_path="/v1/credit_notes/{id}/lines",
    ),
)

BALANCE_TRANSACTIONS_PATH = "/v1/balance_transactions"
EVENTS_PATH = "/v1/events"

# Event types in the order they happen to one object within a second (the tiebreak when the
# previous_attributes chain cannot tell): created first, deleted last, everything else in between.
EVENT_RANK_CREATED = 0
EVENT_RANK_UPDATED = 1
EVENT_RANK_OTHER = 2
EVENT_RANK_DELETED = 3
# `customer.subscription.deleted` means canceled: the subscription still exists (status canceled), not deleted
NOT_A_DELETION = frozenset({"customer.subscription.deleted"})
