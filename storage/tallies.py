"""Answer tallies, kept in the same transaction as the answers they count.

Per quarter, key worker (with the check-in's team), checkpoint and statement there is a *queue*:
every young person whose answer is counted (their check-in finished or closed) with a value gets
the next position in it, once, and keeps it. ``answer_queue`` holds one row per position with the
value that counts now and the running counts of each value through that position, so the tally of
any first stretch of a queue is one row; ``answer_heads`` holds how many positions were given.
Blocks of *k* (the disclosure control's block rule) are therefore facts written with the answers:
the first ``assigned // k * k`` positions are released, whatever is stored.

What changes a queue, always in the transaction that changes the answers:

- a check-in is counted (:func:`count_checkin`, from ``checkins.finish`` and
  ``checkins.close_checkin``): each answer with a value takes the next position, or, when the
  same young person already has one for that statement in that quarter (an earlier check-in of
  the same checkpoint), moves the value at that position (a later skip leaves a hole there, a
  later answer fills it again);
- ``/forgetme`` without keeping answers (:func:`forget`): the person's positions become holes.

Nothing else does: Back and skips change answers only while a check-in is open, before it is
counted; moving a young person to another key worker changes only their enrolment (each check-in
keeps its key worker); retention and ``/forgetme`` with "keep my answers" keep the answers.

:func:`rebuild` recomputes everything from the stored answers (``checkin-bot tallies rebuild``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.records import QueuePoint
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

NO_TEAM = "(no team)"
_DONE = ("finished", "closed")
_COUNTS = ("c1", "c2", "c3", "c4")

Leaf = tuple[datetime, int, int, str, str]
"""``(quarter, team_id, key_worker_id, checkpoint, item_id)``: one queue (0: no team/worker)."""


def quarter_of(at: datetime) -> datetime:
    """The start of the calendar quarter (UTC) that holds *at*."""
    at = at.astimezone(UTC)
    return datetime(at.year, (at.month - 1) // 3 * 3 + 1, 1, tzinfo=UTC)


def _one(value: int | None) -> list[int]:
    return [int(value == v) for v in (1, 2, 3, 4)]


def _where(leaf: Leaf, table: Any = answer_queue) -> Any:
    quarter, team, worker, checkpoint, item = leaf
    return and_(
        table.c.quarter == quarter,
        table.c.team_id == team,
        table.c.key_worker_id == worker,
        table.c.checkpoint == checkpoint,
        table.c.item_id == item,
    )


# --- keeping them up to date -----------------------------------------------------------------


async def count_checkin(conn: AsyncConnection, checkin_id: int) -> None:
    """A check-in was just finished or closed: count its answers into the queues."""
    rows = (
        await conn.execute(
            select(
                answers.c.item_id,
                answers.c.value,
                answers.c.answered_at,
                checkins.c.enrolment_id,
                checkins.c.team_id,
                checkins.c.key_worker_id,
                checkins.c.checkpoint,
                checkins.c.finished_at,
            )
            .select_from(answers.join(checkins, answers.c.checkin_id == checkins.c.id))
            .where(checkins.c.id == checkin_id, checkins.c.status.in_(_DONE))
            .order_by(answers.c.item_id)
        )
    ).all()
    for item, value, answered_at, person, team, worker, checkpoint, counted_at in rows:
        leaf: Leaf = (quarter_of(answered_at), team or 0, worker or 0, checkpoint, item)
        await _count(conn, leaf, person, value, answered_at, counted_at)


async def _count(
    conn: AsyncConnection,
    leaf: Leaf,
    person: int,
    value: int | None,
    answered_at: datetime,
    counted_at: datetime,
) -> None:
    quarter, _, _, checkpoint, item = leaf
    held = (
        await conn.execute(
            select(answer_queue).where(
                answer_queue.c.enrolment_id == person,
                answer_queue.c.quarter == quarter,
                answer_queue.c.checkpoint == checkpoint,
                answer_queue.c.item_id == item,
            )
        )
    ).first()
    if held is not None:
        if (answered_at, value or 0) < (held.answered_at, held.value or 0):
            return  # an older answer than the one that counts (counted late): nothing moves
        where: Leaf = (held.quarter, held.team_id, held.key_worker_id, checkpoint, item)
        if where == leaf:
            await _move_value(conn, leaf, held.position, held.value, value, answered_at, person)
            return
        await _move_value(conn, where, held.position, held.value, None, None, None)
    if value is None:
        return  # a skip takes no position; it joins the queue when first counted with a value
    assigned = (
        await conn.execute(
            upsert(conn, answer_heads)
            .values(
                quarter=quarter,
                team_id=leaf[1],
                key_worker_id=leaf[2],
                checkpoint=checkpoint,
                item_id=item,
                assigned=1,
            )
            .on_conflict_do_update(
                index_elements=list(answer_heads.primary_key.columns),
                set_={"assigned": answer_heads.c.assigned + 1},
            )
            .returning(answer_heads.c.assigned)
        )
    ).scalar_one()
    position = int(assigned) - 1
    before = [0, 0, 0, 0]
    if position:
        row = (
            await conn.execute(
                select(*(answer_queue.c[c] for c in _COUNTS)).where(
                    _where(leaf), answer_queue.c.position == position - 1
                )
            )
        ).one()
        before = [int(x) for x in row]
    counts = [b + o for b, o in zip(before, _one(value), strict=True)]
    await conn.execute(
        insert(answer_queue).values(
            quarter=quarter,
            team_id=leaf[1],
            key_worker_id=leaf[2],
            checkpoint=checkpoint,
            item_id=item,
            position=position,
            enrolment_id=person,
            answered_at=answered_at,
            counted_at=counted_at,
            value=value,
            **dict(zip(_COUNTS, counts, strict=True)),
        )
    )


async def _move_value(
    conn: AsyncConnection,
    leaf: Leaf,
    position: int,
    old: int | None,
    new: int | None,
    answered_at: datetime | None,
    person: int | None,
) -> None:
    """Change the value at one position (``None``: a hole), and every running count after it.
    The queue's head row is locked first, so no position is given meanwhile (PostgreSQL)."""
    await conn.execute(
        update(answer_heads)
        .where(_where(leaf, answer_heads))
        .values(assigned=answer_heads.c.assigned)
    )
    delta = [n - o for n, o in zip(_one(new), _one(old), strict=True)]
    if any(delta):
        await conn.execute(
            update(answer_queue)
            .where(_where(leaf), answer_queue.c.position >= position)
            .values({c: answer_queue.c[c] + d for c, d in zip(_COUNTS, delta, strict=True) if d})
        )
    await conn.execute(
        update(answer_queue)
        .where(_where(leaf), answer_queue.c.position == position)
        .values(value=new, answered_at=answered_at, enrolment_id=person)
    )


