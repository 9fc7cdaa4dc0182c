"""Property definitions per object type, as ``GET /crm/v3/properties/{objectType}`` lists them.

The search filters need each property's type (a datetime compares as an instant, a number numerically, a
string case-insensitively), and the properties API lets a client discover q2c's custom properties
(``stripe_customer_id`` ...), so both read from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.crm.objects import DEAL_STAGES

# the portal's creation instant for HubSpot's own definitions (a fixed, plausible date)
_DEFINED_AT = "2019-08-06T02:41:52.000Z"


@dataclass(frozen=True)
class PropertyDef:
    name: str
    label: str
    type: str  # string | number | datetime | date | enumeration | bool
    field_type: str  # text | number | date | select | booleancheckbox | calculation_equation ...
    hubspot_defined: bool = True
    options: tuple[str, ...] = ()
    read_only: bool = False
    unique: bool = False
    calculated: bool = False


_GROUP = {
    "companies": "companyinformation",
    "contacts": "contactinformation",
    "deals": "dealinformation",
    "products": "productinformation",
    "line_items": "lineiteminformation",
}


def _common(last_modified: str) -> list[PropertyDef]:
    return [
        PropertyDef("hs_object_id", "Record ID", "number", "number", read_only=True, unique=True),
        PropertyDef("createdate", "Create Date", "datetime", "date", read_only=True),
        PropertyDef(last_modified, "Last Modified Date", "datetime", "date", read_only=True),
    ]


_MERGED = PropertyDef("hs_merged_object_ids", "Merged Record IDs", "enumeration", "checkbox", read_only=True)

DEFINITIONS: dict[str, list[PropertyDef]] = {
    "companies": [
        *_common("hs_lastmodifieddate"),
        PropertyDef("name", "Company name", "string", "text"),
        PropertyDef("domain", "Company Domain Name", "string", "text"),
        PropertyDef("country", "Country/Region", "string", "text"),
        PropertyDef("industry", "Industry", "string", "text"),
        _MERGED,
        PropertyDef("stripe_customer_id", "Stripe customer ID", "string", "text", hubspot_defined=False, unique=True),
        PropertyDef("netsuite_customer_id", "NetSuite customer ID", "string", "text", hubspot_defined=False),
        PropertyDef(
            "subsidiary", "Subsidiary", "enumeration", "select", hubspot_defined=False, options=("US", "UK", "DE")
        ),
    ],
    "contacts": [
        *_common("lastmodifieddate"),
        PropertyDef("email", "Email", "string", "text", unique=True),
        PropertyDef("firstname", "First Name", "string", "text"),
        PropertyDef("lastname", "Last Name", "string", "text"),
        PropertyDef("company", "Company Name", "string", "text"),
        PropertyDef("phone", "Phone Number", "string", "phonenumber"),
        _MERGED,
    ],
    "deals": [
        *_common("hs_lastmodifieddate"),
        PropertyDef("dealname", "Deal Name", "string", "text"),
        PropertyDef("amount", "Amount", "number", "number"),
        PropertyDef("deal_currency_code", "Currency", "enumeration", "select", options=("USD", "GBP", "EUR")),
        PropertyDef("dealstage", "Deal Stage", "enumeration", "radio", options=DEAL_STAGES),
        PropertyDef("pipeline", "Pipeline", "enumeration", "select", options=("default",)),
        PropertyDef("closedate", "Close Date", "datetime", "date"),
        PropertyDef("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", read_only=True, calculated=True),
        PropertyDef("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", read_only=True, calculated=True),
        _MERGED,
        PropertyDef("stripe_subscription_id", "Stripe subscription ID", "string", "text", hubspot_defined=False),
    ],
    "products": [
        *_common("hs_lastmodifieddate"),
        PropertyDef("name", "Name", "string", "text"),
        PropertyDef("description", "Description", "string", "textarea"),
        PropertyDef("price", "Unit price", "number", "number"),
        PropertyDef("hs_sku", "SKU", "string", "text"),
        PropertyDef(
            "recurringbillingfrequency",
            "Billing frequency",
            "enumeration",
            "select",
            options=("weekly", "biweekly", "monthly", "quarterly", "per_six_months", "annually"),
        ),
        PropertyDef("stripe_product_id", "Stripe product ID", "string", "text", hubspot_defined=False),
    ],
    "line_items": [
        *_common("hs_lastmodifieddate"),
        PropertyDef("name", "Name", "string", "text"),
        PropertyDef("quantity", "Quantity", "number", "number"),
        PropertyDef("price", "Unit price", "number", "number"),
        PropertyDef("amount", "Net price", "number", "calculation_equation", calculated=True),
        PropertyDef("hs_line_item_currency_code", "Currency", "enumeration", "select", options=("USD", "GBP", "EUR")),
        PropertyDef("hs_product_id", "Product ID", "number", "number"),
        PropertyDef("hs_recurring_billing_period", "Term", "string", "text"),
        PropertyDef(
            "recurringbillingfrequency",
            "Billing frequency",
            "enumeration",
            "select",
            options=("weekly", "biweekly", "monthly", "quarterly", "per_six_months", "annually"),
        ),
    ],
}


_BUILT_IN: dict[str, frozenset[str]] = {t: frozenset(d.name for d in defs) for t, defs in DEFINITIONS.items()}


def _learned(name: str) -> PropertyDef:
    return PropertyDef(name, name.replace("_", " ").capitalize(), "string", "text", hubspot_defined=False)


class PropertyCatalog:
    """The definitions of one portal: HubSpot's and q2c's, plus any property found in the loaded data."""

    def __init__(self) -> None:
        self._defs: dict[str, dict[str, PropertyDef]] = {
            t: {d.name: d for d in defs} for t, defs in DEFINITIONS.items()
        }

    def learn(self, object_type: str, names: set[str]) -> None:
        """Define (as custom text properties) names a fixture uses that the catalog does not know."""
        known = self._defs[object_type]
        for name in sorted(names - known.keys()):
            known[name] = _learned(name)

    def learned(self) -> dict[str, list[str]]:
        """The names :meth:`learn` defined, per object type in definition order (saved by a store cache)."""
        return {t: [n for n in defs if n not in _BUILT_IN[t]] for t, defs in self._defs.items()}

    def restore_learned(self, learned: dict[str, list[str]]) -> None:
        """Define again, in the same order, what :meth:`learned` returned."""
        for object_type, names in learned.items():
            known = self._defs[object_type]
            for name in names:
                known.setdefault(name, _learned(name))

    def get(self, object_type: str, name: str) -> PropertyDef | None:
        return self._defs[object_type].get(name)

    def names(self, object_type: str) -> list[str]:
        return list(self._defs[object_type])

    def as_json(self, object_type: str) -> list[dict]:
        return [_definition_json(object_type, i, d) for i, d in enumerate(self._defs[object_type].values())]


def _definition_json(object_type: str, order: int, d: PropertyDef) -> dict:
    body: dict = {
        "name": d.name,
        "label": d.label,
        "type": d.type,
        "fieldType": d.field_type,
        "description": "",
        "groupName": _GROUP[object_type],
        "options": [
            {"label": v, "value": v, "description": "", "displayOrder": i, "hidden": False}
            for i, v in enumerate(d.options)
        ],
        "displayOrder": order if not d.hubspot_defined else -1,
        "calculated": d.calculated,
        "externalOptions": False,
        "hasUniqueValue": d.unique,
        "hidden": False,
        "modificationMetadata": {
            "archivable": not d.hubspot_defined,
            "readOnlyDefinition": d.hubspot_defined,
            "readOnlyValue": d.read_only,
        },
        "formField": d.type in ("string", "enumeration") and not d.read_only,
        "createdAt": _DEFINED_AT,
        "updatedAt": _DEFINED_AT,
        "archived": False,
    }
    if d.hubspot_defined:
        body["hubspotDefined"] = True  # HubSpot omits the key on custom properties
    return body
