"""What the playground tests share: its JSON endpoints as the page calls them, its clock's
start, and how the browser tests start Debian's chromium. The ``playground`` and ``client``
fixtures are in ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page, ViewportSize, async_playwright

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
