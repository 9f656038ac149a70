"""The taking-part tallies (``storage/part_tallies.py``: response and reach queues) always equal
a full recompute, and digests decided from them equal digests decided from the full records.

Random sequences of what changes who was asked, who answered and who can be reached (prompts
sent; check-ins answered, finished or closed; ``/forgetme`` with and without keeping answers;
retention; moves to another key worker and team; stop, resume, blocking and unblocking the bot,
with and without a time; exits; the reach catch-up; time crossing a quarter) run through the
real storage functions, on SQLite and on PostgreSQL. After every step the stored rows must be
exactly what the pure plan over everyone gives, every running count the sum of the values up to
it, and the queues what the digests' own full read (``storage.digests.population_records`` and
``first_answers`` through the response and reach rules) says; along the way digests for the
service, a team and a key worker are decided both ways and recorded in the release ledger, so
later ones are decided against earlier releases' marks.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from conversations.digest import Counted, Scope, TakingPart, build_digest, build_digest_counted
from conversations.participation import RESPONSE, response_events
from conversations.publication import latest_answers
from conversations.reach import REACH, reach_events
from conversations.windows import quarter_windows
from storage import (
    digests,
    enrolments,
    ledger,
    part_tallies,
    prompts,
    reach,
    tally_reads,
)
from storage.db import Database
from storage.part_tallies import PARTS
from storage.records import ANSWERED, REACH_CELL
from storage.schema import part_heads, part_queue, part_versions, teams
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.test_cli import checkin_bot
from tests.test_tallies import CHECKPOINTS, START, _service, _step

SCOPES = (Scope.service(), Scope.of_team("T1"), Scope.of_key_worker("T1", "2"))
PEOPLE = 12


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def _part_step(
    conn: AsyncConnection, rng: random.Random, now: datetime, open_ids: list[int]
) -> str:
    """One write that may change someone's taking part."""
    person = rng.randint(1, PEOPLE)
    roll = rng.random()
    if roll < 0.45:
        return await _step(conn, rng, PEOPLE, now, open_ids)
    if roll < 0.65:
        await _prompt(conn, person, rng.choice(CHECKPOINTS), now)
        return "prompt"
    if roll < 0.72:
        await enrolments.stop(conn, person, now)
        return "stop"
    if roll < 0.79:
        await enrolments.resume(conn, person, now if rng.random() < 0.5 else None)
        return "resume"
    if roll < 0.88:
        timed = now if rng.random() < 0.5 else None
        await enrolments.set_reachable(conn, 5000 + person, rng.random() < 0.5, timed)
        return "reachable"
    if roll < 0.94:
        await enrolments.mark_exit(conn, person, now)
        return "exit"
    await reach.catch_up(conn, now)
    return "catch_up"


async def _prompt(conn: AsyncConnection, person: int, checkpoint: str, now: datetime) -> None:
    await prompts.plan(
        conn,
        enrolment_id=person,
        checkpoint=checkpoint,
        questionnaire_id="q",
        due_at=now,
        now=now,
        status="sent",
        sent_at=now,
    )


def _names(rows: list[dict[str, Any]], table: Any) -> list[tuple[Any, ...]]:
    columns = [c.name for c in table.c if c.name != "id"]
    return sorted((tuple(r[c] for c in columns) for r in rows), key=repr)


async def _stored(conn: AsyncConnection) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    for table in (part_queue, part_versions, part_heads):
        columns = [c for c in table.c if c.name != "id"]
        query = select(*columns)
        if table is part_heads:
            query = query.where(part_heads.c.total > 0)
        found[table.name] = sorted((tuple(r) for r in (await conn.execute(query)).all()), key=repr)
    return found


