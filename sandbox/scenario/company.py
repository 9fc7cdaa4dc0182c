"""The simulated company's fixed facts: legal entities, catalogue, tax, chart of accounts, calendar, timing rules.

Everything here is data plus tiny pure helpers, so the simulation, the emitters and the README's rules read
the same constants (grace period, sync lag, go-live date, closed periods).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

DAY = 86_400
HOUR = 3_600

DEFAULT_AS_OF = datetime(2026, 10, 31, 23, 0, 0, tzinfo=UTC)
"""Fixed default scenario instant: never wall time, so the same (scale, seed) gives the same folder."""

GRACE_SECONDS = 3 * DAY
"""A billing posting younger than this (by its own timestamp) may be absent from the ERP without exception."""

SYNC_LAG_SECONDS = 2 * DAY
"""The existing sync posted everything whose billing timestamp is at least this old at as_of (a day of slack
under the grace period, so a reconciliation run hours after as_of sees no false MISSING)."""

VICTIM_MIN_AGE_SECONDS = 5 * DAY
"""Injected drift is always at least this old, two days clear of the grace period."""

HISTORY_MONTHS = 24
GO_LIVE_MONTHS_BEFORE_AS_OF = 18
"""Postings dated before go-live were keyed by people: no ``bill-`` externalId, billing id in the custom field."""


@dataclass(frozen=True)
class Subsidiary:
    code: str  # US | UK | DE
    erp_id: int
    name: str
    country: str  # ISO country (NetSuite/Stripe)
    country_name: str  # as typed in the CRM
    currency: str  # base currency, lower-case ISO


SUBSIDIARIES: tuple[Subsidiary, ...] = (
    Subsidiary("US", 1, "Q2C Software Inc.", "US", "United States", "usd"),
    Subsidiary("UK", 2, "Q2C Software Ltd", "GB", "United Kingdom", "gbp"),
    Subsidiary("DE", 3, "Q2C Software GmbH", "DE", "Germany", "eur"),
)
SUBSIDIARY_BY_CODE = {s.code: s for s in SUBSIDIARIES}
SUBSIDIARY_CYCLE = ("US", "UK", "US", "DE", "US", "UK", "DE")
"""Customer index → subsidiary (index modulo 7): the US entity is the largest, UK and DE equal."""

CURRENCIES = ("usd", "gbp", "eur")
CURRENCY_ERP_ID = {"usd": 1, "gbp": 2, "eur": 3}
USD_PER_UNIT = {"usd": Decimal("1"), "gbp": Decimal("1.27"), "eur": Decimal("1.08")}
CROSS_CURRENCY = {"US": "eur", "UK": "eur", "DE": "usd"}
"""The foreign currency a cross-currency customer of each subsidiary is billed in."""


def exchange_rate(currency: str, base: str) -> Decimal:
    """Transaction-to-subsidiary-base rate the ERP stores (fixed table: the sandbox has no FX feed)."""
    return (USD_PER_UNIT[currency] / USD_PER_UNIT[base]).quantize(Decimal("0.000001"))


CURRENCY_EXPONENT = {"usd": 2, "gbp": 2, "eur": 2}


def to_major(minor: int, currency: str) -> Decimal:
    """Integer minor units to a major-unit Decimal with the ISO-4217 exponent (never a float, never ÷100)."""
    return Decimal(minor).scaleb(-CURRENCY_EXPONENT[currency])


@dataclass(frozen=True)
class TaxRate:
    key: str  # stable part of the txr_ id
    percentage: Decimal  # 0 = no tax line
    jurisdiction: str


US_TAX = (
    TaxRate("US-NY", Decimal("8.875"), "NY"),
    TaxRate("US-TX", Decimal("6.25"), "TX"),
    TaxRate("US-IL", Decimal("10.25"), "IL"),
    TaxRate("US-OR", Decimal("0"), "OR"),
    TaxRate("US-MT", Decimal("0"), "MT"),
)
VAT = {"UK": TaxRate("GB-VAT", Decimal("20"), "GB"), "DE": TaxRate("DE-VAT", Decimal("19"), "DE")}


@dataclass(frozen=True)
class ProductDef:
    key: str
    name: str
    kind: str  # seat | addon | usage | service | unmapped
    unit_amounts: dict[str, int]  # currency → minor units (monthly for seats)
    unit_label: str | None = None
    erp_item: bool = True
    subsidiary: str | None = None  # unmapped SKUs are launched by one entity


SEAT_PRODUCTS = (
    ProductDef("starter", "Starter plan", "seat", {"usd": 2500, "gbp": 2000, "eur": 2300}, "seat"),
    ProductDef("professional", "Professional plan", "seat", {"usd": 6000, "gbp": 4800, "eur": 5500}, "seat"),
    ProductDef("enterprise", "Enterprise plan", "seat", {"usd": 12000, "gbp": 9500, "eur": 11000}, "seat"),
)
ADDON_PRODUCT = ProductDef(
    "analytics", "Advanced Analytics add-on", "addon", {"usd": 1500, "gbp": 1200, "eur": 1400}, "seat"
)
USAGE_PRODUCTS = (
    ProductDef(
        "api_overage", "API calls overage (per 1,000 calls)", "usage", {"usd": 40, "gbp": 32, "eur": 37}, "1,000 calls"
    ),
    ProductDef("storage_overage", "Storage overage (per GB)", "usage", {"usd": 25, "gbp": 20, "eur": 23}, "GB"),
)
SERVICE_PRODUCT = ProductDef(
    "onboarding", "Onboarding & training package", "service", {"usd": 150000, "gbp": 120000, "eur": 140000}
)
ANNUAL_MONTHS_CHARGED = 10
"""Annual seat prices are 10 × the monthly price (two months free)."""


def unmapped_products(per_subsidiary: int) -> list[ProductDef]:
    """Recently launched SKUs the ERP team has not created items for (PRODUCT_UNMAPPED), per subsidiary."""
    out = []
    for sub in SUBSIDIARIES:
        for k in range(per_subsidiary):
            amount = 40000 + 5000 * k
            out.append(
                ProductDef(
                    f"new_sku_{sub.code.lower()}_{k}",
                    f"Data residency add-on ({sub.code}) v{k + 1}",
                    "unmapped",
                    {c: amount for c in CURRENCIES},
                    erp_item=False,
                    subsidiary=sub.code,
                )
            )
    return out


@dataclass(frozen=True)
class AccountDef:
    erp_id: int
    number: str
    name: str
    acct_type: str
    currency: str | None = None


ACCOUNTS = (
    AccountDef(1, "1000", "Operating Bank USD", "Bank", "usd"),
    AccountDef(2, "1010", "Operating Bank GBP", "Bank", "gbp"),
    AccountDef(3, "1020", "Operating Bank EUR", "Bank", "eur"),
    AccountDef(4, "1100", "Accounts Receivable", "AcctRec"),
    AccountDef(5, "1200", "Undeposited Funds", "OthCurrAsset"),
    AccountDef(6, "2200", "Sales Tax / VAT Payable", "OthCurrLiab"),
    AccountDef(7, "2400", "Deferred Revenue", "DeferRevenue"),
    AccountDef(8, "4000", "Subscription Revenue", "Income"),
    AccountDef(9, "4100", "Usage Revenue", "Income"),
    AccountDef(10, "4200", "Professional Services Revenue", "Income"),
    AccountDef(11, "6100", "Payment Processing Fees", "Expense"),
)
ACCOUNT = {a.number: a for a in ACCOUNTS}
BANK_ACCOUNT = {"usd": ACCOUNT["1000"], "gbp": ACCOUNT["1010"], "eur": ACCOUNT["1020"]}
INCOME_ACCOUNT = {"seat": "4000", "addon": "4000", "usage": "4100", "service": "4200", "unmapped": "4000"}

DEPARTMENTS = ((1, "Sales"), (2, "Customer Success"), (3, "Product"), (4, "Professional Services"))
DEPARTMENT_FOR_KIND = {"seat": 3, "addon": 3, "usage": 3, "service": 4, "unmapped": 3}


# -- calendar ---------------------------------------------------------------------------------------------------
def ts(dt: datetime) -> int:
    return int(dt.timestamp())


def utc(t: int) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def month_key(t: int) -> str:
    return utc(t).strftime("%Y-%m")


def date_str(t: int) -> str:
    return utc(t).strftime("%Y-%m-%d")


def add_months(anchor: datetime, months: int) -> datetime:
    """``anchor`` moved by whole months, its day clamped to the month's end (Stripe's billing-anchor rule)."""
    total = anchor.year * 12 + (anchor.month - 1) + months
    year, month = divmod(total, 12)
    day = min(anchor.day, calendar.monthrange(year, month + 1)[1])
    return anchor.replace(year=year, month=month + 1, day=day)


def month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def month_end_last_second(year: int, month: int) -> datetime:
    return datetime(year, month, calendar.monthrange(year, month)[1], 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    erp_id: int
    key: str  # YYYY-MM
    name: str  # "Oct 2026"
    start: str
    end: str
    closed_for: tuple[str, ...]  # subsidiary codes


def accounting_periods(as_of: datetime) -> list[Period]:
    """Monthly periods from one month before the history to two months after as_of.

    Closing state (the scenario's rule): every month ending before the month preceding as_of's month is closed
    for all subsidiaries; the month preceding as_of's month is closed for the US only; the rest are open.
    """
    first = add_months(month_start(as_of.year, as_of.month), -(HISTORY_MONTHS + 1))
    last = add_months(month_start(as_of.year, as_of.month), 2)
    previous = add_months(month_start(as_of.year, as_of.month), -1)
    periods = []
    current = first
    n = 1
    while current <= last:
        end_day = calendar.monthrange(current.year, current.month)[1]
        if current < previous:
            closed: tuple[str, ...] = tuple(s.code for s in SUBSIDIARIES)
        elif current == previous:
            closed = ("US",)
        else:
            closed = ()
        periods.append(
            Period(
                n,
                current.strftime("%Y-%m"),
                current.strftime("%b %Y"),
                current.strftime("%Y-%m-%d"),
                current.replace(day=end_day).strftime("%Y-%m-%d"),
                closed,
            )
        )
        current = add_months(current, 1)
        n += 1
    return periods


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    tenure_months: tuple[int, int]  # customers' subscription age range, months before as_of
    monthly_share: float


SCALES = {
    "S": Scale("S", 50, (6, 24), 0.85),
    "M": Scale("M", 2_000, (20, 24), 0.95),
    "L": Scale("L", 100_000, (1, 24), 0.8),
}


def injections_per_subsidiary(customers_in_subsidiary: int) -> int:
    """How many times each catalog code is injected in one subsidiary: at least 2, ~1 per 40 customers."""
    return max(2, customers_in_subsidiary // 40)
