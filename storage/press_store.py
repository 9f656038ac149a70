"""The statements of a button press, behind one interface with three implementations.

A press is one short write transaction (is this the young person's check-in, store the answer
with a compare-and-set on the step, read what to show next). :func:`run_press` runs a
transaction body, written once against :class:`PressStore`, in one of three ways:

- **on the event loop** (a SQLite file): :class:`SqlitePressStore` executes fixed SQL text
  (:mod:`storage.press_sql`) on the loop's own :mod:`sqlite3` connection
  (:mod:`storage.loop_sqlite`), with no thread hand-over and no statement building. Its methods
  are ``async`` but never suspend, and :func:`run_press` drives the body to its end in one step:
  a body that would suspend is refused (rolled back), so no transaction spans an ``await``;
- **on asyncpg** (PostgreSQL): :class:`storage.press_pg.PgPressStore` executes the same SQL
  text, as prepared statements, on the pooled connection's asyncpg connection, in one
  transaction;
- **on the worker thread** (SQLite in memory, a SQLite file that another connection holds
  locked at that moment, any other driver, and a press that finishes a check-in, which both
  stores above hand over with :class:`HandOver`): :class:`AsyncPressStore` runs the same body
  in an ordinary :meth:`storage.db.Database.transaction`, through the storage functions
  everything else uses (:mod:`storage.checkins`, :mod:`storage.prompts`, :mod:`storage.voice`).

All give the same results and store the same rows (``tests/test_press_store.py`` checks it on
both databases): anything added to a press's storage functions (``checkins.record_answer`` and
the like) must be added to :mod:`storage.press_sql` as well.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from core.prompt_status import PromptStatus
from storage import checkins, prompts, voice
from storage import press_sql as sql
from storage.db import Database, raise_mapped
from storage.loop_sqlite import Busy, is_busy
from storage.press_pg import run_on_asyncpg
from storage.press_sql import HandOver, checkin_of, utc
from storage.records import Checkin

__all__ = ["AsyncPressStore", "HandOver", "PressStore", "SqlitePressStore", "run_press"]

T = TypeVar("T")


class PressStore(Protocol):
    """What a press reads and writes, named for what it does (see :mod:`storage.checkins`)."""

    async def owned(self, checkin_id: int, chat_id: int) -> Checkin | None: ...

    async def by_id(self, checkin_id: int) -> Checkin | None: ...

    async def record_answer(
        self,
        checkin_id: int,
        *,
        item_id: str,
        item_version: int,
        value: int | None,
        new_step: str,
        now: datetime,
    ) -> Checkin | None: ...

    async def move(
        self, checkin_id: int, *, expected_step: str, new_step: str
    ) -> Checkin | None: ...

    async def pause(self, checkin_id: int, *, expected_step: str) -> bool: ...

    async def skip_comment(self, checkin_id: int, *, new_step: str) -> bool: ...

    async def finish(self, checkin_id: int, *, shared: bool, now: datetime) -> bool: ...

    async def mark_prompt_answered(self, checkin_id: int, now: datetime) -> None: ...

    async def another_prompt_due(self, enrolment_id: int, checkin_id: int) -> bool: ...

    async def answer_of(self, checkin_id: int, item_id: str) -> int | None: ...

    async def has_clip(self, text_key: str, language: str) -> bool: ...


Body = Callable[[PressStore], Coroutine[Any, Any, T]]


async def run_press(db: Database, body: Body[T]) -> T:
    """Run ``body`` as one write transaction: on the event loop's SQLite connection when there
    is one and the database is free, on the pooled asyncpg connection on PostgreSQL, else (and
    for a press that finishes a check-in) on the worker thread. Errors are those of
    :meth:`Database.transaction` (a :class:`core.errors.StorageError` for a known problem)."""
    loop = db.loop
    if loop is not None:
        try:
            return run_on_loop(loop.begin(), body, commit=loop.commit, rollback=loop.rollback)
        except Busy:  # the worker thread waits for the lock instead of the event loop
            loop.fallbacks += 1
        except HandOver:  # a finishing press: counted into the tallies on the worker path
            loop.handovers += 1
    elif db.presses_on_driver:
        try:
            return await run_on_asyncpg(db, body)
        except HandOver:  # as on SQLite
            db.handovers += 1
    async with db.transaction() as conn:
        return await body(AsyncPressStore(conn))


def run_on_loop(
    connection: sqlite3.Connection,
    body: Body[T],
    *,
    commit: Callable[[], None],
    rollback: Callable[[], None],
) -> T:
    """Drive ``body`` on ``connection`` (a transaction already begun) to its end without
    suspending, then commit; roll back on any failure. :class:`Busy` when SQLite found itself
    in another connection's way after all."""
    coroutine = body(SqlitePressStore(connection))
    try:
        try:
            coroutine.send(None)
        except StopIteration as done:
            commit()
            return done.value  # type: ignore[no-any-return]
        coroutine.close()
        raise RuntimeError("a press's transaction body awaited something outside the database")
    except BaseException as exc:
        rollback()
        if isinstance(exc, HandOver):
            raise
        if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
            raise Busy(str(exc)) from exc
        raise_mapped(exc)
        raise


