"""Three ``checkin-bot serve`` processes on one database behind the stand-in's webhook delivery
(round-robin, as a load balancer), young people in the middle of check-ins, one process killed
with SIGKILL while it holds an update: nothing lost or doubled, and everyone finishes.

The processes are real (``python -m bot.cli serve``, bench/serve.py starts them), on PostgreSQL
(a throwaway server, tests/postgres.py) and on SQLite (several processes on one WAL file).
Telegram ids here stay below 2**31 until every id column is 64-bit.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bench.serve import BOT_USERNAME, SPEC, TOKEN, Cluster, button, cluster, enrol, handled, showing
from conversations import buttons
from local_bot_api import LocalBotAPI
from local_bot_api.models import BotMessage
from storage.db import Database

KW = 900101
PEOPLE = list(range(1001, 1013))
VICTIM = 1
EMOJI = {4: "😀", 3: "🙂", 2: "😕", 1: "😞"}


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres").create_database("serve"))
    return f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"


class Journey:
    """One young person finishing their check-in: each statement answered once, in the
    pattern of their number; after a press the bot could not answer (its process was killed
    after storing it), ``/checkin`` shows where they are, as a person would ask."""

    def __init__(self, api: LocalBotAPI, person: int) -> None:
        self.api = api
        self.person = person
        self.pressed: Counter[str] = Counter()
        self.expected: dict[str, int] = {}
        self.resumed = 0

    async def press(self, message: BotMessage, data: str) -> None:
        before = len(message.history)
        await handled(self.api, self.api.press_button(self.person, message.message_id, data))
        if len(message.history) == before:  # answered "already saved", not shown anew
            self.resumed += 1
            await handled(self.api, self.api.send_text(self.person, "/checkin"))

    async def run(self, answered: list[int]) -> None:
        for step in range(9):
            message = showing(self.api, self.person)
            value = (self.person + step) % 4 + 1
            data = button(self.api, message, EMOJI[value])
            action = buttons.decode(data)
            assert isinstance(action, buttons.Answer)
            self.pressed[action.item_id] += 1
            self.expected[action.item_id] = value
            await self.press(message, data)
            answered[0] += 1
        message = showing(self.api, self.person)
        await self.press(message, button(self.api, message, "Nothing to add"))
        message = showing(self.api, self.person)
        choice = "🤝" if self.person % 2 == 0 else "🔒"
        await self.press(message, button(self.api, message, choice))


async def kill_mid_update(api: LocalBotAPI, running: Cluster, answered: list[int]) -> list[int]:
    """SIGKILL the victim once a third of the answers are in and it holds an update; the
    updates it held."""
    total = len(PEOPLE) * 9
    url = running.url(VICTIM)
    await api.wait_until(
        lambda: answered[0] >= total // 3 and bool(api.webhook.in_flight_to(url)), timeout=120
    )
    held = api.webhook.in_flight_to(url)
    running.kill(VICTIM)
    return held


async def rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await db.close()


async def test_three_serve_processes_one_killed_lose_and_double_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME) as api:
        async with cluster(api, database_url, 3, tmp_path) as running:
            await enrol(api, KW, PEOPLE, database_url)
            answered = [0]
            journeys = [Journey(api, person) for person in PEOPLE]
            killer = asyncio.create_task(kill_mid_update(api, running, answered))
            await asyncio.gather(*(j.run(answered) for j in journeys))
            held = await killer
            await api.wait_for_idle(timeout=30)
            victim_log = running.log(VICTIM)
        api.assert_no_violations()

    # The victim died holding updates: no answer came, and the stand-in delivered each again,
    # to another process, which handled it.
    victim = running.url(VICTIM)
    redelivered = 0
    for update_id in held:
        tries = [d for d in api.webhook.deliveries if d.update_id == update_id]
        assert tries[-1].confirmed
        if any(d.url == victim and d.status is None for d in tries):
            assert tries[-1].url != victim
            redelivered += 1
    assert redelivered, "the killed process answered every update it held"
    assert "Traceback" not in victim_log

    # Nothing lost: every statement was pressed once (a lost press would show it again), and
    # every check-in is finished with exactly the answers pressed; nothing doubled.
    stored = await rows(
        database_url,
        "SELECT e.chat_id, a.item_id, a.value FROM answers a "
        "JOIN checkins c ON c.id = a.checkin_id JOIN enrolments e ON e.id = c.enrolment_id",
    )
    by_person: dict[int, dict[str, int]] = {}
    for chat_id, item_id, value in stored:
        assert item_id not in by_person.setdefault(int(chat_id), {})
        by_person[int(chat_id)][str(item_id)] = int(value)
    for journey in journeys:
        assert set(journey.pressed.values()) == {1}, journey.pressed
        assert by_person[journey.person] == journey.expected
    checkins = await rows(
        database_url,
        "SELECT e.chat_id, c.status, c.shared FROM checkins c "
        "JOIN enrolments e ON e.id = c.enrolment_id",
    )
    assert sorted((int(c), s, bool(sh)) for c, s, sh in checkins) == [
        (p, "finished", p % 2 == 0) for p in PEOPLE
    ]

    # Every prompt once: one start prompt per young person, answered; one statement message
    # begun per check-in; one thanks; the key worker told once per shared check-in.
    prompts = await rows(
        database_url,
        "SELECT e.chat_id, p.checkpoint, p.status FROM prompts p "
        "JOIN enrolments e ON e.id = p.enrolment_id WHERE p.checkpoint = 'start'",
    )
    assert sorted((int(c), cp, s) for c, cp, s in prompts) == [
        (p, "start", "answered") for p in PEOPLE
    ]
    for person in PEOPLE:
        first_texts = [
            (m.history[0].text if m.history else m.text) or "" for m in api.messages(person)
        ]
        assert sum(t.startswith("Statement 1 of 9") for t in first_texts) == 1
        thanks = [m for m in api.messages(person) if "Your answers are saved" in (m.content or "")]
        assert len(thanks) == 1
    shared = [m for m in api.messages(KW) if "shared their check-in" in (m.content or "")]
    assert len(shared) == sum(p % 2 == 0 for p in PEOPLE)
    print(
        f"\n{database_url.split(':')[0]}: {len(api.webhook.deliveries)} deliveries, "
        f"{redelivered} held by the killed process and delivered again, "
        f"{sum(j.resumed for j in journeys)} presses answered 'already saved' then /checkin"
    )
