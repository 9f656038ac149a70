"""The answer tallies (``storage/tallies.py``) always equal a full recompute from the answers.

Random sequences of what changes answers (check-ins answered with skips and Back, finished or
closed; ``/forgetme`` with and without keeping answers; retention; moves to another key worker
and team; time crossing quarters) run through the real storage functions, on SQLite and on
PostgreSQL. After every step the stored queues must hold exactly the answers that count (the
latest per young person, statement and quarter, as the digests' own records say), every running
count must be the sum of the values before it, and ``checkin-bot tallies rebuild`` must give the
same queues. Holes (positions of people who left) are allowed and checked for; they count
nowhere.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.digest import seed, seed_tallies
from conversations.publication import latest_answers
from storage import admin, checkins, digests, enrolments, ledger, retention, tallies, tally_rebuild
from storage.db import Database
from storage.records import ReleasedBlock, ReleasedCell
from storage.schema import answer_heads, answer_queue, release_blocks, staff, teams
from storage.schema import enrolments as enrolments_table
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.test_cli import checkin_bot

START = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # near a quarter's end: sequences cross it
ITEMS = ("a", "b", "c")
CHECKPOINTS = ("start", "3_months")
WORKERS = {1: 1, 2: 1, 3: 2}  # key worker -> team


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def _service(conn: AsyncConnection, people: int) -> None:
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
                "id": n,
                "pseudonym": secrets.token_hex(8),
                "team_id": WORKERS[n % 3 + 1],
                "key_worker_id": n % 3 + 1,
                "chat_id": 5000 + n,
                "language": "en",
                "status": "active",
                "reachable": True,
                "created_at": START,
                "enrolled_at": START,
            }
            for n in range(1, people + 1)
        ],
    )


async def _answer_checkin(
    conn: AsyncConnection, rng: random.Random, person: int, now: datetime
) -> int | None:
    """Open a check-in and answer it (skips and Back included); leave it open, or finish it."""
    row = (
        await conn.execute(
            select(
                enrolments_table.c.team_id,
                enrolments_table.c.key_worker_id,
                enrolments_table.c.status,
            ).where(enrolments_table.c.id == person)
        )
    ).one()
    if row.status != "active" or await checkins.live_checkin(conn, person) is not None:
        return None
    cid = await checkins.open_checkin(
        conn,
        enrolment_id=person,
        checkpoint=rng.choice(CHECKPOINTS),
        questionnaire_id="q",
        questionnaire_version=1,
        language="en",
        step=ITEMS[0],
        team_id=row.team_id,
        key_worker_id=row.key_worker_id,
        now=now,
    )
    steps = [*ITEMS, "share"]
    i = 0
    while i < len(ITEMS):
        value = rng.choice([None, 1, 2, 3, 4, 4, 3])
        moved = await checkins.record_answer(
            conn,
            cid,
            item_id=ITEMS[i],
            item_version=1,
            value=value,
            new_step=steps[i + 1],
            now=now,
        )
        assert moved is not None
        if i and rng.random() < 0.2:  # Back: the same statement again, changed
            await checkins.move(conn, cid, expected_step=steps[i + 1], new_step=ITEMS[i])
            continue
        i += 1
    if rng.random() < 0.7:
        assert await checkins.finish(conn, cid, shared=False, now=now)
        return None
    return cid  # left open: closed later, or never counted


async def _step(
    conn: AsyncConnection,
    rng: random.Random,
    people: int,
    now: datetime,
    open_ids: list[int],
    *,
    leaving: bool = True,
) -> str:
    person = rng.randint(1, people)
    roll = rng.random()
    if not leaving and roll >= 0.7:
        await retention.remove_identifying(conn, person, now)  # answers kept: no hole
        return "retention"
    if roll < 0.55:
        cid = await _answer_checkin(conn, rng, person, now)
        if cid is not None:
            open_ids.append(cid)
        return "answer"
    if roll < 0.7 and open_ids:
        await checkins.close_checkin(conn, open_ids.pop(rng.randrange(len(open_ids))), now)
        return "close"
    if roll < 0.78:
        await enrolments.forget(conn, person, keep_answers=rng.random() < 0.5, now=now)
        return "forget"
    if roll < 0.84:
        await retention.remove_identifying(conn, person, now)
        return "retention"
    worker = rng.choice(list(WORKERS))
    await admin.move_enrolment(conn, person, worker, WORKERS[worker])
    return "move"


async def _stored(conn: AsyncConnection) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    """Every queue as stored: ``(position, enrolment, value, c1..c4)`` in position order."""
    rows = (
        await conn.execute(
            select(answer_queue).order_by(
                answer_queue.c.quarter,
                answer_queue.c.team_id,
                answer_queue.c.key_worker_id,
                answer_queue.c.checkpoint,
                answer_queue.c.item_id,
                answer_queue.c.position,
            )
        )
    ).all()
    found: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        key = (r.quarter, r.team_id, r.key_worker_id, r.checkpoint, r.item_id)
        found[key].append(
            (r.position, r.enrolment_id, r.value, r.c1, r.c2, r.c3, r.c4, r.replaced_value)
        )
    return found


async def check(conn: AsyncConnection) -> None:
    """The tallies equal a full recompute from the stored answers."""
    stored = await _stored(conn)
    heads = {
        (h.quarter, h.team_id, h.key_worker_id, h.checkpoint, h.item_id): h.assigned
        for h in (await conn.execute(select(answer_heads))).all()
    }
    assert set(heads) == set(stored)
    pseudonyms = dict(
        (await conn.execute(select(enrolments_table.c.id, enrolments_table.c.pseudonym))).all()
    )
    names = dict((await conn.execute(select(teams.c.id, teams.c.name))).all())
    counted: set[tuple[Any, ...]] = set()
    for key, queue in stored.items():
        assert [p for p, *_ in queue] == list(range(heads[key]))  # every position, once
        running = [0, 0, 0, 0]
        for _, person, value, *counts, _ in queue:
            if value is not None:
                running[value - 1] += 1
                quarter, team, worker, checkpoint, item = key
                entry = (quarter, names[team], str(worker), checkpoint, item)
                counted.add((*entry, pseudonyms[person], value))
            assert counts == running  # running counts: holes count nowhere
    # What counts, straight from the answers (as the digests' own records read them).
    records = await digests.answer_records(conn, datetime(2100, 1, 1, tzinfo=UTC))
    by_quarter: dict[datetime, list[Any]] = defaultdict(list)
    for r in records:
        by_quarter[tallies.quarter_of(r.answered_at)].append(r)
    expected = set()
    replaced = []
    for quarter, in_quarter in by_quarter.items():
        end = datetime(quarter.year + quarter.month // 10, quarter.month % 12 + 3, 1, tzinfo=UTC)
        for e in latest_answers(in_quarter, quarter, end):
            r = e.record
            replaced += [
                (quarter, r.respondent, r.checkpoint, r.item_id, v.value) for v in e.replaced
            ]
            if r.value is not None:
                expected.add((quarter, r.team, r.key_worker, *e.key[1:2], r.value))
    got = {(q, team, kw, p, v) for q, team, kw, _, _, p, v in counted}
    assert got == {(q, team, kw, p, v) for q, team, kw, p, v in expected}
    # Replaced versions: those the release ledger keeps for the releases that counted them.
    kept = sorted(
        (key[0], pseudonyms[row[1]], key[3], key[4], row[7])
        for key, queue in stored.items()
        for row in queue
        if row[7] is not None
    )
    assert kept == sorted(replaced)
    per_cell = {(q, team, kw, cp, item, p) for q, team, kw, cp, item, p, _ in counted}
    assert len(per_cell) == len(counted)  # one position per person, statement and quarter
    # The rebuild makes the same queues, holes closed up, in the same order.
    rebuilt = tally_rebuild.plan(
        [tuple(r) for r in (await conn.execute(tally_rebuild._record_query())).all()],
        [tuple(r) for r in (await conn.execute(tally_rebuild._HELD)).all()],
    )
    assert {
        leaf: [(e.person, e.value, e.replaced_value) for e in entries]
        for leaf, entries in rebuilt.items()
    } == {
        key: [(row[1], row[2], row[7]) for row in queue if (row[2], row[7]) != (None, None)]
        for key, queue in stored.items()
        if any((row[2], row[7]) != (None, None) for row in queue)
    }


@pytest.mark.parametrize("seed_value", [1, 2, 3])
async def test_tallies_equal_a_full_recompute_after_random_sequences(
    db: Database, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    people = 12
    async with db.transaction() as conn:
        await _service(conn, people)
    now = START
    open_ids: list[int] = []
    seen: set[str] = set()
    for _ in range(70):
        now += timedelta(hours=rng.choice([1, 5, 30]))
        async with db.transaction() as conn:
            seen.add(await _step(conn, rng, people, now, open_ids))
        async with db.read() as conn:
            await check(conn)
    assert seen == {"answer", "close", "forget", "retention", "move"}
    async with db.read() as conn:
        holes = await conn.scalar(
            select(answer_queue.c.position).where(
                answer_queue.c.value.is_(None), answer_queue.c.replaced_value.is_(None)
            )
        )
        quarters = {q for q, *_ in await _stored(conn)}
        changed = await conn.scalar(
            select(answer_queue.c.position).where(answer_queue.c.replaced_value.is_not(None))
        )
    assert holes is not None  # someone left: their positions are holes
    assert changed is not None  # someone changed an answer: the version it replaced is kept
    assert len(quarters) == 2  # the sequence crossed into the next quarter
    async with db.transaction() as conn:
        await tally_rebuild.rebuild(conn)
    async with db.read() as conn:
        await check(conn)
        holes = await conn.scalar(
            select(answer_queue.c.position).where(
                answer_queue.c.value.is_(None), answer_queue.c.replaced_value.is_(None)
            )
        )
    assert holes is None  # the rebuild closes the holes up


async def test_the_benchmark_seed_equals_the_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.migrate()
    await database.close()
    seed(path, people=300, answer_count=5000)
    seed_tallies(path)
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.read() as conn:
            bulk = await _stored(conn)
            bulk_heads = (await conn.execute(select(answer_heads))).all()
        async with database.transaction() as conn:
            await conn.execute(answer_queue.delete())
            await conn.execute(answer_heads.delete())
            assert await tally_rebuild.rebuild(conn) == sum(len(q) for q in bulk.values())
        async with database.read() as conn:
            assert await _stored(conn) == bulk
            assert sorted((await conn.execute(select(answer_heads))).all()) == sorted(bulk_heads)
            await check(conn)
    finally:
        await database.close()


async def _answers_then_lost_tallies(path: Path) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    """A small service's answers in a migrated SQLite file, then its tallies lost (as after
    restoring a partial copy); returns the queues as they were."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(11)
    try:
        async with database.transaction() as conn:
            await _service(conn, 10)
        now = START
        for _ in range(30):
            now += timedelta(hours=5)
            async with database.transaction() as conn:
                await _answer_checkin(conn, rng, rng.randint(1, 10), now)
        async with database.read() as conn:
            before = await _stored(conn)
        async with database.transaction() as conn:
            await conn.execute(answer_queue.delete())
            await conn.execute(answer_heads.delete())
    finally:
        await database.close()
    return before