async def check(conn: AsyncConnection, now: datetime) -> None:
    """The taking-part tallies equal a full recompute."""
    stored = await _stored(conn)
    quarters = await part_tallies.kept_quarters(conn)
    everyone = await part_tallies.read_people(conn, None)
    rows, versions, heads = part_tallies.plan(everyone.values(), quarters)
    assert stored == {
        "part_queue": _names(rows, part_queue),
        "part_versions": _names(versions, part_versions),
        "part_heads": sorted((tuple(r[c.name] for c in part_heads.c) for r in heads), key=repr),
    }
    # Running counts: per queue, in the ledger's order, the sum of the values up to each row.
    q = part_queue.c
    ordered = (
        await conn.execute(
            select(part_queue).order_by(
                q.quarter,
                q.team_id,
                q.key_worker_id,
                q.checkpoint,
                q.item_id,
                q.first_at,
                q.pseudonym,
            )
        )
    ).all()
    running: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in ordered:
        counts = running[(r.quarter, r.team_id, r.key_worker_id, r.checkpoint, r.item_id)]
        counts[r.value - 1] += 1
        assert [r.c1, r.c2, r.c3, r.c4, r.total] == [*counts, sum(counts)]
    assert {
        (h.quarter, h.team_id, h.key_worker_id, h.checkpoint, h.item_id): [h.c1, h.c2, h.c3, h.c4]
        for h in (await conn.execute(select(part_heads))).all()
        if h.total
    } == dict(running)
    # The current quarter's queues, straight from the digests' own full read (team names).
    window = quarter_windows(now + timedelta(microseconds=1))[0]
    if window.since not in quarters:
        return
    people = await digests.population_records(conn, window.since, window.until)
    firsts = await digests.first_answers(conn, window.since)
    events = response_events(people, firsts, window) + reach_events(people, window)
    answers = await digests.answer_records(conn, window.until, since=window.since)
    expected = {
        (
            e.record.team,
            e.record.key_worker,
            e.record.checkpoint,
            e.record.item_id,
            *e.key,
            e.record.value,
        )
        for e in latest_answers(events, window.since, window.until)
        if e.record.value is not None
    } | {  # who has an answer that counts, per key worker (a key worker's respondents)
        (e.record.team, e.record.key_worker, "", "respondent", window.since, e.record.respondent, 4)
        for e in latest_answers(answers, window.since, window.until)
        if e.record.value is not None
    }
    names = dict((await conn.execute(select(teams.c.id, teams.c.name))).all())
    got = {
        (
            names.get(r.team_id, digests.NO_TEAM),
            str(r.key_worker_id or None),
            r.checkpoint,
            r.item_id,
            r.first_at,
            r.pseudonym,
            r.value,
        )
        for r in ordered
        if r.quarter == window.since
    }
    assert got == expected


async def taking_part(conn: AsyncConnection, since: datetime, k: int) -> TakingPart:
    """The window's response and reach queues read from the taking-part tallies."""
    return TakingPart(
        Counted(*await tally_reads.queues(conn, since, k, RESPONSE, PARTS, ANSWERED)),
        Counted(*await tally_reads.queues(conn, since, k, REACH, PARTS, REACH_CELL[1])),
    )


async def same_digests(conn: AsyncConnection, now: datetime, k: int) -> int:
    """Digests decided from the tallies (as ``/digest`` does) and from the full records are the
    same; the releases are recorded. Returns how many were recorded."""
    window, previous = quarter_windows(now + timedelta(microseconds=1))
    await reach.catch_up(conn, now)
    await part_tallies.ensure_quarter(conn, window.since, now)
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
            (),
            (),
            await digests.shared_comment_records(conn, window.since, window.until),
            window=window,
            previous_window=previous,
            k=k,
            earlier=earlier,
            now=now,
            reader="test",
            taking_part=await taking_part(conn, window.since, k),
        )
        assert tallied == full
        written += await ledger.record(conn, full.releases)
    return written


