"""The playground for a newcomer (issue 15): a clock inside the send window that says when
something waits for it, a page that fits a phone, and a chat that looks like Telegram's.

The browser test uses Debian's chromium through Playwright, as ``tests/test_playground.py``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import ViewportSize, expect

from bot.playground import Playground
from bot.playground.timekeeping import default_start
from conversations.checkpoints import SendWindow
from core.settings import load_settings
from tests.playground_client import (
    ARTIFACTS,
    CHROMIUM,
    KEY_WORKER,
    SPEC,
    YOUNG_PERSON,
    Client,
    browser_page,
    join,
)

LONDON = ZoneInfo("Europe/London")
# A Monday evening, 21:51 in London: outside the 10:00-19:00 send window.
EVENING = datetime(2026, 1, 5, 21, 51, tzinfo=UTC)
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
async def evening(tmp_path: Path) -> AsyncIterator[Playground]:
    """A playground whose clock was set to the evening (as a newcomer's real time may be)."""
    settings = load_settings(api_spec_path=SPEC)
    async with Playground(
        settings, port=0, database=tmp_path / "playground.db", start=EVENING
    ) as pg:
        yield pg
        assert pg.api.violations == []


@pytest.fixture
async def evening_client(evening: Playground) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, evening.url)


def test_the_demo_clock_starts_inside_the_send_window() -> None:
    window = SendWindow()
    moments = (
        EVENING,
        datetime(2026, 7, 1, 3, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
    )
    for now in moments:
        local = default_start(LONDON, window, now).astimezone(LONDON)
        assert window.start <= local.time() < window.end
        assert local.date() == now.astimezone(LONDON).date()
        assert local.strftime("%H:%M") == "11:00"
    late = SendWindow.model_validate({"start": "18:30", "end": "19:00"})
    assert default_start(LONDON, late, EVENING).astimezone(LONDON).strftime("%H:%M") == "18:30"


async def test_the_clock_note_says_when_a_checkin_waits_for_the_send_window(
    evening_client: Client, evening: Playground
) -> None:
    await join(evening_client, evening)
    notes: list[Any] = []
    for _ in range(3):
        notes.append((await evening_client.post("/api/clock", {"step": "month"}))["note"])
    assert notes[:2] == [None, None]
    assert notes[2] == (
        "A check-in message is waiting for the send window (10:00-19:00): "
        "it goes at Mon, Apr 6, 2026, 10:00 BST."
    )
    chat = (await evening_client.get(f"/api/phones/{YOUNG_PERSON}"))["messages"]
    assert "3-month" not in chat[-1]["text"]
    answer = await evening_client.post("/api/clock", {"step": "next"})
    assert answer["note"] is None
    chat = (await evening_client.get(f"/api/phones/{YOUNG_PERSON}"))["messages"]
    assert "It's time for your 3-month check-in" in chat[-1]["text"]
    assert chat[-1]["time"] == "Apr 6, 10:00"


async def test_the_young_persons_bubble_shows_start_and_the_icon_is_served(
    client: Client, playground: Playground
) -> None:
    await join(client, playground)
    chat = (await client.get(f"/api/phones/{YOUNG_PERSON}"))["messages"]
    assert chat[0]["from"] == "user"
    assert chat[0]["text"] == "/start"
    async with client.session.get(client.url + "/favicon.ico") as icon:
        assert icon.status == 200
        assert icon.content_type == "image/x-icon"
        assert (await icon.read()).startswith(b"\x00\x00\x01\x00")


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make system)"
)
async def test_on_a_phone_sized_screen_the_page_does_not_scroll_sideways(
    playground: Playground,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    async with browser_page(playground.url, PHONE) as page:
        key_worker = page.locator(f'.phone[data-key="{KEY_WORKER}"]')
        young = page.locator(f'.phone[data-key="{YOUNG_PERSON}"]')
        await expect(page.locator("#clock")).to_contain_text("2026")

        async def fits() -> None:
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width
            for part in ("header.topbar", ".clock-buttons", "#phones"):
                box = await page.locator(part).bounding_box()
                assert box is not None
                assert box["x"] >= 0
                assert box["x"] + box["width"] <= PHONE["width"], part

        await fits()
        await key_worker.locator("textarea").fill("/invite AB")
        await key_worker.get_by_role("button", name="Send").click()
        await expect(key_worker.locator(".msg.bot").last).to_contain_text("Invite for AB")
        await fits()
        openers = key_worker.locator(".opener")
        await expect(openers).to_have_text(
            ["Open on Young person 1", "On a new young person's phone"]
        )
        await key_worker.get_by_role("button", name="Open on Young person 1").click()
        await young.get_by_role("button", name="English").click()
        await expect(young.locator(".msg.user").first).to_have_text(re.compile(r"^/start"))
        await expect(young.locator(".msg.user .text").first).to_have_text("/start")
        # Young person 1 has joined: the invite no longer offers their phone.
        await expect(openers).to_have_text(["On a new young person's phone"])
        await young.get_by_role("button", name="Yes, let's go").click()
        await expect(young.locator(".msg.bot").last).to_contain_text("Statement 1 of 9")
        await fits()
        await page.screenshot(path=str(ARTIFACTS / "playground-phone.png"), full_page=True)
