"""Rebuilding the answer tallies (``storage/tallies.py``) from the stored answers.

``checkin-bot tallies rebuild``, migration 0012 (which fills the tallies of a database that had
none, and turns the release ledger's older marks by time into positions) and the playground's
demo history use it. Positions already given keep their order (holes close up) and the ledger's
marks move with them, so every earlier release still counts the same young people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import (
    answer_heads,
    answer_queue,
    answers,
    checkins,
    enrolments,
    release_blocks,
    releases,
    teams,
)
from storage.tallies import DONE, Leaf, quarter_of


@dataclass
class _Entry:
    person: int | None
    pseudonym: str
    value: int | None
    answered_at: datetime | None
    counted_at: datetime
    old: int | None = None  # position before the rebuild
    replaced_value: int | None = None
    replaced_at: datetime | None = None


def plan(
    records: Iterable[tuple[Any, ...]], held: Iterable[tuple[Any, ...]]
) -> dict[Leaf, list[_Entry]]:
    """Pure: the queues the stored answers make, keeping the order of positions already given.

    *records*: ``(enrolment_id, pseudonym, team_id, key_worker_id, checkpoint, item_id, value,
    answered_at, counted_at)`` for every answer of a counted check-in; *held*: the current
    ``(quarter, team_id, key_worker_id, checkpoint, item_id, position, enrolment_id,
    counted_at)``. The answers are replayed in the order they were counted, by the rule of
    :func:`storage.tallies.count_checkin`: a changed answer (or a skip, or another key worker)
    replaces the one that counted, which keeps its position and value as replaced, and the new
    one takes a position at the back. Returns every queue's entries in order, holes dropped:
    first those that held a position (in its order), then the others by when they were counted,
    and pseudonym."""
    per_key: dict[tuple[int, datetime, str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for record in records:
        person, _, _, _, checkpoint, item, _, at, _ = record
        per_key[(person, quarter_of(at), checkpoint, item)].append(record)
    old_positions: dict[tuple[Any, ...], int] = {}
    for quarter, team, worker, checkpoint, item, position, person, counted in held:
        if person is not None:
            old_positions[(person, (quarter, team, worker, checkpoint, item), counted)] = position
    queues: dict[Leaf, list[_Entry]] = defaultdict(list)
    for (person, quarter, _, _), found in per_key.items():
        found.sort(key=lambda r: (r[8], r[7], r[6] or 0))
        current: tuple[Leaf, _Entry] | None = None
        for _, pseudonym, team, worker, checkpoint, item, value, at, counted in found:
            leaf: Leaf = (quarter, team or 0, worker or 0, checkpoint, item)
            if current is not None:
                where, entry = current
                assert entry.answered_at is not None
                if (at, value or 0) < (entry.answered_at, entry.value or 0):
                    continue  # older than the one that counts (counted late): nothing moves
                if where == leaf and entry.value == value:
                    entry.answered_at = at
                    continue
                entry.replaced_value, entry.replaced_at, entry.value = entry.value, counted, None
                current = None
            if value is None:
                continue
            entry = _Entry(person, pseudonym, value, at, counted)
            entry.old = old_positions.get((person, leaf, counted))
            queues[leaf].append(entry)
            current = (leaf, entry)
    for entries in queues.values():
        entries.sort(
            key=lambda e: (e.old is None, e.old or 0, e.counted_at, e.pseudonym, e.person or 0)
        )
    return queues


def _count_below(sorted_values: Sequence[int], bound: int) -> int:
    lo, hi = 0, len(sorted_values)
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_values[mid] < bound:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _rows(queues: Mapping[Leaf, Sequence[_Entry]]) -> tuple[list[dict[str, Any]], list[Any]]:
    entries: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    for (quarter, team, worker, checkpoint, item), queue in queues.items():
        counts = [0, 0, 0, 0]
        for position, e in enumerate(queue):
            if e.value is not None:
                counts[e.value - 1] += 1
            entries.append(
                dict(
                    quarter=quarter,
                    team_id=team,
                    key_worker_id=worker,
                    checkpoint=checkpoint,
                    item_id=item,
                    position=position,
                    enrolment_id=e.person,
                    answered_at=e.answered_at,
                    counted_at=e.counted_at,
                    value=e.value,
                    replaced_value=e.replaced_value,
                    replaced_at=e.replaced_at,
                    c1=counts[0],
                    c2=counts[1],
                    c3=counts[2],
                    c4=counts[3],
                )
            )
        heads.append(
            dict(
                quarter=quarter,
                team_id=team,
                key_worker_id=worker,
                checkpoint=checkpoint,
                item_id=item,
                assigned=len(queue),
            )
        )
    return entries, heads


def _record_query() -> Any:
    return (
        select(
            checkins.c.enrolment_id,
            enrolments.c.pseudonym,
            checkins.c.team_id,
            checkins.c.key_worker_id,
            checkins.c.checkpoint,
            answers.c.item_id,
            answers.c.value,
            answers.c.answered_at,
            checkins.c.finished_at,
        )
        .select_from(
            answers.join(checkins, answers.c.checkin_id == checkins.c.id).join(
                enrolments, checkins.c.enrolment_id == enrolments.c.id
            )
        )
        .where(checkins.c.status.in_(DONE))
    )


_HELD = select(
    answer_queue.c.quarter,
    answer_queue.c.team_id,
    answer_queue.c.key_worker_id,
    answer_queue.c.checkpoint,
    answer_queue.c.item_id,
    answer_queue.c.position,
    answer_queue.c.enrolment_id,
    answer_queue.c.counted_at,
)

_MARKS = (
    select(
        release_blocks.c.id,
        releases.c.since,
        func.coalesce(teams.c.id, 0),
        release_blocks.c.key_worker,
        releases.c.checkpoint,
        releases.c.item_id,
        release_blocks.c.through_pos,
        release_blocks.c.through_at,
        release_blocks.c.through_id,
    )
    .select_from(
        releases.join(release_blocks, release_blocks.c.release_id == releases.c.id).outerjoin(
            teams, teams.c.name == release_blocks.c.team
        )
    )
    .where(releases.c.kind == "answers")
)


def _new_marks(
    queues: Mapping[Leaf, Sequence[_Entry]], marks: Iterable[tuple[Any, ...]]
) -> list[dict[str, Any]]:
    """The release ledger's marks on the rebuilt queues: a mark by position counts the entries
    that held a position before it; an older mark by time counts those counted no later."""
    kept: dict[Leaf, list[int]] = {}
    found = []
    for mark_id, since, team, worker, checkpoint, item, pos, at, pseudonym in marks:
        w = 0 if worker == "None" else int(worker)
        leaf: Leaf = (since, team, w, checkpoint, item)
        queue = queues.get(leaf, ())
        if pos is not None:
            if leaf not in kept:
                kept[leaf] = sorted(e.old for e in queue if e.old is not None)
            new = _count_below(kept[leaf], pos)
        elif at is None:
            new = 0
        else:
            mark = (at, pseudonym or "")
            new = sum(1 for e in queue if (e.counted_at, e.pseudonym) <= mark)
        if new != pos:
            found.append({"mark_id": mark_id, "through_pos": new})
    return found


async def rebuild(conn: AsyncConnection) -> int:
    """Recompute every queue and tally from the stored answers; returns how many answers count.

    Positions already given keep their order (holes close up) and the release ledger's marks
    move with them, so every earlier release still counts the same young people."""
    held = (await conn.execute(_HELD)).all()
    queues = plan((await conn.execute(_record_query())).all(), held)
    marks = _new_marks(queues, (await conn.execute(_MARKS)).all())
    entries, heads = _rows(queues)
    await conn.execute(delete(answer_queue))
    await conn.execute(delete(answer_heads))
    for start in range(0, len(entries), 5000):
        await conn.execute(insert(answer_queue), entries[start : start + 5000])
    if heads:
        await conn.execute(insert(answer_heads), heads)
    for mark in marks:
        await conn.execute(
            update(release_blocks)
            .where(release_blocks.c.id == mark["mark_id"])
            .values(through_pos=mark["through_pos"])
        )
    return sum(1 for e in entries if e["value"] is not None)


def rebuild_sync(conn: Connection) -> int:
    """:func:`rebuild` on a synchronous connection (the migration that adds the tallies)."""
    held = conn.execute(_HELD).all()
    queues = plan(conn.execute(_record_query()).all(), held)
    marks = _new_marks(queues, conn.execute(_MARKS).all())
    entries, heads = _rows(queues)
    conn.execute(delete(answer_queue))
    conn.execute(delete(answer_heads))
    for start in range(0, len(entries), 5000):
        conn.execute(insert(answer_queue), entries[start : start + 5000])
    if heads:
        conn.execute(insert(answer_heads), heads)
    for mark in marks:
        conn.execute(
            update(release_blocks)
            .where(release_blocks.c.id == mark["mark_id"])
            .values(through_pos=mark["through_pos"])
        )
    return sum(1 for e in entries if e["value"] is not None)