@pytest.mark.parametrize("seed_value", [1, 2, 3])
async def test_taking_part_tallies_equal_a_full_recompute_after_random_sequences(
    db: Database, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    async with db.transaction() as conn:
        await _service(conn, PEOPLE)
        for person in range(1, PEOPLE + 1):  # everyone is asked at the start
            await _prompt(conn, person, "start", START)
    now = START
    open_ids: list[int] = []
    seen: set[str] = set()
    released: dict[str, int] = defaultdict(int)
    for step in range(90):
        now += timedelta(hours=rng.choice([1, 5, 30]))
        async with db.transaction() as conn:
            seen.add(await _part_step(conn, rng, now, open_ids))
        async with db.read() as conn:
            await check(conn, now)
        if step % 6 == 5:
            async with db.transaction() as conn:
                await same_digests(conn, now, k=3)
            async with db.read() as conn:
                await check(conn, now)
                for release in await ledger.released_since(conn, [*await _quarters(conn)]):
                    released[release.kind] += 1
    assert {"answer", "prompt", "stop", "resume", "reachable", "exit", "forget", "move"} <= seen
    assert released[RESPONSE]  # shown, and later ones decided given them
    assert released[REACH]
    async with db.read() as conn:
        stored = await _stored(conn)
        assert len(await part_tallies.kept_quarters(conn)) == 2  # crossed into the next quarter
    assert stored["part_versions"]  # someone's state changed: the version is kept
    async with db.transaction() as conn:
        assert await part_tallies.rebuild(conn) == 2
    async with db.read() as conn:
        assert await _stored(conn) == stored


async def _quarters(conn: AsyncConnection) -> list[datetime]:
    return await part_tallies.kept_quarters(conn)


async def test_a_quarter_is_kept_from_its_first_digest(db: Database) -> None:
    """Before any digest nothing is kept (no write pays for it); the first digest of a quarter
    computes it for everyone: those prompted before it are "not yet" from its start."""
    async with db.transaction() as conn:
        await _service(conn, 6)
        for person in range(1, 7):
            await _prompt(conn, person, "start", START)
    async with db.read() as conn:
        assert await _stored(conn) == {"part_queue": [], "part_versions": [], "part_heads": []}
    later = datetime(2026, 4, 2, tzinfo=UTC)
    quarter = quarter_windows(later)[0].since
    async with db.transaction() as conn:
        await reach.catch_up(conn, later)
        assert await part_tallies.ensure_quarter(conn, quarter, later)
        assert not await part_tallies.ensure_quarter(conn, quarter, later)
    async with db.read() as conn:
        rows = (await conn.execute(select(part_queue))).all()
        await check(conn, later)
    response = [r for r in rows if r.item_id == ANSWERED]
    assert len(response) == 6
    assert {(r.value, r.first_at) for r in response} == {(1, quarter)}


async def _kept_then_lost(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """A small service with prompts, answers and a kept quarter in a migrated SQLite file, then
    its taking-part rows lost (as after restoring a partial copy); returns them as they were."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(5)
    try:
        async with database.transaction() as conn:
            await _service(conn, PEOPLE)
            for person in range(1, PEOPLE + 1):
                await _prompt(conn, person, "start", START)
        now = START
        for step in range(30):
            now += timedelta(hours=5)
            async with database.transaction() as conn:
                await _part_step(conn, rng, now, [])
            if step == 10:
                async with database.transaction() as conn:
                    await same_digests(conn, now, k=3)
        async with database.read() as conn:
            before = await _stored(conn)
        async with database.transaction() as conn:
            for table in (part_queue, part_versions, part_heads):
                await conn.execute(table.delete())
    finally:
        await database.close()
    return before


async def _rows_now(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.read() as conn:
            return await _stored(conn)
    finally:
        await database.close()


def test_the_rebuild_command_recomputes_the_taking_part_tallies(tmp_path: Path) -> None:
    assert checkin_bot(tmp_path, "migrate").returncode == 0
    before = asyncio.run(_kept_then_lost(tmp_path / "cli.db"))
    assert before["part_queue"]
    done = checkin_bot(tmp_path, "tallies", "rebuild")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("rebuilt the taking-part tallies of 1 kept quarter")
    assert asyncio.run(_rows_now(tmp_path / "cli.db")) == before
