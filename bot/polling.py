"""Long polling that confirms an update to Telegram only after it has been handled.

python-telegram-bot's own polling confirms a batch (the next ``getUpdates`` offset) as soon as it
is queued in the process, before its handlers run, so a crash in between loses those updates.
Here each batch is handled first and confirmed by the next ``getUpdates``: a crash means the
batch comes again after the restart. That is safe because every handler is idempotent (a press
is a compare-and-set on the stored step; a repeated one is answered "already saved").

When Telegram fails:

- **at start** (before the first batch): a token Telegram refuses (401), another process polling
  with the same token (409), or Telegram out of reach stop the bot with one
  :class:`core.errors.CheckinError` line naming the setting and the cause; so does a webhook set
  for the bot (Telegram refuses long polling then), at start or while running;
- **while running**: polling retries with back-off (:class:`Backoff`, injectable with the sleep
  function so tests do not wait), logs one line when it starts failing in a new way and one when
  it works again (not one per retry), and carries on from the last confirmed update: updates that
  arrived meanwhile are kept by Telegram and handled once it answers again.
- **the database unreachable** while handling an update: the update is not confirmed; the loop
  pauses (with the same back-off) and handles it again, so a PostgreSQL restart loses no update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application

from bot.app import finish, prepare
from bot.metrics import Metrics
from conversations.runtime import Runtime
from core.errors import CheckinError

log = logging.getLogger(__name__)

POLL_SECONDS = 10

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait after the n-th failure in a row: first, first*factor, ... up to limit."""

    first: float = 1.0
    factor: float = 2.0
    limit: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.first * self.factor ** max(failures - 1, 0), self.limit)


@dataclass(frozen=True)
class Trouble:
    """A way Telegram fails: ``kind`` tells one from another, ``line`` is what an operator reads."""

    kind: str
    line: str


def trouble(exc: TelegramError) -> Trouble:
    """What went wrong, in words that never hold the token (PTB's own messages may)."""
    if isinstance(exc, InvalidToken):
        return Trouble(
            "refused",
            "CHECKIN_TELEGRAM_TOKEN: Telegram refuses this token (401 Unauthorized); copy it "
            "again from @BotFather",
        )
    if isinstance(exc, Conflict) and "webhook" in exc.message:
        return Trouble(
            "webhook",
            "Telegram refused long polling: a webhook is set (see `checkin-bot webhook info`; "
            "`checkin-bot webhook delete` to poll)",
        )
    if isinstance(exc, Conflict):
        return Trouble(
            "conflict",
            "CHECKIN_TELEGRAM_TOKEN: another process is polling Telegram with this token "
            "(409 Conflict); only one bot may run per token, stop the other one",
        )
    if isinstance(exc, BadRequest):
        return Trouble("failing", f"Telegram refused a request ({type(exc).__name__})")
    if isinstance(exc, NetworkError):
        return Trouble(
            "unreachable",
            f"CHECKIN_TELEGRAM_API_URL: Telegram cannot be reached ({type(exc).__name__})",
        )
    return Trouble("failing", f"Telegram answers with an error ({type(exc).__name__})")


async def serve(
    app: Application,  # type: ignore[type-arg]
    *,
    backoff: Backoff | None = None,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Run the bot until SIGINT or SIGTERM: start, poll and handle, stop cleanly."""
    async with running(app, backoff=backoff, sleep=sleep) as poller:
        await until_stopped(poller)
        if poller.done() and not poller.cancelled():
            poller.result()  # a start-up failure met by the first poll (409, 401) is raised


async def until_stopped(task: asyncio.Task[None] | None = None) -> None:
    """Wait for SIGINT or SIGTERM (or for ``task`` to end)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    stopper = asyncio.create_task(stopping.wait())
    waiting: set[asyncio.Task[Any]] = {stopper} if task is None else {stopper, task}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()


@contextlib.asynccontextmanager
async def started(app: Application) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """The one start sequence, for polling (:func:`running`) and webhooks
    (:func:`bot.webhook.serving`): initialise (Telegram's getMe), :func:`bot.app.prepare`
    (migrate, learn the username, set the menus) and start; on leaving, stop and shut down in
    reverse order. A failure to start (the token refused, Telegram out of reach, a database
    problem) is one :class:`CheckinError` line."""
    try:
        try:
            await app.initialize()  # asks Telegram who the bot is (getMe)
            await prepare(app)
        except TelegramError as exc:
            raise CheckinError(trouble(exc).line) from None
        await app.start()
        yield
    finally:
        if app.running:
            await app.stop()
        await app.shutdown()
        await finish(app)  # release the fan-out lease, close the database


@contextlib.asynccontextmanager
async def running(
    app: Application,  # type: ignore[type-arg]
    *,
    backoff: Backoff | None = None,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[asyncio.Task[None]]:
    """The one way the application starts to poll: as ``checkin-bot run``, the tests, the
    playground and the benchmarks run it. :func:`started`, then poll (:func:`poll`) in a task,
    which the block receives; on leaving, stop polling, then stop the application."""
    async with started(app):
        try:
            await app.bot.delete_webhook()
        except TelegramError as exc:
            raise CheckinError(trouble(exc).line) from None
        poller = asyncio.create_task(poll(app, backoff=backoff, sleep=sleep))
        try:
            yield poller
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller


async def poll(
    app: Application,  # type: ignore[type-arg]
    *,
    backoff: Backoff | None = None,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Fetch, handle, then confirm (by asking for the next batch), for ever.

    Before the first batch, a refused token or another poller is a :class:`CheckinError`;
    afterwards every failure is retried with back-off, logged once per change of state.
    """
    backoff = backoff or Backoff()
    offset: int | None = None
    started = False
    failing: Trouble | None = None
    failures = 0
    db_failures = 0
    while True:
        try:
            updates = await app.bot.get_updates(
                offset=offset, timeout=POLL_SECONDS, allowed_updates=Update.ALL_TYPES
            )
        except TimedOut:  # a long poll that took longer than the client waits: ask again
            continue
        except RetryAfter as exc:
            await sleep(_seconds(exc.retry_after))
            continue
        except TelegramError as exc:
            found = trouble(exc)
            if found.kind == "webhook" or (not started and found.kind in ("refused", "conflict")):
                raise CheckinError(found.line) from None
            failures += 1
            if failing is None or failing.kind != found.kind:
                log.warning("%s; retrying with back-off until it works again", found.line)
                failing = found
            await sleep(backoff.delay(failures))
            continue
        if failing is not None:
            log.info("Telegram answers again after %d failed attempts; polling resumed", failures)
            failing, failures = None, 0
        if not started:
            log.info("the bot is running: polling Telegram")
            started = True
        rt = Runtime.of(app)
        for update in updates:
            lost = rt.database_lost
            await handle(app, update)
            if rt.database_lost != lost:  # not handled: the database could not be reached
                db_failures += 1
                delay = backoff.delay(db_failures)
                log.warning("the database is unreachable; trying again in %.0f s", delay)
                await sleep(delay)
                break  # unconfirmed: the next getUpdates brings this update again
            db_failures = 0
            offset = update.update_id + 1


async def handle(app: Application, update: Update) -> None:  # type: ignore[type-arg]
    """Handle one update completely (a handler's error goes to the error handler, inside
    ``process_update``), counting it and how long it took in :class:`Metrics`."""
    metrics = Metrics.of(app)
    began = time.perf_counter()
    try:
        await app.process_update(update)
    finally:
        metrics.latency.observe(time.perf_counter() - began)
        metrics.updates.inc()


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(str(value))
