"""Long polling that confirms an update to Telegram only after it has been handled.

python-telegram-bot's own polling confirms a batch (the next ``getUpdates`` offset) as soon as it
is queued in the process, before its handlers run, so a crash in between loses those updates.
Here each batch is handled first and confirmed by the next ``getUpdates``: a crash means the
batch comes again after the restart. That is safe because every handler is idempotent (a press
is a compare-and-set on the stored step; a repeated one is answered "already saved"). An update
whose handler found the database unreachable is not confirmed either: the loop pauses (1 s,
doubling up to 30 s) and handles it again, so a PostgreSQL restart loses no update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from datetime import timedelta

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.app import finish, prepare
from conversations.runtime import Runtime

log = logging.getLogger(__name__)

POLL_SECONDS = 10
BACKOFF_MAX = 30.0


async def serve(app: Application) -> None:  # type: ignore[type-arg]
    """Run the bot until SIGINT or SIGTERM: start, poll and handle, stop cleanly."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    async with running(app) as poller:
        stopper = asyncio.create_task(stopping.wait())
        await asyncio.wait({poller, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[asyncio.Task[None]]:  # type: ignore[type-arg]
    """The one way the application starts: as ``checkin-bot run``, the tests, the playground and
    the benchmarks run it. Initialise, :func:`bot.app.prepare` (migrate, learn the username, set
    the menus), start, and poll (:func:`poll`) in a task, which the block receives; on leaving,
    stop polling and shut down in reverse order, ending with :func:`bot.app.finish` (release the
    fan-out lease, close the database)."""
    await app.initialize()
    try:
        await prepare(app)
        await app.bot.delete_webhook()
        await app.start()
        poller = asyncio.create_task(poll(app))
        try:
            yield poller
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
    finally:
        if app.running:
            await app.stop()
        await app.shutdown()
        await finish(app)


async def poll(app: Application) -> None:  # type: ignore[type-arg]
    """Fetch, handle, then confirm (by asking for the next batch), for ever."""
    offset: int | None = None
    backoff = 1.0
    db_backoff = 1.0
    while True:
        try:
            updates = await app.bot.get_updates(
                offset=offset, timeout=POLL_SECONDS, allowed_updates=Update.ALL_TYPES
            )
        except TimedOut:
            continue
        except RetryAfter as exc:
            await asyncio.sleep(_seconds(exc.retry_after))
            continue
        except NetworkError as exc:
            log.warning("polling failed (%s); trying again", type(exc).__name__)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            continue
        backoff = 1.0
        rt = Runtime.of(app)
        for update in updates:
            lost = rt.database_lost
            await app.process_update(update)  # handler errors go to the error handler
            if rt.database_lost != lost:  # not handled: the database could not be reached
                log.warning("the database is unreachable; trying again in %.0f s", db_backoff)
                await asyncio.sleep(db_backoff)
                db_backoff = min(db_backoff * 2, BACKOFF_MAX)
                break  # unconfirmed: the next getUpdates brings this update again
            db_backoff = 1.0
            offset = update.update_id + 1


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(str(value))
