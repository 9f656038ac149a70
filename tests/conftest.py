"""Shared fixtures: ``world``, a real bot (python-telegram-bot's HTTP stack) against the local
Bot API stand-in (see :mod:`tests.world`), and the database it stores in.

The database (``database_url``) is an SQLite file unless a test module runs on both backends
(``from tests.backends import on_both_backends``): then each of its tests that uses a database
runs once on SQLite and once on a PostgreSQL database of the session's throwaway server
(:mod:`tests.postgres`), copied from a template migrated once per session, so that a test's
set-up costs one ``CREATE DATABASE``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.playground import Playground
from core.settings import load_settings
from storage.db import Database
from tests.playground_client import SPEC, START, Client
from tests.postgres import PostgresServer
from tests.world import World, running_world


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite``, unless the module runs on both (:func:`tests.backends.on_both_backends`)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database for this test: a fresh SQLite file, or a migrated PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'checkin.db'}"
    template: str = request.getfixturevalue("postgres_template")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(template=template)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with running_world(database_url) as w:
        yield w


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole test session (see :mod:`tests.postgres`);
    ``postgres.create_database()`` gives each test its own empty database."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    """The name of a database migrated to the newest revision, to copy from."""
    url = postgres.create_database("template")
    failure: list[BaseException] = []

    async def build() -> None:
        database = Database(url)
        try:
            await database.migrate()
        finally:
            await database.close()  # a template must have no open connections

    def in_own_loop() -> None:
        try:
            asyncio.run(build())
        except BaseException as exc:  # re-raised in the test's thread below
            failure.append(exc)

    worker = threading.Thread(target=in_own_loop)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    name = make_url(url).database
    assert name is not None
    return name


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    """A playground on a free port, with its own database and a clock at the tests' ``START``;
    fails if any request broke the Bot API's rules."""
    settings = load_settings(api_spec_path=SPEC)
    async with Playground(settings, port=0, database=tmp_path / "playground.db", start=START) as pg:
        yield pg
        assert pg.api.violations == []


@pytest.fixture
async def client(playground: Playground) -> AsyncIterator[Client]:
    """The playground's JSON endpoints (:class:`tests.playground_client.Client`)."""
    async with aiohttp.ClientSession() as session:
        yield Client(session, playground.url)
