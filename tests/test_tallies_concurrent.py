"""Two PostgreSQL transactions keeping the answer tallies (``storage/tallies.py``) at once.

Every change to a queue first locks that queue's head row (``answer_heads``). Two young people
moved between the same two key workers in opposite directions, each finishing a check-in under
the new one, change the same two sets of queues in opposite directions: one leaves key worker
1's queues and joins key worker 3's, the other leaves 3's and joins 1's. Written concurrently
from two connections they must not deadlock: :func:`storage.tallies.refresh` takes the head rows
in one fixed order (by queue) in every transaction. A third connection holding key worker 1's
head rows makes the interleaving certain: both transactions are seen waiting on it before it
lets go.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import admin, checkins
from storage.db import Database
from storage.schema import answer_heads, answer_queue, staff, teams
from storage.schema import enrolments as enrolments_table
from tests.postgres import PostgresServer
from tests.test_tallies import check

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
ITEMS = ("a", "b", "c")
WORKERS = {1: 1, 3: 2}  # key worker -> team
P, Q = 1, 2  # P starts with key worker 1 and moves to 3; Q the other way


@pytest.fixture
async def db(postgres: PostgresServer, postgres_template: str) -> AsyncIterator[Database]:
    database = Database(postgres.create_database(template=postgres_template))
    yield database
    await database.close()


async def _service(conn: AsyncConnection) -> None:
    await conn.execute(
        insert(teams), [{"id": t, "name": f"T{t}", "created_at": START} for t in (1, 2)]
    )
    await conn.execute(
        insert(staff),
        [
            {
                "id": w,
                "name": f"kw{w}",
                "role": "key_worker",
                "team_id": t,
                "active": True,
                "created_at": START,
            }
            for w, t in WORKERS.items()
        ],
    )
    await conn.execute(
        insert(enrolments_table),
        [
            {
                "id": person,
                "pseudonym": secrets.token_hex(8),
                "team_id": WORKERS[worker],
                "key_worker_id": worker,
                "chat_id": 7000 + person,
                "language": "en",
                "status": "active",
                "reachable": True,
                "created_at": START,
                "enrolled_at": START,
            }
            for person, worker in ((P, 1), (Q, 3))
        ],
    )


async def _answered(conn: AsyncConnection, person: int, value: int, now: datetime) -> int:
    """A check-in at "start" under the young person's key worker, answered up to "share"."""
    enrolment = (
        await conn.execute(
            select(enrolments_table.c.team_id, enrolments_table.c.key_worker_id).where(
                enrolments_table.c.id == person
            )
        )
    ).one()
    cid = await checkins.open_checkin(
        conn,
        enrolment_id=person,
        checkpoint="start",
        questionnaire_id="q",
        questionnaire_version=1,
        language="en",
        step=ITEMS[0],
        team_id=enrolment.team_id,
        key_worker_id=enrolment.key_worker_id,
        now=now,
    )
    steps = [*ITEMS, "share"]
    for i, item in enumerate(ITEMS):
        moved = await checkins.record_answer(
            conn, cid, item_id=item, item_version=1, value=value, new_step=steps[i + 1], now=now
        )
        assert moved is not None
    return cid


async def _waiting_on_locks(db: Database) -> int:
    async with db.read() as conn:
        found = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(found or 0)


async def test_two_moves_in_opposite_directions_finish_together_without_a_deadlock(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        await _service(conn)
        for person, value in ((P, 2), (Q, 4)):  # counted under their first key workers
            cid = await _answered(conn, person, value, START)
            assert await checkins.finish(conn, cid, shared=False, now=START)
        assert await admin.move_enrolment(conn, P, 3, WORKERS[3])
        assert await admin.move_enrolment(conn, Q, 1, WORKERS[1])
        later = START + timedelta(days=2)  # the same quarter: the new answers replace the old
        open_ids = {person: await _answered(conn, person, 3, later) for person in (P, Q)}

    async def finish(person: int) -> None:
        async with db.transaction() as conn:
            assert await checkins.finish(conn, open_ids[person], shared=False, now=later)

    async with db.transaction() as holder:  # as a third writer would: key worker 1's heads
        held = await holder.execute(
            select(answer_heads.c.item_id)
            .where(answer_heads.c.key_worker_id == 1)
            .with_for_update()
        )
        assert sorted(row.item_id for row in held) == list(ITEMS)
        finishing = [asyncio.create_task(finish(person)) for person in (P, Q)]
        for _ in range(2000):  # until both wait for a lock (P to leave 1, Q to join 1)
            if await _waiting_on_locks(db) == 2 or any(task.done() for task in finishing):
                break
            await asyncio.sleep(0.005)
        assert not any(task.done() for task in finishing)
        assert await _waiting_on_locks(db) == 2
    # The holder lets go: both finish (a deadlock would fail one of them here).
    await asyncio.gather(*finishing)
    async with db.read() as conn:
        await check(conn)  # the tallies equal a full recompute
        counted = (
            await conn.execute(
                select(answer_queue.c.enrolment_id, answer_queue.c.key_worker_id, func.count())
                .group_by(answer_queue.c.enrolment_id, answer_queue.c.key_worker_id)
                .order_by(answer_queue.c.enrolment_id)
            )
        ).all()
    assert [tuple(row) for row in counted] == [(P, 3, len(ITEMS)), (Q, 1, len(ITEMS))]
