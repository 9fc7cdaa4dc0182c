"""Builders for HubSpot CRM v3 objects and v4 association rows, exactly as the API returns them.

Both the scenario generator (writing ``crm/<object type>.jsonl``) and the CRM sandbox server (objects created
through the API) call these, so fixtures and live objects always share one shape::

    {"id": "123", "properties": {...every value a string or null...},
     "createdAt": "2026-01-31T12:00:00.000Z", "updatedAt": "...", "archived": false}
    (+ "archivedAt" when archived)

A fixture line holds the record with ALL its properties (as a GET naming every property returns it); the
server projects the requested ones per request. Timestamps are unix milliseconds in, ISO-8601 with
milliseconds and ``Z`` out. Ids are HubSpot's numeric ids as strings (lists are ordered by their number).

Merges (how the fixture expresses them): the winner carries ``hs_merged_object_ids`` = ``"id1;id2"`` (the
losers' ids, ``;``-joined, as HubSpot writes it); losers are simply absent from the collection file. The
server resolves a loser id to the winner on GET by id, as HubSpot does. Pass ``merged_object_ids`` to
:func:`company` (or :func:`contact`/:func:`deal`) to build a winner.

Associations (``crm/associations.jsonl``): one row per associated pair, written from either side; the server
derives the reverse direction with HubSpot's paired type ids (deal→company 341 ↔ company→deal 342, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sandbox.clock import to_iso_ms

# HubSpot's object type ids (accepted in URLs in place of the names)
OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "products": "0-7",
    "line_items": "0-8",
}
OBJECT_TYPES: tuple[str, ...] = tuple(OBJECT_TYPE_IDS)

# the property holding each type's last-modified time (contacts predate the hs_ prefix)
LAST_MODIFIED_PROPERTY: dict[str, str] = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "products": "hs_lastmodifieddate",
    "line_items": "hs_lastmodifieddate",
}

# properties a list/search/GET returns when the request names none (HubSpot's defaults per type)
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "products": ("createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"),
    "line_items": (
        "amount",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_product_id",
        "name",
        "price",
        "quantity",
    ),
}

# stages of HubSpot's default sales pipeline ("default"), in board order
DEAL_STAGES: tuple[str, ...] = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)
CLOSED_STAGES = frozenset({"closedwon", "closedlost"})

# HUBSPOT_DEFINED association type ids: (from, to) -> (unlabeled id, primary id or None)
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, int | None]] = {
    ("contacts", "companies"): (279, 1),
    ("companies", "contacts"): (280, 2),
    ("deals", "contacts"): (3, None),
    ("contacts", "deals"): (4, None),
    ("deals", "companies"): (341, 5),
    ("companies", "deals"): (342, 6),
    ("deals", "line_items"): (19, None),
    ("line_items", "deals"): (20, None),
}
# each type id's counterpart in the other direction
INVERSE_TYPE_ID: dict[int, int] = {
    279: 280,
    280: 279,
    1: 2,
    2: 1,
    3: 4,
    4: 3,
    341: 342,
    342: 341,
    5: 6,
    6: 5,
    19: 20,
    20: 19,
}
# v3 object responses (?associations=) name types instead of numbering them
V3_ASSOCIATION_NAMES: dict[int, str] = {
    1: "contact_to_company",
    279: "contact_to_company_unlabeled",
    2: "company_to_contact",
    280: "company_to_contact_unlabeled",
    3: "deal_to_contact",
    4: "contact_to_deal",
    5: "deal_to_company",
    341: "deal_to_company_unlabeled",
    6: "company_to_deal",
    342: "company_to_deal_unlabeled",
    19: "deal_to_line_item",
    20: "line_item_to_deal",
}


def _str(value: Any) -> str | None:
    """HubSpot sends every property value as a string (or null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("pass money and quantities as Decimal, int or str, never float")
    return str(value)


def _record(
    *,
    id: int | str,  # noqa: A002 - HubSpot's field name
    properties: Mapping[str, Any],
    created_ms: int,
    updated_ms: int,
    archived: bool,
    archived_ms: int | None,
) -> dict:
    obj: dict[str, Any] = {
        "id": str(id),
        "properties": {k: _str(v) for k, v in sorted(properties.items())},
        "createdAt": to_iso_ms(created_ms),
        "updatedAt": to_iso_ms(updated_ms),
        "archived": bool(archived),
    }
    if archived:
        obj["archivedAt"] = to_iso_ms(archived_ms if archived_ms is not None else updated_ms)
    return obj


def _iso_or_none(ms: int | None) -> str | None:
    return to_iso_ms(ms) if ms is not None else None


def _merged(ids: Iterable[int | str]) -> str | None:
    joined = ";".join(str(i) for i in ids)
    return joined or None


def company(
    *,
    id: int | str,  # noqa: A002
    name: str,
    created_ms: int,
    updated_ms: int | None = None,
    domain: str | None = None,
    country: str | None = None,
    industry: str | None = None,
    stripe_customer_id: str | None = None,
    netsuite_customer_id: str | None = None,
    subsidiary: str | None = None,
    merged_object_ids: Iterable[int | str] = (),
    archived: bool = False,
    archived_ms: int | None = None,
    extra_properties: Mapping[str, Any] | None = None,
) -> dict:
    """A company.

    Args: ``id`` (numeric), ``name``, ``created_ms`` / ``updated_ms`` (unix ms; updated defaults to created),
    ``domain``, ``country``, ``industry``; q2c's custom properties ``stripe_customer_id``,
    ``netsuite_customer_id``, ``subsidiary``; ``merged_object_ids`` (ids merged INTO this company: sets
    ``hs_merged_object_ids``), ``archived`` / ``archived_ms``, ``extra_properties`` (any other property).
    """
    updated = updated_ms if updated_ms is not None else created_ms
    props: dict[str, Any] = {
        "name": name,
        "domain": domain,
        "country": country,
        "industry": industry,
        "hs_object_id": str(id),
        "createdate": to_iso_ms(created_ms),
        "hs_lastmodifieddate": to_iso_ms(updated),
        "hs_merged_object_ids": _merged(merged_object_ids),
        "stripe_customer_id": stripe_customer_id,
        "netsuite_customer_id": netsuite_customer_id,
        "subsidiary": subsidiary,
        **(extra_properties or {}),
    }
    return _record(
        id=id, properties=props, created_ms=created_ms, updated_ms=updated, archived=archived, archived_ms=archived_ms
    )


def contact(
    *,
    id: int | str,  # noqa: A002
    email: str,
    created_ms: int,
    updated_ms: int | None = None,
    firstname: str | None = None,
    lastname: str | None = None,
    company: str | None = None,
    phone: str | None = None,
    merged_object_ids: Iterable[int | str] = (),
    archived: bool = False,
    archived_ms: int | None = None,
    extra_properties: Mapping[str, Any] | None = None,
) -> dict:
    """A contact.

    Args: ``id``, ``email``, ``created_ms`` / ``updated_ms`` (unix ms; last modified is ``lastmodifieddate``
    for contacts), ``firstname``, ``lastname``, ``company`` (the free-text company name field, not an
    association), ``phone``, ``merged_object_ids``, ``archived`` / ``archived_ms``, ``extra_properties``.
    """
    updated = updated_ms if updated_ms is not None else created_ms
    props: dict[str, Any] = {
        "email": email,
        "firstname": firstname,
        "lastname": lastname,
        "company": company,
        "phone": phone,
        "hs_object_id": str(id),
        "createdate": to_iso_ms(created_ms),
        "lastmodifieddate": to_iso_ms(updated),
        "hs_merged_object_ids": _merged(merged_object_ids),
        **(extra_properties or {}),
    }
    return _record(
        id=id, properties=props, created_ms=created_ms, updated_ms=updated, archived=archived, archived_ms=archived_ms
    )


def deal_flags(dealstage: str | None) -> dict[str, str]:
    """HubSpot's calculated closed flags for a stage of the default pipeline."""
    return {
        "hs_is_closed": _str(dealstage in CLOSED_STAGES) or "false",
        "hs_is_closed_won": _str(dealstage == "closedwon") or "false",
    }


def deal(
    *,
    id: int | str,  # noqa: A002
    dealname: str,
    amount: Decimal | int | str | None,
    deal_currency_code: str,
    dealstage: str,
    created_ms: int,
    updated_ms: int | None = None,
    closedate_ms: int | None = None,
    pipeline: str = "default",
    stripe_subscription_id: str | None = None,
    merged_object_ids: Iterable[int | str] = (),
    archived: bool = False,
    archived_ms: int | None = None,
    extra_properties: Mapping[str, Any] | None = None,
) -> dict:
    """A deal in the default sales pipeline.

    Args: ``id``, ``dealname``, ``amount`` (major units as a decimal string, e.g. ``"12000.00"``; Decimal/int
    accepted, float refused), ``deal_currency_code`` (ISO 4217), ``dealstage`` (one of :data:`DEAL_STAGES`),
    ``created_ms`` / ``updated_ms``, ``closedate_ms``, ``pipeline``, q2c's custom ``stripe_subscription_id``,
    ``merged_object_ids``, ``archived`` / ``archived_ms``, ``extra_properties``.
    """
    if pipeline == "default" and dealstage not in DEAL_STAGES:
        raise ValueError(f"dealstage {dealstage!r} is not a stage of the default pipeline {DEAL_STAGES}")
    updated = updated_ms if updated_ms is not None else created_ms
    props: dict[str, Any] = {
        "dealname": dealname,
        "amount": amount,
        "deal_currency_code": deal_currency_code,
        "dealstage": dealstage,
        "pipeline": pipeline,
        "closedate": _iso_or_none(closedate_ms),
        "hs_object_id": str(id),
        "createdate": to_iso_ms(created_ms),
        "hs_lastmodifieddate": to_iso_ms(updated),
        "hs_merged_object_ids": _merged(merged_object_ids),
        "stripe_subscription_id": stripe_subscription_id,
        **deal_flags(dealstage),
        **(extra_properties or {}),
    }
    return _record(
        id=id, properties=props, created_ms=created_ms, updated_ms=updated, archived=archived, archived_ms=archived_ms
    )


def product(
    *,
    id: int | str,  # noqa: A002
    name: str,
    price: Decimal | int | str,
    created_ms: int,
    updated_ms: int | None = None,
    hs_sku: str | None = None,
    description: str | None = None,
    recurringbillingfrequency: str | None = None,
    stripe_product_id: str | None = None,
    archived: bool = False,
    archived_ms: int | None = None,
    extra_properties: Mapping[str, Any] | None = None,
) -> dict:
    """A product in the product library.

    Args: ``id``, ``name``, ``price`` (major units, decimal string), ``created_ms`` / ``updated_ms``, ``hs_sku``,
    ``description``, ``recurringbillingfrequency`` (``monthly``, ``quarterly``, ``annually`` ... or None for
    one-off), q2c's custom ``stripe_product_id``, ``archived`` / ``archived_ms``, ``extra_properties``.
    """
    updated = updated_ms if updated_ms is not None else created_ms
    props: dict[str, Any] = {
        "name": name,
        "price": price,
        "hs_sku": hs_sku,
        "description": description,
        "recurringbillingfrequency": recurringbillingfrequency,
        "stripe_product_id": stripe_product_id,
        "hs_object_id": str(id),
        "createdate": to_iso_ms(created_ms),
        "hs_lastmodifieddate": to_iso_ms(updated),
        **(extra_properties or {}),
    }
    return _record(
        id=id, properties=props, created_ms=created_ms, updated_ms=updated, archived=archived, archived_ms=archived_ms
    )


def line_item(
    *,
    id: int | str,  # noqa: A002
    name: str,
    quantity: Decimal | int | str,
    price: Decimal | int | str,
    currency: str,
    created_ms: int,
    updated_ms: int | None = None,
    hs_product_id: int | str | None = None,
    amount: Decimal | int | str | None = None,
    hs_recurring_billing_period: str | None = None,
    recurringbillingfrequency: str | None = None,
    archived: bool = False,
    archived_ms: int | None = None,
    extra_properties: Mapping[str, Any] | None = None,
) -> dict:
    """A line item (a deal's copy of a product with quantity and price).

    Args: ``id``, ``name``, ``quantity``, ``price`` (unit price, major units), ``currency`` (stored in HubSpot's
    ``hs_line_item_currency_code``), ``created_ms`` / ``updated_ms``, ``hs_product_id`` (the product's id),
    ``amount`` (defaults to quantity × price, computed in Decimal as HubSpot does), ``hs_recurring_billing_period``
    (ISO-8601 term such as ``P12M``), ``recurringbillingfrequency``, ``archived`` / ``archived_ms``,
    ``extra_properties``.
    """
    updated = updated_ms if updated_ms is not None else created_ms
    if amount is None:
        amount = Decimal(str(quantity)) * Decimal(str(price))
    props: dict[str, Any] = {
        "name": name,
        "quantity": quantity,
        "price": price,
        "amount": amount,
        "hs_line_item_currency_code": currency,
        "hs_product_id": hs_product_id,
        "hs_recurring_billing_period": hs_recurring_billing_period,
        "recurringbillingfrequency": recurringbillingfrequency,
        "hs_object_id": str(id),
        "createdate": to_iso_ms(created_ms),
        "hs_lastmodifieddate": to_iso_ms(updated),
        **(extra_properties or {}),
    }
    return _record(
        id=id, properties=props, created_ms=created_ms, updated_ms=updated, archived=archived, archived_ms=archived_ms
    )


def association_types(from_type: str, to_type: str, *, primary: bool = False) -> list[dict]:
    """The v4 ``associationTypes`` list for an unlabeled (and optionally primary) association."""
    try:
        unlabeled, primary_id = ASSOCIATION_TYPES[(from_type, to_type)]
    except KeyError:
        raise ValueError(f"no default association type from {from_type} to {to_type}") from None
    types = [{"category": "HUBSPOT_DEFINED", "typeId": unlabeled, "label": None}]
    if primary:
        if primary_id is None:
            raise ValueError(f"{from_type} to {to_type} has no primary association type")
        types.append({"category": "HUBSPOT_DEFINED", "typeId": primary_id, "label": "Primary"})
    return types


def association(
    *,
    from_type: str,
    from_id: int | str,
    to_type: str,
    to_id: int | str,
    primary: bool = False,
) -> dict:
    """One row of ``crm/associations.jsonl``: an association between two records (v4 type ids).

    Args: ``from_type`` / ``to_type`` (object type names: companies, contacts, deals, line_items), ``from_id`` /
    ``to_id``, ``primary`` (add the "Primary" labeled type, e.g. a deal's primary company: typeId 5). The
    reverse direction is implied; writing it too is harmless.
    """
    return {
        "fromObjectType": from_type,
        "fromObjectId": str(from_id),
        "toObjectType": to_type,
        "toObjectId": str(to_id),
        "associationTypes": association_types(from_type, to_type, primary=primary),
    }


def inverse_association_types(types: list[dict]) -> list[dict]:
    """The same association seen from the other side (HubSpot pairs every type id with its reverse)."""
    return [{**t, "typeId": INVERSE_TYPE_ID.get(int(t["typeId"]), int(t["typeId"]))} for t in types]


def record(
    object_type: str,
    *,
    id: int | str,  # noqa: A002
    properties: Mapping[str, Any],
    created_ms: int,
    updated_ms: int | None = None,
    archived: bool = False,
    archived_ms: int | None = None,
) -> dict:
    """Any object type from a property bag, with HubSpot's system properties filled in.

    The server builds objects created or updated through the API with this; it sets ``hs_object_id``,
    ``createdate``, the type's last-modified property, a deal's closed flags and a line item's ``amount``
    (quantity × price when not given), exactly as the typed builders above do.
    """
    if object_type not in OBJECT_TYPE_IDS:
        raise ValueError(f"unknown object type {object_type!r}")
    updated = updated_ms if updated_ms is not None else created_ms
    props: dict[str, Any] = dict(properties)
    props["hs_object_id"] = str(id)
    props["createdate"] = to_iso_ms(created_ms)
    props[LAST_MODIFIED_PROPERTY[object_type]] = to_iso_ms(updated)
    if object_type == "deals":
        props.setdefault("pipeline", "default")
        props.update(deal_flags(props.get("dealstage")))
    if object_type == "line_items" and props.get("amount") in (None, ""):
        quantity, price = props.get("quantity"), props.get("price")
        if quantity not in (None, "") and price not in (None, ""):
            props["amount"] = Decimal(str(quantity)) * Decimal(str(price))
    return _record(
        id=id, properties=props, created_ms=created_ms, updated_ms=updated, archived=archived, archived_ms=archived_ms
    )
