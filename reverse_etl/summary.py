"""What a push or replay did (or, in a dry run, would do): counts per record type and action, problems named."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reverse_etl.publish_rows import PUSH_ORDER

# what the plan decides per ready row, before anything is sent
CREATE, UPDATE, UNCHANGED, QUARANTINED = "create", "update", "unchanged", "quarantined"
DEAD_LETTERED, FOREIGN, RECOVER, REPAIR = "dead-lettered", "not-owned", "recover", "repair"
# the ERP already holds the record, posted before q2c or by people: left alone (drift there is an exception)
IN_ERP = "in-erp"
PLANNED_ACTIONS = (CREATE, UPDATE, UNCHANGED, QUARANTINED, DEAD_LETTERED, FOREIGN, RECOVER, REPAIR, IN_ERP)
# what happened to the postings that were worked on
CREATED, UPDATED, REJECTED, NOT_OWNED, STILL_UNKNOWN, BLOCKED = (
    "created",
    "updated",
    "rejected",
    "not-owned",
    "unknown",
    "blocked",
)
RESULTS = (CREATED, UPDATED, REJECTED, NOT_OWNED, STILL_UNKNOWN, BLOCKED)


@dataclass(frozen=True)
class Problem:
    record_type: str
    external_id: str
    kind: str  # rejected | not-owned | unknown | blocked
    code: str | None = None
    path: str | None = None
    message: str | None = None


@dataclass
class PushSummary:
    run_id: str
    kind: str  # push | dry-run | replay
    planned: Counter[tuple[str, str]] = field(default_factory=Counter)
    results: Counter[tuple[str, str]] = field(default_factory=Counter)
    samples: dict[tuple[str, str], str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (401/403)

    @property
    def ok(self) -> bool:
        """Nothing rejected, unknown or blocked, and the run was not stopped."""
        return self.stopped is None and not any(p.kind in (REJECTED, STILL_UNKNOWN, BLOCKED) for p in self.problems)

    def count(self, action: str, record_type: str | None = None) -> int:
        counts = self.results if action in RESULTS and self.kind != "dry-run" else self.planned
        return sum(n for (rt, a), n in counts.items() if a == action and record_type in (None, rt))

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "planned": {f"{rt}.{a}": n for (rt, a), n in sorted(self.planned.items())},
            "results": {f"{rt}.{a}": n for (rt, a), n in sorted(self.results.items())},
            "problems": [p.__dict__ for p in self.problems[:200]],
            "notes": self.notes,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
        }

    def format(self, *, samples: bool = True) -> str:
        """A table of counts by record type and action, problems, and (dry run) one sample payload each."""
        lines = [f"{self.kind} {self.run_id}: {self.requests} ERP requests in {self.seconds:.1f}s"]
        columns = [a for a in PLANNED_ACTIONS if any(k[1] == a for k in self.planned)]
        if self.kind != "dry-run":
            columns += [a for a in RESULTS if any(k[1] == a for k in self.results)]
        if columns:
            lines.append(f"  {'record type':<16}" + "".join(f"{c:>14}" for c in columns))
            for rt in PUSH_ORDER:
                cells = [(self.results if c in RESULTS else self.planned).get((rt, c), 0) for c in columns]
                if any(cells):
                    lines.append(f"  {rt:<16}" + "".join(f"{n:>14,}" for n in cells))
        for problem in self.problems[:50]:
            where = f" at {problem.path}" if problem.path else ""
            lines.append(
                f"  {problem.kind}: {problem.record_type} {problem.external_id} {problem.code or ''}{where} "
                f"{problem.message or ''}".rstrip()
            )
        if len(self.problems) > 50:
            lines.append(f"  … and {len(self.problems) - 50} more problems")
        lines += [f"  note: {n}" for n in self.notes]
        if self.stopped:
            lines.append(f"  STOPPED: {self.stopped}")
        if samples and self.samples:
            lines.append("sample payloads:")
            for (rt, action), payload in sorted(self.samples.items()):
                text = json.dumps(json.loads(payload), indent=None)
                lines.append(f"  {rt} {action}: {text[:600]}{'…' if len(text) > 600 else ''}")
        return "\n".join(lines)
