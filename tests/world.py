"""The world the end-to-end tests act in: a real bot, its local Bot API, database and clock.

:func:`running_world` starts the local Bot API stand-in (checking every request against the Bot
API spec, ``core.settings.DEFAULT_SPEC_PATH``), a database, a manual clock, and the real
application from :func:`bot.app.build_application`, started and polled exactly as in production
(:func:`bot.polling.running`). Tests act as people (``world.say``, ``world.press``) and read what
the bot sent; a test fails on any request Telegram would refuse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import build_application, build_runtime
from bot.polling import running
from bot.schedule import TickReport, tick
from bot.standin import standin_settings
from conversations.runtime import Runtime
from core.clock import ManualClock
from core.settings import DEFAULT_SPEC_PATH, Settings
from local_bot_api import LocalBotAPI
from local_bot_api.models import BotMessage

SPEC = DEFAULT_SPEC_PATH
TOKEN = "123456:TEST-token-not-secret"
BOT_USERNAME = "checkin_test_bot"
# A Monday, 11:00 in London (GMT): inside the send window.
START = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)


class World:
    """A running bot, its local Bot API, its database and its clock."""

    def __init__(self, api: LocalBotAPI, settings: Settings, clock: ManualClock) -> None:
        self.api = api
        self.settings = settings
        self.clock = clock
        self.app: Application | None = None  # type: ignore[type-arg]
        self.rt: Runtime | None = None
        self._process: AsyncExitStack | None = None

    async def start(self) -> None:
        """Start (or restart) the bot process: a new runtime and application, same database."""
        self.rt = build_runtime(self.settings, clock=self.clock)
        self.app = build_application(self.rt, tick_seconds=None)
        self._process = AsyncExitStack()
        await self._process.enter_async_context(running(self.app))

    async def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        await process.aclose()
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def idle(self) -> None:
        await self.api.wait_for_idle(self.app, timeout=10)

    async def say(self, user: int, text: str, **kwargs: Any) -> list[BotMessage]:
        """The user sends ``text``; returns what the bot sent or edited in reply."""
        before = self._seen(user)
        self.api.send_text(user, text, **kwargs)
        await self.idle()
        return self._since(user, before)

    async def press(
        self, user: int, label: str, message: BotMessage | None = None
    ) -> list[BotMessage]:
        """The user presses the button whose label contains ``label`` on ``message``."""
        message = message or self.last(user)
        found = self.api.buttons(message)
        matches = [data for text, data in found if text == label or text.endswith(" " + label)]
        matches = matches or [data for text, data in found if label in text]
        assert matches, f"no button {label!r} on: {found}"
        return await self.press_data(user, message, matches[0])

    async def press_data(
        self, user: int, message: BotMessage, data: str | None, *, verify: bool = True
    ) -> list[BotMessage]:
        before = self._seen(user)
        self.api.press_button(user, message.message_id, data, verify=verify)
        await self.idle()
        return self._since(user, before)

    async def tick(self) -> TickReport:
        """One run of the scheduler job at the clock's current time."""
        assert self.rt is not None
        assert self.app is not None
        report = await tick(self.rt, self.app.bot)
        await self.idle()
        return report

    def last(self, user: int) -> BotMessage:
        message = self.api.last_message(user)
        assert message is not None, "the bot has sent nothing to this chat"
        return message

    def texts(self, user: int) -> list[str]:
        return [m.content or "" for m in self.api.messages(user)]

    def _seen(self, user: int) -> dict[int, tuple[int, str]]:
        return {m.message_id: (len(m.history), m.content or "") for m in self.api.messages(user)}

    def _since(self, user: int, before: dict[int, tuple[int, str]]) -> list[BotMessage]:
        return [
            m
            for m in self.api.messages(user)
            if m.message_id not in before
            or before[m.message_id] != (len(m.history), m.content or "")
        ]


@asynccontextmanager
async def running_world(database: Path | str, **api_options: Any) -> AsyncIterator[World]:
    """A started world storing in ``database`` (an SQLite file, or a database URL); fails if any
    request broke the rules. ``api_options`` go to the stand-in (``send_limit_per_second=25``)."""
    clock = ManualClock(START)
    url = database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"
    async with LocalBotAPI(
        SPEC, token=TOKEN, bot_username=BOT_USERNAME, clock=clock, **api_options
    ) as api:
        w = World(api, standin_settings(api, url), clock)
        await w.start()
        try:
            yield w
        finally:
            await w.stop()
        api.assert_no_violations()
