"""ERP (NetSuite) source settings: endpoints, credentials' defaults, and every raw table as data.

Each table is read through SuiteQL (``SELECT alias.*``, so a column NetSuite adds lands in ``payload`` and is
reported as drift). Dates and timestamps are also selected through ``TO_CHAR`` as ``q2c_<column>``
(SuiteQL renders them in the account's date format and drops the time otherwise); the typed columns read
those. Keys, dispositions and the reason for each are stated per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.sources.raw_tables import Kind

SOURCE = "erp"
DEFAULT_BASE_URL = "http://127.0.0.1:12113"  # the sandbox; a real account: https://<account>.suitetalk.api.netsuite.com
DEFAULT_ACCESS_TOKEN = "q2c-erp-sandbox"  # the sandbox's token; a real account: an OAuth 2.0 bearer token
REAL_HOST = "https://{account}.suitetalk.api.netsuite.com"  # when only ``account_id`` is configured
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
RECORD_PATH = "/services/rest/record/v1"
PAGE_SIZE = 1000  # SuiteQL's maximum ``limit``
# a keyset page costs what sorting its whole range costs: long ranges are read in windows of whole days
# holding about this many pages of rows
WINDOW_PAGES = 2
# windows read side by side (they are disjoint); every request holds one of MAX_IN_FLIGHT slots, below
# NetSuite's account concurrency limit (5 on a standard account, the sandbox's default) to leave headroom
WINDOW_WORKERS = 3
MAX_IN_FLIGHT = 4
CHILD_WORKERS = 2  # lines and links of each batch of transactions, read while earlier batches are written
IN_LIST_MAX = 1000  # Oracle refuses IN lists longer than 1,000 expressions: one page of transactions
# changed rows handed on (and written) together: dlt works out a table's schema again for every Arrow table it
# is given (about 2.5 ms each), so a few large tables rather than one per page and child page
BATCH_ROWS = 5000
TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"  # seconds kept, so the cursor is exact
DATE_FORMAT = "YYYY-MM-DD"
# SuiteQL renders TO_CHAR in the integration user's time zone (Set Preferences); the sandbox uses UTC
DEFAULT_TIMEZONE = "UTC"
# NetSuite keeps the per-subsidiary close in the Period Close Checklist; the sandbox serves it as this
# sublist of the accountingPeriod record. An account that does not serve it simply gets no close rows.
PERIOD_CLOSE_SUBLIST = "subsidiaryClose"
DELETED_FLAG = "_q2c_deleted"  # dlt ``hard_delete`` column: a row carrying it removes its key from raw


@dataclass(frozen=True)
class SuiteQLTable:
    """One raw table: what SuiteQL serves it from and how it is written."""

    name: str  # the raw table (named after the SuiteQL table)
    sql_table: str
    alias: str
    columns: tuple[tuple[str, Kind], ...]  # typed columns; DATE/TIMESTAMP ones are read from ``q2c_<name>``
    primary_key: tuple[str, ...]
    write_disposition: str
    why: str
    merge_key: tuple[str, ...] | None = None
    order_key: tuple[str, ...] = ("id",)  # the unique order rows are paged in
    computed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column → the columns joined by ":"


TS, DATE, ID, TEXT = Kind.TIMESTAMP, Kind.DATE, Kind.ID, Kind.TEXT
DEC, INT, BOOL = Kind.DECIMAL, Kind.INTEGER, Kind.BOOLEAN

REFERENCE_WHY = (
    "merge on id: a small list read whole on every run (one request), but only rows whose content changed "
    "are written and rows gone from NetSuite are hard-deleted, so an unchanged run writes nothing; "
    "not incremental on lastmodifieddate because not every reference table has one (currency) and a "
    "whole read also sees deletions"
)

REFERENCE_TABLES: tuple[SuiteQLTable, ...] = (
    SuiteQLTable(
        "subsidiary",
        "subsidiary",
        "s",
        (("id", ID), ("name", TEXT), ("country", TEXT), ("currency", ID), ("parent", ID), ("lastmodifieddate", TS)),
        ("id",),
        "merge",
        REFERENCE_WHY,
    ),
    SuiteQLTable(
        "currency",
        "currency",
        "c",
        (("id", ID), ("symbol", TEXT), ("exchangerate", DEC), ("currencyprecision", INT), ("isbasecurrency", BOOL)),
        ("id",),
        "merge",
        REFERENCE_WHY,
    ),
    SuiteQLTable(
        "account",
        "account",
        "a",
        (("id", ID), ("acctnumber", TEXT), ("accttype", TEXT), ("isinactive", BOOL), ("lastmodifieddate", TS)),
        ("id",),
        "merge",
        REFERENCE_WHY,
    ),
    SuiteQLTable(
        "item",
        "item",
        "i",
        (
            ("id", ID),
            ("itemid", TEXT),
            ("externalid", ID),
            ("incomeaccount", ID),
            ("deferredrevenueaccount", ID),
            ("isinactive", BOOL),
            ("lastmodifieddate", TS),
        ),
        ("id",),
        "merge",
        REFERENCE_WHY,
    ),
    SuiteQLTable(
        "department",
        "department",
        "d",
        (("id", ID), ("name", TEXT), ("parent", ID), ("lastmodifieddate", TS)),
        ("id",),
        "merge",
        REFERENCE_WHY,
    ),
    SuiteQLTable(
        "accountingperiod",
        "accountingperiod",
        "p",
        (
            ("id", ID),
            ("periodname", TEXT),
            ("startdate", DATE),
            ("enddate", DATE),
            ("closed", BOOL),
            ("isposting", BOOL),
            ("isadjust", BOOL),
            ("isquarter", BOOL),
            ("isyear", BOOL),
            ("lastmodifieddate", TS),
        ),
        ("id",),
        "merge",
        REFERENCE_WHY,
    ),
)

PERIOD_CLOSE = SuiteQLTable(
    "accountingperiod_subsidiaryclose",
    "accountingperiod",  # read from the record API's sublist, not SuiteQL
    "p",
    (("period", ID), ("subsidiary", ID), ("closed", BOOL)),
    ("period", "subsidiary"),
    "merge",
    "merge (delete-insert) with merge key period: a period's close lines are replaced as a whole when the "
    "period changes (its lastmodifieddate moves on every write), so a subsidiary dropped from the list "
    "disappears; key (period, subsidiary) is one line",
    merge_key=("period",),
)

CUSTOMER = SuiteQLTable(
    "customer",
    "customer",
    "c",
    (
        ("id", ID),
        ("entityid", TEXT),
        ("externalid", ID),
        ("subsidiary", ID),
        ("currency", ID),
        ("isinactive", BOOL),
        ("datecreated", TS),
        ("lastmodifieddate", TS),
    ),
    ("id",),
    "merge",
    "merge on id, incremental on lastmodifieddate: customers grow with the business (100k at L) and every "
    "write moves lastmodifieddate; deletions are found by the id reconciliation and hard-deleted",
    order_key=("lastmodifieddate", "id"),
)

TRANSACTION = SuiteQLTable(
    "transaction",
    "transaction",
    "t",
    (
        ("id", ID),
        ("type", TEXT),
        ("recordtype", TEXT),
        ("tranid", TEXT),
        ("externalid", ID),
        ("custbody_q2c_billing_id", ID),
        ("entity", ID),
        ("currency", ID),
        ("postingperiod", ID),
        ("trandate", DATE),
        ("status", TEXT),
        ("voided", BOOL),
        ("exchangerate", DEC),
        ("foreigntotal", DEC),
        ("foreignamountpaid", DEC),
        ("foreignamountunpaid", DEC),
        ("createdfrom", ID),
        ("createddate", TS),
        ("lastmodifieddate", TS),
    ),
    ("id",),
    "merge",
    "merge on id (NetSuite's internal id, one sequence for all transactions), incremental on "
    "lastmodifieddate: a payment applied to an invoice moves the invoice's lastmodifieddate too; deletions "
    "(they vanish from SuiteQL) are found by the id reconciliation and hard-deleted",
    order_key=("lastmodifieddate", "id"),
)

TRANSACTION_LINE = SuiteQLTable(
    "transactionline",
    "transactionline",
    "tl",
    (
        ("uniquekey", ID),
        ("transaction", ID),
        ("id", ID),
        ("linesequencenumber", INT),
        ("mainline", BOOL),
        ("taxline", BOOL),
        ("item", ID),
        ("expenseaccount", ID),
        ("department", ID),
        ("subsidiary", ID),
        ("entity", ID),
        ("quantity", DEC),
        ("rate", DEC),
        ("foreignamount", DEC),
        ("netamount", DEC),
        ("creditforeignamount", DEC),
        ("debitforeignamount", DEC),
    ),
    ("uniquekey",),
    "merge",
    "merge (delete-insert) with merge key transaction: the lines of every changed transaction are read "
    "again and replace its old lines as a whole, so a line removed in NetSuite disappears from raw; "
    "uniquekey is NetSuite's key of one line",
    merge_key=("transaction",),
    order_key=("uniquekey",),
)

PAYMENT_LINK = SuiteQLTable(
    "previoustransactionlinelink",
    "previoustransactionlinelink",
    "l",
    (
        ("link_key", ID),
        ("previousdoc", ID),
        ("previousline", ID),
        ("previoustype", TEXT),
        ("nextdoc", ID),
        ("nextline", ID),
        ("nexttype", TEXT),
        ("linktype", TEXT),
        ("foreignamount", DEC),
        ("linkdate", DATE),
    ),
    ("link_key",),
    "merge",
    "merge (delete-insert) with merge key nextdoc: a link belongs to the applying document (payment or "
    "credit memo), so when that document changes its links are replaced as a whole; link_key "
    "(previousdoc:previousline:nextdoc:nextline:linktype) is one link, the table having no id",
    merge_key=("nextdoc",),
    order_key=("nextdoc", "nextline", "previousdoc", "previousline", "linktype"),  # unique: offsets stay stable
    computed={"link_key": ("previousdoc", "previousline", "nextdoc", "nextline", "linktype")},
)

# the tables whose rows belong to a transaction, and the column naming it
TRANSACTION_CHILDREN: tuple[tuple[SuiteQLTable, str], ...] = (
    (TRANSACTION_LINE, "transaction"),
    (PAYMENT_LINK, "nextdoc"),
)

# every raw table of the source (their largest ``_q2c_load_seq`` bounds the next run's: pipelines/sources/load_seq.py)
TABLE_NAMES: tuple[str, ...] = tuple(
    t.name for t in (*REFERENCE_TABLES, PERIOD_CLOSE, CUSTOMER, TRANSACTION, *(c for c, _ in TRANSACTION_CHILDREN))
)