async def forget(conn: AsyncConnection, enrolment_id: int) -> None:
    """``/forgetme`` without keeping answers: every position the person holds becomes a hole."""
    held = (
        await conn.execute(select(answer_queue).where(answer_queue.c.enrolment_id == enrolment_id))
    ).all()
    for row in held:
        leaf: Leaf = (row.quarter, row.team_id, row.key_worker_id, row.checkpoint, row.item_id)
        await _move_value(conn, leaf, row.position, row.value, None, None, None)


# --- reading ---------------------------------------------------------------------------------


def _names(team: str | None, worker: int) -> tuple[str, str]:
    return team or NO_TEAM, str(worker) if worker else "None"


async def cuts(conn: AsyncConnection, quarters: Sequence[datetime], k: int) -> list[QueuePoint]:
    """Every queue of the *quarters*, read where the block rule cuts it today: after its first
    ``assigned // k * k`` positions. One row per queue, whatever the number of answers."""
    cut = answer_heads.c.assigned // k * k
    query = (
        select(
            answer_heads.c.quarter,
            teams.c.name,
            answer_heads.c.key_worker_id,
            answer_heads.c.checkpoint,
            answer_heads.c.item_id,
            answer_heads.c.assigned,
            answer_queue.c.c1,
            answer_queue.c.c2,
            answer_queue.c.c3,
            answer_queue.c.c4,
            answer_queue.c.counted_at,
        )
        .select_from(
            answer_heads.outerjoin(
                answer_queue,
                and_(
                    answer_queue.c.quarter == answer_heads.c.quarter,
                    answer_queue.c.team_id == answer_heads.c.team_id,
                    answer_queue.c.key_worker_id == answer_heads.c.key_worker_id,
                    answer_queue.c.checkpoint == answer_heads.c.checkpoint,
                    answer_queue.c.item_id == answer_heads.c.item_id,
                    answer_queue.c.position == cut - 1,
                ),
            ).outerjoin(teams, teams.c.id == answer_heads.c.team_id)
        )
        .where(answer_heads.c.quarter.in_(list(quarters)))
    )
    found = []
    for quarter, team, worker, checkpoint, item, assigned, *counts, at in await conn.execute(query):
        position = int(assigned) // k * k
        values = (0, 0, 0, 0) if not position else tuple(int(c) for c in counts)
        team_name, worker_name = _names(team, worker)
        found.append(
            QueuePoint(
                quarter,
                team_name,
                worker_name,
                checkpoint,
                item,
                int(assigned),
                position,
                values,  # type: ignore[arg-type]
                at,
            )
        )
    return found


