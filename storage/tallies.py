"""Answer tallies, kept in the same transaction as the answers they count.

Per quarter, key worker (with the team), checkpoint and statement there is a *queue*: the answers
that count now (the latest per young person, :func:`storage.records.latest_answers`), in the order
the release ledger counts them (when the value was first counted, then pseudonym). ``answer_queue``
holds one row per answer that counts, with the running counts of each value and in all through it
(``total``, indexed), so the tally of any first stretch of a queue, and where a release's mark cuts
it, are one indexed row each; ``answer_heads`` holds each queue's counts; ``answer_versions`` the
values since replaced (a changed answer, or a skip), which stay members of the releases that counted
them.

Whatever changes a young person's counted answers calls :func:`refresh` in the same
transaction: a check-in finished or closed (``storage/checkins.py``; the press that finishes a
check-in runs on the worker path for this), ``/forgetme`` with or without keeping answers
(``storage/enrolments.py``: the pseudonym changes, which orders ties). Back, skips and moves to
another key worker change nothing counted (a check-in's answers change only while it is open,
and each check-in keeps its key worker);
retention and ``/forgetme`` keeping answers keep the answers. :func:`refresh` recomputes the
person's standing answers with the same pure rule as a full read, so the tallies always equal a
full recompute (:func:`storage.tally_rebuild.rebuild` does it for everyone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.records import AnswerRecord, Latest, Version, latest_answers
from storage.schema import (
    answer_firsts,
    answer_heads,
    answer_queue,
    answer_versions,
    answers,
    checkins,
    enrolments,
)

DONE = ("finished", "closed")
COUNTS = ("c1", "c2", "c3", "c4")

Leaf = tuple[datetime, int, int, str, str]
"""``(quarter, team_id, key_worker_id, checkpoint, item_id)``: one queue (0: no team/worker)."""


@dataclass(frozen=True)
class QueueTables:
    """The tables of one kind of tallies: the queues' rows, their heads, replaced versions."""

    queue: Table
    heads: Table
    versions: Table


ANSWERS = QueueTables(answer_queue, answer_heads, answer_versions)


