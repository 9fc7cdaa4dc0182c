"""Figures as a controller reads them: exact money with thousands separators, UTC times, escaped text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape

# ISO 4217 minor-unit exponents that differ from 2 (the warehouse keeps the exact value; this only pads)
_EXPONENTS = {"JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def money(value: Decimal | int | None, currency: str | None = None) -> str:
    """``12,345.67`` — never rounded: digits beyond the currency's exponent are kept when they are not zero."""
    if value is None:
        return "–"
    exact = Decimal(value)
    places = _EXPONENTS.get((currency or "").upper(), 2)
    digits = -exact.normalize().as_tuple().exponent if exact != 0 else 0
    return f"{exact:,.{max(places, digits, 0)}f}"


def money_with_currency(value: Decimal | int | None, currency: str | None) -> str:
    return f"{money(value, currency)} {currency}" if value is not None and currency else money(value, currency)


def count(value: int | Decimal | None) -> str:
    if value is None:
        return "–"
    return f"{Decimal(value).normalize():,f}" if isinstance(value, Decimal) else f"{value:,}"


def share(value: Decimal | None) -> str:
    """A 0–1 share as a percentage with two decimals (exact: a Decimal shift, not a float)."""
    return "–" if value is None else f"{(Decimal(value) * 100):.2f}%"


def hours(value: Decimal | None) -> str:
    return "–" if value is None else f"{Decimal(value):,.2f} h"


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} s"


def utc(value: datetime | date | str | None) -> str:
    """``2026-10-31 23:00 UTC`` from a datetime or an ISO string (the run history stores strings)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def text(value: object) -> str:
    """Any value from the data, escaped for HTML text and attributes alike."""
    return escape("" if value is None else str(value), quote=True)
