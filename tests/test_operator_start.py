"""Start-up failures an operator meets, each as one line naming the setting or file, the cause,
and a non-zero exit; never a traceback. A file that is not a database and a full disk run
``checkin-bot`` as its own process, as operators run it; the others call ``bot.cli.main`` in this
process (the same code path, without starting Python for each; where SQLite's busy timeout must
be short, it is the only way).

A directory that cannot be written and a full disk are real: a small tmpfs mounted by the test
(read-only, or filled up), unmounted afterwards. Mounting needs root (CI runs as root); elsewhere
those tests are skipped with the reason. An unwritable directory falls back to ``chmod`` when not
root, which is just as real there.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.cli import main
from core.errors import StorageError
from storage import db as storage_db
from storage import migrating
from storage.db import Database
from tests.test_cli import Run
from tests.test_cli import checkin_bot as cli  # in this process: bot.cli.main

ROOT = Path(__file__).resolve().parents[1]
# A failed open must not leave a database thread to fail after the event loop closed (which a
# real process prints as a traceback).
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


def checkin_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``checkin-bot ARGS`` as its own process in ``tmp_path``, with only these settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
    environment.update(
        CHECKIN_DATABASE_URL=sqlite_url(tmp_path / "cli.db"),
        CHECKIN_BOT_USERNAME="checkin_test_bot",
        CHECKIN_TELEGRAM_TOKEN="123:secret-token-value",
        PYTHONPATH=str(ROOT),
    )
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own CLI, under this Python, no shell
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def one_line_failure(result: subprocess.CompletedProcess[str] | Run) -> str:
    """The one line of a failed start: non-zero exit, nothing else on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("checkin-bot: "), lines[0]
    return lines[0]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@contextmanager
