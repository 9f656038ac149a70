"""What the playground tests share: its JSON endpoints as the page calls them, its clock's
start, how the browser tests start Debian's chromium, and a young person joining. The
``playground`` and ``client`` fixtures are in ``tests/conftest.py``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page, ViewportSize, async_playwright

from bot.playground import Playground
from core.settings import DEFAULT_SPEC_PATH

ROOT = Path(__file__).resolve().parents[1]
SPEC = DEFAULT_SPEC_PATH
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# A Monday, 11:00 in London (GMT): inside the send window.
START = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
KEY_WORKER = "staff-900101"
YOUNG_PERSON = "yp-100001"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@asynccontextmanager
async def browser_page(url: str, viewport: ViewportSize | None = None) -> AsyncIterator[Page]:
    """Debian's chromium, headless, with one page open at ``url`` (10 s for each step)."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport=viewport or {"width": 1400, "height": 900})
            page.set_default_timeout(10_000)
            await page.goto(url)
            yield page
        finally:
            await browser.close()


class Client:
    """The playground's JSON endpoints, as the page calls them."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url.rstrip("/")

    async def get(self, path: str, status: int = 200) -> Any:
        async with self.session.get(self.url + path) as response:
            assert response.status == status, await response.text()
            return await response.json() if status == 200 else None

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        async with self.session.post(self.url + path, json=body) as response:
            assert response.status == status, await response.text()
            return await response.json()


async def join(client: Client, pg: Playground, label: str = "AB") -> None:
    """The key worker invites; the young person opens the link, picks English and agrees."""
    await client.post(f"/api/phones/{KEY_WORKER}/send", {"text": f"/invite {label}"})
    await pg.idle()
    invite = (await client.get(f"/api/phones/{KEY_WORKER}"))["messages"][-1]
    link = re.search(r"https://t\.me/\S+", invite["text"])
    assert link is not None
    await client.post(f"/api/phones/{YOUNG_PERSON}/open", {"link": link[0]})
    await pg.idle()
    for label_text in ("English", "Yes, let's go"):
        last = (await client.get(f"/api/phones/{YOUNG_PERSON}"))["messages"][-1]
        button = next(b for row in last["buttons"] for b in row if label_text in b["text"])
        body = {"message_id": last["id"], "data": button["data"]}
        await client.post(f"/api/phones/{YOUNG_PERSON}/press", body)
        await pg.idle()
