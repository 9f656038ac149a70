"""The staff side end to end: caseload, digests with disclosure control, settings, schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.people import YOUNG_PERSON, add_staff, invite, join
from tests.world import World

# Telegram ids above 2^32, as real ones are (they need up to 52 bits).
KW, KW2, MANAGER, ADMIN = 7_000_900_101, 7_000_900_102, 7_000_900_201, 7_000_900_301


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def checkin(
    world: World, user: int, answer: str, *, share: bool = False, comment: str | None = None
) -> None:
    message = world.last(user)
    for _ in range(9):
        message = (await world.press(user, answer, message))[-1]
    if comment:
        message = (await world.say(user, comment))[-1]
    else:
        message = (await world.press(user, "Nothing to add", message))[-1]
    await world.press(user, "Share with my key worker" if share else "Keep them private", message)


async def service(world: World, young_people: int, answer: str = "Mostly") -> list[int]:
    """Two key workers in team North; ``young_people`` enrolled with KW, each finishing start."""
    await add_staff(world, KW)
    await add_staff(world, KW2, name="Kim")
    await add_staff(world, MANAGER, role="manager", name="Mo")
    await add_staff(world, ADMIN, role="admin", name="Ada", team="HQ")
    users = []
    for n in range(young_people):
        user = YOUNG_PERSON + n
        token = await invite(world, KW, f"P{n}")
        await join(world, user, token)
        await checkin(world, user, answer, share=n == 0, comment=f"thanks, call me 07700 90012{n}")
        users.append(user)
    return users


async def test_caseload_lists_people_and_checkpoints_but_never_answers(world: World) -> None:
    await service(world, 2)
    reply = (await world.say(KW, "/caseload"))[-1].content
    assert "You have 2 young people" in reply
    assert "P0" in reply
    assert "P1" in reply
    assert "done: start" in reply
    for answer in ("Mostly", "🙂", "Yes, definitely"):
        assert answer not in reply
    assert await rows(world, "SELECT actor, action FROM audit_log WHERE action = 'caseload'") == [
        ("staff:1", "caseload")
    ]
    other = (await world.say(KW2, "/caseload"))[-1].content
    assert "You have 0 young people" in other


async def test_a_small_caseload_shows_nothing_that_could_identify_anyone(world: World) -> None:
    await service(world, 3, answer="No")
    replies = await world.say(KW, "/digest")
    digest = "\n".join(m.content for m in replies if m.photo is None)
    assert "team's figures" in digest
    assert "not enough answers yet" in digest or "not shown" in digest
    assert "%" not in digest.split("The numbers")[1].split("Who answered")[0]
    assert "07700" not in digest
    assert "thanks" not in digest
    assert not any(m.photo for m in replies)  # no chart while no figure may be shown


async def test_a_digest_with_enough_answers_in_plain_words_then_numbers(world: World) -> None:
    await service(world, 10, answer="Mostly")  # two blocks of k=5: a group of k shows no share
    replies = await world.say(MANAGER, "/digest")
    digest = "\n".join(m.content for m in replies if m.photo is None)
    assert digest.startswith("Check-in digest for team North")
    assert digest.index("What stands out") < digest.index("The numbers")
    assert "answered positively" in digest
    assert any(m.photo and m.photo.startswith(b"\x89PNG") for m in replies)  # the chart
    assert "all" not in digest.lower().split()  # unanimous groups are ranges, never "all"
    assert "07700" not in digest
    assert await rows(
        world, "SELECT actor, action, scope FROM audit_log WHERE action = 'digest'"
    ) == [("staff:3", "digest", "team:North")]


async def test_digest_settings_and_the_scheduled_digest(world: World) -> None:
    await service(world, 1)
    reply = (await world.say(KW, "/digest settings"))[-1].content
    assert "every Monday at 09:00" in reply
    reply = (await world.say(KW, "/digest settings monthly"))[-1].content
    assert "first day of each month" in reply
    bad = (await world.say(KW, "/digest settings daily"))[-1].content
    assert "Please write /digest settings weekly" in bad
    off = (await world.say(KW2, "/digest settings off"))[-1].content
    assert "You don't get scheduled digests" in off
    assert world.rt is not None
    assert world.app is not None
    from conversations.reports import send_scheduled

    assert await send_scheduled(world.rt, world.app.bot) == 0  # schedules start now
    world.clock.set(datetime(2026, 1, 12, 9, 30, tzinfo=UTC))  # Monday 09:30 in London
    assert await send_scheduled(world.rt, world.app.bot) == 2  # the manager and the admin
    assert await send_scheduled(world.rt, world.app.bot) == 0
    world.clock.set(datetime(2026, 2, 1, 9, 30, tzinfo=UTC))
    sent = await send_scheduled(world.rt, world.app.bot)
    assert sent == 3  # the monthly one, and the weekly ones of Monday 26 January
    await world.idle()
    assert not any("Check-in digest for" in t for t in world.texts(KW2))
    assert sum("Check-in digest for" in t for t in world.texts(KW)) == 1


async def test_an_admin_sees_the_service_or_a_named_team(world: World) -> None:
    await service(world, 1)
    service_digest = (await world.say(ADMIN, "/digest"))[0].content
    assert service_digest.startswith("Check-in digest for the whole service")
    team = (await world.say(ADMIN, "/digest North"))[0].content
    assert team.startswith("Check-in digest for team North")
    unknown = (await world.say(ADMIN, "/digest Nowhere"))[-1].content
    assert "There is no team called" in unknown


async def test_staff_read_one_word_for_the_exit_checkpoint(world: World) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW, "AB")
    await join(world, 3000, token)
    await checkin(world, 3000, "Mostly")
    ask = (await world.say(KW, "/exit AB"))[-1]
    await world.press(KW, "Yes, support has ended", ask)
    world.clock.advance(timedelta(minutes=1))
    assert (await world.tick()).sent == 1
    await world.press(3000, "Start")
    await checkin(world, 3000, "Mostly", share=True)
    shared = [t for t in world.texts(KW) if "shared their check-in" in t]
    assert len(shared) == 1
    assert "(exit)" in shared[0]
    caseload = (await world.say(KW, "/caseload"))[-1].content
    assert "done: start, exit" in caseload
    assert "end of support" not in caseload + shared[0]
    young = "\n".join(m.content for m in await world.say(3000, "/mydata"))
    assert "Check-in (end of support), finished on" in young  # young people's wording is kept
