"""Faults: Telegram failing during a check-in and the scheduler, and the database failing.

Telegram's side is the local Bot API's fault injection (429 with retry_after, 500, a reset
connection, "bot was blocked"); the scheduler's 429/500/hang/blocked cases are in
test_e2e_schedule.py. The database's side is a real second writer holding SQLite's lock, a real
"database or disk is full" (``max_page_count``), and the same error raised at the one statement
that stores an answer. In every case: no crash, a kind answer, nothing lost, doubled or
half-written.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from core.errors import StorageError
from storage import db as storage_db
from storage.db import Database
from storage.press_store import SqlitePressStore
from tests.people import YOUNG_PERSON, enrolled
from tests.world import World

YP = YOUNG_PERSON
SORRY = "Sorry, something went wrong on my side"
ALREADY = "That was already saved"


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


def database_file(world: World) -> Path:
    return Path(world.settings.database_url.split("///", 1)[1])


async def answers(world: World) -> list[tuple[object, ...]]:
    return await rows(world, "SELECT item_id, value FROM answers ORDER BY id")


async def step(world: World) -> str:
    [(where,)] = await rows(world, "SELECT step FROM checkins WHERE status IN ('open', 'paused')")
    return str(where)


# --- Telegram failing while a young person answers ---------------------------------------------


async def test_answer_callback_failing_keeps_the_answer_and_carries_on(world: World) -> None:
    first = (await enrolled(world))[-1]
    old_no = next(data for label, data in world.api.buttons(first) if label.endswith(" No"))
    world.api.inject_fault("answerCallbackQuery", "server_error")
    replies = await world.press(YP, "Mostly", first)
    assert await answers(world) == [("power", 3)]
    assert await step(world) == "respected"
    # A failed callback answer is not an error: the next statement is shown all the same.
    assert not any(SORRY in m.content for m in replies)
    assert "I feel understood and respected" in replies[-1].content
    # Pressing the old button again stores nothing twice; /checkin shows the next statement.
    await world.press_data(YP, first, old_no, verify=False)
    assert world.api.callback_answers[-1]["text"].startswith(ALREADY)
    assert await answers(world) == [("power", 3)]
    shown = await world.say(YP, "/checkin")
    assert "I feel understood and respected" in shown[-1].content


@pytest.mark.parametrize("kind", ["server_error", "reset", "retry_after"])
async def test_edit_failing_sends_the_next_statement_instead(world: World, kind: Any) -> None:
    first = (await enrolled(world))[-1]
    world.api.inject_fault("editMessageText", kind, retry_after=1)
    replies = await world.press(YP, "Yes, definitely", first)
    assert await answers(world) == [("power", 4)]
    assert replies[-1].message_id != first.message_id  # a new message, as the edit failed
    assert "I feel understood and respected" in replies[-1].content
    following = await world.press(YP, "Mostly", replies[-1])
    assert "I feel my key worker cares" in following[-1].content
    assert await answers(world) == [("power", 4), ("respected", 3)]


async def test_blocked_while_answering_marks_unreachable_and_keeps_the_answer(
    world: World,
) -> None:
    first = (await enrolled(world))[-1]
    world.api.inject_fault("editMessageText", "blocked")
    world.api.inject_fault("sendMessage", "blocked", chat_id=YP)
    await world.press(YP, "Not really", first)
    assert await answers(world) == [("power", 2)]
    world.api.block_bot(YP)
    await world.idle()
    assert await rows(world, "SELECT reachable FROM enrolments") == [(0,)]


async def test_a_reset_long_poll_is_retried(world: World) -> None:
    await enrolled(world)
    world.api.inject_fault("getUpdates", "reset", times=2)
    replies = await world.say(YP, "/help")
    assert replies, "the bot answered after its polling connection was reset"


async def test_a_reset_send_in_the_scheduler_is_retried_once_not_doubled(world: World) -> None:
    first = (await enrolled(world))[-1]
    message = first
    for _ in range(9):
        message = (await world.press(YP, "Mostly", message))[-1]
    message = (await world.press(YP, "Nothing to add", message))[-1]
    await world.press(YP, "Keep them private", message)
    world.clock.set(datetime(2026, 4, 5, 12, 0, tzinfo=UTC))
    world.api.inject_fault("sendMessage", "reset")
    assert (await world.tick()).retried == 1
    world.clock.advance(timedelta(minutes=3))
    assert (await world.tick()).sent == 1
    for _ in range(3):
        world.clock.advance(timedelta(hours=1))
        await world.tick()
    assert sum("It's time for your 3-month check-in" in t for t in world.texts(YP)) == 1


# --- the database failing ----------------------------------------------------------------------


@contextmanager
def writer_holding_the_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's writer: holds SQLite's write lock until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def quick_lock_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(storage_db, "LOCK_ATTEMPTS", 3)
    monkeypatch.setattr(storage_db, "LOCK_BACKOFF_S", 0.01)


async def test_a_locked_database_gives_a_clear_error_after_retrying(
    tmp_path: Path, quick_lock_timeouts: None, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    try:
        with writer_holding_the_lock(path), pytest.raises(StorageError) as raised:
            async with db.transaction() as conn:
                await conn.execute(text("INSERT INTO teams (name, created_at) VALUES ('x', 0)"))
        assert str(raised.value) == (
            "the database is locked by another process; nothing was changed, try again"
        )
        retries = [r for r in caplog.records if "retrying" in r.getMessage()]
        assert len(retries) == 2  # three attempts in all
        async with db.read() as conn:  # a reader never waits for the writer
            assert (await conn.execute(text("SELECT COUNT(*) FROM teams"))).scalar() == 0
        async with db.transaction() as conn:  # and once the lock is gone, writes work
            await conn.execute(text("INSERT INTO teams (name, created_at) VALUES ('x', 0)"))
    finally:
        await db.close()


async def test_a_lock_released_while_retrying_lets_the_write_through(
    tmp_path: Path, quick_lock_timeouts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "briefly.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    real_sleep = asyncio.sleep

    async def release_then_sleep(seconds: float) -> None:  # the other writer finishes meanwhile
        if holder.in_transaction:
            holder.execute("COMMIT")
        await real_sleep(seconds)

    monkeypatch.setattr(asyncio, "sleep", release_then_sleep)  # storage.db's back-off
    try:
        async with db.transaction() as conn:
            await conn.execute(text("INSERT INTO teams (name, created_at) VALUES ('x', 0)"))
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT COUNT(*) FROM teams"))).scalar() == 1
    finally:
        holder.close()
        await db.close()


async def test_a_full_disk_gives_a_clear_error_and_no_half_written_rows(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    async with db.transaction() as conn:
        await conn.execute(text("INSERT INTO teams (name, created_at) VALUES ('North', 0)"))
    await db.close()
    pages = sqlite3.connect(path).execute("PRAGMA page_count").fetchone()[0]
    full = Database(f"sqlite+aiosqlite:///{path}")

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.cursor().execute(f"PRAGMA max_page_count={pages}")

    event.listen(full.engine.sync_engine, "connect", no_room)

    async def team_and_a_big_row() -> None:
        async with full.transaction() as conn:
            await conn.execute(text("INSERT INTO teams (name, created_at) VALUES ('South', 0)"))
            await conn.execute(
                text("INSERT INTO audit_log (at, actor, action, scope) VALUES (0, :a, 'x', 'y')"),
                {"a": "x" * 200_000},
            )

    try:
        with pytest.raises(StorageError, match="the disk is full"):
            await team_and_a_big_row()
    finally:
        await full.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("SELECT name FROM teams").fetchall() == [("North",)]  # all or nothing
    check.close()


async def test_a_locked_database_during_a_checkin_answers_kindly_and_keeps_it_whole(
    world: World, quick_lock_timeouts: None
) -> None:
    first = (await enrolled(world))[-1]
    assert world.rt is not None
    await world.rt.db.close()
    world.rt.db = Database(world.settings.database_url)  # picks up the quick timeouts
    with writer_holding_the_lock(database_file(world)):
        replies = await world.press(YP, "Mostly", first)
    assert any(SORRY in m.content for m in replies)
    assert await answers(world) == []
    assert await step(world) == "power"  # not half-written: the step did not move alone
    replies = await world.press(YP, "Mostly", first)  # the same button, now that it is free
    assert await answers(world) == [("power", 3)]
    assert "I feel understood and respected" in replies[-1].content


async def test_a_press_meeting_another_writer_completes_on_the_worker_thread(world: World) -> None:
    """A press runs on the event loop's own SQLite connection, which never waits for a lock:
    with another process's writer holding it, the press goes to the worker thread (which waits
    there) and the event loop carries on meanwhile (it is what lets the other writer finish
    here). The press completes once the lock is free, stored exactly once."""
    first = (await enrolled(world))[-1]
    assert world.rt is not None
    loop = world.rt.db.loop
    assert loop is not None
    holder = sqlite3.connect(database_file(world), isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        pressing = asyncio.create_task(world.press(YP, "Mostly", first))
        for _ in range(100_000):  # until the press has met the lock (not a wait for time)
            if loop.fallbacks:
                break
            await asyncio.sleep(0)
        assert loop.fallbacks == 1
        assert not pressing.done()  # waiting on the worker thread, not on the event loop
        holder.execute("COMMIT")  # the other writer finishes, on this event loop
        replies = await pressing
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    assert not any(SORRY in m.content for m in replies)
    assert "I feel understood and respected" in replies[-1].content
    assert await answers(world) == [("power", 3)]
    assert await step(world) == "respected"
    await world.press(YP, "Mostly", replies[-1])  # the next press: back on the event loop
    assert loop.fallbacks == 1
    assert await answers(world) == [("power", 3), ("respected", 3)]


async def test_a_full_disk_while_storing_an_answer_rolls_back_the_whole_step(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = (await enrolled(world))[-1]
    assert world.rt is not None
    engine = world.rt.db.engine.sync_engine

    def disk_full(_c: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO answers"):
            raise sqlite3.OperationalError("database or disk is full")

    # A press runs on the event loop's own connection (storage/press_store.py), other writes
    # through the engine: the statement fails on either.
    on_loop = SqlitePressStore._change

    def disk_full_on_loop(store: SqlitePressStore, sql: str, parameters: Any) -> int:
        disk_full(None, None, sql)
        return on_loop(store, sql, parameters)

    monkeypatch.setattr(SqlitePressStore, "_change", disk_full_on_loop)
    event.listen(engine, "before_cursor_execute", disk_full)
    with caplog.at_level(logging.ERROR):
        replies = await world.press(YP, "Yes, definitely", first)
    event.remove(engine, "before_cursor_execute", disk_full)
    monkeypatch.undo()
    assert any(SORRY in m.content for m in replies)
    assert any("the disk is full" in r.getMessage() for r in caplog.records)
    assert await answers(world) == []
    assert await step(world) == "power"
    await world.press(YP, "Yes, definitely", first)
    assert await answers(world) == [("power", 4)]
    assert await step(world) == "respected"
