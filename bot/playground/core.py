"""The playground's engine: the real bot, the local Bot API, the demo service and its clock.

:class:`Playground` starts, in this event loop, the local Bot API stand-in (checking every
request against the Bot API spec when the file is there), the real application from
:func:`bot.app.build_application` polling it, a fresh demo service in its own SQLite file, and
the web page (:mod:`bot.playground.web`). Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import re
import secrets
import socket
import tempfile
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from telegram.ext import Application

from bot.app import build_application, build_runtime, run_periodic
from bot.playground import demo, history, timekeeping
from bot.playground.demo import DEMO_STAFF, Phone
from bot.playground.events import Broadcaster
from bot.polling import running
from bot.standin import standin_settings
from conversations.runtime import Runtime
from core.clock import ManualClock
from core.settings import Settings
from local_bot_api import LocalBotAPI

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
BOT_ID = 777000111
BOT_USERNAME = "checkin_playground_bot"
TICK_SECONDS = 2.0
_START_LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]{1,64})")

App = Application[Any, Any, Any, Any, Any, Any]


class PlaygroundError(Exception):
    """The playground cannot do what was asked (a bad phone, a bad link, ...)."""


class PlaygroundEngine:
    """The running playground without its page: the stand-in, the bot, the demo service and the
    clock. :class:`bot.playground.web.Playground` adds the page (``async with Playground(settings,
    port=0) as pg: pg.url``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        port: int = 8080,
        database: str | Path | None = None,
        start: datetime | None = None,
        tick_seconds: float | None = TICK_SECONDS,
        demo_history: bool = False,
    ) -> None:
        self.base_settings = settings
        self.demo_history = demo_history
        self.port = port
        self.database = Path(database) if database else None
        self.clock = ManualClock(start or timekeeping.default_start())
        self.tick_seconds = tick_seconds
        self.token = f"{BOT_ID}:{secrets.token_urlsafe(24)}"
        username = settings.bot_username or BOT_USERNAME
        spec = settings.api_spec_path if settings.api_spec_path.is_file() else None
        self.spec_path = spec
        self.api = LocalBotAPI(
            spec, host=HOST, token=self.token, bot_username=username, clock=self.clock
        )
        self.events = Broadcaster(self.api)
        self.phones: list[Phone] = []
        self.young_people = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._app: App | None = None
        self._rt: Runtime | None = None
        self._process: AsyncExitStack | None = None
        self._site_runner: web.AppRunner | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The page, e.g. ``http://127.0.0.1:8080/``."""
        return f"http://{HOST}:{self.port}/"

    @property
    def rt(self) -> Runtime:
        assert self._rt is not None, "the playground is not running"
        return self._rt

    @property
    def app(self) -> App:
        assert self._app is not None, "the playground is not running"
        return self._app

    def make_page(self) -> web.Application:
        """The web page's application (the endpoints are in :mod:`bot.playground.web`)."""
        raise NotImplementedError("bot.playground.web.Playground serves the page")

    async def start(self) -> None:
        """Start the stand-in, the bot, the demo service and the web page."""
        sock = _bind(self.port)  # first: a taken port fails before anything starts
        self.port = int(sock.getsockname()[1])  # the real port when port=0
        self._site_runner = web.AppRunner(self.make_page(), access_log=None, shutdown_timeout=1.0)
        try:
            await self.api.start()
            await self._start_bot()
            await demo.seed(self.rt, self.app.bot)
            if self.demo_history:
                await history.seed_history(self.rt)
            self.phones = [demo.staff_phone(DEMO_STAFF[0])]
            self.add_young_person()
            self.events.start()
            await self._site_runner.setup()
            await web.SockSite(self._site_runner, sock).start()
        except BaseException:
            sock.close()
            raise
        log.info("playground at %s", self.url)

    async def _start_bot(self) -> None:
        """The real application, started and polling the stand-in as in production."""
        self._rt = build_runtime(self._settings(), clock=self.clock)
        self._app = build_application(self._rt, tick_seconds=self.tick_seconds)
        self._process = AsyncExitStack()
        await self._process.enter_async_context(running(self._app))

    async def stop(self) -> None:
        """Stop everything started, in reverse order."""
        self.events.close()
        if self._site_runner is not None:
            await self._site_runner.cleanup()
            self._site_runner = None
        if self._process is not None:
            process, self._process = self._process, None
            await process.aclose()
            self._app = None
        if self._rt is not None:
            await self._rt.db.close()
        await self.events.aclose()
        await self.api.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _settings(self) -> Settings:
        """The given settings, pointed at the stand-in, a fake token and the demo database."""
        if self.database is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="checkin-playground-")
            self.database = Path(self._tmp.name) / "playground.db"
        url = f"sqlite+aiosqlite:///{self.database.resolve()}"
        return standin_settings(self.api, url, base=self.base_settings)

    # ---- phones ---------------------------------------------------------------------------
    def phone(self, key: str) -> Phone:
        """The phone called ``key``; :class:`PlaygroundError` if there is none."""
        for phone in self.phones:
            if phone.key == key:
                return phone
        raise PlaygroundError(f"no phone {key!r}")

    def add_young_person(self, language_code: str = "en") -> Phone:
        """A new young person's phone (their Telegram app set to ``language_code``)."""
        self.young_people += 1
        phone = demo.young_person_phone(self.young_people, language_code)
        self.phones.append(phone)
        self.events.publish({"kind": "phones"})
        return phone

    def add_staff(self, user_id: int) -> Phone:
        """Show the phone of the demo staff member with this Telegram user id."""
        for phone in self.phones:
            if phone.user_id == user_id:
                return phone
        member = next((m for m in DEMO_STAFF if m.user_id == user_id), None)
        if member is None:
            raise PlaygroundError(f"no demo staff member {user_id}")
        phone = demo.staff_phone(member)
        self.phones.append(phone)
        self.events.publish({"kind": "phones"})
        return phone

    def send(self, key: str, text: str) -> None:
        """The phone's person sends ``text`` (a message or a ``/command``)."""
        text = text.strip()
        if not text:
            raise PlaygroundError("nothing to send")
        phone = self.phone(key)
        self.api.send_text(
            phone.user_id, text, language_code=phone.language_code, first_name=phone.first_name
        )
        self.events.publish({"kind": "user_message", "chat_id": phone.user_id})

    def press(self, key: str, message_id: int, data: str) -> None:
        """The phone's person presses an inline button of one of the bot's messages."""
        phone = self.phone(key)
        try:
            self.api.press_button(phone.user_id, message_id, data)
        except LookupError as exc:
            raise PlaygroundError(str(exc)) from None

    def open_link(self, key: str, link: str) -> None:
        """The phone's person opens a ``https://t.me/<bot>?start=<token>`` link (an invite)."""
        match = _START_LINK.search(link)
        if match is None:
            raise PlaygroundError("not a Check-in invite link")
        self.send(key, f"/start {match[1]}")

    # ---- time -----------------------------------------------------------------------------
    async def move_clock(self, step: str) -> str | None:
        """Move the service's clock by ``day``, ``week``, ``month`` or to the ``next`` event.

        Runs the scheduler at once at the new time; returns a note when nothing moved.
        """
        await self.run_scheduler()
        now = self.clock.now()
        if step in timekeeping.STEPS:
            self.clock.advance(timekeeping.STEPS[step])
        elif step == "month":
            self.clock.set(timekeeping.add_months(now, 1, self.rt.settings.zone))
        elif step == "next":
            chats = [p.user_id for p in self.phones if p.role == "young_person"]
            when = await timekeeping.next_event(self.rt, chats, now)
            if when is None:
                return "Nothing is scheduled for the young people here (invite one first?)"
            self.clock.set(when)
        else:
            raise PlaygroundError(f"unknown clock step {step!r}")
        self.events.publish({"kind": "clock"})
        await self.run_scheduler()
        return None

    async def run_scheduler(self) -> None:
        """One run of the periodic job at the clock's time (prompts, then scheduled digests),
        then wait for the bot."""
        await run_periodic(self.rt, self.app.bot)
        await self.idle()

    async def idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a deadline, not a cancel scope
        """Wait until the bot has handled everything sent to it so far."""
        await self.api.wait_for_idle(self.app, timeout=timeout)

    def clock_state(self) -> dict[str, Any]:
        """The service time, for the page's top bar."""
        zone = self.rt.settings.zone
        window = self.rt.schedule.send_window
        return {
            "iso": self.clock.now().isoformat(),
            "display": timekeeping.describe(self.clock.now(), zone),
            "zone": str(zone),
            "send_window": f"{window.start:%H:%M}-{window.end:%H:%M}",
        }


def _bind(port: int) -> socket.socket:
    """A socket on 127.0.0.1:``port``; :class:`PlaygroundError` when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise PlaygroundError(
            f"cannot listen on {HOST}:{port} ({exc.strerror}); try --port {port + 1}"
        ) from None
    return sock
