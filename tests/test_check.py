"""``checkin-bot check``, run as a new operator runs it: its own process, real settings, a real
database file, and the local Bot API standing in for Telegram (getMe)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from local_bot_api import LocalBotAPI
from storage.db import Database
from tests.test_operator_start import fill_up, small_filesystem
from tests.world import BOT_USERNAME, SPEC, TOKEN

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.strip().splitlines()

    def verdicts(self, verdict: str) -> list[str]:
        return [line[6:] for line in self.lines if line.startswith(verdict + " ")]


async def check(tmp_path: Path, api_url: str, **env: str) -> Ran:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
    environment.update(
        CHECKIN_TELEGRAM_TOKEN=TOKEN,
        CHECKIN_TELEGRAM_API_URL=api_url,
        CHECKIN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'checkin.db'}",
        CHECKIN_BOT_USERNAME=BOT_USERNAME,
        PYTHONPATH=str(ROOT),
    )
    environment.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "check",
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    ran = Ran(process.returncode, out.decode(), err.decode())
    assert "Traceback" not in ran.stderr, ran.stderr
    assert TOKEN.split(":")[1] not in ran.stdout + ran.stderr
    return ran


async def migrated(path: Path, revision: str = "head") -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.migrate(revision)
    finally:
        await db.close()


def revision_of(path: Path) -> list[tuple[str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchall()


async def test_a_service_set_up_right_is_all_ok(tmp_path: Path) -> None:
    await migrated(tmp_path / "checkin.db")
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        ran = await check(tmp_path, api.base_url)
        assert api.request_counts["getMe"] == 1
    assert ran.returncode == 0, ran.stdout
    assert ran.verdicts("WRONG") == []
    assert ran.verdicts("ok") == [
        "settings: every CHECKIN_ setting is well formed",
        f"CHECKIN_QUESTIONNAIRES_DIR: {ROOT / 'conversations/questionnaires'} (quality_experience)",
        f"CHECKIN_SCHEDULE_FILE: {ROOT / 'conversations/schedule.yaml'} (start, 3_months, exit)",
        f"CHECKIN_LOCALES_DIR: {ROOT / 'locales'} (13 languages)",
        "risk phrases: 13 languages",
        f"CHECKIN_DATABASE_URL ({tmp_path / 'checkin.db'}): reachable and writable, up to date "
        f"(migration {revision_of(tmp_path / 'checkin.db')[0][0]})",
        f"CHECKIN_TELEGRAM_TOKEN: Telegram knows it as @{BOT_USERNAME}",
    ]
    assert ran.lines[-1] == "Nothing is wrong: 'checkin-bot run' can start."


async def test_a_first_check_says_the_database_comes_with_run_and_creates_nothing(
    tmp_path: Path,
) -> None:
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        ran = await check(tmp_path, api.base_url)
    assert ran.returncode == 0, ran.stdout
    assert ran.verdicts("note") == [
        f"CHECKIN_DATABASE_URL ({tmp_path / 'checkin.db'}): no database yet; 'checkin-bot run' "
        "creates it here"
    ]
    assert not (tmp_path / "checkin.db").exists()


async def test_everything_wrong_at_once_is_listed_line_by_line(tmp_path: Path) -> None:
    (tmp_path / "checkin.db").write_bytes(b"not a database, a spreadsheet\n" * 50)
    (tmp_path / "schedule.yaml").write_text("checkpoints: 5\n", "utf-8")
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        ran = await check(
            tmp_path,
            api.base_url,
            CHECKIN_TELEGRAM_TOKEN="123456:revoked-long-ago",
            CHECKIN_SCHEDULE_FILE=str(tmp_path / "schedule.yaml"),
            CHECKIN_RISK_PHRASES_DIR=str(tmp_path / "no-such-folder"),
            CHECKIN_DEFAULT_QUESTIONNAIRE="wellbeing",
        )
    assert ran.returncode == 1
    assert ran.verdicts("WRONG") == [
        "CHECKIN_DEFAULT_QUESTIONNAIRE: no questionnaire 'wellbeing'",
        f"CHECKIN_SCHEDULE_FILE: {tmp_path / 'schedule.yaml'}: checkpoints: input should be a "
        "valid tuple",
        f"CHECKIN_RISK_PHRASES_DIR: {tmp_path / 'no-such-folder'} is not a folder",
        f"CHECKIN_DATABASE_URL ({tmp_path / 'checkin.db'}): the file is not a SQLite database "
        "(it may be damaged, encrypted or another kind of file)",
        "CHECKIN_TELEGRAM_TOKEN: Telegram refuses this token (401 Unauthorized); copy it again "
        "from @BotFather",
    ]
    assert ran.lines[-1] == (
        "5 things are wrong: fix the WRONG lines, then run 'checkin-bot check' again."
    )
    assert "revoked-long-ago" not in ran.stdout + ran.stderr


async def test_every_bad_setting_is_listed_not_only_the_first(tmp_path: Path) -> None:
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        ran = await check(
            tmp_path, api.base_url, CHECKIN_TIMEZONE="Mars/Olympus", CHECKIN_INVITE_TTL_DAYS="soon"
        )
        assert api.request_counts["getMe"] == 0
    assert ran.returncode == 1
    wrong = ran.verdicts("WRONG")
    assert len(wrong) == 2
    assert wrong[0].startswith("CHECKIN_TIMEZONE: unknown time zone 'Mars/Olympus'")
    assert wrong[1].startswith("CHECKIN_INVITE_TTL_DAYS: ")


async def test_a_database_behind_is_a_note_and_is_left_as_it_is(tmp_path: Path) -> None:
    await migrated(tmp_path / "checkin.db", "0002")
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        ran = await check(tmp_path, api.base_url)
    assert ran.returncode == 0, ran.stdout
    [note] = ran.verdicts("note")
    assert note.startswith(
        f"CHECKIN_DATABASE_URL ({tmp_path / 'checkin.db'}): at migration 0002; 'checkin-bot run' "
        "upgrades it to "
    )
    assert revision_of(tmp_path / "checkin.db") == [("0002",)]
    with sqlite3.connect(tmp_path / "checkin.db") as conn:  # the write test left nothing
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "checkin_write_test" not in tables


async def test_a_database_from_a_newer_version_is_wrong(tmp_path: Path) -> None:
    await migrated(tmp_path / "checkin.db")
    with sqlite3.connect(tmp_path / "checkin.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        ran = await check(tmp_path, api.base_url)
    assert ran.returncode == 1
    [wrong] = ran.verdicts("WRONG")
    assert "migrated by a newer version of Check-in (revision 0099;" in wrong


async def test_a_full_disk_and_a_read_only_folder_are_wrong(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "small", 256) as small:
        fill_up(small / "filler")
        async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
            full = await check(
                tmp_path, api.base_url, CHECKIN_DATABASE_URL=f"sqlite+aiosqlite:///{small / 'c.db'}"
            )
    with small_filesystem(tmp_path / "readonly", 64, read_only=True) as readonly:
        async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
            unwritable = await check(
                tmp_path,
                api.base_url,
                CHECKIN_DATABASE_URL=f"sqlite+aiosqlite:///{readonly / 'c.db'}",
            )
    assert full.returncode == 1
    assert full.verdicts("WRONG") == [
        f"CHECKIN_DATABASE_URL ({small / 'c.db'}): the disk is full (0 KiB free where it is kept)"
    ]
    assert unwritable.returncode == 1
    assert unwritable.verdicts("WRONG") == [
        f"CHECKIN_DATABASE_URL ({readonly / 'c.db'}): its folder {readonly} cannot be written"
    ]


async def test_a_username_that_is_not_the_tokens_bot_is_wrong(tmp_path: Path) -> None:
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        ran = await check(tmp_path, api.base_url, CHECKIN_BOT_USERNAME="someone_elses_bot")
    assert ran.returncode == 1
    assert ran.verdicts("WRONG") == [
        f"CHECKIN_BOT_USERNAME: is @someone_elses_bot, but the token is @{BOT_USERNAME}'s "
        "(invite links would open the wrong bot)"
    ]


async def test_telegram_out_of_reach_is_wrong(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ran = await check(tmp_path, f"http://127.0.0.1:{port}/bot")
    assert ran.returncode == 1
    assert ran.verdicts("WRONG") == [
        "CHECKIN_TELEGRAM_API_URL: Telegram cannot be reached (NetworkError)"
    ]
