"""``checkin-bot playground``: run the playground until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from bot.playground.core import PlaygroundError
from bot.playground.web import Playground
from core.errors import CheckinError
from core.settings import Settings


def run_playground(
    settings: Settings,
    *,
    port: int = 8080,
    database: str | None = None,
    demo_history: bool = False,
) -> int:
    """Serve the playground on ``http://127.0.0.1:<port>/`` until interrupted; returns 0.

    ``demo_history``: add a few dozen young people with three months of answers first."""
    if not 0 <= port <= 65535:
        raise CheckinError(f"--port: {port} is not a port number")
    try:
        asyncio.run(_serve(settings, port, Path(database) if database else None, demo_history))
    except PlaygroundError as exc:
        raise CheckinError(str(exc)) from None
    return 0


async def _serve(settings: Settings, port: int, database: Path | None, history: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    async with Playground(settings, port=port, database=database, demo_history=history) as pg:
        spec = pg.spec_path or "no spec file: Telegram's limits only"
        print(
            f"Check-in playground: {pg.url}\n"
            f"  demo service database: {pg.database}\n"
            f"  Bot API stand-in: {pg.api.base_url} (checking against {spec})\n"
            "  Press Ctrl-C to stop.",
            flush=True,
        )
        await stop.wait()
