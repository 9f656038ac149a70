"""The release ledger: every figure shown to anyone, recorded before it is shown, and read back.

Storage only records and reads; what may be shown is decided in ``conversations/ledger.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.digests import counted_answers, read_answers
from storage.records import AnswerRecord, ReleasedBlock, ReleasedCell, ReleasedFigure
from storage.schema import (
    checkins,
    release_blocks,
    release_figures,
    releases,
)

LOCK_ID = 7007
"""PostgreSQL advisory lock taken while a release is decided and recorded."""


async def lock(conn: AsyncConnection) -> None:
    """Decide and record releases one at a time, so each is decided knowing every earlier one
    (SQLite: the write transaction already holds the lock)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_ID})"))


def _band(band: tuple[int, int]) -> str:
    return f"{band[0]}-{band[1]}"


def _unband(text: str) -> tuple[int, int]:
    lo, hi = text.split("-")
    return int(lo), int(hi)


async def record(conn: AsyncConnection, cells: Iterable[ReleasedCell]) -> int:
    """Write releases (their blocks and figures); returns how many cells were written."""
    written = 0
    for cell in cells:
        result = await conn.execute(
            insert(releases).values(
                since=cell.since,
                kind=cell.kind,
                checkpoint=cell.checkpoint,
                item_id=cell.item_id,
                released_at=cell.released_at,
                reader=cell.reader,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        release_id = key[0]
        if cell.blocks:
            await conn.execute(
                insert(release_blocks),
                [
                    {
                        "release_id": release_id,
                        "team": b.team,
                        "key_worker": b.key_worker,
                        "through_at": b.through_at,
                        "through_id": b.through_id,
                        "size": b.size,
                    }
                    for b in cell.blocks
                ],
            )
        if cell.figures:
            await conn.execute(
                insert(release_figures),
                [
                    {
                        "release_id": release_id,
                        "team": f.team,
                        "key_worker": f.key_worker,
                        "status": f.status,
                        "size": f.size,
                        "positive": None if f.positive is None else _band(f.positive),
                        "distribution": None
                        if f.distribution is None
                        else ",".join(_band(b) for b in f.distribution),
                    }
                    for f in cell.figures
                ],
            )
        written += 1
    return written


async def released_since(
    conn: AsyncConnection,
    starts: Sequence[datetime],
    kinds: Sequence[str] = ("answers", "departed", "comments", "response", "reach"),
) -> list[ReleasedCell]:
    """Every release of one of *kinds* for windows starting at one of *starts*, oldest first
    (``departed``: where people whose answers were deleted had been counted; ``comments``: the
    blocks of shared comments shown; ``response``: who answered each checkpoint; ``reach``: who
    can no longer be reached)."""
    if not starts:
        return []
    heads = (
        await conn.execute(
            select(releases)
            .where(releases.c.since.in_(list(starts)), releases.c.kind.in_(list(kinds)))
            .order_by(releases.c.released_at, releases.c.id)
        )
    ).all()
    ids = [h.id for h in heads]
    blocks: dict[int, list[ReleasedBlock]] = {i: [] for i in ids}
    figures: dict[int, list[ReleasedFigure]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = await conn.execute(
            select(release_blocks)
            .where(release_blocks.c.release_id.in_(chunk))
            .order_by(release_blocks.c.id)
        )
        for b in rows:
            blocks[b.release_id].append(
                ReleasedBlock(b.team, b.key_worker, b.through_at, b.through_id, b.size)
            )
        rows = await conn.execute(
            select(release_figures)
            .where(release_figures.c.release_id.in_(chunk))
            .order_by(release_figures.c.id)
        )
        for f in rows:
            distribution = None
            if f.distribution is not None:
                distribution = tuple(_unband(part) for part in f.distribution.split(","))
            positive = None if f.positive is None else _unband(f.positive)
            figures[f.release_id].append(
                ReleasedFigure(f.team, f.key_worker, f.status, f.size, positive, distribution)
            )
    return [
        ReleasedCell(
            h.since,
            h.kind,
            h.checkpoint,
            h.item_id,
            h.released_at,
            h.reader,
            tuple(blocks[h.id]),
            tuple(figures[h.id]),
        )
        for h in heads
    ]


async def answers_of(conn: AsyncConnection, enrolment_id: int) -> list[AnswerRecord]:
    """One young person's counted answers (finished or closed check-ins), as the release ledger
    saw them: read before they are deleted, to record where releases counted them."""
    query = counted_answers().where(checkins.c.enrolment_id == enrolment_id)
    return await read_answers(conn, query)
