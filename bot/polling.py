"""Long polling that confirms an update to Telegram only after it has been handled.

python-telegram-bot's own polling confirms a batch (the next ``getUpdates`` offset) as soon as it
is queued in the process, before its handlers run, so a crash in between loses those updates.
Here each batch is handled first and confirmed by the next ``getUpdates``: a crash means the
batch comes again after the restart. That is safe because every handler is idempotent (a press
is a compare-and-set on the stored step; a repeated one is answered "already saved").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.app import prepare
from bot.metrics import Metrics
from core.errors import CheckinError

log = logging.getLogger(__name__)

POLL_SECONDS = 10
BACKOFF_MAX = 30.0


async def serve(app: Application) -> None:  # type: ignore[type-arg]
    """Run the bot until SIGINT or SIGTERM: start, poll and handle, stop cleanly."""
    async with running(app) as poller:
        await until_stopped(poller)


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
    (:func:`bot.webhook.serving`): initialise, :func:`bot.app.prepare` (migrate, learn the
    username, set the menus) and start; on leaving, stop and shut down in reverse order."""
    await app.initialize()
    try:
        await prepare(app)
        await app.start()
        yield
    finally:
        if app.running:
            await app.stop()
        await app.shutdown()


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[asyncio.Task[None]]:  # type: ignore[type-arg]
    """The one way the application starts: as ``checkin-bot run``, the tests, the playground and
    the benchmarks run it. :func:`started`, then poll (:func:`poll`) in a task, which the block
    receives; on leaving, stop polling, then stop the application."""
    async with started(app):
        await app.bot.delete_webhook()
        poller = asyncio.create_task(poll(app))
        try:
            yield poller
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller


async def poll(app: Application) -> None:  # type: ignore[type-arg]
    """Fetch, handle, then confirm (by asking for the next batch), for ever."""
    offset: int | None = None
    backoff = 1.0
    while True:
        try:
            updates = await app.bot.get_updates(
                offset=offset, timeout=POLL_SECONDS, allowed_updates=Update.ALL_TYPES
            )
        except TimedOut:
            continue
        except Conflict:
            raise CheckinError(
                "Telegram refused long polling: a webhook is set (see `checkin-bot webhook info`; "
                "`checkin-bot webhook delete` to poll), or another `checkin-bot run` is polling"
            ) from None
        except RetryAfter as exc:
            await asyncio.sleep(_seconds(exc.retry_after))
            continue
        except NetworkError as exc:
            log.warning("polling failed (%s); trying again", type(exc).__name__)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            continue
        backoff = 1.0
        for update in updates:
            await handle(app, update)
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
