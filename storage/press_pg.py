"""A button press on PostgreSQL: the press's fixed SQL text on the pool's own asyncpg connection.

Through SQLAlchemy a press's few statements each cost a statement build, a round of result
processing and the asyncpg adapter's layers, more than the round trips themselves. Here the
same SQL text the SQLite store runs (:mod:`storage.press_sql`, with ``$n`` parameters) runs
directly on the asyncpg connection SQLAlchemy's pool holds (checked out as usual, so it is
pinged, counted and returned like any other), in one asyncpg transaction. asyncpg prepares each
text once per connection and reuses the prepared statement from then on.

A press that finishes a check-in raises :class:`storage.press_sql.HandOver` here as on SQLite:
the transaction rolls back and the caller runs the press on the worker path
(:class:`storage.press_store.AsyncPressStore`), where ``checkins.finish`` counts the answers
into the tallies. Driver errors are raised as SQLAlchemy's :class:`sqlalchemy.exc.DBAPIError`
(what the worker path raises), so an unreachable server is the same
:class:`core.errors.DatabaseUnavailable`; a connection whose state is unknown is discarded.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import press_sql as sql
from storage.db import Database, raise_mapped
from storage.press_sql import HandOver, checkin_of, numbered, utc
from storage.records import Checkin

T = TypeVar("T")

_OWNED = numbered(sql.OWNED)
_BY_ID = numbered(sql.BY_ID)
_MOVE = numbered(sql.MOVE)
_UPSERT_ANSWER = numbered(sql.UPSERT_ANSWER)
_PAUSE = numbered(sql.PAUSE)
_SKIP_COMMENT = numbered(sql.SKIP_COMMENT)
_MARK_ANSWERED = numbered(sql.MARK_ANSWERED)
_ANOTHER_DUE = numbered(sql.ANOTHER_DUE)
_ANSWER_OF = numbered(sql.ANSWER_OF)
_HAS_CLIP = numbered(sql.HAS_CLIP)

DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
"""What asyncpg raises for the database's refusals and a lost connection."""


def _changed(status: str) -> int:
    """The row count of a command status (``UPDATE 1``, ``INSERT 0 1``)."""
    return int(status.rsplit(" ", 1)[-1])


class PgPressStore:
    """:class:`storage.press_store.PressStore` on an asyncpg connection in a transaction."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def owned(self, checkin_id: int, chat_id: int) -> Checkin | None:
        return checkin_of(await self.connection.fetchrow(_OWNED, checkin_id, chat_id))

    async def by_id(self, checkin_id: int) -> Checkin | None:
        return checkin_of(await self.connection.fetchrow(_BY_ID, checkin_id))

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
        await self.connection.execute(
            _UPSERT_ANSWER, checkin_id, item_id, item_version, value, utc(now)
        )
        return moved

    async def move(self, checkin_id: int, *, expected_step: str, new_step: str) -> Checkin | None:
        return checkin_of(
            await self.connection.fetchrow(_MOVE, new_step, checkin_id, expected_step)
        )

    async def pause(self, checkin_id: int, *, expected_step: str) -> bool:
        return _changed(await self.connection.execute(_PAUSE, checkin_id, expected_step)) == 1

    async def skip_comment(self, checkin_id: int, *, new_step: str) -> bool:
        return _changed(await self.connection.execute(_SKIP_COMMENT, new_step, checkin_id)) == 1

    async def finish(self, checkin_id: int, *, shared: bool, now: datetime) -> bool:
        raise HandOver  # counted into the tallies by ``checkins.finish`` on the worker path

    async def mark_prompt_answered(self, checkin_id: int, now: datetime) -> None:
        await self.connection.execute(_MARK_ANSWERED, utc(now), checkin_id)

    async def another_prompt_due(self, enrolment_id: int, checkin_id: int) -> bool:
        return await self.connection.fetchrow(_ANOTHER_DUE, enrolment_id, checkin_id) is not None

    async def answer_of(self, checkin_id: int, item_id: str) -> int | None:
        row = await self.connection.fetchrow(_ANSWER_OF, checkin_id, item_id)
        return None if row is None or row[0] is None else int(row[0])

    async def has_clip(self, text_key: str, language: str) -> bool:
        return await self.connection.fetchrow(_HAS_CLIP, text_key, language) is not None


async def run_on_asyncpg(db: Database, body: Callable[[PgPressStore], Coroutine[Any, Any, T]]) -> T:
    """Run ``body`` in one transaction on a pooled connection's asyncpg connection, committing
    on success and rolling back on any failure (:class:`HandOver` included, re-raised for the
    caller). Errors are those of :meth:`Database.transaction`."""
    try:
        conn = await db.engine.connect()
    except (DBAPIError, OSError) as exc:
        raise_mapped(exc, db.url)
        raise
    try:
        raw = await conn.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection
        transaction = driver.transaction()
        await transaction.start()
        try:
            result = await body(PgPressStore(driver))
        except BaseException:
            await transaction.rollback()
            raise
        await transaction.commit()
    except DRIVER_ERRORS as exc:
        await _discard(conn)
        failure = DBAPIError(None, None, exc, connection_invalidated=driver_lost(exc))
        raise_mapped(failure, db.url)
        raise failure from exc
    except HandOver:
        await conn.close()
        raise
    except BaseException as exc:
        if not isinstance(exc, Exception):  # cancelled half-way: the state is unknown
            await _discard(conn)
            raise
        await conn.close()
        raise_mapped(exc, db.url)
        raise
    await conn.close()
    return result


def driver_lost(exc: BaseException) -> bool:
    """Whether asyncpg lost the connection (rather than the server refusing a statement)."""
    lost = (asyncpg.InterfaceError, asyncpg.exceptions.ConnectionDoesNotExistError, OSError)
    return isinstance(exc, lost)


async def _discard(conn: AsyncConnection) -> None:
    """Drop a connection whose state is unknown (its transaction may still be open)."""
    try:
        await conn.invalidate()
    finally:
        await conn.close()
