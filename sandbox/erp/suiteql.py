"""SuiteQL over the sandbox: Oracle-flavoured SELECTs translated to SQLite and run on the projections.

Supported (see README for the full list): SELECT only (anything else is refused as NetSuite refuses it),
joins, WHERE, GROUP BY, ORDER BY, aggregates, ``TO_DATE``/``TO_TIMESTAMP``/``TO_CHAR`` with Oracle formats
(YYYY MM DD HH24 HH MI SS MON), ``NVL``/``NVL2``, ``SYSDATE`` (the sandbox clock), ``BUILTIN.DF(col)`` on
reference columns, ``FETCH FIRST n ROWS ONLY``. Results come back as SuiteQL sends them: lowercase column
names, every value a string, NULLs omitted, booleans ``T``/``F``, dates and timestamps rendered in the
account's default date format ``M/D/YYYY`` (the time is dropped, as SuiteQL does: use ``TO_CHAR`` to keep it).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sandbox.erp.errors import NetSuiteError

ISO_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$")
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_FORMAT_TOKENS = [
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("HH12", "%I"),
    ("HH", "%I"),
    ("MONTH", "%B"),
    ("MON", "%b"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("AM", "%p"),
    ("PM", "%p"),
    ("YY", "%y"),
]
ACCOUNT_DATE_FORMAT = "M/D/YYYY"
SEARCH_ERROR = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "


_STRFTIME = dict(_FORMAT_TOKENS)


@lru_cache(maxsize=64)
def _format_parts(fmt: str) -> tuple[tuple[str | None, str], ...]:
    """An Oracle format as its parts, in order: (token, "") for a format token, (None, char) for anything else."""
    parts: list[tuple[str | None, str]] = []
    i, upper = 0, fmt.upper()
    while i < len(fmt):
        token = next((t for t, _ in _FORMAT_TOKENS if upper.startswith(t, i)), None)
        parts.append((token, "") if token else (None, fmt[i]))
        i += len(token) if token else 1
    return tuple(parts)


def oracle_to_strftime(fmt: str) -> str:
    return "".join(_STRFTIME[t] if t else ("%%" if ch == "%" else ch) for t, ch in _format_parts(fmt))


def _parse_date(text: str, fmt: str | None) -> datetime:
    if fmt:
        return datetime.strptime(text, oracle_to_strftime(fmt))
    for candidate in ("%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, candidate)
        except ValueError:
            continue
    raise ValueError(f"cannot parse date {text!r}")


def _to_date(text: Any, fmt: Any = None) -> str | None:
    if text is None:
        return None
    try:
        return _parse_date(str(text), str(fmt) if fmt is not None else None).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise sqlite3.DataError(str(exc)) from exc


# Where each numeric format token sits in a stored timestamp ``YYYY-MM-DDTHH:MM:SSZ``.
_ISO_SLICES = {"YYYY": (0, 4), "MM": (5, 7), "DD": (8, 10), "HH24": (11, 13), "MI": (14, 16), "SS": (17, 19)}


@lru_cache(maxsize=64)
def _iso_renderer(fmt: str) -> Callable[[str], str] | None:
    """A format made only of numeric tokens and separators, as slices of the stored timestamp (TO_CHAR runs once
    per row: a GROUP BY TO_CHAR(lastmodifieddate, 'YYYY-MM-DD') over millions of transactions must not parse
    each one); None for any other format."""
    parts: list[tuple[int, int] | str] = []
    for token, char in _format_parts(fmt):
        if (token is not None and token not in _ISO_SLICES) or char.isalpha():
            return None
        parts.append(_ISO_SLICES[token] if token else char)
    return lambda iso: "".join(p if isinstance(p, str) else iso[p[0] : p[1]] for p in parts)


def _to_char(value: Any, fmt: Any = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and ISO_TS.match(value):
        if fmt is None:
            return render_date(value)
        render = _iso_renderer(str(fmt))
        if render is not None:
            return render(value)
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        return moment.strftime(oracle_to_strftime(str(fmt)))
    return render_value(value)


def _nvl(value: Any, default: Any) -> Any:
    return default if value is None else value


def _nvl2(value: Any, if_set: Any, if_null: Any) -> Any:
    return if_null if value is None else if_set


def render_date(value: str) -> str:
    m = ISO_TS.match(value)
    if not m:
        return value
    return f"{int(m.group(2))}/{int(m.group(3))}/{m.group(1)}"


def render_value(value: Any) -> str:
    """A result value as SuiteQL's REST endpoint sends it: always a string."""
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float):
        rounded = round(value, 10)  # aggregates over NUMERIC run in binary floating point; drop the noise
        text = repr(rounded)
        if text.endswith(".0"):
            text = text[:-2]
        return text
    if isinstance(value, str):
        return render_date(value)
    return str(value)


