"""Privacy: what logs, exports and /forgetme leave behind.

A whole service journey runs with logging configured as ``checkin-bot`` configures it at the
default level (INFO; httpx and the other noisy libraries at WARNING): staff join, a young person
is invited under a private label, answers, writes a comment, shares it, asks to be contacted, the
key worker reads their digest, the scheduler runs, an export is written, and the young person
uses /forgetme. Then:

- no log record (message, arguments, traceback) holds the token, a chat id, the label, an invite
  token or anything the young person wrote;
- neither export (aggregate, nor an admin's row-level one) holds a Telegram id or a label;
- after /forgetme, no row anywhere in the database holds their chat id, label or words
  (DESIGN §5), and "delete everything" removes their check-ins and answers too.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli
from tests.people import add_staff, invite, join
from tests.world import TOKEN, World

YP, OTHER, KW, ADMIN = 1001, 1003, 900101, 900102
LABEL = "Zq91 Room"
WORDS = "my key worker Mirela helped with the Home Office letter"
NOISY = tuple(cli.LIBRARY_LEVELS)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + repr(record.args))


@pytest.fixture
def default_logging() -> Iterator[Capture]:
    """Logging as ``checkin-bot`` sets it up at the default level, captured."""
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in NOISY}
    capture = Capture()
    root.addHandler(capture)
    cli.configure_logging("INFO")  # sets the noisy libraries to WARNING (and root to INFO)
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def database(world: World) -> Path:
    return Path(world.settings.database_url.split("///", 1)[1])


def everything_stored(path: Path) -> list[str]:
    """Every value of every row of every table, as text."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        values: list[str] = []
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - our own table names
                values.extend(str(v) for v in row if v is not None)
        return values
    finally:
        db.close()


async def finish_checkin(world: World, user: int, *, comment: str | None, share: bool) -> None:
    message = world.last(user)
    for _ in range(9):
        message = (await world.press(user, "Mostly", message))[-1]
    if comment is None:
        message = (await world.press(user, "Nothing to add", message))[-1]
    else:
        message = (await world.say(user, comment))[-1]
    await world.press(user, "Share with my key worker" if share else "Keep them private", message)


async def test_logs_exports_and_forgetme_keep_people_private(
    world: World,
    default_logging: Capture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_staff(world, KW)
    await add_staff(world, ADMIN, role="admin", name="Ada")
    token = await invite(world, KW, LABEL)
    other_token = await invite(world, KW, "Other9")
    await join(world, YP, token)
    await join(world, OTHER, other_token)
    await finish_checkin(world, YP, comment=WORDS, share=True)
    await finish_checkin(world, OTHER, comment=None, share=False)
    await world.say(YP, "/support")
    await world.press(YP, "Ask my key worker to get in touch")
    await world.say(YP, "a message that is not an answer " + WORDS)
    await world.say(KW, "/caseload")
    await world.say(KW, "/digest")
    await world.tick()

    # Exports, as the CLI writes them (aggregate, and an admin's row-level one).
    monkeypatch.setenv("CHECKIN_DATABASE_URL", world.settings.database_url)
    db = sqlite3.connect(database(world))
    [(admin_id,)] = db.execute("SELECT id FROM staff WHERE role = 'admin'").fetchall()
    db.close()
    aggregate, rows = tmp_path / "aggregate.csv", tmp_path / "rows.csv"
    assert await asyncio.to_thread(cli.main, ["export", "--out", str(aggregate)]) == 0
    assert (
        await asyncio.to_thread(
            cli.main, ["export", "--rows", "--admin-id", str(admin_id), "--out", str(rows)]
        )
        == 0
    )
    for export in (aggregate, rows):
        content = export.read_text("utf-8")
        for secret in (str(YP), str(OTHER), str(KW), LABEL, "Other9", WORDS):
            assert secret not in content, f"{export.name} holds {secret!r}"
    assert len(rows.read_text("utf-8").splitlines()) == 1 + 18  # 9 answers each

    # /forgetme: keep the answers in the anonymous totals (YP), delete everything (OTHER).
    await world.say(YP, "/forgetme")
    await world.press(YP, "Delete, but keep my answers in anonymous totals")
    await world.say(OTHER, "/forgetme")
    await world.press(OTHER, "Delete everything")
    stored = everything_stored(database(world))
    for secret in (str(YP), str(OTHER), LABEL, "Other9"):
        assert secret not in stored, f"{secret!r} is still stored"
    assert not any(WORDS in value for value in stored), "their words are still stored"
    db = sqlite3.connect(database(world))
    answers_left = db.execute(
        "SELECT e.status, COUNT(a.id) FROM enrolments e LEFT JOIN checkins c ON c.enrolment_id = "
        "e.id LEFT JOIN answers a ON a.checkin_id = c.id GROUP BY e.id ORDER BY e.id"
    ).fetchall()
    contact = db.execute("SELECT COUNT(*) FROM contact_requests").fetchone()
    db.close()
    assert answers_left == [("forgotten", 9), ("forgotten", 0)]
    assert contact == (0,)

    # The logs, at the default level, of all of it.
    logs = default_logging.lines
    assert any("a young person was forgotten" in line for line in logs), "is the capture working?"
    secret_part = TOKEN.split(":", 1)[1]
    forbidden = [
        TOKEN,
        secret_part,
        token,
        other_token,
        LABEL,
        "Other9",
        "Mirela",
        "Home Office",
    ]
    for line in logs:
        for secret in forbidden:
            assert secret not in line, f"a log line holds {secret!r}: {line}"
        for chat_id in (YP, OTHER, KW, ADMIN):
            assert not re.search(rf"(?<!\d){chat_id}(?!\d)", line), f"a chat id in: {line}"
