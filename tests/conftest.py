"""Shared fixtures: ``world``, a real bot (python-telegram-bot's HTTP stack) against the local
Bot API stand-in on a fresh SQLite file (see :mod:`tests.world`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.postgres import PostgresServer
from tests.world import BOT_USERNAME, SPEC, START, TOKEN, World, running_world

# Re-exported while older test modules still import them from here.
__all__ = ["BOT_USERNAME", "SPEC", "START", "TOKEN", "World", "running_world"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(tmp_path / "checkin.db") as w:
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
