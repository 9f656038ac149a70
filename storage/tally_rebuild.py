"""Rebuilding the answer tallies (``storage/tallies.py``) from the stored answers.

``checkin-bot tallies rebuild`` and the playground's demo history use it (migration 0011 fills
the tallies of a database that had none with its own copy of these steps). The tallies are a
function of the counted answers only (:func:`storage.records.latest_answers`), so a rebuild
gives exactly what keeping them up to date gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import AnswerRecord
from storage.schema import answer_firsts, answer_heads, answer_queue, answer_versions
from storage.tallies import (
    Leaf,
    counted_with_ids,
    first_row,
    firsts,
    leaf_of,
    queue_rows,
    record_of,
    standing,
    version_leaf,
    version_row,
)

_CHUNK = 5000


Rows = list[dict[str, Any]]


def plan(records: Iterable[tuple[AnswerRecord, int]]) -> tuple[Rows, Rows, Rows, Rows]:
    """Pure: the rows of ``answer_queue``, ``answer_versions``, ``answer_heads`` and
    ``answer_firsts`` the counted answers make (*records*: each with its young person's
    enrolment id, team and key worker as ids)."""
    per_person: dict[int, list[AnswerRecord]] = defaultdict(list)
    for record, person in records:
        per_person[person].append(record)
    queues: dict[Leaf, list[tuple[Any, ...]]] = defaultdict(list)
    versions: Rows = []
    first_rows: Rows = []
    for person, mine in per_person.items():
        first_rows += [first_row(person, where, r) for where, r in firsts(mine).items()]
        for quarter, found in standing(mine).items():
            for latest in found:
                leaf = leaf_of(latest, quarter)
                r = latest.record
                if r.value is not None and latest.first_at is not None:
                    queues[leaf].append((latest.first_at, r.respondent, r.value, person))
                versions += [
                    version_row(version_leaf(leaf, v), person, v.value, v.key, v.replaced_at)
                    for v in latest.replaced
                ]
    entries, heads = queue_rows(queues)
    return entries, versions, heads, first_rows


async def rebuild(conn: AsyncConnection) -> int:
    """Recompute every tally from the stored answers; returns how many answers count."""
    rows = (await conn.execute(counted_with_ids())).all()
    entries, versions, heads, first_rows = plan((record_of(r), int(r[8])) for r in rows)
    tables = (
        (answer_queue, entries),
        (answer_versions, versions),
        (answer_heads, heads),
        (answer_firsts, first_rows),
    )
    for table, _ in tables:
        await conn.execute(delete(table))
    for table, found in tables:
        for chunk in _chunks(found):
            await conn.execute(insert(table), chunk)
    return len(entries)


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]
