"""Each fact written once: the command table, staff-only texts by context, and the bugs that
came from facts written in several places."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr
from telegram.ext import CommandHandler

from bot.app import build_application, build_runtime
from bot.cli import main
from bot.commands import COMMANDS
from conversations.commands import (
    ADMIN,
    KEY_WORKER,
    MANAGER,
    ROLES,
    VOICE,
    menu,
    staff_help,
    young_person_help,
)
from core.i18n import STAFF_CONTEXT, Catalogues
from core.settings import DEFAULT_LOCALES_DIR, load_settings
from storage.records import StaffMember


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ("checkpoints: [unclosed", "not valid YAML"),
        ("checkpoints: 7\n", ""),
    ],
)
def test_a_bad_schedule_file_is_one_line_naming_the_setting(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    reason: str,
) -> None:
    schedule = tmp_path / "schedule.yaml"
    if content is not None:
        schedule.write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHECKIN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("CHECKIN_SCHEDULE_FILE", str(schedule))
    code = main(["due"])
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("checkin-bot: CHECKIN_SCHEDULE_FILE: "), err
    assert reason in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "c.db").exists(), "a bad setting changes nothing"


# --- the command table -----------------------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"
WHO = {
    "key workers": {KEY_WORKER},
    "all staff": set(ROLES),
    "admins": {ADMIN},
    "admins and voice staff": {ADMIN, VOICE},
    "managers and admins": {MANAGER, ADMIN},
}


def _readme_commands() -> tuple[set[str], dict[str, set[str]]]:
    """(young people's commands, {staff command: roles}) as the README's "In Telegram" says."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### In Telegram", 1)[1].split("\n## ", 1)[0]
    young, _, staff_part = section.partition("| who | command | what it does |")
    everyone = set(re.findall(r"`/([a-z]+)", young))
    staff_roles: dict[str, set[str]] = {}
    for row in staff_part.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] not in WHO:
            continue
        found = re.match(r"`/([a-z]+)", cells[1])
        if found:
            staff_roles.setdefault(found.group(1), set()).update(WHO[cells[0]])
    return everyone, staff_roles


def test_the_readme_lists_every_command_as_the_table_declares_it() -> None:
    everyone, staff_roles = _readme_commands()
    assert everyone == {c.name for c in COMMANDS if not c.staff_only}
    assert staff_roles == {c.name: set(c.roles or ()) for c in COMMANDS if c.staff_only}


def test_every_command_is_registered_once_from_the_table(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    settings = settings.model_copy(update={"telegram_token": SecretStr("1:x")})
    app = build_application(build_runtime(settings), tick_seconds=None)
    registered = [
        name
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    ]
    assert sorted(registered) == sorted(c.name for c in COMMANDS)


def test_menus_and_help_come_from_the_table() -> None:
    t = Catalogues(DEFAULT_LOCALES_DIR).get("en")
    young = [c.command for c in menu(t, COMMANDS)]
    assert young == [
        "checkin",
        "language",
        "privacy",
        "support",
        "mydata",
        "updates",
        "help",
        "stop",
        "forgetme",
    ]
    for role in ROLES:
        names = [c.command for c in menu(t, COMMANDS, role)]
        assert names == [
            c.name for c in COMMANDS if c.staff_only and role in (c.roles or ()) and c.menu
        ] + ["language"]
    admin_member = StaffMember(1, "Ada", ADMIN, None, None, 1, "en", True)
    helped = staff_help(t, admin_member, COMMANDS)
    assert "/staff:" in helped
    assert "/digest:" in helped
    assert "/invite" not in helped
    assert "/checkin:" in young_person_help(t, COMMANDS)
    assert "/invite" not in young_person_help(t, COMMANDS)


def test_staff_only_texts_are_known_by_their_context_not_their_file() -> None:
    catalogues = Catalogues(DEFAULT_LOCALES_DIR)
    young = catalogues._for_young_people
    assert ("staff", "Invite a young person") not in young
    assert (None, "Change your language") in young
    assert all(context != STAFF_CONTEXT for context, _ in young)
    assert any(context == STAFF_CONTEXT for context, _ in catalogues._translated["en"])
