"""What digests read from the answer tallies (``storage/tallies.py``): a few rows per cell, key
worker and release, whatever the number of answers stored.

Per quarter: every queue's counts (``answer_heads``); the answers at the block cut (the
``n // k * k``-th and the next) and the first (``answer_queue`` by its indexed running total);
for every earlier release of the quarter, the first answer after where it stopped (by the
queue's order index); the answers since replaced (``answer_versions``, few).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Counts, QueuePoints, Version
from storage.schema import (
    answer_queue,
    part_heads,
    part_quarters,
    release_blocks,
    releases,
    teams,
)
from storage.tallies import ANSWERS, QueueTables

NO_TEAM = "(no team)"
Cell = tuple[str, str]
Node = tuple[str, ...]
Queues = dict[Cell, dict[Node, QueuePoints]]
Replaced = dict[Cell, dict[Node, list[Version]]]

_LEAF = ("quarter", "team_id", "key_worker_id", "checkpoint", "item_id")


def _node(team: str | None, worker: int) -> Node:
    return (team or NO_TEAM, str(worker) if worker else "None")


def _same_leaf(a: Any, b: Any) -> Any:
    return and_(*(a.c[c] == b.c[c] for c in _LEAF))


def _counts(row: Any) -> Counts:
    return (int(row.c1), int(row.c2), int(row.c3), int(row.c4))


def _before(row: Any) -> Counts:
    """The values before a queue row (its running counts without itself)."""
    c = list(_counts(row))
    c[int(row.value) - 1] -= 1
    return (c[0], c[1], c[2], c[3])


async def queues(
    conn: AsyncConnection,
    since: datetime,
    k: int,
    kind: str = "answers",
    tables: QueueTables = ANSWERS,
    item: str | None = None,
) -> tuple[Queues, Replaced]:
    """Every queue of the quarter starting at *since* with an answer that counts, read where
    the release ledger looks given block size *k* and the quarter's earlier releases of *kind*;
    and the answers since replaced. *tables*: the answer tallies, or the taking-part tallies
    (``storage/part_tallies.py``) read for one *item* (``answered``: response; ``unreachable``:
    reach)."""
    answer_heads = tables.heads
    answer_queue = tables.queue
    narrow = [answer_heads.c.quarter == since, answer_heads.c.total > 0]
    if item is not None:
        narrow.append(answer_heads.c.item_id == item)
    heads = (
        await conn.execute(
            select(answer_heads, teams.c.name)
            .select_from(answer_heads.outerjoin(teams, teams.c.id == answer_heads.c.team_id))
            .where(*narrow)
        )
    ).all()
    sizes: dict[tuple[Cell, Node], tuple[int, Counts]] = {}
    for head in heads:
        sizes[((head.checkpoint, head.item_id), _node(head.name, head.key_worker_id))] = (
            int(head.total),
            _counts(head),
        )
    keys: dict[tuple[Cell, Node], dict[int, tuple[datetime, str]]] = defaultdict(dict)
    running: dict[tuple[Cell, Node], dict[int, Counts]] = defaultdict(dict)
    marks: dict[tuple[Cell, Node], dict[tuple[datetime, str], int]] = defaultdict(dict)
    q = answer_queue
    h = answer_heads
    cut = h.c.total // k * k
    inner = answer_queue.alias("point")
    ids = [  # per queue, by its running-total index: the first answer, the cut and the next
        select(
            select(inner.c.id).where(_same_leaf(inner, h), inner.c.total == at).scalar_subquery()
        ).where(*narrow)
        for at in (literal(1), cut, cut + 1)
    ]
    parts = [
        select(q, teams.c.name)
        .select_from(q.outerjoin(teams, teams.c.id == q.c.team_id))
        .where(q.c.id.in_(union_all(*ids)))
    ]
    for row in await conn.execute(parts[0]):
        where = ((row.checkpoint, row.item_id), _node(row.name, row.key_worker_id))
        index = int(row.total) - 1
        keys[where][index] = (row.first_at, row.pseudonym)
        running[where][index + 1] = _counts(row)
        running[where][index] = _before(row)
    for row in await conn.execute(_marks(since, kind, answer_queue)):
        where = ((row.checkpoint, row.item_id), (row.team, row.key_worker))
        mark = (row.through_at, row.through_id or "")
        if row.total is None:
            marks[where][mark] = sizes.get(where, (0, (0, 0, 0, 0)))[0]
            continue
        index = int(row.total) - 1
        marks[where][mark] = index
        keys[where][index] = (row.first_at, row.pseudonym)
        running[where][index] = _before(row)
    found: Queues = defaultdict(dict)
    for (cell, node), (size, total) in sizes.items():
        where = (cell, node)
        found[cell][node] = QueuePoints(
            size, total, keys.get(where, {}), running.get(where, {}), marks.get(where, {})
        )
    return dict(found), await _replaced(conn, since, tables.versions, item, kind)


def _marks(since: datetime, kind: str, answer_queue: Table) -> Any:
    """Per earlier release block of the quarter, the first answer after its mark (or none)."""
    q = answer_queue.alias("after_mark")
    b = release_blocks
    worker = case((b.c.key_worker == "None", literal(0)), else_=cast(b.c.key_worker, Integer))
    through_id = func.coalesce(b.c.through_id, "")
    following = (
        select(q.c.id)
        .where(
            q.c.quarter == releases.c.since,
            q.c.team_id == func.coalesce(teams.c.id, 0),
            q.c.key_worker_id == worker,
            q.c.checkpoint == releases.c.checkpoint,
            q.c.item_id == releases.c.item_id,
            # a row value, so the index seeks past the mark even where many rows share a time
            # (the reach queue: everyone enrolled before the quarter enters at its start)
            tuple_(q.c.first_at, q.c.pseudonym) > tuple_(b.c.through_at, through_id),
        )
        .order_by(q.c.first_at, q.c.pseudonym)
        .limit(1)
        .scalar_subquery()
    )
    blocks = (
        select(
            releases.c.checkpoint,
            releases.c.item_id,
            b.c.team,
            b.c.key_worker,
            b.c.through_at,
            b.c.through_id,
            following.label("next_id"),
        )
        .select_from(
            releases.join(b, b.c.release_id == releases.c.id).outerjoin(
                teams, teams.c.name == b.c.team
            )
        )
        .where(releases.c.since == since, releases.c.kind == kind, b.c.through_at.is_not(None))
        .subquery()
    )
    a = answer_queue
    return select(
        blocks, a.c.first_at, a.c.pseudonym, a.c.value, a.c.c1, a.c.c2, a.c.c3, a.c.c4, a.c.total
    ).select_from(blocks.outerjoin(a, a.c.id == blocks.c.next_id))


async def _replaced(
    conn: AsyncConnection, since: datetime, v: Table, item: str | None, kind: str
) -> Replaced:
    """The versions since replaced that an earlier release of the quarter may have counted:
    replaced after the cell's first release (a release counts a version only if made while it
    stood; the others are members of no release, so the decision would drop them anyway)."""
    first = (
        select(
            releases.c.checkpoint,
            releases.c.item_id,
            func.min(releases.c.released_at).label("first"),
        )
        .where(releases.c.since == since, releases.c.kind == kind)
        .group_by(releases.c.checkpoint, releases.c.item_id)
        .subquery()
    )
    query = (
        select(v, teams.c.name)
        .select_from(
            v.join(
                first,
                and_(first.c.checkpoint == v.c.checkpoint, first.c.item_id == v.c.item_id),
            ).outerjoin(teams, teams.c.id == v.c.team_id)
        )
        .where(v.c.quarter == since, v.c.replaced_at > first.c.first)
    )
    if item is not None:
        query = query.where(v.c.item_id == item)
    rows = await conn.execute(query)
    found: Replaced = defaultdict(dict)
    for row in rows:
        node = _node(row.name, row.key_worker_id)
        found[(row.checkpoint, row.item_id)].setdefault(node, []).append(
            Version(int(row.value), (row.first_at, row.pseudonym), row.replaced_at)
        )
    for per_leaf in found.values():
        for kept in per_leaf.values():
            kept.sort(key=lambda v: v.key)
    return dict(found)


async def respondents(conn: AsyncConnection, since: datetime, team: str, key_worker: str) -> int:
    """How many young people have an answer that counts in the quarter under one key worker:
    one row of the taking-part tallies when the quarter is kept (``part_heads``, cell
    ``("", "respondent")``), else counted from the answer tallies."""
    worker = 0 if key_worker == "None" else int(key_worker)
    team_id = select(teams.c.id).where(teams.c.name == team).scalar_subquery()
    kept = await conn.scalar(
        select(part_quarters.c.quarter).where(part_quarters.c.quarter == since)
    )
    if kept is not None:
        h = part_heads.c
        total = await conn.scalar(
            select(h.total).where(
                h.quarter == since,
                h.team_id == func.coalesce(team_id, 0),
                h.key_worker_id == worker,
                h.checkpoint == "",
                h.item_id == "respondent",
            )
        )
        return int(total or 0)
    q = answer_queue
    count = await conn.scalar(
        select(func.count(func.distinct(q.c.enrolment_id))).where(
            q.c.quarter == since,
            q.c.team_id == func.coalesce(team_id, 0),
            q.c.key_worker_id == worker,
        )
    )
    return int(count or 0)
