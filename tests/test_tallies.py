"""The answer tallies (``storage/tallies.py``) always equal a full recompute from the answers,
and a digest read from them equals the digest the full read of every answer gives.

Random sequences of what changes answers (check-ins answered with skips and Back, finished or
closed; ``/forgetme`` with and without keeping answers; retention; moves to another key worker
and team; time crossing quarters) run through the real storage functions, on SQLite and on
PostgreSQL. After every step the stored queues must hold exactly the answers that count (the
latest per young person, statement and quarter, as the digests' own records say, in the release
ledger's order), every running count must be the sum of the values up to it, the replaced
versions those the full read finds, and the rebuild must give the same rows. Along the way
digests for the service, a team and a key worker are decided both ways and recorded in the
ledger, so later ones are decided against earlier releases' marks.
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
from conversations import account
from conversations.digest import Counted, Scope, build_digest, build_digest_counted
from conversations.windows import quarter_windows
from storage import (
    admin,
    checkins,
    digests,
    ledger,
    retention,
    tallies,
    tally_reads,
    tally_rebuild,
)
from storage.db import Database
from storage.records import AnswerRecord, latest_answers
from storage.schema import (
    answer_firsts,
    answer_heads,
    answer_queue,
    answer_versions,
    staff,
    teams,
)
from storage.schema import enrolments as enrolments_table
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.test_cli import checkin_bot
from tests.test_e2e_staff import rows, service
from tests.world import World

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
        # as /forgetme does it: the ledger records where releases counted them first
        await account.forget(conn, person, keep_answers=rng.random() < 0.5, now=now)
        return "forget"
    if roll < 0.84:
        await retention.remove_identifying(conn, person, now)
        return "retention"
    worker = rng.choice(list(WORKERS))
    await admin.move_enrolment(conn, person, worker, WORKERS[worker])
    return "move"


Rows = dict[str, list[tuple[Any, ...]]]


async def _stored(conn: AsyncConnection) -> Rows:
    """The three tables of the tallies, without ids, in a fixed order (queues emptied since
    keep a head with nothing counted, which a rebuild leaves out)."""
    found: Rows = {}
    for table in (answer_queue, answer_versions, answer_heads, answer_firsts):
        columns = [c for c in table.c if c.name != "id"]
        query = select(*columns)
        if table is answer_heads:
            query = query.where(answer_heads.c.total > 0)
        rows = (await conn.execute(query)).all()
        found[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return found


async def check(conn: AsyncConnection) -> None:
    """The tallies equal a full recompute from the stored answers."""
    stored = await _stored(conn)
    # The rebuild's pure plan over the counted answers makes exactly these rows.
    records = (await conn.execute(tallies.counted_with_ids())).all()
    plan = tally_rebuild.plan((tallies.record_of(r), int(r[8])) for r in records)
    names = [[c.name for c in t.c if c.name != "id"] for t in (answer_queue, answer_versions)]
    planned = {
        "answer_queue": sorted((tuple(r[c] for c in names[0]) for r in plan[0]), key=repr),
        "answer_versions": sorted((tuple(r[c] for c in names[1]) for r in plan[1]), key=repr),
        "answer_heads": sorted(
            (tuple(r[c.name] for c in answer_heads.c) for r in plan[2]), key=repr
        ),
        "answer_firsts": sorted(
            (tuple(r[c.name] for c in answer_firsts.c) for r in plan[3]), key=repr
        ),
    }
    assert stored == planned
    # Running counts: per queue, in the ledger's order, the sum of the values up to each row.
    queue = answer_queue.c
    rows = (
        await conn.execute(
            select(answer_queue).order_by(
                queue.quarter,
                queue.team_id,
                queue.key_worker_id,
                queue.checkpoint,
                queue.item_id,
                queue.first_at,
                queue.pseudonym,
            )
        )
    ).all()
    running: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        counts = running[(r.quarter, r.team_id, r.key_worker_id, r.checkpoint, r.item_id)]
        counts[r.value - 1] += 1
        assert [r.c1, r.c2, r.c3, r.c4, r.total] == [*counts, sum(counts)]
    heads = {
        (h.quarter, h.team_id, h.key_worker_id, h.checkpoint, h.item_id): [
            h.c1,
            h.c2,
            h.c3,
            h.c4,
        ]
        for h in (await conn.execute(select(answer_heads))).all()
        if h.total
    }
    assert heads == dict(running)
    # What counts, straight from the digests' own records (team names, key worker, pseudonym).
    everything = await digests.answer_records(conn, datetime(2100, 1, 1, tzinfo=UTC))
    by_quarter: dict[datetime, list[Any]] = defaultdict(list)
    for record in everything:
        by_quarter[tallies.quarter_of(record.answered_at)].append(record)
    expected = set()
    for quarter, in_quarter in by_quarter.items():
        for e in latest_answers(in_quarter, quarter, tallies.next_quarter(quarter)):
            a = e.record
            if a.value is not None:
                expected.add((quarter, a.team, a.key_worker, a.item_id, *e.key, a.value))
    team_names = dict((await conn.execute(select(teams.c.id, teams.c.name))).all())
    got = {
        (
            r.quarter,
            team_names[r.team_id],
            str(r.key_worker_id),
            r.item_id,
            r.first_at,
            r.pseudonym,
            r.value,
        )
        for r in rows
    }
    assert got == expected


SCOPES = (Scope.service(), Scope.of_team("T1"), Scope.of_key_worker("T1", "2"))


async def same_digests(conn: AsyncConnection, now: datetime, k: int) -> int:
    """Digests for the service, a team and a key worker, decided from the tallies and from the
    full read of every answer, are the same; the releases are recorded as ``/digest`` does.
    Returns how many releases were recorded."""
    window, previous = quarter_windows(now + timedelta(microseconds=1))
    written = 0
    for scope in SCOPES:
        answers = await digests.answer_records(conn, window.until, since=previous.since)
        people = await digests.population_records(conn, window.since, window.until)
        comments = await digests.comment_records(conn, window.until)
        earlier = await ledger.released_since(conn, [previous.since, window.since])
        full = build_digest(
            scope,
            answers,
            people,
            comments,
            window=window,
            previous_window=previous,
            k=k,
            earlier=earlier,
            now=now,
            reader="test",
        )
        respondents = None
        if scope.key_worker is not None:
            respondents = await tally_reads.respondents(conn, window.since, "T1", "2")
        tallied = build_digest_counted(
            scope,
            Counted(*await tally_reads.queues(conn, window.since, k)),
            Counted(*await tally_reads.queues(conn, previous.since, k)),
            respondents,
            await digests.first_answers(conn, window.since),
            people,
            comments,
            window=window,
            previous_window=previous,
            k=k,
            earlier=earlier,
            now=now,
            reader="test",
        )
        assert tallied == full
        written += await ledger.record(conn, full.releases)
    return written


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
    released = 0
    for step in range(70):
        now += timedelta(hours=rng.choice([1, 5, 30]))
        async with db.transaction() as conn:
            seen.add(await _step(conn, rng, people, now, open_ids))
        async with db.read() as conn:
            await check(conn)
        if step % 7 == 6:
            async with db.transaction() as conn:
                released += await same_digests(conn, now, k=3)
    assert seen == {"answer", "close", "forget", "retention", "move"}
    assert released  # digests showed figures, and later ones were decided against them
    async with db.read() as conn:
        stored = await _stored(conn)
    assert stored["answer_versions"]  # someone changed an answer: the version is kept
    assert len({row[0] for row in stored["answer_queue"]}) == 2  # crossed into the next quarter
    async with db.transaction() as conn:
        await tally_rebuild.rebuild(conn)
    async with db.read() as conn:
        assert await _stored(conn) == stored
        await check(conn)


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
        assert bulk["answer_queue"]
        async with database.transaction() as conn:
            assert await tally_rebuild.rebuild(conn) == len(bulk["answer_queue"])
        async with database.read() as conn:
            assert await _stored(conn) == bulk
            await check(conn)
    finally:
        await database.close()


async def _answers_then_lost_tallies(path: Path) -> Rows:
    """A small service's answers in a migrated SQLite file, then its tallies lost (as after
    restoring a partial copy); returns the tallies as they were."""
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
            for table in (answer_queue, answer_versions, answer_heads, answer_firsts):
                await conn.execute(table.delete())
    finally:
        await database.close()
    return before


async def _tallies_now(path: Path) -> Rows:
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
    assert before["answer_queue"]
    done = checkin_bot(tmp_path, "tallies", "rebuild")
    assert done.returncode == 0, done.stderr
    counted = len(before["answer_queue"])
    assert done.stdout.strip() == (
        f"rebuilt the answer tallies: {counted} counted answers\n"
        "rebuilt the taking-part tallies of 0 kept quarters"
    )
    assert asyncio.run(_tallies_now(tmp_path / "cli.db")) == before


async def test_the_press_that_finishes_a_check_in_counts_it_into_the_tallies(world: World) -> None:
    """On SQLite a press runs on the event loop's own connection; the one that finishes a
    check-in is handed over to the worker path, which counts the answers into the tallies in
    the same transaction."""
    users = await service(world, 2, answer="Mostly")
    assert world.rt is not None
    loop = world.rt.db.loop
    if loop is not None:  # SQLite: the presses ran on the event loop's own connection
        assert loop.handovers == len(users)  # each finishing press, and only those
    counted = await rows(world, "SELECT value, total FROM answer_queue ORDER BY id")
    answered = await rows(world, "SELECT value FROM answers WHERE value IS NOT NULL")
    assert len(counted) == len(answered)
    assert {value for value, _ in counted} == {3}  # "Mostly"
    async with world.rt.db.read() as conn:
        await check(conn)


def test_an_answer_given_again_after_a_move_leaves_its_old_version_with_the_old_key_worker() -> (
    None
):
    """The same value given again under another key worker is a new version (the ledger's rule,
    ``storage.records.latest_answers``): the queue holds it under the new key worker and the
    version it replaced stays under the old one, where the releases that counted it were made."""
    at = datetime(2026, 5, 4, 10, tzinfo=UTC)
    before = AnswerRecord("p1", "1", "1", "start", "support", 3, at, at)
    after = AnswerRecord("p1", "1", "2", "start", "support", 3, at + timedelta(days=2))
    queue, versions, _heads, _firsts = tally_rebuild.plan([(before, 7), (after, 7)])
    assert [(r["key_worker_id"], r["value"]) for r in queue] == [(2, 3)]
    assert [(r["key_worker_id"], r["value"], r["first_at"]) for r in versions] == [(1, 3, at)]
    (standing,) = latest_answers([before, after], at, at + timedelta(days=30))
    assert [v.leaf for v in standing.replaced] == [("1", "1")]