async def _tallies_now(path: Path) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.read() as conn:
            await check(conn)
            return await _stored(conn)
    finally:
        await database.close()


def test_the_rebuild_command_recomputes_the_tallies(tmp_path: Path) -> None:
    assert checkin_bot(tmp_path, "migrate").returncode == 0
    before = asyncio.run(_answers_then_lost_tallies(tmp_path / "cli.db"))
    done = checkin_bot(tmp_path, "tallies", "rebuild")
    assert done.returncode == 0, done.stderr
    positions = sum(1 for q in before.values() for row in q if row[2] is not None)
    assert positions
    assert done.stdout.strip() == f"rebuilt the answer tallies: {positions} counted answers"
    after = asyncio.run(_tallies_now(tmp_path / "cli.db"))

    def order(queues: dict[tuple[Any, ...], list[tuple[Any, ...]]]) -> dict[Any, list[Any]]:
        return {
            key: [(person, value) for _, person, value, *_ in queue if value is not None]
            for key, queue in queues.items()
            if any(value is not None for _, _, value, *_ in queue)
        }

    assert order(after) == order(before)  # the same people, in the order they were counted
    assert all((r[2], r[7]) != (None, None) for q in after.values() for r in q)  # no holes


async def test_release_marks_by_time_become_positions_and_follow_a_rebuild(db: Database) -> None:
    """Ledger rows written before the tallies name the last one counted by time; the migration
    (the same rebuild) gives them their position. A rebuild closes holes and moves position
    marks with them, so an earlier release still counts the same young people."""
    people = 12
    async with db.transaction() as conn:
        await _service(conn, people)
    now = START
    for person in (1, 4, 7, 10):  # key worker 2's young people (n % 3 + 1 == 2)
        now += timedelta(hours=3)
        async with db.transaction() as conn:
            cid = await checkins.open_checkin(
                conn,
                enrolment_id=person,
                checkpoint="start",
                questionnaire_id="q",
                questionnaire_version=1,
                language="en",
                step=ITEMS[0],
                team_id=1,
                key_worker_id=2,
                now=now,
            )
            await checkins.record_answer(
                conn, cid, item_id=ITEMS[0], item_version=1, value=3, new_step="share", now=now
            )
            assert await checkins.finish(conn, cid, shared=False, now=now)
    async with db.read() as conn:
        queue = (
            await conn.execute(
                select(answer_queue, enrolments_table.c.pseudonym)
                .join(enrolments_table, enrolments_table.c.id == answer_queue.c.enrolment_id)
                .where(answer_queue.c.key_worker_id == 2, answer_queue.c.value.is_not(None))
                .order_by(
                    answer_queue.c.checkpoint, answer_queue.c.item_id, answer_queue.c.position
                )
            )
        ).all()
    first = queue[0]
    same = [r for r in queue if (r.checkpoint, r.item_id) == (first.checkpoint, first.item_id)]
    assert len(same) >= 2
    mark = same[1]
    release = ReleasedCell(
        first.quarter,
        "answers",
        first.checkpoint,
        first.item_id,
        now,
        "cli",
        (ReleasedBlock("T1", "2", mark.counted_at, mark.pseudonym, 2),),  # an old row: by time
        (),
    )
    async with db.transaction() as conn:
        await ledger.record(conn, [release])
        await tally_rebuild.rebuild(conn)
    async with db.read() as conn:
        (pos,) = (await conn.execute(select(release_blocks.c.through_pos))).one()
    assert pos == 2
    # Someone counted before the mark leaves: a hole; the rebuild closes it, the mark follows.
    async with db.transaction() as conn:
        await enrolments.forget(conn, same[0].enrolment_id, keep_answers=False, now=now)
        await tally_rebuild.rebuild(conn)
    async with db.read() as conn:
        (pos,) = (await conn.execute(select(release_blocks.c.through_pos))).one()
        await check(conn)
    assert pos == 1
