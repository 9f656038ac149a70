"""The playground's demo history switch: a newcomer sees a meaningful digest at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.playground.web import Playground
from conversations.digest import Scope
from conversations.digest_text import plain
from conversations.reports import compose
from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "telegram-bot-api" / "api.json"
START = datetime(2026, 5, 18, 11, 0, tzinfo=UTC)


async def test_demo_history_gives_a_digest_with_figures_and_findings(tmp_path: Path) -> None:
    settings = load_settings(api_spec_path=SPEC)
    async with Playground(
        settings, port=0, database=tmp_path / "pg.db", start=START, demo_history=True
    ) as pg:
        t = pg.rt.translator("en")
        report = await compose(pg.rt, Scope.service(), t, pg.clock.now(), reader="test")
    digest = report.digest
    shown = [c for c in digest.cells if c.share is not None]
    assert len({c.item_id for c in shown}) == 9  # a share for every statement
    assert digest.findings  # something to compare: the previous quarter, or 3 months and exit
    assert report.chart is not None
    words = plain(report.text)
    assert "answered positively" in words
    assert "Nothing to compare" not in words


async def test_without_the_switch_the_demo_service_has_no_history(tmp_path: Path) -> None:
    settings = load_settings(api_spec_path=SPEC)
    async with Playground(settings, port=0, database=tmp_path / "pg.db", start=START) as pg:
        t = pg.rt.translator("en")
        report = await compose(pg.rt, Scope.service(), t, pg.clock.now(), reader="test")
    assert report.digest.cells == ()
    assert report.chart is None
