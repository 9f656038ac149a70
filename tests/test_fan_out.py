"""Several bot processes on one database: the prompt claim, one send budget, and a sender killed
at every step of a send. Each test runs on SQLite and on PostgreSQL.

The other "processes" are further runtimes and applications of the real bot against the same
database and the same local Bot API (each with its own engine, pacer and process name), ticked
by hand; a process "dies" at a step when its ``send_steps`` hook raises there, which leaves the
database as a SIGKILL would (the transaction in progress is rolled back, nothing more is
written, and the dead process never releases its lease).

``pytest -s tests/test_fan_out.py -k "racing or three"`` prints the figures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.ext import Application

from bot.app import build_application, build_runtime
from bot.schedule import CLAIM_LEASE, FAN_OUT_LEASE, STEPS, TickReport, tick
from conversations.runtime import Runtime
from conversations.sending import Pacer
from storage import enrolments, invites, leases, prompts, staff
from storage.db import Database
from storage.invites import new_token
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.people import YOUNG_PERSON
from tests.world import START, World, running_world

PROMPT = "It's time for your 3-month check-in"


async def seed(
    conn: AsyncConnection, people: int, now: datetime, first: int = YOUNG_PERSON
) -> None:
    """``people`` enrolled young people (Telegram ids from ``first``, above 2^32), each with a
    3-month prompt due ``now``."""
    team = await staff.ensure_team(conn, "North", now)
    worker = await staff.add_staff(conn, name="Sam", role="key_worker", team_id=team, now=now)
    for n in range(people):
        token = new_token()
        await invites.create_invite(
            conn,
            kind="young_person",
            token=token,
            created_by=worker,
            label=f"P{n}",
            now=now,
            expires_at=now + timedelta(days=14),
        )
        invite = await invites.find_invite(conn, token)
        assert invite is not None
        enrolment = await enrolments.start_pending(
            conn, invite=invite, chat_id=first + n, language="en", now=now
        )
        await enrolments.activate(conn, enrolment, now)
        await prompts.plan(
            conn,
            enrolment_id=enrolment,
            checkpoint="3_months",
            questionnaire_id="quality_experience",
            due_at=now,
            now=now,
        )


async def seed_world(world: World, people: int) -> list[int]:
    assert world.rt is not None
    async with world.rt.db.transaction() as conn:
        await seed(conn, people, world.clock.now())
    return [YOUNG_PERSON + n for n in range(people)]


@dataclass
class Process:
    """One more bot process (see :func:`another_process`)."""

    rt: Runtime
    app: Application  # type: ignore[type-arg]

    async def tick(self) -> TickReport:
        return await tick(self.rt, self.app.bot)


@asynccontextmanager
async def another_process(world: World, **settings: object) -> AsyncIterator[Process]:
    """One more bot process: its own runtime (engine, pacer, name) and application, on the
    world's database, clock and local Bot API. Leaving it stops it without releasing the
    fan-out lease, as a killed process would."""
    rt = build_runtime(world.settings.model_copy(update=settings), clock=world.clock)
    app = build_application(rt, tick_seconds=None)
    await app.initialize()
    try:
        yield Process(rt, app)
    finally:
        await app.shutdown()
        await rt.db.close()


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


def prompts_received(world: World, people: list[int]) -> dict[int, int]:
    return {chat: sum(PROMPT in t for t in world.texts(chat)) for chat in people}


class Killed(Exception):
    """The process died here."""


# --- the claim ----------------------------------------------------------------------------


async def test_a_second_process_takes_other_rows_at_once_while_the_first_holds_some(
    database_url: str,
) -> None:
    """The first claimer's transaction is still open (its rows locked): the second neither waits
    for it nor comes back empty (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite has one writer, so
    the second waits for the first's commit and then takes the rest)."""
    first_db, second_db = Database(database_url), Database(database_url)
    try:
        await first_db.migrate()
        async with first_db.transaction() as conn:
            await seed(conn, 6, START)
        if database_url.startswith("sqlite"):
            async with first_db.transaction() as conn:
                first = await prompts.claim(conn, now=START, lease=CLAIM_LEASE, limit=3, worker="a")
            async with second_db.transaction() as conn:
                second = await prompts.claim(
                    conn, now=START, lease=CLAIM_LEASE, limit=6, worker="b"
                )
        else:
            async with first_db.transaction() as conn:
                first = await prompts.claim(conn, now=START, lease=CLAIM_LEASE, limit=3, worker="a")
                started = time.monotonic()
                async with asyncio.timeout(5), second_db.transaction() as other:
                    second = await prompts.claim(
                        other, now=START, lease=CLAIM_LEASE, limit=6, worker="b"
                    )
                waited = time.monotonic() - started
            assert waited < 1.0, f"the second claimer waited {waited:.2f} s for the first"
    finally:
        await first_db.close()
        await second_db.close()
    assert len(first) == 3
    assert len(second) == 3
    assert not {p.id for p in first} & {p.id for p in second}


async def test_two_workers_racing_claim_each_prompt_once_and_both_make_progress(
    database_url: str,
) -> None:
    """Two engines (two processes) claim 300 due prompts in batches of 7 as fast as they can."""
    setup = Database(database_url)
    try:
        await setup.migrate()
        async with setup.transaction() as conn:
            await seed(conn, 300, START)
    finally:
        await setup.close()
    workers = [Database(database_url), Database(database_url)]

    async def claimer(database: Database, name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with database.transaction() as conn:
                batch = await prompts.claim(
                    conn, now=START, lease=CLAIM_LEASE, limit=7, worker=name
                )
                await asyncio.sleep(0)  # the other worker runs while this one holds its rows
            if not batch:
                return got
            got += [p.id for p in batch]

    started = time.monotonic()
    try:
        first, second = await asyncio.gather(claimer(workers[0], "a"), claimer(workers[1], "b"))
    finally:
        for database in workers:
            await database.close()
    elapsed = time.monotonic() - started
    print(
        f"\ntwo workers, {database_url.split('+')[0]}: 300 prompts claimed in {elapsed:.2f} s, "
        f"{len(first)} by one and {len(second)} by the other"
    )
    assert sorted(first + second) == sorted(set(first + second))
    assert len(first) + len(second) == 300
    if database_url.startswith("postgresql"):  # SQLite has one writer: turns go by lock luck
        assert first
        assert second


# --- the fan-out lease ----------------------------------------------------------------------


async def test_the_fan_out_lease_has_one_holder_and_passes_on_when_it_expires(
    database_url: str,
) -> None:
    database = Database(database_url)
    ttl = timedelta(seconds=60)
    try:
        await database.migrate()
        async with database.transaction() as conn:
            assert await leases.take(conn, "fan_out", holder="a", now=START, ttl=ttl) == "taken"
            assert await leases.take(conn, "fan_out", holder="b", now=START, ttl=ttl) is None
            later = START + timedelta(seconds=30)
            assert await leases.take(conn, "fan_out", holder="a", now=later, ttl=ttl) == "renewed"
            # a renews at +30 s: still a's at +60 s; b takes it once a has not renewed for 60 s
            assert await leases.take(conn, "fan_out", holder="b", now=START + ttl, ttl=ttl) is None
            gone = later + ttl
            assert await leases.holder_of(conn, "fan_out", gone) is None
            assert await leases.take(conn, "fan_out", holder="b", now=gone, ttl=ttl) == "taken"
            assert await leases.holder_of(conn, "fan_out", gone) == "b"
            await leases.release(conn, "fan_out", holder="a")  # not a's: changes nothing
            assert await leases.holder_of(conn, "fan_out", gone) == "b"
            await leases.release(conn, "fan_out", holder="b")
            assert await leases.take(conn, "fan_out", holder="c", now=gone, ttl=ttl) == "taken"
    finally:
        await database.close()


async def test_only_one_of_several_processes_fans_out(world: World) -> None:
    people = await seed_world(world, 4)
    assert world.rt is not None
    async with another_process(world) as second:
        first_report = await world.tick()
        second_report = await second.tick()
        assert (first_report.sent, first_report.standby) == (4, False)
        assert (second_report.sent, second_report.standby) == (0, True)
        await world.restart()  # a clean stop gives the lease up: the other takes it at once
        await seed_more(world, 2, first=YOUNG_PERSON + 100)
        taken = await second.tick()
        assert (taken.sent, taken.standby) == (2, False)
        assert (await world.tick()).standby
    assert prompts_received(world, people) == dict.fromkeys(people, 1)


async def seed_more(world: World, people: int, first: int) -> None:
    assert world.rt is not None
    now = world.clock.now()
    async with world.rt.db.transaction() as conn:
        await seed(conn, people, now, first=first)


# --- a kill in the middle of a fan-out ---------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
async def test_a_sender_killed_at_any_step_loses_no_prompt_and_doubles_none(
    world: World, step: str
) -> None:
    """Process A fans out five prompts and dies at ``step`` of the first send to get there (its
    other sends die at their next step). The world's process waits out A's lease, takes the
    fan-out over at once with A's rows, and every young person has the prompt exactly once."""
    people = await seed_world(world, 5)
    started = world.clock.now()
    async with another_process(world) as a:
        dead: list[str] = []

        def die(at: str) -> None:
            if at == step or dead:
                dead.append(at)
                raise Killed(at)

        a.rt.send_steps = die
        with pytest.raises(Killed):
            await a.tick()
    assert dead, "the process never reached the step"
    assert (await world.tick()).standby  # A's lease has not expired yet
    world.clock.advance(FAN_OUT_LEASE + timedelta(seconds=1))
    report = await world.tick()
    assert not report.standby
    assert world.clock.now() - started < CLAIM_LEASE  # A's rows did not wait out their claim
    received = prompts_received(world, people)
    assert received == dict.fromkeys(people, 1), received
    statuses = [s for (s,) in await rows(world, "SELECT status FROM prompts ORDER BY id")]
    # only a send that reached Telegram before the kill may be uncertain (it was delivered)
    if step == "handed":  # the first send had reached Telegram: uncertain, and delivered once
        assert "uncertain" in statuses
        assert set(statuses) <= {"sent", "uncertain"}
    else:
        assert set(statuses) == {"sent"}
    assert report.sent == statuses.count("sent")
    assert (await world.tick()).sent == 0


async def test_retry_after_holds_the_whole_batch_and_every_later_tick(world: World) -> None:
    people = await seed_world(world, 3)
    assert world.rt is not None
    world.rt.pacer = Pacer(4)  # sends 0.25 s apart: the 429 is back before the second goes
    world.api.inject_fault("sendMessage", "retry_after", retry_after=30)
    report = await world.tick()
    assert (report.sent, report.retried, report.deferred) == (0, 1, 2)
    assert prompts_received(world, people) == dict.fromkeys(people, 0)
    world.clock.advance(timedelta(seconds=20))
    assert (await world.tick()).sent == 0  # still inside "retry after"
    world.clock.advance(timedelta(seconds=11))
    assert (await world.tick()).sent == 3
    assert prompts_received(world, people) == dict.fromkeys(people, 1)


# --- one send budget ----------------------------------------------------------------------

RATE = 20.0  # CHECKIN_SEND_RATE of every process
TELEGRAM_LIMIT = 25  # the stand-in answers 429 past this many sends in any second
PEOPLE = 60


@pytest.fixture
async def limited_world(database_url: str) -> AsyncIterator[World]:
    async with running_world(database_url, send_limit_per_second=TELEGRAM_LIMIT) as w:
        yield w


async def test_three_processes_fan_out_within_one_send_budget(limited_world: World) -> None:
    """Three processes tick at the same moment: one sends every prompt at CHECKIN_SEND_RATE,
    the other two stand by; three pacers sending side by side would make 60 a second."""
    world = limited_world
    people = await seed_world(world, PEOPLE)
    async with (
        another_process(world, send_rate=RATE) as first,
        another_process(world, send_rate=RATE) as second,
        another_process(world, send_rate=RATE) as third,
    ):
        started = time.monotonic()
        reports = await asyncio.gather(first.tick(), second.tick(), third.tick())
        elapsed = time.monotonic() - started
    senders = [r for r in reports if not r.standby]
    rate = PEOPLE / elapsed
    print(
        f"\nthree processes, {world.settings.database_url.split('+')[0]}: {PEOPLE} prompts in "
        f"{elapsed:.2f} s ({rate:.1f}/s; CHECKIN_SEND_RATE={RATE:g}), "
        f"{world.api.too_many_requests} answered 429, senders: {len(senders)}"
    )
    assert len(senders) == 1
    assert senders[0].sent == PEOPLE
    assert world.api.too_many_requests == 0
    assert prompts_received(world, people) == dict.fromkeys(people, 1)
    assert elapsed >= (PEOPLE - 1) / RATE  # evenly spaced: never faster than the budget


async def test_a_process_that_lost_its_rows_may_no_longer_mark_them(database_url: str) -> None:
    """A holder paused past its lease: the next one took its rows back; the first, waking up,
    can neither record its check-in on them nor mark them sending."""
    database = Database(database_url)
    try:
        await database.migrate()
        async with database.transaction() as conn:
            await seed(conn, 2, START)
            claimed = await prompts.claim(conn, now=START, lease=CLAIM_LEASE, limit=2, worker="a")
            assert await prompts.change_claimed(
                conn, claimed[0].id, worker="a", now=START, status="sending"
            )
            later = START + FAN_OUT_LEASE
            assert await prompts.reclaim(conn, worker="b", now=later) == 2
            for prompt in claimed:
                assert not await prompts.change_claimed(
                    conn, prompt.id, worker="a", now=later, status="sending"
                )
            again = await prompts.claim(conn, now=later, lease=CLAIM_LEASE, limit=5, worker="b")
        assert sorted(p.id for p in again) == sorted(p.id for p in claimed)
        assert {p.status for p in again} == {"sending", "due"}  # the first becomes uncertain
    finally:
        await database.close()
