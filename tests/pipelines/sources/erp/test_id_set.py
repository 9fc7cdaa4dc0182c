"""IdSet: a set of internal ids as a bitmap in dlt state, the same set whatever order the ids arrive in."""

from __future__ import annotations

import json
import random

from pipelines.sources.erp.id_set import IdSet


def _check(ids: IdSet, expected: set[int]) -> None:
    assert list(ids.ids()) == sorted(expected)
    assert (ids.count, ids.total) == (len(expected), sum(expected))
    for value in [*expected, *(v + 1 for v in expected), *(v - 1 for v in expected), 0, 10**9]:
        assert ids.contains(value) == (value in expected), value


def test_ids_in_any_order_make_the_same_set_and_survive_the_state_round_trip() -> None:
    rng = random.Random(7)
    expected = {rng.randrange(1, 200_000) for _ in range(5_000)} | set(range(10_000_000, 10_003_000, 2))
    values = sorted(expected, reverse=True)  # each new lowest id grows the bitmap at its front
    ids = IdSet()
    for start in range(0, len(values), 97):
        ids.add(str(v) for v in values[start : start + 97])
    _check(ids, expected)
    state = json.loads(json.dumps(ids.to_state()))  # dlt keeps state as JSON
    _check(IdSet.from_state(state), expected)
    assert len(state["bitmap"]) < 40_000  # 1.25 MB of bitmap between the two groups, compressed


def test_what_is_not_an_internal_id_is_ignored_and_removed_ids_are_gone() -> None:
    ids = IdSet(["12", 13, "x", None, "-4", -4, "eid:7", 15])
    _check(ids, {12, 13, 15})
    ids.remove(["13", 99, "y"])
    _check(ids, {12, 15})
    ids.remove([12, 15])
    _check(ids, set())
    assert ids.to_state() == {"base": 0, "bitmap": ""}
    _check(IdSet.from_state(ids.to_state()), set())


def test_ranges_stored_by_earlier_versions_are_read() -> None:
    stored = [[3, 3], [5, 17], [1000, 1000], [10_000_000, 10_000_018]]
    expected = {3, *range(5, 18), 1000, *range(10_000_000, 10_000_019)}
    _check(IdSet.from_state(stored), expected)
    _check(IdSet.from_state(None), set())
    _check(IdSet.from_state([]), set())
