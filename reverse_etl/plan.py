"""Decide, per publish row, what the push does: the diff of the marts against the ledger (no I/O)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from reverse_etl.ledger import FOREIGN, IN_FLIGHT, PENDING, POSTED, REJECTED, UNKNOWN, Posting
from reverse_etl.publish_rows import PublishRow
from reverse_etl.summary import CREATE, DEAD_LETTERED, IN_ERP, QUARANTINED, RECOVER, REPAIR, UNCHANGED, UPDATE
from reverse_etl.summary import FOREIGN as NOT_OWNED


def decide(row: PublishRow, posting: Posting | None, *, repair: bool = False, replay: bool = False) -> str:
    """The action for one row. ``repair``: a person asked q2c to take the ERP record over;
    ``replay``: send the current row again whatever its hash."""
    if not row.ready:
        return QUARANTINED
    if posting is not None and posting.state in (IN_FLIGHT, UNKNOWN):
        return RECOVER  # the last request's outcome is not known: look the record up first
    if repair:
        return REPAIR
    if posting is None:
        # never sent by q2c, and the ERP has it already: not q2c's to create again or to change
        return IN_ERP if row.in_erp else CREATE
    owned = posting.erp_internal_id is not None  # only set once q2c knows the ERP record is its own
    if posting.state == PENDING:
        return UPDATE if owned else CREATE
    if posting.state == POSTED:
        return UNCHANGED if posting.payload_hash == row.payload_hash and not replay else UPDATE
    if posting.state == REJECTED:
        if posting.payload_hash == row.payload_hash and not replay:
            return DEAD_LETTERED  # the same payload would be refused the same way: wait for a fix or a replay
        return UPDATE if owned else CREATE
    if posting.state == FOREIGN:
        return NOT_OWNED
    raise ValueError(f"unhandled ledger state {posting.state!r}")


def blocked_by(
    row: PublishRow, states: Mapping[str, str], published: Collection[str], in_erp: Collection[str] = ()
) -> str | None:
    """The first dependency not in the ERP yet: q2c's own record not posted, or a publish row never sent.
    ``states``: ledger state per external id; ``published``: every external id in the publish tables;
    ``in_erp``: external ids of publish rows the ERP already holds."""
    for dep in row.depends_on:
        state = states.get(dep)
        if state in (POSTED, FOREIGN) or (state is None and dep in in_erp):
            continue
        if state is not None or dep in published:
            return dep
    return None
