"""A press's transaction on the event loop's own SQLite connection (storage/press_store.py,
storage/loop_sqlite.py) and as fixed SQL text on asyncpg (storage/press_pg.py): the same results
and stored rows as the ordinary worker-thread path (on SQLite and on PostgreSQL), a busy
database handed to the worker thread without blocking the event loop, a body that would suspend
refused, a failing body rolled back, and WAL checkpoints off the event loop."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage import checkins, press_sql, prompts, voice
from storage.db import Database
from storage.loop_sqlite import LoopConnection
from storage.press_pg import run_on_asyncpg
from storage.press_sql import HandOver
from storage.press_store import AsyncPressStore, PressStore, SqlitePressStore, run_press
from storage.records import Checkin
from storage.schema import answer_queue, answers, metadata
from storage.schema import checkins as checkins_table
from storage.schema import prompts as prompts_table
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.postgres import PostgresServer
from tests.test_storage import enrol

NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
CHAT = 1001
STEPS = ("power", "respected", "listened", "comment", "share", "done")
PEOPLE = 6


@pytest.fixture
async def on_loop(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite file whose presses run on the event loop's connection."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}")
    assert database.loop is not None
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
async def ordinary(database_url: str) -> AsyncIterator[Database]:
    """The same schema where every press runs in an ordinary transaction on the worker thread
    (SQLite with the loop path turned off, or PostgreSQL with the asyncpg path turned off)."""
    database = Database(database_url, presses_on_loop=False, presses_on_driver=False)
    assert database.loop is None
    assert not database.presses_on_driver
    await database.migrate()
    yield database
    await database.close()


async def seed(db: Database) -> None:
    """``PEOPLE`` young people, each with a check-in at its first statement and a prompt; the
    first also has a second prompt due; one statement has a voice clip."""
    async with db.transaction() as conn:
        for n in range(PEOPLE):
            enrolment_id = await enrol(conn, chat_id=CHAT + n, label=f"P{n}")
            checkin_id = await checkins.open_checkin(
                conn,
                enrolment_id=enrolment_id,
                checkpoint="3_months",
                questionnaire_id="q",
                questionnaire_version=1,
                language="en",
                step=STEPS[0],
                team_id=None,
                key_worker_id=None,
                now=NOW,
            )
            await prompts.plan(
                conn,
                enrolment_id=enrolment_id,
                checkpoint="3_months",
                questionnaire_id="q",
                due_at=NOW,
                now=NOW,
                status="sent",
                checkin_id=checkin_id,
            )
            if n == 0:
                await prompts.plan(
                    conn,
                    enrolment_id=enrolment_id,
                    checkpoint="6_months",
                    questionnaire_id="q",
                    due_at=NOW + timedelta(days=90),
                    now=NOW,
                )
        await voice.save_clip(
            conn,
            text_key="item.respected",
            language="en",
            audio=b"OggS",
            duration=3,
            file_id=None,
            recorded_by=None,
            now=NOW,
        )


Operation = Callable[[PressStore], Coroutine[Any, Any, Any]]


def script(seed_value: int, length: int) -> list[Operation]:
    """A random run of press operations: answers at the right step and at stale ones, Back,
    Pause, nothing to add, finishing, and every read a press makes; some on someone else's
    check-in (the chat does not own it)."""
    rng = random.Random(seed_value)
    operations: list[Operation] = []
    for index in range(length):
        cid = rng.randint(1, PEOPLE)
        chat = CHAT + (cid - 1 if rng.random() < 0.9 else rng.randint(0, PEOPLE - 1))
        step = rng.choice(STEPS) if rng.random() < 0.3 else None  # None: where it is now
        now = NOW + timedelta(minutes=index, microseconds=rng.randint(0, 999_999))
        value = rng.choice((None, 1, 2, 3, 4))
        kind = rng.choice(
            ("answer", "answer", "answer", "back", "pause", "comment", "finish", "reads")
        )

        async def operation(
            db: PressStore,
            *,
            cid: int = cid,
            chat: int = chat,
            chosen: str | None = step,
            now: datetime = now,
            value: int | None = value,
            kind: str = kind,
            shared: bool = rng.random() < 0.5,
        ) -> Any:
            owned = await db.owned(cid, chat)
            if owned is None:
                return ("not theirs", await db.by_id(cid))
            step = owned.step if chosen is None else chosen
            following = STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]
            earlier = STEPS[max(STEPS.index(step) - 1, 0)]
            done: Checkin | bool | None
            if kind == "answer":
                done = await db.record_answer(
                    cid, item_id=step, item_version=2, value=value, new_step=following, now=now
                )
            elif kind == "back":
                done = await db.move(cid, expected_step=step, new_step=earlier)
            elif kind == "pause":
                done = await db.pause(cid, expected_step=step)
            elif kind == "comment":
                done = await db.skip_comment(cid, new_step="share")
            elif kind == "finish":
                done = await db.finish(cid, shared=shared, now=now)
                if done:
                    await db.mark_prompt_answered(cid, now)
            else:
                done = None
            return (
                owned,
                done,
                await db.answer_of(cid, step),
                await db.has_clip(f"item.{step}", "en"),
                await db.another_prompt_due(owned.enrolment_id, cid),
                await db.by_id(cid),
            )

        operations.append(operation)
    return operations


async def stored(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a press writes, as SQLAlchemy reads them (the same types on
    every backend). Answers without their id, by check-in and statement: PostgreSQL's upsert
    takes a number from the id sequence even when it updates, SQLite's does not."""
    answer_columns = [c for c in answers.c if c.name != "id"]
    queries = {
        "checkins": select(checkins_table).order_by(checkins_table.c.id),
        "answers": select(*answer_columns).order_by(answers.c.checkin_id, answers.c.item_id),
        "prompts": select(prompts_table).order_by(prompts_table.c.id),
    }
    async with db.read() as conn:
        return {
            name: [tuple(row) for row in await conn.execute(query)]
            for name, query in queries.items()
        }


