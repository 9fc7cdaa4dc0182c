import re
from pathlib import Path

import pytest

from models.exception_catalog import BY_CODE, CATALOG, CODES

DESIGN = Path(__file__).resolve().parents[2].parent / "shared" / "DESIGN.md"


def test_catalog_codes_are_unique_and_described():
    assert len(CODES) == len(set(CODES)) == 21
    assert all(re.fullmatch(r"[A-Z_]+", code) for code in CODES)
    assert all(t.description and t.subject and t.owner for t in CATALOG)
    assert BY_CODE["INVOICE_MISSING_IN_ERP"].subject.endswith("in_…")


@pytest.mark.skipif(not DESIGN.exists(), reason="shared/DESIGN.md sits beside the checkout")
def test_catalog_equals_the_design_table():
    text = DESIGN.read_text(encoding="utf-8")
    table = text.split("## Exception catalog", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", table))
    assert documented == set(CODES)


def test_the_generator_injects_exactly_the_public_catalog():
    from sandbox.scenario import ground_truth

    shorthand = {v for k, v in vars(ground_truth).items() if k.isupper() and isinstance(v, str) and k == v}
    assert shorthand == set(CODES)
    assert ground_truth.CATALOG == CODES
