"""Steps of the journeys that many end-to-end tests share: staff joining, inviting, enrolling."""

from __future__ import annotations

import re
from datetime import timedelta

from local_bot_api.models import BotMessage
from storage import invites, staff
from storage.invites import new_token
from tests.world import World

# Telegram user ids need up to 52 bits: the journeys' people have ids above 2^32, so that a
# 32-bit id column fails (PostgreSQL refuses such a value; SQLite would not notice).
YOUNG_PERSON = 7_000_001_001
KEY_WORKER = 7_000_900_101

LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


async def add_staff(
    world: World, chat_id: int, *, role: str = "key_worker", team: str = "North", name: str = "Sam"
) -> None:
    """An admin created this staff member (as ``staff add`` does); they open the link."""
    assert world.rt is not None
    now = world.clock.now()
    token = new_token()
    async with world.rt.db.transaction() as conn:
        team_id = await staff.ensure_team(conn, team, now)
        staff_id = await staff.add_staff(conn, name=name, role=role, team_id=team_id, now=now)
        await invites.create_invite(
            conn,
            kind="staff",
            token=token,
            created_by=None,
            staff_id=staff_id,
            now=now,
            expires_at=now + timedelta(days=14),
        )
    replies = await world.say(chat_id, f"/start {token}")
    assert replies[-1].content.startswith("Welcome, ")
    assert name in replies[-1].content


async def invite(world: World, key_worker: int, label: str = "AB") -> str:
    """The key worker sends /invite; returns the token in the deep link of the QR's caption."""
    replies = await world.say(key_worker, f"/invite {label}".strip())
    photo = replies[-1]
    assert photo.photo is not None
    assert photo.photo.startswith(b"\x89PNG")
    match = LINK.search(photo.content)
    assert match is not None, photo.content
    assert match.group(1) == "checkin_test_bot"
    return match.group(2)


async def join(
    world: World, user: int, token: str, *, language: str = "English", telegram_language: str = "en"
) -> list[BotMessage]:
    """The young person opens the invite, picks a language and agrees; returns the replies."""
    picker = await world.say(user, f"/start {token}", language_code=telegram_language)
    assert len(world.api.buttons(picker[-1])) == 13
    welcome = await world.press(user, language, picker[-1])
    return await world.press(user, "✅", welcome[-1])


async def enrolled(
    world: World, user: int = YOUNG_PERSON, key_worker: int = KEY_WORKER, label: str = "AB"
) -> list[BotMessage]:
    """A key worker who has joined, and a young person they invited who has agreed."""
    await add_staff(world, key_worker)
    token = await invite(world, key_worker, label)
    return await join(world, user, token)


def statement(message: BotMessage) -> str:
    """The statement text of a check-in message (its second paragraph)."""
    return message.content.split("\n\n")[1]
