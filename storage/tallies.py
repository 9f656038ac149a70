"""Answer tallies, kept in the same transaction as the answers they count.

Per quarter, key worker (with the check-in's team), checkpoint and statement there is a *queue*:
every answer counted (its check-in finished or closed) with a value takes the next position in
it. ``answer_queue`` holds one row per position with the value that counts now and the running
counts of each value through that position (only answers that count now are counted), so the
tally of any first stretch of a queue is one row; ``answer_heads`` holds how many positions were
given. This follows the release ledger's rule (``conversations.publication``): a changed answer
joins the back of the queue, and the version it replaced stays for the releases that counted it.

What changes a queue, always in the transaction that changes the answers:

- a check-in is counted (:func:`count_checkin`, from ``checkins.finish`` and
  ``checkins.close_checkin``): each answer with a value takes the next position; when the same
  young person already has an answer counting for that statement in that quarter (an earlier
  check-in of the same checkpoint) with another value, a skip, or under another key worker, that
  position stops counting and keeps its value as replaced (``replaced_value``, ``replaced_at``),
  and a value takes a new position at the back (the same answer again keeps its place);
- ``/forgetme`` without keeping answers (:func:`forget`): the person's positions become holes
  (no person, no value, replaced or not; the ledger's departures record where they counted).

Nothing else does: Back and skips change answers only while a check-in is open, before it is
counted; moving a young person to another key worker changes only their enrolment (each check-in
keeps its key worker); retention and ``/forgetme`` with "keep my answers" keep the answers.

:func:`storage.tally_rebuild.rebuild` recomputes everything from the stored answers
(``checkin-bot tallies rebuild``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.records import QueuePoint
from storage.schema import (
    answer_heads,
    answer_queue,
    answers,
    checkins,
    release_blocks,
    releases,
    teams,
)

NO_TEAM = "(no team)"
DONE = ("finished", "closed")
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
            .where(checkins.c.id == checkin_id, checkins.c.status.in_(DONE))
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
                answer_queue.c.value.is_not(None),
            )
        )
    ).first()
    if held is not None:
        if (answered_at, value or 0) < (held.answered_at, held.value or 0):
            return  # an older answer than the one that counts (counted late): nothing moves
        where: Leaf = (held.quarter, held.team_id, held.key_worker_id, checkpoint, item)
        if where == leaf and held.value == value:
            await conn.execute(
                update(answer_queue)
                .where(_where(leaf), answer_queue.c.position == held.position)
                .values(answered_at=answered_at)
            )
            return  # the same answer again: it keeps its place
        await _replace(conn, where, held.position, held.value, counted_at)
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


async def _replace(
    conn: AsyncConnection, leaf: Leaf, position: int, old: int, counted_at: datetime
) -> None:
    """A counted answer was replaced (a changed answer, a skip, another key worker): its
    position stops counting but keeps the value it held and when it was replaced, for the
    releases that counted it; the replacement, if any, takes a new position at the back."""
    await _move_value(conn, leaf, position, old, None, None, None, keep_person=True)
    await conn.execute(
        update(answer_queue)
        .where(_where(leaf), answer_queue.c.position == position)
        .values(replaced_value=old, replaced_at=counted_at)
    )


async def _move_value(
    conn: AsyncConnection,
    leaf: Leaf,
    position: int,
    old: int | None,
    new: int | None,
    answered_at: datetime | None,
    person: int | None,
    *,
    keep_person: bool = False,
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
        .values(
            value=new,
            **({} if keep_person else {"answered_at": answered_at, "enrolment_id": person}),
        )
    )


async def forget(conn: AsyncConnection, enrolment_id: int) -> None:
    """``/forgetme`` without keeping answers: every position the person holds becomes a hole."""
    held = (
        await conn.execute(select(answer_queue).where(answer_queue.c.enrolment_id == enrolment_id))
    ).all()
    for row in held:
        leaf: Leaf = (row.quarter, row.team_id, row.key_worker_id, row.checkpoint, row.item_id)
        await _move_value(conn, leaf, row.position, row.value, None, None, None)
        await conn.execute(  # a departure: no person, no value (the ledger keeps where counted)
            update(answer_queue)
            .where(_where(leaf), answer_queue.c.position == row.position)
            .values(replaced_value=None, replaced_at=None)
        )


# --- reading ---------------------------------------------------------------------------------


def _names(team: str | None, worker: int) -> tuple[str, str]:
    return team or NO_TEAM, str(worker) if worker else "None"


async def cuts(conn: AsyncConnection, quarters: Sequence[datetime], k: int) -> list[QueuePoint]:
    """Every queue of the *quarters*, read after its first ``assigned // k * k`` positions. One
    row per queue, whatever the number of answers. Not yet the ledger's cut (after the
    ``n // k * k``-th answer that counts now, replaced positions and holes skipped); digests do
    not read the tallies yet."""
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