@pytest.mark.parametrize("seed_value", [1, 2, 3])
async def test_the_loop_path_gives_the_same_results_and_rows_as_the_ordinary_one(
    on_loop: Database, ordinary: Database, seed_value: int
) -> None:
    await seed(on_loop)
    await seed(ordinary)
    operations = script(seed_value, 120)
    assert on_loop.loop is not None
    for operation in operations:
        mine = await run_press(on_loop, operation)
        theirs = await run_press(ordinary, operation)
        assert mine == theirs
    assert on_loop.loop.fallbacks == 0  # every one of them ran on the loop's connection
    mine_rows, their_rows = await stored(on_loop), await stored(ordinary)
    assert mine_rows == their_rows
    assert len(mine_rows["answers"]) > 0  # the script did store answers
    statuses = {row[list(checkins_table.c.keys()).index("status")] for row in mine_rows["checkins"]}
    assert "finished" in statuses  # and finished a check-in


def test_every_table_a_press_touches_is_compared() -> None:
    """The statements of the fixed-text stores touch only the tables :func:`stored` compares (and
    read enrolments and voice_clips): a new table written by a press must be compared too."""
    texts = [
        sql for name, sql in vars(press_sql).items() if name.isupper() and isinstance(sql, str)
    ]
    assert set(texts) == set(press_sql.STATEMENTS)  # every statement is listed
    written = {
        table.name
        for table in metadata.sorted_tables
        for sql in press_sql.STATEMENTS
        if f"UPDATE {table.name} " in sql or f"INSERT INTO {table.name} " in sql
    }
    assert written == {"checkins", "answers", "prompts"}


@dataclass
class Held:
    """Another connection (as another process would) holding SQLite's write lock."""

    connection: sqlite3.Connection

    def release(self) -> None:
        self.connection.execute("COMMIT")


