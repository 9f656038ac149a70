"""Bugs that came from facts written in several places, fixed by writing each fact once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


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
