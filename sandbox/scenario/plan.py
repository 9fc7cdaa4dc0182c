"""Which customer hosts which injected drift, decided up front from the customer count alone.

Deterministic and spread: every subsidiary gets every catalog code ``injections_per_subsidiary`` times;
exclusive codes (see :data:`EXCLUSIVE_CODES`) get customers of their own, evenly spaced through the
subsidiary's customers; the other codes are dealt round-robin over the remaining customers, never twice
the same code to one customer. Knowing the plan before simulating lets the simulation give each host what
its injection needs (a closed month in its history, a quiet last week, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.scenario import ground_truth as gt
from sandbox.scenario.company import SUBSIDIARIES, SUBSIDIARY_CYCLE, injections_per_subsidiary

MAX_UNMAPPED_PRODUCTS_PER_SUBSIDIARY = 4


@dataclass(frozen=True)
class Injection:
    code: str
    k: int  # ordinal of this code within its subsidiary (variants alternate on it)
    product_key: str | None = None  # PRODUCT_UNMAPPED: which new SKU


def subsidiary_of(index: int) -> str:
    return SUBSIDIARY_CYCLE[index % len(SUBSIDIARY_CYCLE)]


def unmapped_per_subsidiary(customers: int) -> int:
    smallest = min(sum(1 for i in range(customers) if subsidiary_of(i) == s.code) for s in SUBSIDIARIES)
    return min(injections_per_subsidiary(smallest), MAX_UNMAPPED_PRODUCTS_PER_SUBSIDIARY)


def plan_injections(customers: int) -> dict[int, list[Injection]]:
    """Customer index → the injections it hosts (absent: a clean customer)."""
    plan: dict[int, list[Injection]] = {}
    unmapped = unmapped_per_subsidiary(customers)
    for sub in SUBSIDIARIES:
        members = [i for i in range(customers) if subsidiary_of(i) == sub.code]
        n = injections_per_subsidiary(len(members))
        exclusive = [Injection(code, k) for k in range(n) for code in sorted(gt.EXCLUSIVE_CODES)]
        others: list[Injection] = []
        for k in range(n):
            for code in gt.CATALOG:
                if code in gt.EXCLUSIVE_CODES:
                    continue
                if code == gt.PRODUCT_UNMAPPED:
                    if k < unmapped:
                        others.append(Injection(code, k, f"new_sku_{sub.code.lower()}_{k}"))
                    continue
                others.append(Injection(code, k))
        if len(members) < len(exclusive) + 4:
            raise ValueError(f"too few customers in {sub.code} ({len(members)}) to host the injections")
        # exclusive hosts evenly spaced, starting one in so the first customer of each entity stays clean
        step = len(members) / len(exclusive)
        exclusive_hosts = [members[min(len(members) - 1, int(j * step + step / 2))] for j in range(len(exclusive))]
        for host, injection in zip(exclusive_hosts, exclusive, strict=True):
            plan[host] = [injection]
        shared = [i for i in members if i not in plan]
        position = 0
        for injection in others:
            for attempt in range(len(shared)):
                host = shared[(position + attempt) % len(shared)]
                if all(existing.code != injection.code for existing in plan.get(host, [])):
                    plan.setdefault(host, []).append(injection)
                    position = (position + attempt + 1) % len(shared)
                    break
            else:
                raise ValueError(f"no host left for {injection.code} in {sub.code}")
    return plan
