"""A bot process that fans out the due prompts once, for ``tests/test_fan_out_kill.py``, which
kills it with SIGKILL in the middle. Settings come from the environment (``CHECKIN_*``); its
clock stands at :data:`tests.world.START`, as the test's own process's does."""

from __future__ import annotations

import asyncio

from bot.app import build_application, build_runtime
from bot.schedule import tick
from core.clock import ManualClock
from core.settings import load_settings
from tests.world import START


async def fan_out() -> None:
    rt = build_runtime(load_settings(), clock=ManualClock(START))
    app = build_application(rt, tick_seconds=None)
    await app.initialize()
    try:
        report = await tick(rt, app.bot)
        print(f"sent {report.sent}", flush=True)
    finally:
        await app.shutdown()
        await rt.db.close()


if __name__ == "__main__":
    asyncio.run(fan_out())
