"""The checkin-bot command line, run as operators run it: a real process, real settings."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """What one ``checkin-bot`` command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def checkin_bot(tmp_path: Path, *args: str, **env: str) -> Run:
    """``checkin-bot ARGS`` in this process, in ``tmp_path``, with only these CHECKIN_ settings
    (and the defaults below) in the environment."""
    environment = {
        "CHECKIN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "CHECKIN_BOT_USERNAME": "checkin_test_bot",
        "CHECKIN_TELEGRAM_TOKEN": "123:secret-token-value",
        **env,
    }
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CHECKIN_")]:
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.chdir(tmp_path)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse refuses an argument by exiting
                code = exc.code if isinstance(exc.code, int) else 1
    return Run(code, stdout.getvalue(), stderr.getvalue())


def test_the_console_command_runs_as_a_real_process(tmp_path: Path) -> None:
    """Once as operators run it: a real process, the installed module, a real exit code."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
    environment["CHECKIN_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "due", "--at", "tomorrow"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last == "checkin-bot due: error: argument --at: not an ISO-8601 time: 'tomorrow'"
    assert "Traceback" not in result.stderr


def test_staff_add_prints_a_single_use_invite_link(tmp_path: Path) -> None:
    result = checkin_bot(
        tmp_path, "staff", "add", "--name", "Ada", "--role", "admin", "--team", "North"
    )
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert re.fullmatch(r"https://t\.me/checkin_test_bot\?start=[A-Za-z0-9_-]{1,64}", link)
    assert "secret-token-value" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"CHECKIN_TIMEZONE": "Mars/Olympus"}, ["due"], "CHECKIN_TIMEZONE: unknown time zone"),
        ({"CHECKIN_DATABASE_URL": "mysql://x"}, ["due"], "CHECKIN_DATABASE_URL: must start with"),
        ({"CHECKIN_MIN_GROUP_SIZE": "2"}, ["due"], "CHECKIN_MIN_GROUP_SIZE:"),
        ({"CHECKIN_INVITE_TTL_DAYS": "soon"}, ["due"], "CHECKIN_INVITE_TTL_DAYS:"),
        ({"CHECKIN_TELEGRAM_TOKEN": ""}, ["run"], "CHECKIN_TELEGRAM_TOKEN: is not set"),
        ({}, ["staff", "add", "--name", " ", "--role", "admin"], "--name: must be 1-80"),
    ],
)
def test_a_bad_setting_or_argument_is_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], args: list[str], message: str
) -> None:
    result = checkin_bot(tmp_path, *args, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "secret-token-value" not in result.stderr


def test_a_broken_questionnaire_stops_start_up_naming_file_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "qs"
    broken.mkdir()
    source = (ROOT / "conversations/questionnaires/quality_experience.yaml").read_text("utf-8")
    (broken / "mine.yaml").write_text(
        source.replace(
            '    version: 1\n    text: "I feel my key worker cares',
            '    version: x\n    text: "I feel my key worker cares',
        ),
        "utf-8",
    )
    result = checkin_bot(tmp_path, "due", CHECKIN_QUESTIONNAIRES_DIR=str(broken))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "checkin-bot: mine.yaml: items[cares].version: must be a whole number of at least 1"
    )


def test_due_lists_nothing_on_an_empty_service(tmp_path: Path) -> None:
    result = checkin_bot(tmp_path, "due", "--at", "2026-05-01T12:00:00+01:00")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing is due"
    bad = checkin_bot(tmp_path, "due", "--at", "tomorrow")
    assert bad.returncode == 2
    assert "not an ISO-8601 time" in bad.stderr


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    missing = [
        f"CHECKIN_{name.upper()}"
        for name in Settings.model_fields
        if f"CHECKIN_{name.upper()}" not in readme
    ]
    assert missing == []
