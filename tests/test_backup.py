"""``checkin-bot backup --out FILE``: a consistent copy of the SQLite database, taken while the bot
runs (SQLite's online backup API), that opens as a complete database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import cli
from tests.people import YOUNG_PERSON, enrolled
from tests.world import World

YP = YOUNG_PERSON


def backup(monkeypatch: pytest.MonkeyPatch, url: str, out: Path) -> int:
    monkeypatch.setenv("CHECKIN_DATABASE_URL", url)
    return cli.main(["backup", "--out", str(out)])


async def test_backup_while_the_bot_runs_is_consistent_and_restorable(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = (await enrolled(world))[-1]
    await world.press(YP, "Mostly", first)
    assert world.rt is not None
    out = tmp_path / "copy.db"
    # A writer is in the middle of a transaction while the copy is taken: the copy has the
    # committed state only.
    async with world.rt.db.transaction() as conn:
        await conn.execute(text("INSERT INTO teams (name, created_at) VALUES ('Unfinished', 0)"))
        monkeypatch.setenv("CHECKIN_DATABASE_URL", world.settings.database_url)
        assert await asyncio.to_thread(cli.main, ["backup", "--out", str(out)]) == 0
        await conn.rollback()
    assert "integrity check ok" in capsys.readouterr().out
    copy = sqlite3.connect(out)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
    assert copy.execute("SELECT item_id, value FROM answers").fetchall() == [("power", 3)]
    assert copy.execute("SELECT name FROM teams").fetchall() == [("North",)]
    copy.close()
    # Restoring: the bot runs on the copy and carries on where the young person stopped.
    await world.stop()
    world.settings = world.settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{out}"}
    )
    await world.start()
    shown = await world.say(YP, "/checkin")
    assert "I feel understood and respected" in shown[-1].content


def test_backup_refuses_other_databases_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.db"
    assert backup(monkeypatch, "postgresql+asyncpg://u@localhost/checkin", out) == 2
    assert capsys.readouterr().err.strip() == (
        "checkin-bot: CHECKIN_DATABASE_URL: backup copies a SQLite file; use pg_dump for PostgreSQL"
    )
    assert backup(monkeypatch, f"sqlite+aiosqlite:///{tmp_path / 'none.db'}", out) == 2
    assert "there is no database file" in capsys.readouterr().err
    assert not out.exists()