def quarter_of(at: datetime) -> datetime:
    """The start of the calendar quarter (UTC) that holds *at*."""
    at = at.astimezone(UTC)
    return datetime(at.year, (at.month - 1) // 3 * 3 + 1, 1, tzinfo=UTC)


def next_quarter(quarter: datetime) -> datetime:
    month = quarter.month + 3
    return quarter.replace(year=quarter.year + (month > 12), month=(month - 1) % 12 + 1)


def one_hot(value: int) -> dict[str, int]:
    return {c: int(value == v) for c, v in zip(COUNTS, (1, 2, 3, 4), strict=True)}


def leaf_of(latest: Latest, quarter: datetime) -> Leaf:
    """The queue of a standing answer read by :func:`counted_with_ids` (ids in the records)."""
    r = latest.record
    return (quarter, int(r.team), int(r.key_worker), r.checkpoint, r.item_id)


def version_leaf(leaf: Leaf, version: Version) -> Leaf:
    """The queue a replaced version belongs to: its own key worker's (a move), else the
    standing answer's."""
    if version.leaf is None:
        return leaf
    quarter, _, _, checkpoint, item = leaf
    team, worker = version.leaf
    return (quarter, int(team), int(worker), checkpoint, item)


def standing(records: Iterable[AnswerRecord]) -> dict[datetime, list[Latest]]:
    """Per quarter, the standing answers of *records* (the full read's rule)."""
    per_quarter: dict[datetime, list[AnswerRecord]] = defaultdict(list)
    for r in records:
        per_quarter[quarter_of(r.answered_at)].append(r)
    return {q: latest_answers(rs, q, next_quarter(q)) for q, rs in per_quarter.items()}


def counted_with_ids() -> Any:
    """Counted answers (finished or closed check-ins) as records whose team and key worker are
    ids ("0": none), for the tallies; callers narrow it."""
    return (
        select(
            enrolments.c.pseudonym,
            checkins.c.team_id,
            checkins.c.key_worker_id,
            checkins.c.checkpoint,
            answers.c.item_id,
            answers.c.value,
            answers.c.answered_at,
            checkins.c.finished_at,
            checkins.c.enrolment_id,
        )
        .select_from(
            answers.join(checkins, answers.c.checkin_id == checkins.c.id).join(
                enrolments, checkins.c.enrolment_id == enrolments.c.id
            )
        )
        .where(checkins.c.status.in_(DONE))
    )


def record_of(row: Any) -> AnswerRecord:
    pseudonym, team, worker, checkpoint, item, value, at, counted, _ = row
    return AnswerRecord(
        pseudonym, str(team or 0), str(worker or 0), checkpoint, item, value, at, counted
    )


def _where(leaf: Leaf, table: Any = answer_queue) -> Any:
    quarter, team, worker, checkpoint, item = leaf
    return and_(
        table.c.quarter == quarter,
        table.c.team_id == team,
        table.c.key_worker_id == worker,
        table.c.checkpoint == checkpoint,
        table.c.item_id == item,
    )


def after(first_at: datetime, pseudonym: str, table: Table = answer_queue) -> Any:
    """Queue rows after the key ``(first_at, pseudonym)`` (an index range on ``first_at``)."""
    q = table.c
    return and_(q.first_at >= first_at, or_(q.first_at > first_at, q.pseudonym > pseudonym))


# --- keeping them up to date -----------------------------------------------------------------


async def count_checkin(conn: AsyncConnection, checkin_id: int) -> None:
    """A check-in was just finished or closed: its young person's standing answers at its
    checkpoint are recomputed."""
    row = (
        await conn.execute(
            select(checkins.c.enrolment_id, checkins.c.checkpoint).where(
                checkins.c.id == checkin_id
            )
        )
    ).first()
    if row is not None:
        await refresh(conn, int(row[0]), row[1])


async def refresh(conn: AsyncConnection, enrolment_id: int, checkpoint: str | None = None) -> None:
    """Bring the queues in line with one young person's counted answers (at one checkpoint, or
    all): rows whose standing answer changed leave their queue and the new ones join theirs,
    the running counts after them moving by one; replaced versions are written again."""
    query = counted_with_ids().where(checkins.c.enrolment_id == enrolment_id)
    mine_q = select(answer_queue).where(answer_queue.c.enrolment_id == enrolment_id)
    mine_v = select(answer_versions.c.id).where(answer_versions.c.enrolment_id == enrolment_id)
    if checkpoint is not None:
        query = query.where(checkins.c.checkpoint == checkpoint)
        mine_q = mine_q.where(answer_queue.c.checkpoint == checkpoint)
        mine_v = mine_v.where(answer_versions.c.checkpoint == checkpoint)
    records = [record_of(r) for r in await conn.execute(query)]
    wanted: dict[tuple[datetime, str, str], tuple[Leaf, int, datetime, str]] = {}
    versions: list[dict[str, Any]] = []
    for quarter, found in standing(records).items():
        for latest in found:
            leaf = leaf_of(latest, quarter)
            r = latest.record
            if r.value is not None and latest.first_at is not None:
                wanted[(quarter, r.checkpoint, r.item_id)] = (
                    leaf,
                    r.value,
                    latest.first_at,
                    r.respondent,
                )
            versions += [
                version_row(version_leaf(leaf, v), enrolment_id, v.value, v.key, v.replaced_at)
                for v in latest.replaced
            ]
    leaving: list[tuple[Leaf, Any]] = []
    for row in (await conn.execute(mine_q)).all():
        held: Leaf = (row.quarter, row.team_id, row.key_worker_id, row.checkpoint, row.item_id)
        want = wanted.get((row.quarter, row.checkpoint, row.item_id))
        if want is not None and want == (held, row.value, row.first_at, row.pseudonym):
            del wanted[(row.quarter, row.checkpoint, row.item_id)]
            continue
        leaving.append((held, row))
    await apply_changes(conn, enrolment_id, leaving, list(wanted.values()))
    await _firsts(conn, enrolment_id, checkpoint, records)
    old_versions = [int(i) for i in (await conn.scalars(mine_v)).all()]
    if old_versions or versions:
        await conn.execute(delete(answer_versions).where(answer_versions.c.id.in_(old_versions)))
        if versions:
            await conn.execute(insert(answer_versions), versions)


def firsts(records: Iterable[AnswerRecord]) -> dict[tuple[datetime, str], AnswerRecord]:
    """Per quarter and checkpoint, the first answer given (skips too; ties: counted first)."""
    found: dict[tuple[datetime, str], AnswerRecord] = {}
    for r in records:
        where = (quarter_of(r.answered_at), r.checkpoint)
        held = found.get(where)
        if held is None or (r.answered_at, r.counted_at or r.answered_at) < (
            held.answered_at,
            held.counted_at or held.answered_at,
        ):
            found[where] = r
    return found


def first_row(enrolment_id: int, where: tuple[datetime, str], r: AnswerRecord) -> dict[str, Any]:
    return dict(
        enrolment_id=enrolment_id,
        quarter=where[0],
        checkpoint=where[1],
        answered_at=r.answered_at,
        counted_at=r.counted_at or r.answered_at,
    )


async def _firsts(
    conn: AsyncConnection,
    enrolment_id: int,
    checkpoint: str | None,
    records: Iterable[AnswerRecord],
) -> None:
    """Who answered: the person's first answer per quarter at the checkpoint(s), written again
    when it changed."""
    f = answer_firsts.c
    query = select(answer_firsts).where(f.enrolment_id == enrolment_id)
    if checkpoint is not None:
        query = query.where(f.checkpoint == checkpoint)
    held = {
        (r.quarter, r.checkpoint): (r.answered_at, r.counted_at)
        for r in (await conn.execute(query)).all()
    }
    wanted = {
        where: (r.answered_at, r.counted_at or r.answered_at)
        for where, r in firsts(records).items()
    }
    if held == wanted:
        return
    gone = delete(answer_firsts).where(f.enrolment_id == enrolment_id)
    if checkpoint is not None:
        gone = gone.where(f.checkpoint == checkpoint)
    await conn.execute(gone)
    if wanted:
        await conn.execute(
            insert(answer_firsts),
            [
                dict(
                    enrolment_id=enrolment_id,
                    quarter=q,
                    checkpoint=c,
                    answered_at=at,
                    counted_at=counted,
                )
                for (q, c), (at, counted) in wanted.items()
            ],
        )


def version_row(
    leaf: Leaf,
    enrolment_id: int,
    value: int,
    key: tuple[datetime, str],
    replaced_at: datetime,
) -> dict[str, Any]:
    quarter, team, worker, checkpoint, item = leaf
    return dict(
        quarter=quarter,
        team_id=team,
        key_worker_id=worker,
        checkpoint=checkpoint,
        item_id=item,
        enrolment_id=enrolment_id,
        pseudonym=key[1],
        value=value,
        first_at=key[0],
        replaced_at=replaced_at,
    )


async def shift_head(
    conn: AsyncConnection, leaf: Leaf, value: int, by: int, tables: QueueTables = ANSWERS
) -> None:
    """Move the queue's own counts (locking its head row first, so that on PostgreSQL nobody
    changes the queue meanwhile)."""
    c = "c" + str(value)
    quarter, team, worker, checkpoint, item = leaf
    await conn.execute(
        upsert(conn, tables.heads)
        .values(
            quarter=quarter,
            team_id=team,
            key_worker_id=worker,
            checkpoint=checkpoint,
            item_id=item,
            total=max(by, 0),
            **{n: max(by, 0) if n == c else 0 for n in COUNTS},
        )
        .on_conflict_do_update(
            index_elements=list(tables.heads.primary_key.columns),
            set_={c: tables.heads.c[c] + by, "total": tables.heads.c.total + by},
        )
    )


QueueEntry = tuple[datetime, str, int, int]
"""A member of a queue being built whole: (first counted, pseudonym, value, enrolment id)."""


def queue_rows(
    queues: dict[Leaf, list[QueueEntry]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pure: the rows of a queue table, in the ledger's order with their running counts, and
    of its heads, for queues built whole (a rebuild or a quarter's first fill)."""
    rows: list[dict[str, Any]] = []
    heads: list[dict[str, Any]] = []
    for leaf, queue in queues.items():
        quarter, team, worker, checkpoint, item = leaf
        where = dict(
            quarter=quarter, team_id=team, key_worker_id=worker, checkpoint=checkpoint, item_id=item
        )
        counts = [0, 0, 0, 0]
        for total, (first_at, pseudonym, value, person) in enumerate(sorted(queue), start=1):
            counts[value - 1] += 1
            rows.append(
                dict(
                    where,
                    enrolment_id=person,
                    pseudonym=pseudonym,
                    value=value,
                    first_at=first_at,
                    total=total,
                    **dict(zip(COUNTS, counts, strict=True)),
                )
            )
        heads.append(dict(where, total=len(queue), **dict(zip(COUNTS, counts, strict=True))))
    return rows, heads


async def apply_changes(
    conn: AsyncConnection,
    enrolment_id: int,
    leaving: Sequence[tuple[Leaf, Any]],
    joining: Sequence[tuple[Leaf, int, datetime, str]],
    tables: QueueTables = ANSWERS,
) -> None:
    """Move one young person's rows: *leaving* (queue, row held) leave their queues and
    *joining* (queue, value, first counted, pseudonym) join theirs. One order for every
    transaction (by queue; in a queue, leaving before joining): each change locks its queue's
    head row first, so two transactions changing the same queues (people moved both ways
    between two key workers) cannot deadlock on PostgreSQL."""
    changes: list[tuple[Leaf, int, Any]] = [(leaf, 0, row) for leaf, row in leaving]
    changes += [(leaf, 1, rest) for leaf, *rest in joining]
    for leaf, joins, what in sorted(changes, key=lambda change: change[:2]):
        if joins:
            value, first_at, pseudonym = what
            await join_queue(conn, leaf, enrolment_id, value, first_at, pseudonym, tables)
        else:
            await leave_queue(
                conn, leaf, what.id, what.value, what.first_at, what.pseudonym, tables
            )


async def leave_queue(
    conn: AsyncConnection,
    leaf: Leaf,
    row_id: int,
    value: int,
    first_at: datetime,
    pseudonym: str,
    tables: QueueTables = ANSWERS,
) -> None:
    await shift_head(conn, leaf, value, -1, tables)
    answer_queue = tables.queue
    c = "c" + str(value)
    await conn.execute(
        update(answer_queue)
        .where(_where(leaf, answer_queue), after(first_at, pseudonym, answer_queue))
        .values({c: answer_queue.c[c] - 1, "total": answer_queue.c.total - 1})
    )
    await conn.execute(delete(answer_queue).where(answer_queue.c.id == row_id))


async def join_queue(
    conn: AsyncConnection,
    leaf: Leaf,
    enrolment_id: int,
    value: int,
    first_at: datetime,
    pseudonym: str,
    tables: QueueTables = ANSWERS,
) -> None:
    await shift_head(conn, leaf, value, 1, tables)
    answer_queue = tables.queue
    q = answer_queue.c
    before = (
        await conn.execute(
            select(q.c1, q.c2, q.c3, q.c4, q.total)
            .where(
                _where(leaf, answer_queue),
                q.first_at <= first_at,
                or_(q.first_at < first_at, q.pseudonym < pseudonym),
            )
            .order_by(q.first_at.desc(), q.pseudonym.desc())
            .limit(1)
        )
    ).first()
    counts = [0, 0, 0, 0, 0] if before is None else [int(x) for x in before]
    c = "c" + str(value)
    await conn.execute(
        update(answer_queue)
        .where(_where(leaf, answer_queue), after(first_at, pseudonym, answer_queue))
        .values({c: q[c] + 1, "total": q.total + 1})
    )
    hot = one_hot(value)
    quarter, team, worker, checkpoint, item = leaf
    await conn.execute(
        insert(answer_queue).values(
            quarter=quarter,
            team_id=team,
            key_worker_id=worker,
            checkpoint=checkpoint,
            item_id=item,
            enrolment_id=enrolment_id,
            pseudonym=pseudonym,
            value=value,
            first_at=first_at,
            total=counts[4] + 1,
            **{n: counts[i] + hot[n] for i, n in enumerate(COUNTS)},
        )
    )


async def forget(conn: AsyncConnection, enrolment_id: int) -> None:
    """``/forgetme`` (call after the answers are deleted and the pseudonym changed): deleted
    answers leave their queues (the release ledger's departures record where they were
    counted); kept answers stand under the new pseudonym, which orders ties."""
    await refresh(conn, enrolment_id)
