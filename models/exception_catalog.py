"""The exception-type catalog: codes are public API (``reconciliation.exceptions.exception_type``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OwnerDomain(StrEnum):
    """Who acts on an exception."""

    BILLING_OPS = "billing_ops"
    ACCOUNTING = "accounting"
    REVOPS = "revops"
    FINANCE_SYSTEMS = "finance_systems"


@dataclass(frozen=True)
class ExceptionType:
    code: str
    description: str
    subject: str  # what subject_key names
    owner: OwnerDomain


CATALOG: tuple[ExceptionType, ...] = (
    ExceptionType(
        "INVOICE_MISSING_IN_ERP",
        "finalized billing invoice with no ERP invoice after the grace period",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_ORPHAN_IN_ERP",
        "ERP invoice claiming a billing origin that billing does not have",
        "ERP internal id",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_DUPLICATE_IN_ERP",
        "more than one ERP invoice for one billing invoice",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_AMOUNT_MISMATCH",
        "ERP invoice total differs from billing beyond tolerance",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_TAX_MISMATCH",
        "ERP invoice tax differs from billing beyond tolerance",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_CURRENCY_MISMATCH",
        "ERP invoice in another currency than billing's",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_CUSTOMER_MISMATCH",
        "ERP invoice posted to the wrong ERP customer",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_SUBSIDIARY_MISMATCH",
        "ERP invoice posted to the wrong legal entity",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "INVOICE_STATUS_MISMATCH",
        "billing and ERP disagree on paid / open / void",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "PAYMENT_MISSING_IN_ERP",
        "billing payment not applied in the ERP",
        "billing charge ch_… / payment py_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "PAYMENT_DUPLICATE_IN_ERP",
        "one billing payment applied more than once in the ERP",
        "billing charge ch_… / payment py_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "PAYMENT_AMOUNT_MISMATCH",
        "ERP payment amount differs from billing's",
        "billing charge ch_… / payment py_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "CREDIT_NOTE_MISSING_IN_ERP",
        "credit note or refund not reflected in the ERP",
        "billing credit note cn_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "CUSTOMER_UNMATCHED",
        "billing customer with no CRM company or no ERP customer",
        "billing customer cus_…",
        OwnerDomain.REVOPS,
    ),
    ExceptionType(
        "CUSTOMER_MERGED_STALE_REF",
        "a record still points at the losing side of a CRM merge",
        "billing customer cus_…",
        OwnerDomain.REVOPS,
    ),
    ExceptionType(
        "DEAL_WITHOUT_SUBSCRIPTION", "closed-won deal with no subscription", "CRM deal id", OwnerDomain.REVOPS
    ),
    ExceptionType(
        "SUBSCRIPTION_WITHOUT_DEAL",
        "subscription with no closed-won deal",
        "billing subscription sub_…",
        OwnerDomain.REVOPS,
    ),
    ExceptionType(
        "CONTRACT_VALUE_MISMATCH",
        "deal amount differs from the subscription's contract value",
        "CRM deal id",
        OwnerDomain.REVOPS,
    ),
    ExceptionType(
        "PRODUCT_UNMAPPED",
        "billing product with no ERP item and revenue accounts",
        "billing product prod_…",
        OwnerDomain.FINANCE_SYSTEMS,
    ),
    ExceptionType(
        "POSTING_PERIOD_CLOSED",
        "a posting dated in a closed ERP period",
        "billing invoice in_…",
        OwnerDomain.ACCOUNTING,
    ),
    ExceptionType(
        "POSTING_REJECTED", "the ERP refused a push", "the posting's billing id", OwnerDomain.FINANCE_SYSTEMS
    ),
)

CODES: tuple[str, ...] = tuple(t.code for t in CATALOG)
BY_CODE: dict[str, ExceptionType] = {t.code: t for t in CATALOG}