async def marks(conn: AsyncConnection, quarters: Sequence[datetime]) -> list[QueuePoint]:
    """Every queue of the *quarters* read where an earlier release stopped counting it (the
    release ledger's marks): one row per distinct mark, however many answers are stored."""
    worker = case(
        (release_blocks.c.key_worker == "None", literal(0)),
        else_=cast(release_blocks.c.key_worker, Integer),
    )
    team_id = func.coalesce(teams.c.id, 0)
    query = (
        select(
            releases.c.since,
            release_blocks.c.team,
            release_blocks.c.key_worker,
            releases.c.checkpoint,
            releases.c.item_id,
            release_blocks.c.through_pos,
            answer_queue.c.c1,
            answer_queue.c.c2,
            answer_queue.c.c3,
            answer_queue.c.c4,
        )
        .distinct()
        .select_from(
            releases.join(release_blocks, release_blocks.c.release_id == releases.c.id)
            .outerjoin(teams, teams.c.name == release_blocks.c.team)
            .join(
                answer_queue,
                and_(
                    answer_queue.c.quarter == releases.c.since,
                    answer_queue.c.team_id == team_id,
                    answer_queue.c.key_worker_id == worker,
                    answer_queue.c.checkpoint == releases.c.checkpoint,
                    answer_queue.c.item_id == releases.c.item_id,
                    answer_queue.c.position == release_blocks.c.through_pos - 1,
                ),
            )
        )
        .where(
            releases.c.since.in_(list(quarters)),
            releases.c.kind == "answers",
            release_blocks.c.through_pos > 0,
        )
    )
    return [
        QueuePoint(q, team, worker_name, cp, item, 0, int(pos), tuple(int(c) for c in counts))  # type: ignore[arg-type]
        for q, team, worker_name, cp, item, pos, *counts in await conn.execute(query)
    ]


async def respondents_reach(
    conn: AsyncConnection, quarter: datetime, team: str, key_worker: str, k: int
) -> bool:
    """Whether at least *k* young people of one key worker have a counted answer with a value
    in *quarter* (reads at most *k* of them)."""
    team_id = await conn.scalar(select(teams.c.id).where(teams.c.name == team))
    worker = 0 if key_worker == "None" else int(key_worker)
    people = (
        select(answer_queue.c.enrolment_id)
        .where(
            answer_queue.c.quarter == quarter,
            answer_queue.c.team_id == (team_id or 0),
            answer_queue.c.key_worker_id == worker,
            answer_queue.c.value.is_not(None),
        )
        .distinct()
        .limit(k)
        .subquery()
    )
    found = await conn.scalar(select(func.count()).select_from(people))
    return int(found or 0) >= k


# --- rebuilding --------------------------------------------------------------------------------


@dataclass
class _Entry:
    person: int | None
    pseudonym: str
    value: int | None
    answered_at: datetime | None
    counted_at: datetime
    old: int | None = None  # position before the rebuild


def plan(
    records: Iterable[tuple[Any, ...]], held: Iterable[tuple[Any, ...]]
) -> dict[Leaf, list[_Entry]]:
    """Pure: the queues the stored answers make, keeping the order of positions already given.

    *records*: ``(enrolment_id, pseudonym, team_id, key_worker_id, checkpoint, item_id, value,
    answered_at, counted_at)`` for every answer of a counted check-in; *held*: the current
    ``(quarter, team_id, key_worker_id, checkpoint, item_id, position, enrolment_id)``.
    Returns every queue's entries in order, holes dropped: first those that held a position (in
    its order), then the others by when they were first counted with a value, and pseudonym."""
    latest: dict[tuple[int, datetime, str, str], tuple[Leaf, _Entry, datetime | None]] = {}
    for person, pseudonym, team, worker, checkpoint, item, value, at, counted in records:
        quarter = quarter_of(at)
        key = (person, quarter, checkpoint, item)
        leaf: Leaf = (quarter, team or 0, worker or 0, checkpoint, item)
        seen = latest.get(key)
        first = counted if value is not None else None
        if seen is not None:
            old_leaf, old, old_first = seen
            if (at, value or 0) < (old.answered_at, old.value or 0):
                leaf, value, at, counted = old_leaf, old.value, old.answered_at, old.counted_at
            first = min((t for t in (first, old_first) if t is not None), default=None)
        entry = _Entry(person, pseudonym, value, at, first or counted)
        latest[key] = (leaf, entry, first)
    old_positions: dict[tuple[int, datetime, str, str], tuple[Leaf, int]] = {}
    for quarter, team, worker, checkpoint, item, position, person in held:
        if person is not None:
            leaf = (quarter, team, worker, checkpoint, item)
            old_positions[(person, quarter, checkpoint, item)] = (leaf, position)
    queues: dict[Leaf, list[_Entry]] = defaultdict(list)
    for key, (leaf, entry, _) in latest.items():
        if entry.value is None:
            continue
        where = old_positions.get(key)
        if where is not None and where[0] == leaf:
            entry.old = where[1]
        queues[leaf].append(entry)
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
            assert e.value is not None
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
        .where(checkins.c.status.in_(_DONE))
    )


_HELD = select(
    answer_queue.c.quarter,
    answer_queue.c.team_id,
    answer_queue.c.key_worker_id,
    answer_queue.c.checkpoint,
    answer_queue.c.item_id,
    answer_queue.c.position,
    answer_queue.c.enrolment_id,
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
    """Recompute every queue and tally from the stored answers; returns how many positions.

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
    return len(entries)


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
    return len(entries)
