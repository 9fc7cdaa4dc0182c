"""Secrets never reach a log: every record's text is scrubbed of known secret values and token shapes.

Known values come from the environment (any variable whose name says key, token, secret or password) and
from dlt's secrets (``sources.<source>.api_key`` / ``access_token``); shapes catch what no one declared —
Stripe keys, HubSpot private-app tokens, bearer headers.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

MASK = "***"
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL)", re.IGNORECASE)
_SHAPES = (
    re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9_]+"),  # Stripe keys
    re.compile(r"\bpat-[A-Za-z0-9-]+"),  # HubSpot private-app tokens
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),  # an Authorization header's value
)
_SECRET_KEYS = ("api_key", "access_token", "token", "client_secret", "password")
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words


def secret_values(environ: dict[str, str] | None = None, extra: Iterable[str] = ()) -> set[str]:
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items() if _SECRET_NAME.search(k) and v}
    values |= {v for v in extra if v}
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}


def dlt_secret_values(sources: Iterable[str] = ("crm", "billing", "erp")) -> set[str]:
    """The credentials dlt would hand the sources (secrets.toml or environment); read lazily, dlt is heavy."""
    import dlt

    found: set[str] = set()
    for source in sources:
        for key in _SECRET_KEYS:
            try:
                value = dlt.secrets.get(f"sources.{source}.{key}")
            except Exception:  # a config read problem must not stop the scrubbing of the rest
                value = None
            if isinstance(value, str) and value:
                found.add(value)
    return found


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        self._values |= {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
        # longest first, so a secret containing another is masked whole
        ordered = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        for shape in _SHAPES:
            text = shape.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
        return text


class RedactingFilter(logging.Filter):
    """Renders the message once, scrubbed, so neither the format args nor the traceback can leak."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redactor(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for name, value in list(getattr(record, "fields", {}).items()):
            if isinstance(value, str):
                record.fields[name] = self.redactor(value)
        return True
