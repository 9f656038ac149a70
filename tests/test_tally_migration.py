"""The migrations' fill of the tallies equals ``checkin-bot tallies rebuild``, on SQLite and on
PostgreSQL, for a database with a history.

A service's history (check-ins answered with skips and Back, finished or closed, ``/forgetme``
with and without keeping answers, retention, moves to another key worker and team, across a
quarter's end) is written by the real storage functions; the database is then taken back to
revision 0010 (the migrations after it only add tables: its schema is then checked to be a
fresh 0010 database's) and upgraded to the newest revision, whose migrations fill the tables
they add from the stored answers. Every table of the schema must then be what the rebuild
makes of it, row for row: the tables the rebuild writes (found by watching its statements, so
tally tables added later are covered once the rebuild keeps them) and every other table too.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import tally_rebuild
from storage.db import Database
from storage.migrating import alembic_config, current_revision
from storage.schema import metadata
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.postgres import PostgresServer
from tests.test_tallies import START, _service, _step

BEFORE_TALLIES = "0010"

Rows = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database beside the test's, on the same backend."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database("fresh")


def _downgrade(connection: Connection, target: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, target)


def _schema(connection: Connection) -> dict[str, list[str]]:
    found = inspect(connection)
    return {
        table: sorted(column["name"] for column in found.get_columns(table))
        for table in found.get_table_names()
    }


async def everything(conn: AsyncConnection) -> Rows:
    """Every row of every table of the schema, without generated ids, in a fixed order."""
    found: Rows = {}
    for table in metadata.sorted_tables:
        columns = [c for c in table.c if c.name != "id"]
        rows = (await conn.execute(select(*columns))).all()
        found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


async def test_the_migrations_fill_the_tallies_of_a_database_with_history_as_the_rebuild_does(
    db: Database, fresh_url: str
) -> None:
    rng = random.Random(20)
    people = 12
    async with db.transaction() as conn:
        await _service(conn, people)
    now, open_ids, seen = START, list[int](), set[str]()
    for _ in range(90):
        now += timedelta(hours=rng.choice([1, 5, 30]))
        async with db.transaction() as conn:
            seen.add(await _step(conn, rng, people, now, open_ids))
    assert seen == {"answer", "close", "forget", "retention", "move"}

    async with db.engine.connect() as conn:
        await conn.run_sync(_downgrade, BEFORE_TALLIES)
        await conn.commit()
        assert await current_revision(conn) == BEFORE_TALLIES
        taken_back = await conn.run_sync(_schema)
    fresh = Database(fresh_url)
    try:
        await fresh.migrate(BEFORE_TALLIES)
        async with fresh.engine.connect() as conn:
            assert await conn.run_sync(_schema) == taken_back  # a 0010 database, as made
    finally:
        await fresh.close()

    await db.migrate()  # the newest version starting on it: the migrations fill their tables
    async with db.read() as conn:
        filled = await everything(conn)

    written: set[str] = set()

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        written.update(re.findall(r"^(?:INSERT INTO|DELETE FROM) (\w+)", statement))

    event.listen(db.engine.sync_engine, "before_cursor_execute", watch)
    try:
        async with db.transaction() as conn:
            assert await tally_rebuild.rebuild(conn) > 0
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", watch)
    async with db.read() as conn:
        rebuilt = await everything(conn)

    assert written  # the rebuild rewrote its tables ...
    assert not written & set(taken_back)  # ... none of which a 0010 database had ...
    for table in written:  # ... and which the migrations filled
        assert filled[table], table
    assert filled == rebuilt
