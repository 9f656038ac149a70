"""docs/privacy.md, the data-protection record, lists every column the database has."""

from __future__ import annotations

import re
from pathlib import Path

from storage.schema import metadata

RECORD = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"


def test_every_database_column_is_in_the_privacy_record() -> None:
    text = RECORD.read_text("utf-8")
    missing = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if f"`{table.name}.{column.name}`" not in text
    ]
    assert missing == [], f"add these to docs/privacy.md: {missing}"


def test_the_privacy_record_lists_no_column_that_does_not_exist() -> None:
    text = RECORD.read_text("utf-8")
    tables = {table.name: {c.name for c in table.columns} for table in metadata.sorted_tables}
    named = re.findall(r"`([a-z_]+)\.([a-z_]+)`", text)
    unknown = [f"{t}.{c}" for t, c in named if t in tables and c not in tables[t]]
    assert unknown == []
