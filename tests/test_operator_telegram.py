"""Telegram failing, at start and while the bot runs (``bot/polling.py``).

At start ``checkin-bot run`` is its own process against the local Bot API: a token Telegram
refuses (401), another process polling the same token (409) and Telegram out of reach each stop
it with one line naming the setting and the cause, and a non-zero exit.

While running, the application is started as ``checkin-bot run`` starts it
(:func:`bot.polling.running`) against the stand-in, with the back-off's sleep injected:
:class:`SteppedSleep` records each delay and lets the loop go on only when the test says so, so
"minutes" of back-off pass without waiting. The stand-in really refuses connections (stopped),
answers 401, or has a second poller really polling with the same token (409). Each time: one log
line when polling starts failing, one when it works again, and the messages sent meanwhile are
all handled afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from telegram.ext import Application

from bot.app import build_application, build_runtime
from bot.polling import Backoff, poll, running
from core.clock import ManualClock
from core.errors import CheckinError
from core.settings import load_settings
from local_bot_api import LocalBotAPI
from tests.world import BOT_USERNAME, SPEC, START, TOKEN

ROOT = Path(__file__).resolve().parents[1]
STRANGER = 4242
WARM_UP = 4000
HELP_REPLY = "To join, ask your key worker"


# --- at start: checkin-bot run, its own process -----------------------------------------------


@dataclass
class Finished:
    returncode: int
    stderr: str


async def run_bot(tmp_path: Path, api_url: str, token: str = TOKEN) -> Finished:
    """``checkin-bot run`` until it exits by itself (60 s at most)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
    env.update(
        CHECKIN_TELEGRAM_TOKEN=token,
        CHECKIN_TELEGRAM_API_URL=api_url,
        CHECKIN_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        CHECKIN_BOT_USERNAME=BOT_USERNAME,
        PYTHONPATH=str(ROOT),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            _, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Finished(process.returncode, err.decode("utf-8", "replace"))


def one_line(finished: Finished) -> str:
    assert finished.returncode != 0
    assert "Traceback" not in finished.stderr, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    return lines[0]


@asynccontextmanager
async def stand_in(clock: ManualClock | None = None) -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME, clock=clock) as api:
        yield api
        api.assert_no_violations()


async def test_a_token_telegram_refuses_stops_start_up_in_one_line(tmp_path: Path) -> None:
    async with stand_in() as api:
        wrong = "123456:not-the-token-of-this-bot"
        line = one_line(await run_bot(tmp_path, api.base_url, token=wrong))
        assert api.request_counts["getUpdates"] == 0
    assert line == (
        "checkin-bot: CHECKIN_TELEGRAM_TOKEN: Telegram refuses this token (401 Unauthorized); "
        "copy it again from @BotFather"
    )
    assert "not-the-token" not in line


async def test_another_process_polling_the_token_stops_start_up_in_one_line(
    tmp_path: Path,
) -> None:
    async with stand_in() as api, second_poller(api) as other:
        await api.wait_until(lambda: api.request_counts["getUpdates"] > 0)
        line = one_line(await run_bot(tmp_path, api.base_url))
    assert line == (
        "checkin-bot: CHECKIN_TELEGRAM_TOKEN: another process is polling Telegram with this token "
        "(409 Conflict); only one bot may run per token, stop the other one"
    )
    assert other.conflicts >= 1  # it really was two pollers, each pushing the other out


async def test_telegram_out_of_reach_stops_start_up_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = one_line(await run_bot(tmp_path, f"http://127.0.0.1:{port}/bot"))
    assert line == (
        "checkin-bot: CHECKIN_TELEGRAM_API_URL: Telegram cannot be reached (NetworkError)"
    )


async def test_run_on_a_file_that_is_not_a_database_stops_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bot.db").write_bytes(b"PK\x03\x04 a zip file, not a database" * 40)
    async with stand_in() as api:
        line = one_line(await run_bot(tmp_path, api.base_url))
        assert api.request_counts["getUpdates"] == 0
    assert line == (
        f"checkin-bot: CHECKIN_DATABASE_URL ({tmp_path / 'bot.db'}): the file is not a SQLite "
        "database (it may be damaged, encrypted or another kind of file)"
    )


@dataclass
class SecondPoller:
    conflicts: int = 0
    polls: int = 0


@asynccontextmanager
async def second_poller(api: LocalBotAPI) -> AsyncIterator[SecondPoller]:
    """Another process's bot polling the same token, without ever confirming an update."""
    found = SecondPoller()

    async def loop() -> None:
        async with httpx.AsyncClient(base_url=f"{api.base_url}{TOKEN}/") as client:
            for _ in range(10_000):  # bounded; ended by the block's end long before
                answer = await client.post("getUpdates", json={"timeout": 5}, timeout=10)
                found.polls += 1
                found.conflicts += answer.status_code == 409

    task = asyncio.create_task(loop())
    try:
        yield found
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


# --- while running: the polling loop with an injected sleep ------------------------------------