def translate(query: str) -> str:
    """SuiteQL text to SQLite text (string literals are left untouched)."""
    parts: list[str] = []
    last = 0
    for m in _LITERAL.finditer(query):
        parts.append(_translate_code(query[last : m.start()]))
        parts.append(m.group(0))
        last = m.end()
    parts.append(_translate_code(query[last:]))
    return "".join(parts)


def _translate_code(code: str) -> str:
    code = re.sub(r"(?i)\bBUILTIN\.DF\s*\(\s*((?:[A-Za-z_]\w*\.)?)([A-Za-z_]\w*)\s*\)", r"\1\2__df", code)
    code = re.sub(r'(?i)(?<!")\btransaction\b(?!")', '"transaction"', code)
    code = re.sub(r"(?i)\bSYSDATE\b", "ns_sysdate()", code)
    code = re.sub(r"(?i)\bCURRENT_DATE\b", "ns_sysdate()", code)
    code = re.sub(r"(?i)\bFETCH\s+FIRST\s+(\d+)\s+ROWS?\s+ONLY\b", r"LIMIT \1", code)
    code = re.sub(r"(?i)\bMINUS\b", "EXCEPT", code)
    return code


def _strip_comments_and_literals(query: str) -> str:
    text = _LITERAL.sub("''", query)
    text = re.sub(r"--[^\n]*", " ", text)
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def check_select_only(query: str) -> None:
    bare = _strip_comments_and_literals(query).strip().rstrip(";").strip()
    if not re.match(r"(?i)^select\b", bare) or ";" in bare:
        raise NetSuiteError(400, "USER_ERROR", SEARCH_ERROR + "Only SELECT statements are supported.")


def _search_error(exc: sqlite3.Error) -> NetSuiteError:
    message = str(exc)
    m = re.match(r"no such column: (?:\w+\.)?(\w+)", message)
    if m:
        message = f"Field '{m.group(1)}' was not found."
    m = re.match(r"no such table: (\w+)", message)
    if m:
        message = f"Record '{m.group(1)}' was not found."
    return NetSuiteError(400, "USER_ERROR", SEARCH_ERROR + message)


class SuiteQL:
    """Runs SuiteQL pages on read-only connections to the store's SQLite file (one per thread)."""

    def __init__(self, db_path: Path, now_iso: Callable[[], str], *, max_results: int = 100_000) -> None:
        self.db_path = Path(db_path)
        self.now_iso = now_iso
        self.max_results = max_results
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, check_same_thread=False, timeout=60)
            conn.execute("PRAGMA query_only=ON")
            conn.create_function("TO_DATE", 1, _to_date, deterministic=True)
            conn.create_function("TO_DATE", 2, _to_date, deterministic=True)
            conn.create_function("TO_TIMESTAMP", 1, _to_date, deterministic=True)
            conn.create_function("TO_TIMESTAMP", 2, _to_date, deterministic=True)
            conn.create_function("TO_CHAR", 1, _to_char, deterministic=True)
            conn.create_function("TO_CHAR", 2, _to_char, deterministic=True)
            conn.create_function("TO_NUMBER", 1, lambda v: None if v is None else float(v), deterministic=True)
            conn.create_function("NVL", 2, _nvl, deterministic=True)
            conn.create_function("NVL2", 3, _nvl2, deterministic=True)
            conn.create_function("ns_sysdate", 0, self.now_iso)
            self._local.conn = conn
        return conn

    def _total(self, conn: sqlite3.Connection, sql: str) -> int:
        """The query's row count, counted once per query until the data changes: a client paging
        through a large result asks for the same total on every page, and counting is the costly part."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        totals: dict[str, tuple[int, int]] = self._local.__dict__.setdefault("totals", {})
        cached = totals.get(sql)
        if cached is not None and cached[0] == version:
            return cached[1]
        total = conn.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
        if len(totals) > 256:
            totals.clear()
        totals[sql] = (version, total)
        return total

    def run(self, query: str, *, limit: int, offset: int) -> tuple[list[dict[str, str]], int]:
        """One page of rendered rows and the total row count."""
        check_select_only(query)
        if offset >= self.max_results:
            raise NetSuiteError(
                400,
                "INVALID_PARAMETER",
                f"The maximum number of results ({self.max_results}) for a query was exceeded. "
                "Narrow the query, for example by id or lastmodifieddate ranges.",
                query_param="offset",
            )
        sql = translate(query).strip().rstrip(";")
        conn = self._conn()
        try:
            total = self._total(conn, sql)
            cursor = conn.execute(f"SELECT * FROM ({sql}) LIMIT ? OFFSET ?", (limit, offset))
            names = [d[0].lower() for d in cursor.description]
            raw_rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise _search_error(exc) from exc
        keep_df = "builtin.df" in query.lower()
        rows = []
        for raw in raw_rows:
            item: dict[str, Any] = {"links": []}
            for name, value in zip(names, raw, strict=True):
                if value is None or (name.endswith("__df") and not keep_df):
                    continue
                item[name] = render_value(value)
            rows.append(item)
        return rows, total


def utc_iso(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
