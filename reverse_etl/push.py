"""Push the ``publish`` postings to the ERP with exactly-once effects; replay dead letters.

Per record type, in push order, the rows are diffed against the ledger (:mod:`reverse_etl.plan`) and the
work is spread over the ERP client's concurrency. Each posting's requests are bracketed by ledger writes:
``in_flight`` before, on disk before the request (a chunk of postings at a time), and the outcome after. A
create is a POST, which the ERP refuses when the external id is taken, so q2c never overwrites a record it did
not create; an update is a PUT ``eid:`` replacing every sublist, so sending it twice leaves the same record.
When an outcome is unknown (timeout, 5xx, lost response, or a crash before the ledger heard), the record is
looked up by external id before anything is sent again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reverse_etl import plan
from reverse_etl.crash_points import CrashPoints
from reverse_etl.erp_client import (
    ErpAuthError,
    ErpClient,
    ErpConfig,
    ErpUnavailableError,
    Rejection,
    Unknown,
    Written,
    load_config,
)
from reverse_etl.ledger import FOREIGN, IN_FLIGHT, PENDING, POSTED, UNKNOWN, Ledger, Posting, current_user
from reverse_etl.publish_rows import (
    PUSH_ORDER,
    SUBLISTS,
    WAREHOUSE_FILE,
    PublishRow,
    keys_named,
    publish_membership,
    read_publish_rows,
    read_unsettled_rows,
    with_payloads,
)
from reverse_etl.record_match import holds_payload
from reverse_etl.references import created_records, only_restated
from reverse_etl.summary import (
    BLOCKED,
    CREATE,
    CREATED,
    NOT_OWNED,
    RECOVER,
    REJECTED,
    REPAIR,
    STILL_UNKNOWN,
    UNCHANGED,
    UPDATE,
    UPDATED,
    Problem,
    PushSummary,
)

log = logging.getLogger("q2c.reverse_etl")

# lookups and re-sends for one posting whose outcome stays unknown; past this it waits for the next run
MAX_RECOVERY_ROUNDS = 6
SENDING = (CREATE, UPDATE, REPAIR, RECOVER)
# creates and updates are moved to in_flight this many at a time, in one synced ledger commit, while the chunk
# before is being sent: a crash leaves at most two chunks in_flight, each looked up before it is sent again
MARK_AHEAD = 64


def push(
    data_dir: Path,
    *,
    dry_run: bool = False,
    repair: Sequence[str] = (),
    endpoint: Any = None,
    should_stop: Callable[[], bool] | None = None,
) -> PushSummary:
    """Send every ready posting that is new or changed. ``repair``: exception ids (or external ids / subject
    keys) whose ERP records q2c may overwrite although it did not create them. ``endpoint``: a base URL, a
    (url, token) pair or an object with ``base_url``/``url`` and ``token``; default: dlt config.
    ``should_stop``: once it says so (the process got SIGTERM), no further posting is started; those in flight
    finish and are recorded. Raises :class:`ErpAuthError` (with ``.summary``) when the ERP refuses the credentials."""
    data_dir = Path(data_dir)
    kind = "dry-run" if dry_run else "push"
    if not (data_dir / WAREHOUSE_FILE).exists():
        raise FileNotFoundError(f"{data_dir / WAREHOUSE_FILE} does not exist: run `q2c build` first")
    repair_keys = _repair_keys(data_dir, repair)
    # a push reads, per record type, only the rows the ledger does not settle (see read_unsettled_rows), and
    # their payloads only when it sends them; a dry run reads every row (one sample payload per action)
    rows = read_publish_rows(data_dir, payloads=False) if dry_run else None
    return _run(
        data_dir,
        kind,
        rows,
        endpoint,
        dry_run=dry_run,
        repair_keys=repair_keys,
        replay_keys=set(),
        should_stop=should_stop,
    )


def replay(
    data_dir: Path,
    ids: Sequence[str] | None = None,
    all: bool = False,  # noqa: A002 - the CLI's --all
    endpoint: Any = None,
    should_stop: Callable[[], bool] | None = None,
) -> PushSummary:
    """Push again the current publish rows of dead-lettered postings: ``ids`` (external ids) or ``all``.
    The payload is re-read from the marts, never taken from the dead letter."""
    data_dir = Path(data_dir)
    ledger = Ledger.in_data_dir(data_dir, read_only=True)
    letters = ledger.open_dead_letters(None if all or not ids else list(ids)) if ledger else []
    if ledger:
        ledger.close()
    wanted = {d.external_id for d in letters}
    missing = sorted(set(ids or ()) - wanted) if not all else []
    rows = read_publish_rows(data_dir, external_ids=wanted | set(missing)) if (wanted or missing) else {}
    replay_keys = {r.key for rs in rows.values() for r in rs}
    summary = _run(
        data_dir,
        "replay",
        rows,
        endpoint,
        dry_run=False,
        repair_keys=set(),
        replay_keys=replay_keys,
        should_stop=should_stop,
    )
    summary.notes += [f"{i}: no open dead letter; its current row was pushed as usual" for i in missing]
    found = {r.external_id for rs in rows.values() for r in rs}
    summary.notes += [f"{i}: no longer in the publish tables, not replayed" for i in sorted(wanted - found)]
    return summary


def _endpoint_config(endpoint: Any) -> ErpConfig:
    if endpoint is None:
        return load_config()
    if isinstance(endpoint, str):
        return load_config(base_url=endpoint)
    if isinstance(endpoint, ErpConfig):
        return endpoint
    if isinstance(endpoint, tuple):
        return load_config(base_url=endpoint[0], token=endpoint[1])
    url = getattr(endpoint, "base_url", None) or getattr(endpoint, "url", None)
    return load_config(base_url=url, token=getattr(endpoint, "token", None))


def _repair_keys(data_dir: Path, ids: Sequence[str]) -> set[tuple[str, str]]:
    """Publish rows named by a repair id: an exception id (through ``reconciliation.exceptions``' subject_key),
    an external id or a subject key."""
    if not ids:
        return set()
    wanted = set(ids)
    with duckdb.connect(str(Path(data_dir) / WAREHOUSE_FILE), read_only=True) as con:
        has_exceptions = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'reconciliation' and table_name = 'exceptions'"
        ).fetchone()[0]
        if has_exceptions:
            wanted |= {
                r[0]
                for r in con.execute(
                    "select subject_key from reconciliation.exceptions where list_contains(?, exception_id)",
                    [sorted(ids)],
                ).fetchall()
                if r[0]
            }
    return keys_named(data_dir, wanted)


def _run(
    data_dir: Path,
    kind: str,
    rows: dict[str, list[PublishRow]] | None,
    endpoint: Any,
    *,
    dry_run: bool,
    repair_keys: set[tuple[str, str]],
    replay_keys: set[tuple[str, str]],
    should_stop: Callable[[], bool] | None = None,
) -> PushSummary:
    started = time.perf_counter()
    summary = PushSummary(run_id=uuid.uuid4().hex, kind=kind)
    if dry_run:
        samples: dict[tuple[str, str], PublishRow] = {}
        ledger = Ledger.in_data_dir(data_dir, read_only=True)
        postings = ledger.postings() if ledger else {}
        if ledger:
            ledger.close()
        created = created_records(postings.values())
        for record_type in PUSH_ORDER:
            type_rows = (rows or {}).get(record_type, [])
            actions = {r.key: plan.decide(r, postings.get(r.key), repair=r.key in repair_keys) for r in type_rows}
            # an update that would only restate the hash (see _Engine._settle_same_content) is not one
            updates = [r for r in type_rows if actions[r.key] == UPDATE and postings[r.key].state == POSTED]
            unread = [r for r in updates if r.payload is None]
            for row in (with_payloads(data_dir, unread) if unread else []) + [r for r in updates if r.payload]:
                if only_restated(row, postings[row.key], created):
                    actions[row.key] = UNCHANGED
            for row in type_rows:
                action = actions[row.key]
                summary.planned[(record_type, action)] += 1
                samples.setdefault((record_type, action), row)
        loaded = with_payloads(data_dir, [r for r in samples.values() if r.payload is None])
        by_key = {r.key: r for r in loaded}
        for sample, row in samples.items():
            summary.samples[sample] = row.payload if row.payload is not None else by_key[row.key].payload
        summary.seconds = time.perf_counter() - started
        return summary
    ledger = Ledger.in_data_dir(data_dir)
    assert ledger is not None
    client = ErpClient(_endpoint_config(endpoint))
    engine = _Engine(data_dir, ledger, client, summary, CrashPoints.from_env(), should_stop)
    ledger.start_run(summary.run_id, kind)
    outcome = "ok"
    try:
        engine.run(rows, repair_keys, replay_keys)
    except ErpAuthError as exc:
        outcome = "stopped"
        summary.stopped = str(exc)
        exc.summary = summary  # type: ignore[attr-defined]
        raise
    except BaseException:
        outcome = "failed"
        raise
    finally:
        summary.requests = client.stats["requests"]
        summary.seconds = time.perf_counter() - started
        client.close()
        if outcome == "ok" and not summary.ok:
            outcome = "problems"
        ledger.finish_run(summary.run_id, outcome, summary.as_dict())
        ledger.close()
    return summary


@dataclass
class _TypeRead:
    """What the push read of one record type: the rows to plan, the count of those the ledger settles (by
    action), and the rows it would send with their payloads (by key)."""

    rows: list[PublishRow]
    settled: Counter[str] = field(default_factory=Counter)
    loaded: dict[tuple[str, str], PublishRow] = field(default_factory=dict)


class _Engine:
    def __init__(
        self,
        data_dir: Path,
        ledger: Ledger,
        client: ErpClient,
        summary: PushSummary,
        crash: CrashPoints,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.ledger = ledger
        self.client = client
        self.summary = summary
        self.crash = crash
        self.stop = threading.Event()  # the ERP refused the credentials: nothing more is sent
        self.should_stop = should_stop or (lambda: False)  # the process was asked to stop
        self._lock = threading.Lock()
        # ledger writes overlap other workers' requests: at 4 in flight, 8 workers pushed 5,000 postings
        # in 7.2–7.3 s, 12 in 7.0–7.1 s (bench.push)
        self.workers = client.config.max_concurrency * 3

    def run(
        self,
        rows: dict[str, list[PublishRow]] | None,
        repair_keys: set[tuple[str, str]],
        replay_keys: set[tuple[str, str]],
    ) -> None:
        """``rows``: the rows to plan (a replay names them); None: every publish row, read per record type.

        Reading a record type's rows (and the payloads of those it will send) is DuckDB's work, outside the GIL:
        the next record type's are read beside the sending of this one's. What is read there depends only on that
        type's own postings, which sending another type does not touch; whether a row waits for a dependency is
        decided once the types before it are sent."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="q2c-push-read") as reader:
            ahead: Future[_TypeRead] | None = None
            for index, record_type in enumerate(PUSH_ORDER):
                postings = self.ledger.postings()
                states = {p.external_id: p.state for p in postings.values()}
                if rows is not None:
                    read = _TypeRead(rows.get(record_type, []))
                else:
                    read = (
                        ahead.result()
                        if ahead is not None
                        else self._read(record_type, postings, repair_keys, replay_keys)
                    )
                    ahead = None
                    if index + 1 < len(PUSH_ORDER):
                        following = PUSH_ORDER[index + 1]
                        ahead = reader.submit(self._read, following, postings, repair_keys, replay_keys)
                    for action, n in read.settled.items():
                        self.summary.planned[(record_type, action)] += n
                type_rows = read.rows
                # the publish tables' word on each dependency q2c has not posted: there at all, already in the ERP
                open_deps = {d for r in type_rows for d in r.depends_on if states.get(d) not in (POSTED, FOREIGN)}
                membership = publish_membership(self.data_dir, open_deps)
                published = set(membership)
                in_erp = {d for d, present in membership.items() if present}
                work: list[tuple[PublishRow, str, Posting | None]] = []
                for row in type_rows:
                    posting = postings.get(row.key)
                    action = plan.decide(row, posting, repair=row.key in repair_keys, replay=row.key in replay_keys)
                    self.summary.planned[(record_type, action)] += 1
                    if action == plan.NOT_OWNED:  # reported on every run until a person asks for a repair
                        self.summary.problems.append(Problem(record_type, row.external_id, NOT_OWNED))
                    if action not in SENDING:
                        continue
                    dependency = plan.blocked_by(row, states, published, in_erp)
                    if dependency is not None:
                        self._problem(row, BLOCKED, message=f"waits for {dependency}, not in the ERP yet")
                        continue
                    work.append((row, action, posting))
                work = self._with_payloads(record_type, work, read.loaded)
                work = self._settle_same_content(record_type, work, created_records(postings.values()), replay_keys)
                self.ledger.add_pending(
                    (r.record_type, r.external_id, r.subject_key, r.payload_hash) for r, _, p in work if p is None
                )
                self._dispatch(work)
                if self.stop.is_set() or self.should_stop():
                    if ahead is not None:
                        ahead.cancel()
                    break
        self.ledger.flush()  # every outcome committed, and the error of any that failed raised

    def _read(
        self,
        record_type: str,
        postings: dict[tuple[str, str], Posting],
        repair_keys: set[tuple[str, str]],
        replay_keys: set[tuple[str, str]],
    ) -> _TypeRead:
        """One record type's rows the ledger does not settle, and the payloads of those it would send."""
        ledger = [(p.external_id, p.state, p.payload_hash) for p in postings.values() if p.record_type == record_type]
        keep = {eid for rt, eid in repair_keys | replay_keys if rt == record_type}
        type_rows, settled = read_unsettled_rows(self.data_dir, record_type, ledger, keep)
        sending = [
            row
            for row in type_rows
            if row.payload is None
            and plan.decide(row, postings.get(row.key), repair=row.key in repair_keys, replay=row.key in replay_keys)
            in SENDING
        ]
        loaded = {row.key: row for row in with_payloads(self.data_dir, sending)} if sending else {}
        return _TypeRead(type_rows, settled, loaded)

    def _with_payloads(
        self,
        record_type: str,
        work: list[tuple[PublishRow, str, Posting | None]],
        loaded: dict[tuple[str, str], PublishRow],
    ) -> list[tuple[PublishRow, str, Posting | None]]:
        """The work with each row's payload (rows read without one; ``loaded``: those read already); a row that
        fails its checks now, or whose publish row changed since it was planned, is not sent in this push."""
        missing = [row for row, _, _ in work if row.payload is None and row.key not in loaded]
        if missing:
            loaded = {**loaded, **{row.key: row for row in with_payloads(self.data_dir, missing)}}
        out = []
        for row, action, posting in work:
            row = loaded.get(row.key, row)
            if row.ready:
                out.append((row, action, posting))
                continue
            self.summary.planned[(record_type, action)] -= 1
            self.summary.planned[(record_type, plan.QUARANTINED)] += 1
            self.summary.notes.append(f"{row.external_id}: not sent ({row.quarantine_reason})")
        return out

    def _settle_same_content(
        self,
        record_type: str,
        work: list[tuple[PublishRow, str, Posting | None]],
        created: dict[tuple[str, str], str],
        replay_keys: set[tuple[str, str]],
    ) -> list[tuple[PublishRow, str, Posting | None]]:
        """The work less the updates of posted records whose payload changed only in how it references records q2c
        created (by internal id now, by external id when it was sent: ``reverse_etl/references.py``). The ERP
        record holds that content already: the ledger takes the new hash, and nothing is sent. A replay is sent."""
        out = []
        for row, action, posting in work:
            if action == UPDATE and row.key not in replay_keys and only_restated(row, posting, created):
                self.ledger.transition(
                    record_type,
                    row.external_id,
                    POSTED,
                    detail="the same content, its references now by internal id: not sent",
                    payload_hash=row.payload_hash,
                )
                self.summary.planned[(record_type, UPDATE)] -= 1
                if not self.summary.planned[(record_type, UPDATE)]:
                    del self.summary.planned[(record_type, UPDATE)]
                self.summary.planned[(record_type, UNCHANGED)] += 1
                continue
            out.append((row, action, posting))
        return out

    def _dispatch(self, work: list[tuple[PublishRow, str, Posting | None]]) -> None:
        """Send the work over the workers: creates and updates in chunks of ``MARK_AHEAD``, each moved to
        ``in_flight`` in one synced commit while the chunk before it is sent; recoveries move their own postings."""
        if not work:
            return
        errors: list[BaseException] = []
        futures: list[Future[None]] = []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(work))) as pool:
            sending: list[list[Future[None]]] = []
            for start in range(0, len(work), MARK_AHEAD):
                if len(sending) == 2:  # one chunk being sent, one marked and queued behind it
                    wait(sending.pop(0))
                if self.stop.is_set() or self.should_stop():
                    break
                chunk = work[start : start + MARK_AHEAD]
                marks = {row.key: self._in_flight_fields(row, action) for row, action, _ in chunk if action != RECOVER}
                self.ledger.mark_in_flight([(*key, fields["operation"], fields) for key, fields in marks.items()])
                sending.append(
                    [pool.submit(self._one, row, action, posting, marks.get(row.key)) for row, action, posting in chunk]
                )
                futures += sending[-1]
        for future in futures:
            exc = future.exception()
            if exc is not None:
                errors.append(exc)
        auth = [e for e in errors if isinstance(e, ErpAuthError)]
        if auth:
            raise auth[0]
        if errors:
            raise errors[0]

    # -- one posting -----------------------------------------------------------------------------------
    def _in_flight_fields(self, row: PublishRow, action: str) -> dict[str, Any]:
        """What the move to ``in_flight`` before a create, update or repair records."""
        operation = {CREATE: "create", UPDATE: "update", REPAIR: "repair"}[action]
        fields: dict[str, Any] = {
            "payload_hash": row.payload_hash,
            "operation": operation,
            "correlation_id": f"q2c-{uuid.uuid4().hex}",
        }
        if action == REPAIR:
            fields["requested_by"] = current_user()
        return fields

    def _one(self, row: PublishRow, action: str, posting: Posting | None, marked: dict[str, Any] | None) -> None:
        """One posting's work. ``marked``: the fields its move to ``in_flight`` recorded (None for a recovery)."""
        if self.stop.is_set() or self.should_stop():
            if marked is not None:  # moved to in_flight with its chunk, never sent
                self._move(row, PENDING, detail="the run stopped before sending")
            return
        correlation_id = marked["correlation_id"] if marked else f"q2c-{uuid.uuid4().hex}"
        try:
            if action == RECOVER:
                assert posting is not None
                if posting.state == IN_FLIGHT:
                    self._move(row, UNKNOWN, detail="the run sending it was interrupted")
                sent_hash = posting.payload_hash or row.payload_hash
                self._recover(row, posting.operation or "create", sent_hash, correlation_id)
            elif action == CREATE:
                self._send_create(row, correlation_id)
            else:
                self._send_update(row, correlation_id, operation=marked["operation"] if marked else "update")
        except ErpAuthError:
            self.stop.set()
            current = self.ledger.get(*row.key)
            if current is not None and current.state == IN_FLIGHT:
                # the ERP refused the request before running it: nothing happened
                self._move(row, PENDING, detail="credentials refused; not sent")
            raise
        except ErpUnavailableError as exc:
            self._problem(row, STILL_UNKNOWN, message=str(exc))

    def _send_create(self, row: PublishRow, correlation_id: str) -> None:
        """A create of a posting already moved to ``in_flight``."""
        self.crash.reached("after_in_flight")
        outcome = self.client.create(row.record_type, row.payload.encode(), correlation_id)
        self.crash.reached("after_response")
        self._settle(row, "create", outcome, correlation_id)

    def _send_update(self, row: PublishRow, correlation_id: str, *, operation: str = "update") -> None:
        """An update (or repair) of a posting already moved to ``in_flight``."""
        self.crash.reached("after_in_flight")
        outcome = self.client.upsert(
            row.record_type, row.external_id, row.payload.encode(), correlation_id, replace=SUBLISTS[row.record_type]
        )
        self.crash.reached("after_response")
        self._settle(row, operation, outcome, correlation_id)

    def _settle(self, row: PublishRow, operation: str, outcome: Written | Rejection | Unknown, cid: str) -> None:
        """Record the answer to a request: posted, rejected (dead letter), not owned, or unknown → look up."""
        if isinstance(outcome, Written):
            self._posted(row, outcome.internal_id, CREATED if operation == "create" else UPDATED)
        elif isinstance(outcome, Rejection) and operation == "create" and outcome.is_duplicate_external_id:
            self._not_owned(row, None)
        elif isinstance(outcome, Rejection):
            self.ledger.reject(
                row.record_type,
                row.external_id,
                subject_key=row.subject_key,
                payload=row.payload,
                payload_hash=row.payload_hash,
                correlation_id=cid,
                http_status=outcome.status,
                code=outcome.code,
                path=outcome.path,
                message=outcome.message,
                erp_response=outcome.body,
            )
            self.crash.reached("after_ledger")
            self._problem(row, REJECTED, code=outcome.code, path=outcome.path, message=outcome.message)
        else:
            self._move(row, UNKNOWN, detail=outcome.reason)
            self.crash.reached("after_ledger")
            self._recover(row, operation, row.payload_hash, cid)

    def _recover(self, row: PublishRow, operation: str, sent_hash: str, correlation_id: str) -> None:
        """The ledger says ``unknown``: find out from the ERP, then finish the job without doubling anything."""
        payload = json.loads(row.payload)
        for _ in range(MAX_RECOVERY_ROUNDS):
            record = self.client.get_by_external_id(row.record_type, row.external_id, correlation_id)
            if record is None:
                # nothing committed (or someone deleted it): creating it is safe
                self._move(
                    row,
                    IN_FLIGHT,
                    detail="create after lookup found nothing",
                    count_attempt=True,
                    payload_hash=row.payload_hash,
                    operation="create",
                    correlation_id=correlation_id,
                )
                self.crash.reached("after_in_flight")
                outcome = self.client.create(row.record_type, row.payload.encode(), correlation_id)
                operation, sent_hash = "create", row.payload_hash
            else:
                internal_id = str(record.get("id"))
                holds = sent_hash == row.payload_hash and holds_payload(record, payload)
                if operation == "create" and sent_hash == row.payload_hash and not holds:
                    self._not_owned(row, internal_id)  # a record q2c's payload is not in: someone else's
                    return
                if holds or operation == "create":
                    # our create committed (holding an older payload when the marts changed since)
                    self._move(row, POSTED, detail="found by external id", erp_internal_id=internal_id,
                               payload_hash=sent_hash, last_error_code=None, last_error_message=None,
                               last_error_path=None)  # fmt: skip
                    self.crash.reached("after_ledger")
                    if sent_hash == row.payload_hash:
                        self._count(row, CREATED if operation == "create" else UPDATED)
                        return
                    fields = self._in_flight_fields(row, UPDATE) | {"correlation_id": correlation_id}
                    self.ledger.mark_in_flight([(row.record_type, row.external_id, "update", fields)])
                    self._send_update(row, correlation_id)
                    return
                # an update that may or may not have applied: replacing every sublist makes resending safe
                self._move(
                    row,
                    IN_FLIGHT,
                    detail="resend update after lookup",
                    count_attempt=True,
                    payload_hash=row.payload_hash,
                    correlation_id=correlation_id,
                )
                self.crash.reached("after_in_flight")
                outcome = self.client.upsert(
                    row.record_type, row.external_id, row.payload.encode(), correlation_id,
                    replace=SUBLISTS[row.record_type],
                )  # fmt: skip
                sent_hash = row.payload_hash
            self.crash.reached("after_response")
            if not isinstance(outcome, Unknown):
                self._settle(row, operation, outcome, correlation_id)
                return
            self._move(row, UNKNOWN, detail=outcome.reason)
            self.crash.reached("after_ledger")
        self._problem(row, STILL_UNKNOWN, message=f"outcome still unknown after {MAX_RECOVERY_ROUNDS} lookups")

    # -- ledger and summary ----------------------------------------------------------------------------
    def _move(self, row: PublishRow, state: str, *, detail: str | None = None, **fields: Any) -> None:
        self.ledger.transition(row.record_type, row.external_id, state, detail=detail, **fields)

    def _posted(self, row: PublishRow, internal_id: str | None, result: str) -> None:
        fields: dict[str, Any] = {"last_error_code": None, "last_error_message": None, "last_error_path": None}
        if internal_id:
            fields["erp_internal_id"] = internal_id
        self._move(row, POSTED, detail=result, **fields)
        self.crash.reached("after_ledger")
        self._count(row, result)

    def _not_owned(self, row: PublishRow, internal_id: str | None) -> None:
        message = "a record with this external id exists in the ERP and was not created by q2c; not overwritten"
        self._move(row, FOREIGN, detail=message, erp_internal_id=internal_id)
        self.crash.reached("after_ledger")
        self._problem(row, NOT_OWNED, message=message)

    def _count(self, row: PublishRow, result: str) -> None:
        with self._lock:
            self.summary.results[(row.record_type, result)] += 1

    def _problem(self, row: PublishRow, kind: str, **fields: Any) -> None:
        with self._lock:
            self.summary.results[(row.record_type, kind)] += 1
            self.summary.problems.append(Problem(row.record_type, row.external_id, kind, **fields))


def ledger_states(data_dir: Path) -> dict[tuple[str, str], str]:
    """Each posting's state (for status commands and tests)."""
    ledger = Ledger.in_data_dir(Path(data_dir), read_only=True)
    if ledger is None:
        return {}
    try:
        return {k: p.state for k, p in ledger.postings().items()}
    finally:
        ledger.close()


def dead_letter_ids(data_dir: Path) -> Iterable[str]:
    ledger = Ledger.in_data_dir(Path(data_dir), read_only=True)
    if ledger is None:
        return []
    try:
        return [d.external_id for d in ledger.open_dead_letters()]
    finally:
        ledger.close()
