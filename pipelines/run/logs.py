"""Log setup for ``q2c run``/``status``: human lines or JSON lines on stderr, every record scrubbed of secrets.

JSON lines carry ``ts`` (UTC), ``level``, ``logger``, ``msg`` and, when set, ``run_id``, ``step`` and the
record's structured ``fields`` (counts, seconds, exit code), so a log shipper can index them without parsing.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from pipelines.run.redact import RedactingFilter, Redactor, secret_values

LOG_FORMATS = ("human", "json")
LOGGER = "q2c"
# loggers whose libraries install handlers of their own (dlt: its own stderr handler, propagate off); ours
# replaces theirs, so every line has one format and passes the redaction
CLAIMED_LOGGERS = ("", LOGGER, "dlt")
_active: LogSetup | None = None


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in ("run_id", "step"):
            if getattr(record, name, None):
                line[name] = getattr(record, name)
        line.update(getattr(record, "fields", {}) or {})
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        where = getattr(record, "step", None) or record.name.removeprefix("q2c.")
        text = f"{_timestamp(record)[:19]}Z {record.levelname:<7} {where}: {record.getMessage()}"
        if record.exc_text:
            text += "\n" + record.exc_text
        return text


class _OwnFormatHandler(logging.StreamHandler):
    """A stream handler whose format is fixed once set: dlt sets its own format on whatever handler its
    logger holds when it initialises, which would otherwise change the format of the whole run's log."""

    def setFormatter(self, fmt: logging.Formatter | None) -> None:  # noqa: N802 — logging's name
        if self.formatter is None:
            super().setFormatter(fmt)


class _RunContext(logging.Filter):
    """Stamps the current run id on every record (dlt's and dbt's too)."""

    def __init__(self) -> None:
        super().__init__()
        self.run_id: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.run_id and not getattr(record, "run_id", None):
            record.run_id = self.run_id
        return True


class LogSetup:
    """Handle returned by :func:`configure`: add secrets found later, set the run id, undo on close."""

    def __init__(self, handler: logging.Handler, redactor: Redactor, context: _RunContext) -> None:
        self.handler = handler
        self.redactor = redactor
        self.context = context

    def set_run_id(self, run_id: str) -> None:
        self.context.run_id = run_id

    def add_secrets(self, values: set[str]) -> None:
        self.redactor.add(values)

    def claim(self) -> None:
        """Make our handler the only one on the loggers libraries tamper with (idempotent, cheap)."""
        for name in CLAIMED_LOGGERS:
            target = logging.getLogger(name)
            for other in [h for h in target.handlers if h is not self.handler]:
                target.removeHandler(other)
            if self.handler not in target.handlers:
                target.addHandler(self.handler)
            if name:
                target.propagate = False  # handled here, not again by the root

    def close(self) -> None:
        global _active
        for name in CLAIMED_LOGGERS:
            logging.getLogger(name).removeHandler(self.handler)
        logging.getLogger(LOGGER).propagate = True
        logging.captureWarnings(False)
        if _active is self:
            _active = None


def scrub(text: str | None) -> str | None:
    """Text that leaves the log path (run history, the CLI's summary) gets the same redaction as a log line."""
    if text is None:
        return None
    redactor = _active.redactor if _active is not None else Redactor(secret_values())
    return redactor(text)


def reclaim_handlers() -> None:
    """Called between and during steps: undoes whatever a library did to the logging setup meanwhile."""
    if _active is not None:
        _active.claim()


def configure(log_format: str = "human", *, stream: TextIO | None = None, level: int = logging.INFO) -> LogSetup:
    """One handler on the root logger, so library logs (dlt, dbt adapters) are formatted and scrubbed too."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r}: expected one of {LOG_FORMATS}")
    handler = _OwnFormatHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else HumanFormatter())
    redactor = Redactor(secret_values())
    context = _RunContext()
    # filters on the handler see every record that reaches it, whichever logger emitted it
    handler.addFilter(context)
    handler.addFilter(RedactingFilter(redactor))
    global _active
    if _active is not None:
        _active.close()
    setup = LogSetup(handler, redactor, context)
    setup.claim()
    logging.getLogger().setLevel(logging.WARNING)  # libraries: warnings and errors only
    logging.getLogger(LOGGER).setLevel(level)
    logging.captureWarnings(True)
    _active = setup
    return setup


def log(logger: logging.Logger, level: int, msg: str, *, step: str | None = None, **fields: Any) -> None:
    """A log record with structured fields (JSON keys) and the step it belongs to."""
    logger.log(level, msg, extra={"step": step, "fields": fields})
