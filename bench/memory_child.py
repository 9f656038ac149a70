"""The child process of ``bench.memory``: the real application, and its resident memory.

Imports only what ``checkin-bot run`` imports (no benchmark or stand-in code), so the figures are
the bot's own.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TOKEN = "123456:BENCH"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def status_mb() -> dict[str, float]:
    values: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


async def child(database: str, api_url: str, file_url: str) -> dict[str, Any]:
    """Run the real application in this process and report its memory."""
    from bot.app import build_application, build_runtime
    from bot.polling import running
    from bot.schedule import tick
    from core.clock import ManualClock
    from core.settings import load_settings

    before = status_mb()
    settings = load_settings(
        telegram_token=TOKEN,
        telegram_api_url=api_url,
        telegram_file_url=file_url,
        bot_username="checkin_test_bot",
        database_url=database,
        send_rate=1000,
    )
    rt = build_runtime(settings, clock=ManualClock(NOON))
    app = build_application(rt, tick_seconds=None)
    async with running(app):
        report = await tick(rt, app.bot)
        idle = await tick(rt, app.bot)
        after = status_mb()
    return {
        "imports_mb": before["VmRSS"],
        "rss_mb": after["VmRSS"],
        "peak_mb": after["VmHWM"],
        "sent": report.sent,
        "idle_sent": idle.sent,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(child(*sys.argv[1:4]))))