# --- on the worker thread: the storage functions everything else uses -----------------------


class AsyncPressStore:
    """:class:`PressStore` in an ordinary transaction (any backend)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def owned(self, checkin_id: int, chat_id: int) -> Checkin | None:
        return await checkins.owned(self.conn, checkin_id, chat_id)

    async def by_id(self, checkin_id: int) -> Checkin | None:
        return await checkins.by_id(self.conn, checkin_id)

    async def record_answer(
        self,
        checkin_id: int,
        *,
        item_id: str,
        item_version: int,
        value: int | None,
        new_step: str,
        now: datetime,
    ) -> Checkin | None:
        return await checkins.record_answer(
            self.conn,
            checkin_id,
            item_id=item_id,
            item_version=item_version,
            value=value,
            new_step=new_step,
            now=now,
        )

    async def move(self, checkin_id: int, *, expected_step: str, new_step: str) -> Checkin | None:
        return await checkins.move(
            self.conn, checkin_id, expected_step=expected_step, new_step=new_step
        )

    async def pause(self, checkin_id: int, *, expected_step: str) -> bool:
        return await checkins.pause(self.conn, checkin_id, expected_step=expected_step)

    async def skip_comment(self, checkin_id: int, *, new_step: str) -> bool:
        return await checkins.save_comment(self.conn, checkin_id, text=None, new_step=new_step)

    async def finish(self, checkin_id: int, *, shared: bool, now: datetime) -> bool:
        return await checkins.finish(self.conn, checkin_id, shared=shared, now=now)

    async def mark_prompt_answered(self, checkin_id: int, now: datetime) -> None:
        await prompts.mark_answered(self.conn, checkin_id, now)

    async def another_prompt_due(self, enrolment_id: int, checkin_id: int) -> bool:
        return any(
            p.status == PromptStatus.DUE and p.checkin_id != checkin_id
            for p in await prompts.of_enrolment(self.conn, enrolment_id)
        )

    async def answer_of(self, checkin_id: int, item_id: str) -> int | None:
        return await checkins.answer_of(self.conn, checkin_id, item_id)

    async def has_clip(self, text_key: str, language: str) -> bool:
        return await voice.has_clip(self.conn, text_key, language)


# --- on the event loop: the same statements as SQL text on the loop's sqlite3 connection ------


def _stamp(value: datetime) -> str:
    """An aware datetime as :class:`storage.schema.UTCDateTime` stores it on SQLite."""
    return utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqlitePressStore:
    """:class:`PressStore` on a :mod:`sqlite3` connection in a transaction (never suspends)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def _row(self, sql: str, parameters: tuple[Any, ...]) -> tuple[Any, ...] | None:
        rows: list[tuple[Any, ...]] = self.connection.execute(sql, parameters).fetchall()
        return rows[0] if rows else None

    def _change(self, sql: str, parameters: tuple[Any, ...]) -> int:
        return self.connection.execute(sql, parameters).rowcount

    async def owned(self, checkin_id: int, chat_id: int) -> Checkin | None:
        return checkin_of(self._row(sql.OWNED, (checkin_id, chat_id)))

    async def by_id(self, checkin_id: int) -> Checkin | None:
        return checkin_of(self._row(sql.BY_ID, (checkin_id,)))

    async def record_answer(
        self,
        checkin_id: int,
        *,
        item_id: str,
        item_version: int,
        value: int | None,
        new_step: str,
        now: datetime,
    ) -> Checkin | None:
        moved = await self.move(checkin_id, expected_step=item_id, new_step=new_step)
        if moved is None:
            return None
        self._change(sql.UPSERT_ANSWER, (checkin_id, item_id, item_version, value, _stamp(now)))
        return moved

    async def move(self, checkin_id: int, *, expected_step: str, new_step: str) -> Checkin | None:
        return checkin_of(self._row(sql.MOVE, (new_step, checkin_id, expected_step)))

    async def pause(self, checkin_id: int, *, expected_step: str) -> bool:
        return self._change(sql.PAUSE, (checkin_id, expected_step)) == 1

    async def skip_comment(self, checkin_id: int, *, new_step: str) -> bool:
        return self._change(sql.SKIP_COMMENT, (new_step, checkin_id)) == 1

    async def finish(self, checkin_id: int, *, shared: bool, now: datetime) -> bool:
        raise HandOver  # counted into the tallies by ``checkins.finish`` on the worker path

    async def mark_prompt_answered(self, checkin_id: int, now: datetime) -> None:
        self._change(sql.MARK_ANSWERED, (_stamp(now), checkin_id))

    async def another_prompt_due(self, enrolment_id: int, checkin_id: int) -> bool:
        return self._row(sql.ANOTHER_DUE, (enrolment_id, checkin_id)) is not None

    async def answer_of(self, checkin_id: int, item_id: str) -> int | None:
        row = self._row(sql.ANSWER_OF, (checkin_id, item_id))
        return None if row is None or row[0] is None else int(row[0])

    async def has_clip(self, text_key: str, language: str) -> bool:
        return self._row(sql.HAS_CLIP, (text_key, language)) is not None
