"""A real SIGKILL in the middle of a fan-out: the sender is its own process (the real bot's
runtime, application and tick, ``tests/fan_out_process.py``), paced at 4 prompts a second and
killed once the stand-in has delivered some of them. The test's own process then waits out the
dead one's fan-out lease (its clock injected), takes the fan-out over, and every young person
has the prompt exactly once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.schedule import FAN_OUT_LEASE
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.test_fan_out import PROMPT, seed_world
from tests.world import World

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = 8


@pytest.mark.parametrize("delivered", [1, 5])
async def test_a_sender_killed_mid_fan_out_loses_no_prompt_and_doubles_none(
    world: World, delivered: int
) -> None:
    people = await seed_world(world, PEOPLE)
    events = world.api.subscribe()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
    environment.update(
        CHECKIN_TELEGRAM_TOKEN=world.api.token,
        CHECKIN_TELEGRAM_API_URL=world.api.base_url,
        CHECKIN_TELEGRAM_FILE_URL=world.api.base_file_url,
        CHECKIN_BOT_USERNAME=world.settings.bot_username or "checkin_test_bot",
        CHECKIN_DATABASE_URL=world.settings.database_url,
        CHECKIN_SEND_RATE="4",
        CHECKIN_LOG_LEVEL="WARNING",
    )
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fan_out_process",
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        seen = 0
        async with asyncio.timeout(60):
            while seen < delivered:
                event = await events.get()
                message = event.message
                if event.kind == "message_sent" and message is not None:
                    seen += PROMPT in (message.content or "")
    finally:
        sender.send_signal(signal.SIGKILL)
        await sender.communicate()
        world.api.unsubscribe(events)
    assert sender.returncode == -signal.SIGKILL
    before = {chat: sum(PROMPT in t for t in world.texts(chat)) for chat in people}
    assert delivered <= sum(before.values()) < PEOPLE  # killed in the middle

    assert (await world.tick()).standby  # the dead process's lease has not expired yet
    world.clock.advance(FAN_OUT_LEASE + timedelta(seconds=1))
    assert not (await world.tick()).standby
    received = {chat: sum(PROMPT in t for t in world.texts(chat)) for chat in people}
    assert received == dict.fromkeys(people, 1), received
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        statuses = (await conn.execute(text("SELECT status FROM prompts"))).scalars().all()
    assert set(statuses) <= {"sent", "uncertain"}  # uncertain: handed over just before the kill