async def test_a_busy_database_hands_the_press_to_the_worker_thread_and_the_loop_runs_on(
    on_loop: Database, tmp_path: Path
) -> None:
    await seed(on_loop)
    assert on_loop.loop is not None
    holder = sqlite3.connect(tmp_path / "loop.db", isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    held = Held(holder)

    async def answer(db: PressStore) -> Any:
        return await db.record_answer(
            1, item_id="power", item_version=1, value=3, new_step="respected", now=NOW
        )

    press = asyncio.create_task(run_press(on_loop, answer))
    try:
        # The event loop gets here while the press waits for the lock: it did not wait on
        # the loop's connection (no busy timeout there) but went to the worker thread.
        for _ in range(100_000):  # until the press has met the lock (not a wait for time)
            if on_loop.loop.fallbacks:
                break
            await asyncio.sleep(0)
        assert on_loop.loop.fallbacks == 1
        assert not press.done()
        held.release()  # the other writer finishes; the waiting worker thread gets the lock
        moved = await press
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    assert moved is not None
    assert moved.step == "respected"
    async with on_loop.read() as conn:
        assert await checkins.answers_of(conn, 1) == {"power": 3}

    # and the next press, with the database free again, runs on the loop's connection
    async def back(db: PressStore) -> Any:
        return await db.move(1, expected_step="respected", new_step="power")

    assert (await run_press(on_loop, back)) is not None
    assert on_loop.loop.fallbacks == 1


async def test_a_body_that_would_suspend_is_refused_and_rolled_back(on_loop: Database) -> None:
    await seed(on_loop)

    async def awaits_the_network(db: PressStore) -> None:
        await db.record_answer(
            1, item_id="power", item_version=1, value=3, new_step="respected", now=NOW
        )
        await asyncio.sleep(0)  # as a Telegram call inside the transaction would

    with pytest.raises(RuntimeError, match="awaited something outside the database"):
        await run_press(on_loop, awaits_the_network)
    async with on_loop.read() as conn:
        assert await checkins.answers_of(conn, 1) == {}
        found = await checkins.by_id(conn, 1)
    assert found is not None
    assert found.step == "power"


async def test_an_error_in_the_body_rolls_the_whole_press_back(on_loop: Database) -> None:
    await seed(on_loop)

    async def fails_half_way(db: PressStore) -> None:
        await db.record_answer(
            1, item_id="power", item_version=1, value=3, new_step="respected", now=NOW
        )
        raise ValueError("something after the first write")

    with pytest.raises(ValueError, match="after the first write"):
        await run_press(on_loop, fails_half_way)
    async with on_loop.read() as conn:
        assert await checkins.answers_of(conn, 1) == {}
    assert (await run_press(on_loop, lambda db: db.by_id(1))) is not None  # usable again


async def test_checkpoints_run_off_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    await seed(db)
    assert db.loop is not None
    db.loop = LoopConnection(path, checkpoint_every=5)
    threads: set[int] = set()
    real = db.loop._checkpoint

    def checkpoint() -> None:
        threads.add(threading.get_ident())
        real()

    db.loop._checkpoint = checkpoint  # type: ignore[method-assign]
    try:
        for n in range(20):
            step, following = ("power", "respected") if n % 2 == 0 else ("respected", "power")

            async def press(db: PressStore, step: str = step, following: str = following) -> Any:
                return await db.move(1, expected_step=step, new_step=following)

            assert (await run_press(db, press)) is not None
        connection = db.loop.connection()
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert connection.execute("PRAGMA busy_timeout").fetchone() == (0,)
    finally:
        await db.close()  # waits for a checkpoint still running
    assert db.loop.checkpoints >= 1
    assert threads
    assert threading.get_ident() not in threads


async def test_both_stores_read_the_same_check_in(on_loop: Database, tmp_path: Path) -> None:
    """The two implementations side by side in one database: the same record, field by field
    (times as aware UTC datetimes, shared as a bool)."""
    await seed(on_loop)
    async with on_loop.transaction() as conn:
        await checkins.save_comment(conn, 2, text=None, new_step="share")
    connection = sqlite3.connect(tmp_path / "loop.db", isolation_level=None)
    try:
        connection.execute("BEGIN")
        direct = await SqlitePressStore(connection).by_id(2)
        connection.execute("ROLLBACK")
    finally:
        connection.close()
    async with on_loop.read() as conn:
        through = await AsyncPressStore(conn).by_id(2)
    assert direct == through
    assert direct is not None
    assert direct.created_at == NOW


# --- PostgreSQL: the same statements as fixed SQL text on asyncpg ------------------------------


@pytest.fixture
async def on_driver(postgres: PostgresServer, postgres_template: str) -> AsyncIterator[Database]:
    """A PostgreSQL database whose presses run as fixed SQL text on asyncpg."""
    database = Database(postgres.create_database(template=postgres_template))
    assert database.presses_on_driver
    assert database.loop is None
    yield database
    await database.close()


@pytest.fixture
async def pg_ordinary(postgres: PostgresServer, postgres_template: str) -> AsyncIterator[Database]:
    """Another PostgreSQL database whose presses run through SQLAlchemy (the worker path)."""
    database = Database(
        postgres.create_database(template=postgres_template), presses_on_driver=False
    )
    yield database
    await database.close()


class Probe(AsyncPressStore):
    """The worker path's store, noting whether the press asked to finish a check-in."""

    asked_to_finish = False

    async def finish(self, checkin_id: int, *, shared: bool, now: datetime) -> bool:
        self.asked_to_finish = True
        return await super().finish(checkin_id, shared=shared, now=now)


class RolledBack(Exception):
    pass


async def asks_to_finish(operation: Operation, db: Database) -> bool:
    """Whether ``operation`` would call ``finish`` now (run on the worker path, rolled back):
    those presses are the ones the fixed-text stores hand over."""
    probes: list[Probe] = []

    async def run() -> None:
        async with db.transaction() as conn:
            probes.append(Probe(conn))
            await operation(probes[0])
            raise RolledBack

    with pytest.raises(RolledBack):
        await run()
    return probes[0].asked_to_finish


@pytest.mark.parametrize("seed_value", [1, 2, 3, 4])
async def test_the_asyncpg_path_gives_the_same_results_and_rows_as_the_ordinary_one(
    on_driver: Database, pg_ordinary: Database, on_loop: Database, seed_value: int
) -> None:
    """The same press sequences on PostgreSQL as fixed SQL text on asyncpg, on PostgreSQL
    through SQLAlchemy, and on SQLite on the event loop's connection: the same results, the
    same rows. A press that finishes a check-in is handed over (its answers are counted into
    the tallies on the worker path, as on SQLite), every other one runs on asyncpg."""
    for db in (on_driver, pg_ordinary, on_loop):
        await seed(db)
    finishing = 0
    for operation in script(seed_value, 120):
        finishing += await asks_to_finish(operation, pg_ordinary)
        mine = await run_press(on_driver, operation)
        theirs = await run_press(pg_ordinary, operation)
        on_sqlite = await run_press(on_loop, operation)
        assert mine == theirs == on_sqlite
    assert finishing > 0
    assert on_driver.handovers == finishing  # only the finishing presses left asyncpg
    assert pg_ordinary.handovers == 0  # that one never ran there
    mine_rows, their_rows = await stored(on_driver), await stored(pg_ordinary)
    assert mine_rows == their_rows == await stored(on_loop)
    assert len(mine_rows["answers"]) > 0
    statuses = {row[list(checkins_table.c.keys()).index("status")] for row in mine_rows["checkins"]}
    assert "finished" in statuses
    tallies = select(answer_queue.c.enrolment_id, answer_queue.c.item_id, answer_queue.c.value)
    async with on_driver.read() as mine_conn, pg_ordinary.read() as their_conn:
        counted = (await mine_conn.execute(tallies.order_by(*tallies.selected_columns))).all()
        assert counted  # the finished check-ins were counted into the tallies ...
        assert (
            counted
            == (  # ... as on the ordinary path
                await their_conn.execute(tallies.order_by(*tallies.selected_columns))
            ).all()
        )


async def test_a_press_on_asyncpg_is_one_transaction(on_driver: Database) -> None:
    """A failing body rolls back every statement before it, a finishing press is handed over
    with nothing of it stored, and the pooled connection serves the next press."""
    await seed(on_driver)

    async def fails_half_way(db: PressStore) -> None:
        await db.record_answer(
            1, item_id="power", item_version=1, value=3, new_step="respected", now=NOW
        )
        raise ValueError("something after the first write")

    with pytest.raises(ValueError, match="after the first write"):
        await run_on_asyncpg(on_driver, fails_half_way)

    async def answers_then_finishes(db: PressStore) -> bool:
        await db.record_answer(
            2, item_id="power", item_version=1, value=4, new_step="share", now=NOW
        )
        return await db.finish(2, shared=True, now=NOW)

    with pytest.raises(HandOver):
        await run_on_asyncpg(on_driver, answers_then_finishes)
    async with on_driver.read() as conn:
        assert await checkins.answers_of(conn, 1) == {}
        assert await checkins.answers_of(conn, 2) == {}
        first = await checkins.by_id(conn, 1)
    assert first is not None
    assert first.step == "power"
    # through run_press the finishing press completes on the worker path, once
    assert await run_press(on_driver, answers_then_finishes) is True
    assert on_driver.handovers == 1
    async with on_driver.read() as conn:
        assert await checkins.answers_of(conn, 2) == {"power": 4}
        second = await checkins.by_id(conn, 2)
    assert second is not None
    assert second.status == "finished"
    moved = await run_on_asyncpg(
        on_driver,
        lambda db: db.record_answer(
            1, item_id="power", item_version=1, value=2, new_step="respected", now=NOW
        ),
    )
    assert moved is not None
    assert moved.step == "respected"
    assert moved.created_at == NOW


async def test_a_press_on_asyncpg_that_is_cancelled_leaves_nothing_and_no_open_transaction(
    on_driver: Database,
) -> None:
    """Cancelled while it waits for a row another transaction holds: nothing stored, and the
    connection (its state unknown) is not given to the next press."""
    await seed(on_driver)
    started = asyncio.Event()

    async def answer(db: PressStore) -> Any:
        started.set()
        return await db.record_answer(
            1, item_id="power", item_version=1, value=3, new_step="respected", now=NOW
        )

    async with on_driver.transaction() as holder:  # holds check-in 1's row
        await holder.execute(
            checkins_table.update().where(checkins_table.c.id == 1).values(comment=None)
        )
        press = asyncio.create_task(run_on_asyncpg(on_driver, answer))
        await started.wait()
        for _ in range(1000):  # until the update waits for the lock (not a wait for time)
            await asyncio.sleep(0)
        press.cancel()
        with pytest.raises(asyncio.CancelledError):
            await press
    moved = await run_press(
        on_driver,
        lambda db: db.record_answer(
            1, item_id="power", item_version=1, value=4, new_step="respected", now=NOW
        ),
    )
    assert moved is not None
    async with on_driver.read() as conn:
        assert await checkins.answers_of(conn, 1) == {"power": 4}