def small_filesystem(where: Path, size_kib: int, *, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` at ``where`` for the block; skips the test where it cannot mount."""
    where.mkdir()
    options = f"size={size_kib}k" + (",ro" if read_only else "")
    try:
        mounted = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("no 'mount' command here to make a small filesystem")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)  # noqa: S603, S607


def fill_up(path: Path) -> None:
    """Write ``path`` until the filesystem has no space left (and say so if it never fills)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for _ in range(1024):  # 4 MiB: more than the small filesystem holds
            os.write(handle, b"\0" * 4096)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return
        raise
    finally:
        os.close(handle)
    raise AssertionError("the filesystem never filled up")


# --- the database ------------------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "cli.db").write_bytes(b"these are the minutes of the May meeting\n" * 100)
    line = one_line_failure(checkin_bot(tmp_path, "due"))
    assert line == (
        f"checkin-bot: CHECKIN_DATABASE_URL ({tmp_path / 'cli.db'}): the file is not a SQLite "
        "database (it may be damaged, encrypted or another kind of file)"
    )
    # nothing was written over it
    assert (tmp_path / "cli.db").read_bytes().startswith(b"these are the minutes")


def test_a_database_driver_that_is_not_installed_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # None in sys.modules makes every import of the module fail, as when it is not installed.
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    monkeypatch.setenv("CHECKIN_DATABASE_URL", "postgresql+asyncpg://checkin:pw@db.example/checkin")
    monkeypatch.chdir(tmp_path)
    assert main(["due"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "checkin-bot: CHECKIN_DATABASE_URL (db.example/checkin): its database driver 'asyncpg' "
        "is not installed (pip install asyncpg)\n"
    )
    assert "pw" not in err  # the password is never shown


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("mysql+aiomysql://u:pw@db/checkin", "its database driver 'aiomysql' is not installed"),
        ("nosuch+driver://u:pw@db/checkin", "names a database or driver SQLAlchemy does not know"),
    ],
)
def test_the_generic_path_names_a_driver_that_is_not_there(url: str, cause: str) -> None:
    """Below the settings check (which takes only SQLite and PostgreSQL URLs), the database
    layer itself turns any driver it cannot load into the one line."""
    with pytest.raises(StorageError) as raised:
        Database(url)
    assert str(raised.value).startswith(f"CHECKIN_DATABASE_URL (db/checkin): {cause}")
    assert "pw" not in str(raised.value)


def test_a_database_url_of_an_unsupported_kind_is_one_line(tmp_path: Path) -> None:
    line = one_line_failure(
        cli(tmp_path, "due", CHECKIN_DATABASE_URL="mysql+aiomysql://u:pw@db/checkin")
    )
    assert line.startswith("checkin-bot: CHECKIN_DATABASE_URL: must start with sqlite+aiosqlite://")


def test_a_database_directory_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        context = small_filesystem(tmp_path / "readonly", 64, read_only=True)
    else:
        (tmp_path / "readonly").mkdir(mode=0o555)
        context = _nothing(tmp_path / "readonly")
    with context as folder:
        fresh = one_line_failure(
            cli(tmp_path, "due", CHECKIN_DATABASE_URL=sqlite_url(folder / "checkin.db"))
        )
        nested = one_line_failure(
            cli(tmp_path, "due", CHECKIN_DATABASE_URL=sqlite_url(folder / "a" / "c.db"))
        )
    assert fresh == (
        f"checkin-bot: CHECKIN_DATABASE_URL ({folder / 'checkin.db'}): the database file cannot "
        "be opened or created: its directory is missing or cannot be written"
    )
    assert nested.startswith(f"checkin-bot: CHECKIN_DATABASE_URL ({folder / 'a' / 'c.db'}): ")
    assert nested.endswith(f"cannot create {folder / 'a'}: " + nested.rsplit(": ", 1)[1])
    assert nested.rsplit(": ", 1)[1] in ("Read-only file system", "Permission denied")


@contextmanager
def _nothing(folder: Path) -> Iterator[Path]:
    yield folder


def test_a_full_disk_at_start_is_one_line(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "small", 256) as folder:
        fill_up(folder / "filler")
        line = one_line_failure(
            checkin_bot(tmp_path, "due", CHECKIN_DATABASE_URL=sqlite_url(folder / "checkin.db"))
        )
    assert line == (
        f"checkin-bot: CHECKIN_DATABASE_URL ({folder / 'checkin.db'}): the disk is full: the "
        "database could not be written; nothing was changed"
    )


def test_a_database_locked_by_another_process_at_start_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cli.db"
    assert cli(tmp_path, "due").returncode == 0  # a migrated database
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 50)  # SQLite waits 50 ms, not 5 s
    monkeypatch.setenv("CHECKIN_DATABASE_URL", sqlite_url(path))
    monkeypatch.setenv("CHECKIN_BOT_USERNAME", "checkin_test_bot")
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)  # another process's writer
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert main(["due"]) == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert capsys.readouterr().err == (
        f"checkin-bot: CHECKIN_DATABASE_URL ({path}): the database is locked by another "
        "process; nothing was changed, try again\n"
    )
    assert main(["due"]) == 0  # once the other writer is done, it works


def test_a_database_migrated_by_a_newer_version_is_one_line(tmp_path: Path) -> None:
    assert cli(tmp_path, "due").returncode == 0
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    line = one_line_failure(cli(tmp_path, "due"))
    head = max(p.name[:4] for p in migrating.MIGRATIONS_DIR.joinpath("versions").glob("0*.py"))
    assert line == (
        f"checkin-bot: CHECKIN_DATABASE_URL ({tmp_path / 'cli.db'}): the database was migrated "
        f"by a newer version of Check-in (revision 0099; this version knows up to {head}): run "
        "that newer version, or restore a backup taken before the upgrade"
    )
    with sqlite3.connect(tmp_path / "cli.db") as conn:  # and it was left as it was
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0099",)]


# --- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"checkpoints: [\n", "not valid YAML: "),
        (b"checkpoints: 5\n", "checkpoints: input should be a valid tuple"),
        (b"\xff\xfe\x00c\x00h", "is not UTF-8 text"),
        (None, "cannot read: No such file or directory"),
    ],
)
def test_a_broken_schedule_file_is_one_line(
    tmp_path: Path, content: bytes | None, cause: str
) -> None:
    schedule = tmp_path / "schedule.yaml"
    if content is not None:
        schedule.write_bytes(content)
    line = one_line_failure(cli(tmp_path, "due", CHECKIN_SCHEDULE_FILE=str(schedule)))
    assert line.startswith(f"checkin-bot: CHECKIN_SCHEDULE_FILE: {schedule}: {cause}")


@pytest.mark.parametrize(
    ("setting", "cause"),
    [
        ("CHECKIN_LOCALES_DIR", "holds no catalogues"),
        ("CHECKIN_LOCALES_OVERRIDE_DIR", "is not a folder"),
        ("CHECKIN_RISK_PHRASES_DIR", "is not a folder"),
    ],
)
def test_a_folder_setting_naming_no_folder_is_one_line(
    tmp_path: Path, setting: str, cause: str
) -> None:
    missing = tmp_path / "no-such-folder"
    line = one_line_failure(cli(tmp_path, "due", **{setting: str(missing)}))
    assert line.startswith(f"checkin-bot: {setting}: {missing} {cause}")


def test_a_questionnaire_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "qs"
    folder.mkdir()
    (folder / "mine.yaml").write_bytes(b"id: \xff\xfe broken\n")
    line = one_line_failure(cli(tmp_path, "due", CHECKIN_QUESTIONNAIRES_DIR=str(folder)))
    assert line.startswith("checkin-bot: mine.yaml: cannot be read: 'utf-8' codec can't decode")
