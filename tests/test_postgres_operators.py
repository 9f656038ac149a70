"""What an operator sees when PostgreSQL is not as ``CHECKIN_DATABASE_URL`` says: the real
command line against the test session's real server (a wrong port, a database that does not
exist, a wrong password), and ``backup`` on PostgreSQL. One line each, naming the setting and
the reason, never the password, and a non-zero exit. And a server restart while the bot runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from conversations.runtime import Context
from core.errors import DatabaseUnavailable
from tests.people import YOUNG_PERSON, enrolled
from tests.postgres import PostgresServer, _free_port
from tests.test_cli import checkin_bot
from tests.world import running_world

PASSWORD = "correct-horse-battery"  # a test role's password; must never be printed


@pytest.fixture(scope="module")
def owned(postgres: PostgresServer) -> str:
    """A database owned by the role ``checkin``, which logs in with :data:`PASSWORD`."""
    url = postgres.create_database("owned")
    name = make_url(url).database
    assert name is not None
    postgres.add_role("checkin", PASSWORD, owns=name)
    return name


def one_line_error(result: object) -> str:
    assert result.returncode == 2, result.stderr  # type: ignore[attr-defined]
    err: str = result.stderr  # type: ignore[attr-defined]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert PASSWORD not in err
    assert "wrong-password" not in err
    return lines[0]


def test_the_owner_with_its_password_can_use_the_database(
    tmp_path: Path, postgres: PostgresServer, owned: str
) -> None:
    url = f"postgresql+asyncpg://checkin:{PASSWORD}@127.0.0.1:{postgres.port}/{owned}"
    result = checkin_bot(tmp_path, "due", CHECKIN_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing is due"


def test_a_wrong_password_is_one_line_naming_the_setting(
    tmp_path: Path, postgres: PostgresServer, owned: str
) -> None:
    url = f"postgresql+asyncpg://checkin:wrong-password@127.0.0.1:{postgres.port}/{owned}"
    line = one_line_error(checkin_bot(tmp_path, "due", CHECKIN_DATABASE_URL=url))
    assert line == (
        f"checkin-bot: CHECKIN_DATABASE_URL: PostgreSQL at 127.0.0.1:{postgres.port}, "
        f"database {owned}, user checkin: password authentication failed "
        "(check the user and password)"
    )


def test_a_database_that_does_not_exist_is_one_line(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/no_such_database"
    line = one_line_error(checkin_bot(tmp_path, "digest", CHECKIN_DATABASE_URL=url))
    assert line.startswith("checkin-bot: CHECKIN_DATABASE_URL: PostgreSQL at 127.0.0.1:")
    assert line.endswith("the database does not exist (create it first: createdb)")


@pytest.mark.parametrize("command", ["run", "due"])
def test_a_server_that_is_not_there_is_one_line(tmp_path: Path, command: str) -> None:
    """``run`` checks the database before it asks Telegram anything (the token here is fake)."""
    url = f"postgresql+asyncpg://checkin:{PASSWORD}@127.0.0.1:{_free_port()}/checkin"
    result = checkin_bot(tmp_path, command, CHECKIN_DATABASE_URL=url, CHECKIN_LOG_LEVEL="WARNING")
    line = one_line_error(result)
    assert line.startswith("checkin-bot: CHECKIN_DATABASE_URL: PostgreSQL at 127.0.0.1:")
    assert line.endswith(
        "user checkin: connection refused (is the server running, and is the port right?)"
    )


def test_backup_on_postgresql_says_to_use_pg_dump(tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.url("postgres")
    result = checkin_bot(
        tmp_path, "backup", "--out", str(tmp_path / "copy.db"), CHECKIN_DATABASE_URL=url
    )
    assert one_line_error(result) == (
        "checkin-bot: CHECKIN_DATABASE_URL: backup copies a SQLite file; use pg_dump for PostgreSQL"
    )
    assert not (tmp_path / "copy.db").exists()


async def test_a_database_restart_while_running_loses_no_press_and_answers_once(
    tmp_path: Path,
) -> None:
    """PostgreSQL goes away in the middle of a check-in (its own server: the session's one is
    shared). The press is neither answered "sorry" nor lost: the polling loop leaves it
    unconfirmed, pauses, and handles it once the server is back."""
    server = await asyncio.to_thread(PostgresServer.start)
    try:
        url = server.create_database()
        async with running_world(url) as world:
            first = (await enrolled(world))[-1]
            assert world.rt is not None
            await asyncio.to_thread(server.pause)
            met = asyncio.Event()  # the handler has met the missing server

            async def on_error(update: object, context: Context) -> None:
                if isinstance(context.error, DatabaseUnavailable):
                    met.set()

            assert world.app is not None
            world.app.add_error_handler(on_error)
            data = next(d for label, d in world.api.buttons(first) if label.endswith("Mostly"))
            world.api.press_button(YOUNG_PERSON, first.message_id, data)
            async with asyncio.timeout(30):
                await met.wait()
            assert world.rt.database_lost >= 1
            await asyncio.to_thread(server.resume)
            await world.api.wait_for_idle(world.app, timeout=60)
            texts = world.texts(YOUNG_PERSON)
            assert not any("Sorry" in t for t in texts)
            assert world.last(YOUNG_PERSON).content.startswith("Statement 2 of 9")
            async with world.rt.db.read() as conn:
                stored = (await conn.execute(text("SELECT value FROM answers"))).all()
            assert [tuple(r) for r in stored] == [(3,)]
    finally:
        await asyncio.to_thread(server.stop)
