"""Load a fixture folder's ``crm/`` files into :class:`CrmRecords`.

Records stream in batches (an L scenario has 100k companies); the winners' ``hs_merged_object_ids`` become
the merged-id table (a loser that is itself present as a record keeps answering as itself); association rows
are stored in both directions, with merged-away ids already pointing at their winner.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sandbox.crm.objects import OBJECT_TYPES
from sandbox.crm.properties import PropertyCatalog
from sandbox.crm.records import CrmRecords, numeric_id
from sandbox.crm.views import object_type
from sandbox.fixtures import read_collection

ASSOCIATIONS = "associations"


def load_fixtures(root: Path, records: CrmRecords, catalog: PropertyCatalog) -> dict[str, int]:
    """Load every CRM collection present; returns counts per collection."""
    counts: dict[str, int] = {}
    for type_name in OBJECT_TYPES:
        names: set[str] = set()
        merges: list[tuple[int, int]] = []

        def observed(objects: Iterator[dict], names: set[str] = names, merges: list = merges) -> Iterator[dict]:
            for obj in objects:
                props = obj.get("properties") or {}
                names.update(props)
                merged = props.get("hs_merged_object_ids")
                if merged and not obj.get("archived"):
                    winner = int(obj["id"])
                    merges.extend((int(x), winner) for x in merged.split(";") if numeric_id(x) is not None)
                yield obj

        counts[type_name] = records.put_many(type_name, observed(read_collection(root, "crm", type_name)))
        catalog.learn(type_name, names)
        records.add_merged(type_name, [(loser, w) for loser, w in merges if records.get(type_name, loser) is None])
    counts[ASSOCIATIONS] = records.associate(_association_rows(root, records))
    return counts


def _association_rows(root: Path, records: CrmRecords) -> Iterator[tuple[str, int, str, int, list[dict]]]:
    for number, row in enumerate(read_collection(root, "crm", ASSOCIATIONS), start=1):
        from_type, to_type = object_type(row["fromObjectType"]), object_type(row["toObjectType"])
        from_id, to_id = numeric_id(row["fromObjectId"]), numeric_id(row["toObjectId"])
        if from_type is None or to_type is None or from_id is None or to_id is None:
            raise ValueError(f"crm/associations.jsonl:{number}: unknown object type or non-numeric id in {row}")
        yield (
            from_type,
            records.resolve(from_type, from_id),
            to_type,
            records.resolve(to_type, to_id),
            row["associationTypes"],
        )