@dataclass
class SteppedSleep:
    """The back-off's sleep: records each delay, and returns only when the test lets it."""

    delays: list[float] = field(default_factory=list)
    _released: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def __call__(self, seconds: float) -> None:
        async with self._changed:
            self.delays.append(seconds)
            number = len(self.delays)
            self._changed.notify_all()
            await self._changed.wait_for(lambda: self._released >= number)

    async def asleep(self, count: int) -> None:
        """Wait until the loop has gone to sleep ``count`` times in all."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: len(self.delays) >= count)

    async def release(self, count: int = 1) -> None:
        async with self._changed:
            self._released += count
            self._changed.notify_all()


@dataclass
class PollingBot:
    api: LocalBotAPI
    app: Application  # type: ignore[type-arg]
    sleep: SteppedSleep
    task: asyncio.Task[None]

    async def idle(self) -> None:
        await self.api.wait_for_idle(timeout=10)

    def replies(self, user: int) -> list[str]:
        return [m.content or "" for m in self.api.messages(user)]


@asynccontextmanager
async def polling_bot(tmp_path: Path) -> AsyncIterator[PollingBot]:
    clock = ManualClock(START)
    async with stand_in(clock) as api:
        settings = load_settings(
            telegram_token=TOKEN,
            telegram_api_url=api.base_url,
            telegram_file_url=api.base_file_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            bot_username=BOT_USERNAME,
        )
        app = build_application(build_runtime(settings, clock=clock), tick_seconds=None)
        sleep = SteppedSleep()
        backoff = Backoff(first=1.0, factor=2.0, limit=60.0)
        async with running(app, backoff=backoff, sleep=sleep) as task:  # as checkin-bot run
            bot = PollingBot(api, app, sleep, task)
            api.send_text(WARM_UP, "/help")  # a first batch: the bot is running from here on
            await bot.idle()
            yield bot


def polling_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.polling"]


async def test_telegram_down_for_minutes_is_retried_logged_twice_and_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.polling")
    async with polling_bot(tmp_path) as bot:
        bot.api.send_text(STRANGER, "/help")
        await bot.idle()
        assert sum(HELP_REPLY in t for t in bot.replies(STRANGER)) == 1
        await bot.api.stop()  # the network to Telegram is down: connections are refused
        for n in range(1, 4):  # young people keep writing; Telegram keeps their messages
            bot.api.send_text(STRANGER + n, "/help")
        retries = 10
        for n in range(1, retries + 1):
            await bot.sleep.asleep(n)
            await bot.sleep.release()
        await bot.sleep.asleep(retries + 1)
        assert bot.sleep.delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
        assert sum(bot.sleep.delays) >= 300  # five minutes of back-off, without waiting for it
        assert [STRANGER + n for n in range(1, 4) if bot.replies(STRANGER + n)] == []
        assert len(bot.api.state.pending) == 3  # not confirmed: still waiting at Telegram
        await bot.api.start()  # the network is back, on the same address
        await bot.sleep.release()
        await bot.idle()
        for n in range(1, 4):  # every message sent during the outage, answered once
            assert sum(HELP_REPLY in t for t in bot.replies(STRANGER + n)) == 1
        assert not bot.task.done()  # no restart
    lines = polling_lines(caplog)
    assert lines[0] == "the bot is running: polling Telegram"
    assert lines[1:] == [
        "CHECKIN_TELEGRAM_API_URL: Telegram cannot be reached (NetworkError); retrying with "
        "back-off until it works again",
        f"Telegram answers again after {retries + 1} failed attempts; polling resumed",
    ]


async def test_a_token_refused_while_running_is_retried_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.polling")
    async with polling_bot(tmp_path) as bot:
        bot.api.inject_fault("getUpdates", "unauthorized", times=4)
        bot.api.send_text(STRANGER, "/help")  # ends the waiting long poll; the next one fails
        for n in range(1, 4):
            await bot.sleep.asleep(n)
            bot.api.send_text(STRANGER + n, "/help")
            await bot.sleep.release()
        await bot.sleep.asleep(4)
        assert [STRANGER + n for n in range(1, 4) if bot.replies(STRANGER + n)] == []
        await bot.sleep.release()  # the fault has passed: Telegram takes the token again
        await bot.idle()
        for n in range(4):
            assert sum(HELP_REPLY in t for t in bot.replies(STRANGER + n)) == 1
        assert not bot.task.done()
    assert polling_lines(caplog)[1:] == [
        "CHECKIN_TELEGRAM_TOKEN: Telegram refuses this token (401 Unauthorized); copy it again "
        "from @BotFather; retrying with back-off until it works again",
        "Telegram answers again after 4 failed attempts; polling resumed",
    ]


async def test_a_second_process_polling_while_running_is_retried_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.polling")
    async with polling_bot(tmp_path) as bot:
        bot.api.send_text(STRANGER, "/help")
        await bot.idle()
        async with second_poller(bot.api) as other:
            await bot.sleep.asleep(1)  # our long poll was pushed out: 409
            for n in range(2, 4):  # each try of ours pushes the other out, and it us
                await bot.sleep.release()
                await bot.sleep.asleep(n)
            assert other.conflicts >= 1
        # The other process has stopped (while it ran, it was given the updates: a young
        # person's message now is for us).
        bot.api.send_text(STRANGER + 1, "/help")
        await bot.sleep.release()
        await bot.idle()
        assert sum(HELP_REPLY in t for t in bot.replies(STRANGER + 1)) == 1
        assert not bot.task.done()
    assert polling_lines(caplog)[1:] == [
        "CHECKIN_TELEGRAM_TOKEN: another process is polling Telegram with this token (409 "
        "Conflict); only one bot may run per token, stop the other one; retrying with back-off "
        "until it works again",
        "Telegram answers again after 3 failed attempts; polling resumed",
    ]


async def test_a_conflict_before_the_first_batch_is_a_start_up_error(tmp_path: Path) -> None:
    async with polling_bot(tmp_path) as bot:
        bot.task.cancel()
        with suppress(asyncio.CancelledError):
            await bot.task
        bot.api.inject_fault("getUpdates", "conflict")
        with pytest.raises(CheckinError, match=r"^CHECKIN_TELEGRAM_TOKEN: another process"):
            await poll(bot.app, sleep=bot.sleep)
        assert bot.sleep.delays == []  # not retried: at start it is one line and an exit
