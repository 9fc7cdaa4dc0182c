"""int_exception_catalog (SQL) carries exactly the Python catalog's codes and owners."""

from __future__ import annotations

import re

from models.exception_catalog import CATALOG
from pipelines.build.paths import PROJECT_DIR

CATALOG_SQL = PROJECT_DIR / "models" / "intermediate" / "int_exception_catalog.sql"
RECONCILIATION_YAML = PROJECT_DIR / "models" / "reconciliation" / "_reconciliation__models.yml"


def test_the_sql_catalog_equals_the_python_catalog():
    rows = re.findall(r"\(\s*'([A-Z_]+)',\s*'([a-z_]+)',\s*'(critical|high|medium|low)'", CATALOG_SQL.read_text())
    assert {code: owner for code, owner, _ in rows} == {t.code: str(t.owner) for t in CATALOG}
    assert len(rows) == len(CATALOG)


def test_accepted_exception_types_are_the_catalog_codes():
    text = RECONCILIATION_YAML.read_text()
    block = text.split("name: exception_type", 1)[1].split("- name: subject_key", 1)[0]
    assert set(re.findall(r"\b[A-Z][A-Z_]+[A-Z]\b", block)) == {t.code for t in CATALOG}
