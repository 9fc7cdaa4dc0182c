"""CRM (HubSpot CRM v3 + associations v4) source settings: endpoints, properties, raw tables, keys. Data, no logic."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.sources.crm.columns import association_type_ids, property_value, to_object_id
from pipelines.sources.raw_tables import Column, Kind, RawTable

SOURCE_NAME = "crm"
DEFAULT_BASE_URL = "http://127.0.0.1:12112"  # the sandbox (`q2c sandbox serve`); HubSpot: https://api.hubapi.com
SANDBOX_TOKEN = "pat-q2c-sandbox"  # a private-app token; the real one goes in secrets.toml

SEARCH_PATH = "crm/v3/objects/{object_type}/search"
LIST_PATH = "crm/v3/objects/{object_type}"
ASSOCIATIONS_BATCH_READ_PATH = "crm/v4/associations/{from_type}/{to_type}/batch/read"

SEARCH_PAGE_SIZE = 200  # HubSpot's maximum for search
LIST_PAGE_SIZE = 100  # HubSpot's maximum for lists
ASSOCIATIONS_BATCH_SIZE = 1000  # HubSpot's maximum inputs per v4 batch read
# batch reads in flight at once per object type (HubSpot allows 100-190 requests per 10 s per private app)
ASSOCIATIONS_WORKERS = 4
# HubSpot's search index trails writes by seconds (sometimes minutes): each run re-reads this far behind its
# cursor, and the ids already loaded at the same last-modified time are skipped, so nothing is loaded twice
LOOKBACK_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class CrmObject:
    name: str  # the URL segment and the raw table
    last_modified: str  # the property search filters and sorts on (contacts predate the hs_ prefix)
    properties: tuple[str, ...]  # requested explicitly: HubSpot returns only a few defaults otherwise
    associated: tuple[str, ...] = ()  # the types whose associations FROM this object are kept
    merges_table: str | None = None  # mergeable types: loser id -> winner id, from hs_merged_object_ids


OBJECTS: dict[str, CrmObject] = {
    o.name: o
    for o in (
        CrmObject(
            "companies",
            "hs_lastmodifieddate",
            (
                "name",
                "domain",
                "country",
                "industry",
                "subsidiary",
                "stripe_customer_id",
                "netsuite_customer_id",
                "hs_merged_object_ids",
                "createdate",
                "hs_lastmodifieddate",
            ),
            associated=("contacts", "deals"),
            merges_table="company_merges",
        ),
        CrmObject(
            "contacts",
            "lastmodifieddate",
            (
                "email",
                "firstname",
                "lastname",
                "company",
                "phone",
                "hs_merged_object_ids",
                "createdate",
                "lastmodifieddate",
            ),
            associated=("companies", "deals"),
            merges_table="contact_merges",
        ),
        CrmObject(
            "deals",
            "hs_lastmodifieddate",
            (
                "dealname",
                "amount",
                "deal_currency_code",
                "dealstage",
                "pipeline",
                "closedate",
                "hs_is_closed",
                "hs_is_closed_won",
                "stripe_subscription_id",
                "hs_merged_object_ids",
                "createdate",
                "hs_lastmodifieddate",
            ),
            associated=("companies", "contacts", "line_items"),
            merges_table="deal_merges",
        ),
        CrmObject(
            "products",
            "hs_lastmodifieddate",
            (
                "name",
                "hs_sku",
                "price",
                "description",
                "recurringbillingfrequency",
                "stripe_product_id",
                "createdate",
                "hs_lastmodifieddate",
            ),
        ),
        CrmObject(
            "line_items",
            "hs_lastmodifieddate",
            (
                "name",
                "hs_product_id",
                "quantity",
                "price",
                "amount",
                "hs_line_item_currency_code",
                "hs_recurring_billing_period",
                "recurringbillingfrequency",
                "createdate",
                "hs_lastmodifieddate",
            ),
            associated=("deals",),
        ),
    )
}

# ---- raw tables ----------------------------------------------------------------------------------------------

_ID = Column("id", Kind.ID)
_UPDATED_AT = Column("updated_at", Kind.TIMESTAMP, path="updatedAt")
_ARCHIVED = Column("archived", Kind.BOOLEAN)
_ARCHIVED_AT = Column("archived_at", Kind.TIMESTAMP, path="archivedAt")
_RECORD_COLUMNS = (_ID, _UPDATED_AT, _ARCHIVED, _ARCHIVED_AT)
# two versions of one record in one load (changed during the run, or archived while listed): the newest wins
_NEWEST_WINS = {"updated_at": {"dedup_sort": "desc"}}


def _money(name: str) -> Column:
    """HubSpot sends numbers as strings: kept as exact DECIMAL, never parsed as float."""
    return Column(name, Kind.DECIMAL, getter=property_value(name))


def _text(name: str, kind: Kind = Kind.TEXT) -> Column:
    return Column(name, kind, getter=property_value(name))


_RECORD_WHY = (
    "merge on the HubSpot id: each run upserts the records HubSpot reports modified since the cursor (search on "
    "{cursor}) and those newly listed as archived; archived records stay, with archived = true"
)
_MERGEABLE_WHY = "; a record merged away keeps its last row, with merged_into = the winner's id"

TABLES: dict[str, RawTable] = {
    "companies": RawTable(
        "companies",
        [*_RECORD_COLUMNS, _text("stripe_customer_id", Kind.ID), _text("netsuite_customer_id", Kind.ID)],
        why=_RECORD_WHY.format(cursor="hs_lastmodifieddate") + _MERGEABLE_WHY,
        extra_columns={"merged_into": Kind.ID},
        column_hints=_NEWEST_WINS,
    ),
    "contacts": RawTable(
        "contacts",
        [*_RECORD_COLUMNS],
        why=_RECORD_WHY.format(cursor="lastmodifieddate") + _MERGEABLE_WHY,
        extra_columns={"merged_into": Kind.ID},
        column_hints=_NEWEST_WINS,
    ),
    "deals": RawTable(
        "deals",
        [
            *_RECORD_COLUMNS,
            _money("amount"),
            _text("deal_currency_code"),
            _text("stripe_subscription_id", Kind.ID),
        ],
        why=_RECORD_WHY.format(cursor="hs_lastmodifieddate") + _MERGEABLE_WHY,
        extra_columns={"merged_into": Kind.ID},
        column_hints=_NEWEST_WINS,
    ),
    "products": RawTable(
        "products",
        [*_RECORD_COLUMNS, _money("price"), _text("stripe_product_id", Kind.ID)],
        why=_RECORD_WHY.format(cursor="hs_lastmodifieddate"),
        column_hints=_NEWEST_WINS,
    ),
    "line_items": RawTable(
        "line_items",
        [
            *_RECORD_COLUMNS,
            _text("hs_product_id", Kind.ID),
            _money("quantity"),
            _money("price"),
            _money("amount"),
            _text("hs_line_item_currency_code"),
        ],
        why=_RECORD_WHY.format(cursor="hs_lastmodifieddate"),
        column_hints=_NEWEST_WINS,
    ),
}

ASSOCIATIONS = RawTable(
    "associations",
    [
        Column("from_type", Kind.TEXT, path="fromObjectType"),
        Column("from_id", Kind.ID, path="fromObjectId"),
        Column("to_type", Kind.TEXT, path="toObjectType"),
        Column("to_id", Kind.ID, getter=to_object_id),
        Column("association_type_ids", Kind.TEXT, getter=association_type_ids),
    ],
    primary_key=("from_type", "from_id", "to_type", "to_id"),
    merge_key=("from_type", "from_id", "to_type"),
    why=(
        "one row per associated pair, as seen from the from-object (v4 batch read). Delete-insert with merge key "
        "(from_type, from_id, to_type): a refreshed object's associations to a type replace what was stored, so an "
        "association removed in HubSpot disappears; every refresh also sends a hard-deleted marker row for its "
        "group, so a group that became empty (a merge's loser, the last deal unlinked) is cleared too"
    ),
    extra_columns={"deleted": Kind.BOOLEAN},
    column_hints={"deleted": {"hard_delete": True}},
)


def merges_table(name: str) -> RawTable:
    return RawTable(
        name,
        [Column("loser_id", Kind.ID), Column("winner_id", Kind.ID)],
        primary_key=("loser_id",),
        why=(
            "merge on the loser's id: derived from the winners' hs_merged_object_ids; when a winner is itself merged "
            "away later, its losers are re-pointed at the new winner"
        ),
    )


MERGES_TABLES: dict[str, RawTable] = {
    o.name: merges_table(o.merges_table) for o in OBJECTS.values() if o.merges_table is not None
}
