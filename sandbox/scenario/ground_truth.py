"""The exception catalog (codes are public API, see DESIGN.md) and the ground-truth collector.

Every injection records exactly one ``(exception_type, subject_key)`` pair; the reconciliation must find
exactly these, no more (precision) and no fewer (recall). The rules that make that true are in README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.exception_catalog import CODES

INVOICE_MISSING_IN_ERP = "INVOICE_MISSING_IN_ERP"
INVOICE_ORPHAN_IN_ERP = "INVOICE_ORPHAN_IN_ERP"
INVOICE_DUPLICATE_IN_ERP = "INVOICE_DUPLICATE_IN_ERP"
INVOICE_AMOUNT_MISMATCH = "INVOICE_AMOUNT_MISMATCH"
INVOICE_TAX_MISMATCH = "INVOICE_TAX_MISMATCH"
INVOICE_CURRENCY_MISMATCH = "INVOICE_CURRENCY_MISMATCH"
INVOICE_CUSTOMER_MISMATCH = "INVOICE_CUSTOMER_MISMATCH"
INVOICE_SUBSIDIARY_MISMATCH = "INVOICE_SUBSIDIARY_MISMATCH"
INVOICE_STATUS_MISMATCH = "INVOICE_STATUS_MISMATCH"
PAYMENT_MISSING_IN_ERP = "PAYMENT_MISSING_IN_ERP"
PAYMENT_DUPLICATE_IN_ERP = "PAYMENT_DUPLICATE_IN_ERP"
PAYMENT_AMOUNT_MISMATCH = "PAYMENT_AMOUNT_MISMATCH"
CREDIT_NOTE_MISSING_IN_ERP = "CREDIT_NOTE_MISSING_IN_ERP"
CUSTOMER_UNMATCHED = "CUSTOMER_UNMATCHED"
CUSTOMER_MERGED_STALE_REF = "CUSTOMER_MERGED_STALE_REF"
DEAL_WITHOUT_SUBSCRIPTION = "DEAL_WITHOUT_SUBSCRIPTION"
SUBSCRIPTION_WITHOUT_DEAL = "SUBSCRIPTION_WITHOUT_DEAL"
CONTRACT_VALUE_MISMATCH = "CONTRACT_VALUE_MISMATCH"
PRODUCT_UNMAPPED = "PRODUCT_UNMAPPED"
POSTING_PERIOD_CLOSED = "POSTING_PERIOD_CLOSED"
POSTING_REJECTED = "POSTING_REJECTED"

# the public catalog lives in models.exception_catalog; the names above are this generator's shorthand
CATALOG: tuple[str, ...] = CODES

EXCLUSIVE_CODES = frozenset({CUSTOMER_UNMATCHED, POSTING_REJECTED})
"""Codes whose host customer carries no other injection (they change how every posting of the customer flows)."""

SUBJECT_PATTERNS: dict[str, str] = {
    INVOICE_MISSING_IN_ERP: r"^in_[0-9A-Za-z]+$",
    INVOICE_ORPHAN_IN_ERP: r"^[0-9]+$",  # ERP internal id: the record exists only there
    INVOICE_DUPLICATE_IN_ERP: r"^in_[0-9A-Za-z]+$",
    INVOICE_AMOUNT_MISMATCH: r"^in_[0-9A-Za-z]+$",
    INVOICE_TAX_MISMATCH: r"^in_[0-9A-Za-z]+$",
    INVOICE_CURRENCY_MISMATCH: r"^in_[0-9A-Za-z]+$",
    INVOICE_CUSTOMER_MISMATCH: r"^in_[0-9A-Za-z]+$",
    INVOICE_SUBSIDIARY_MISMATCH: r"^in_[0-9A-Za-z]+$",
    INVOICE_STATUS_MISMATCH: r"^in_[0-9A-Za-z]+$",
    PAYMENT_MISSING_IN_ERP: r"^(ch|py)_[0-9A-Za-z]+$",
    PAYMENT_DUPLICATE_IN_ERP: r"^(ch|py)_[0-9A-Za-z]+$",
    PAYMENT_AMOUNT_MISMATCH: r"^(ch|py)_[0-9A-Za-z]+$",
    CREDIT_NOTE_MISSING_IN_ERP: r"^cn_[0-9A-Za-z]+$",
    CUSTOMER_UNMATCHED: r"^cus_[0-9A-Za-z]+$",
    CUSTOMER_MERGED_STALE_REF: r"^cus_[0-9A-Za-z]+$",
    DEAL_WITHOUT_SUBSCRIPTION: r"^[0-9]+$",  # CRM deal id
    SUBSCRIPTION_WITHOUT_DEAL: r"^sub_[0-9A-Za-z]+$",
    CONTRACT_VALUE_MISMATCH: r"^[0-9]+$",  # CRM deal id
    PRODUCT_UNMAPPED: r"^prod_[0-9A-Za-z]+$",
    POSTING_PERIOD_CLOSED: r"^in_[0-9A-Za-z]+$",
    POSTING_REJECTED: r"^in_[0-9A-Za-z]+$",
}


@dataclass
class GroundTruth:
    """Collects the expected exceptions; refuses a second pair for one subject (one injection, one pair)."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    _subjects: dict[str, str] = field(default_factory=dict)

    def add(self, exception_type: str, subject_key: str) -> None:
        if exception_type not in CATALOG:
            raise ValueError(f"{exception_type!r} is not a catalog code")
        if subject_key in self._subjects:
            raise ValueError(f"{subject_key} already expected as {self._subjects[subject_key]}")
        self._subjects[subject_key] = exception_type
        self.pairs.append((exception_type, subject_key))

    def rows(self) -> list[dict[str, str]]:
        return [{"exception_type": t, "subject_key": s} for t, s in sorted(self.pairs)]
