"""The young person's journey, end to end, through the real HTTP stack and the local Bot API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from local_bot_api.models import BotMessage
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.people import KEY_WORKER, YOUNG_PERSON, add_staff, enrolled, invite, join, statement
from tests.world import World

YP = YOUNG_PERSON
KW = KEY_WORKER


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


def sent(replies: list[BotMessage]) -> list[BotMessage]:
    """The new messages among replies (not earlier ones edited, e.g. to take their buttons off)."""
    return [m for m in replies if not m.edited]


async def answer_all(world: World, user: int, first: BotMessage, labels: list[str]) -> BotMessage:
    message = first
    for label in labels:
        replies = await world.press(user, label, message)
        message = replies[-1]
    return message


async def test_join_choose_language_agree_and_finish_a_checkin(world: World) -> None:
    replies = await enrolled(world)
    first = replies[-1]
    assert first.content.startswith("Statement 1 of 9")
    assert "I feel I have the power to shape" in statement(first)
    labels = [label for label, _ in world.api.buttons(first)]
    assert labels[:5] == ["😀 Yes, definitely", "🙂 Mostly", "😕 Not really", "😞 No", "Skip"]
    assert "⏸ Pause" in labels
    assert "⬅️ Back" not in labels  # nothing to go back to yet

    last = await answer_all(
        world,
        YP,
        first,
        [
            "Yes, definitely",
            "Mostly",
            "Skip",
            "Not really",
            "No",
            "Mostly",
            "Mostly",
            "Yes, definitely",
            "Yes, definitely",
        ],
    )
    assert last.content.startswith("Is there anything else")
    assert "call 999" in last.content
    replies = sent(await world.say(YP, "My key worker helped me find a college course."))
    assert "saved" in replies[0].content
    share = replies[-1]
    assert "Would you like your key worker to see" in share.content
    done = await world.press(YP, "Keep them private", share)
    assert "Thank you! Your answers are saved." in done[-1].content
    assert "stay private" in done[-1].content

    stored = await rows(world, "SELECT item_id, value FROM answers ORDER BY id")
    assert stored == [
        ("power", 4),
        ("respected", 3),
        ("cares", None),
        ("turn_to", 2),
        ("goals", 1),
        ("inspired", 3),
        ("practical", 3),
        ("interests", 4),
        ("boundaries", 4),
    ]
    assert await rows(world, "SELECT status, shared, comment FROM checkins") == [
        ("finished", 0, "My key worker helped me find a college course.")
    ]
    assert await rows(world, "SELECT status FROM prompts WHERE checkpoint = 'start'") == [
        ("answered",)
    ]
    # The key worker was told nothing: the check-in was not shared.
    assert not any("shared their check-in" in t for t in world.texts(KW))


async def test_back_changes_the_previous_answer_and_a_shared_checkin_reaches_the_key_worker(
    world: World,
) -> None:
    first = (await enrolled(world))[-1]
    second = (await world.press(YP, "Mostly", first))[-1]
    back = (await world.press(YP, "Back", second))[-1]
    assert "I feel I have the power" in statement(back)
    assert "Your answer was: 🙂 Mostly" in back.content
    message = (await world.press(YP, "No", back))[-1]
    message = await answer_all(world, YP, message, ["Mostly"] * 8)
    share = (await world.press(YP, "Nothing to add", message))[-1]
    done = await world.press(YP, "Share with my key worker", share)
    assert "Your key worker will see this check-in." in done[-1].content
    assert await rows(world, "SELECT value FROM answers WHERE item_id = 'power'") == [(1,)]
    assert await rows(world, "SELECT count(*) FROM answers") == [(9,)]
    shared = [t for t in world.texts(KW) if "shared their check-in" in t]
    assert len(shared) == 1
    assert "AB" in shared[0]
    assert "Power to shape how we work: 😞 No" in shared[0]


async def test_pause_and_resume_where_it_stopped(world: World) -> None:
    first = (await enrolled(world))[-1]
    second = (await world.press(YP, "Yes, definitely", first))[-1]
    paused = (await world.press(YP, "Pause", second))[-1]
    assert "Paused" in paused.content
    resumed = await world.say(YP, "/checkin")
    assert resumed[-1].content.startswith("Statement 2 of 9")
    assert await rows(world, "SELECT status, step FROM checkins") == [("open", "respected")]


async def test_a_restart_mid_checkin_loses_and_doubles_nothing(world: World) -> None:
    first = (await enrolled(world))[-1]
    message = await answer_all(world, YP, first, ["Mostly", "No", "Skip"])
    await world.restart()
    # The old message's buttons still work after the restart, from the stored position.
    message = await answer_all(world, YP, message, ["Mostly"])
    assert message.content.startswith("Statement 5 of 9")
    await world.restart()
    resumed = (await world.say(YP, "/checkin"))[-1]
    assert resumed.content.startswith("Statement 5 of 9")
    assert await rows(world, "SELECT item_id, value FROM answers ORDER BY id") == [
        ("power", 3),
        ("respected", 1),
        ("cares", None),
        ("turn_to", 3),
    ]


async def test_double_taps_stale_and_tampered_buttons_change_nothing(world: World) -> None:
    first = (await enrolled(world))[-1]
    mostly = next(d for label, d in world.api.buttons(first) if "Mostly" in label)
    await world.press_data(YP, first, mostly)
    before = await rows(world, "SELECT item_id, value, answered_at FROM answers")
    # The same (now stale) button again, from an old copy of the message.
    await world.press_data(YP, first, mostly, verify=False)
    assert "already saved" in world.api.callback_answers[-1].get("text", "")
    # Tampered: another check-in's id, an unknown item, an out-of-scale value, garbage.
    for data in ("1:a:999:power:4", "1:a:1:nonsense:4", "1:a:1:respected:7", "1:zz", "x" * 64):
        await world.press_data(YP, first, data, verify=False)
        assert world.api.callback_answers[-1].get("text")
    assert await rows(world, "SELECT item_id, value, answered_at FROM answers") == before
    assert await rows(world, "SELECT step FROM checkins") == [("respected",)]


async def test_stray_messages_mid_checkin_get_a_kind_reply_and_change_nothing(
    world: World,
) -> None:
    await enrolled(world)
    before = await rows(world, "SELECT step, status FROM checkins")
    for send in (
        world.api.send_sticker,
        world.api.send_photo,
        world.api.send_voice,
        world.api.send_location,
    ):
        send(YP)
        await world.idle()
        assert "I can only read button presses and text" in world.last(YP).content
    replies = await world.say(YP, "hello???")
    assert "Please answer with the buttons" in replies[-1].content
    replies = await world.say(YP, "/nonsense")
    assert "I don't know that command" in replies[-1].content
    assert await rows(world, "SELECT step, status FROM checkins") == before
    assert await rows(world, "SELECT count(*) FROM answers") == [(0,)]


async def test_free_text_that_is_too_long_is_refused_kindly(world: World) -> None:
    first = (await enrolled(world))[-1]
    message = await answer_all(world, YP, first, ["Skip"] * 9)
    assert message.content.startswith("Is there anything else")
    replies = await world.say(YP, "x" * 1001)
    assert "too long" in replies[-1].content
    assert "1,000" in replies[-1].content
    assert await rows(world, "SELECT step, comment FROM checkins") == [("comment", None)]


async def test_bad_links_get_a_clear_answer_and_create_nothing(world: World) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW, "CD")
    forged = await world.say(2001, "/start " + "A" * 43)
    assert "I don't recognise this link" in forged[-1].content
    odd = await world.say(2001, "/start ../../etc/passwd")
    assert "I don't recognise this link" in odd[-1].content
    missing = await world.say(2001, "/start")
    assert "ask your key worker for an invite link" in missing[-1].content
    await join(world, 2002, token)
    used = await world.say(2003, f"/start {token}")
    assert "already been used" in used[-1].content
    late = await invite(world, KW, "EF")
    world.clock.advance(timedelta(days=15))
    expired = await world.say(2004, f"/start {late}")
    assert "expired" in expired[-1].content
    assert await rows(world, "SELECT chat_id FROM enrolments") == [(2002,)]


async def test_leaving_before_agreeing_keeps_nothing_and_the_link_still_works(
    world: World,
) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW)
    picker = await world.say(YP, f"/start {token}")
    welcome = await world.press(YP, "English", picker[-1])
    assert "Who sees what" in welcome[-1].content
    assert "Home Office" in welcome[-1].content
    bye = await world.press(YP, "No, thanks", welcome[-1])
    assert "Nothing about you has been kept" in bye[-1].content
    assert await rows(world, "SELECT count(*) FROM enrolments") == [(0,)]
    replies = await join(world, YP, token)
    assert replies[-1].content.startswith("Statement 1 of 9")


async def test_help_privacy_support_and_asking_to_be_contacted(world: World) -> None:
    await enrolled(world)
    assert "/forgetme" in (await world.say(YP, "/help"))[-1].content
    privacy = (await world.say(YP, "/privacy"))[-1].content
    assert "12 months" in privacy
    assert "never your own answers" in privacy
    support = (await world.say(YP, "/support"))[-1]
    for line in ("Childline", "0800 1111", "Samaritans", "116 123", "85258", "999"):
        assert line in support.content
    await world.press(YP, "get in touch", support)
    assert "I've told your key worker" in world.last(YP).content
    assert "AB" in world.last(KW).content
    assert "asked you to get in touch" in world.last(KW).content
    assert await rows(world, "SELECT count(*) FROM contact_requests") == [(1,)]


async def test_stop_and_come_back(world: World) -> None:
    await enrolled(world)
    stopped = (await world.say(YP, "/stop"))[-1]
    assert "I won't send you any more check-ins" in stopped.content
    assert await rows(world, "SELECT status FROM enrolments") == [("stopped",)]
    back = sent(await world.say(YP, "/start"))
    assert "Welcome back" in back[0].content
    assert await rows(world, "SELECT status FROM enrolments") == [("active",)]


async def test_forgetme_asks_first_then_erases(world: World) -> None:
    first = (await enrolled(world))[-1]
    await world.press(YP, "Mostly", first)
    ask = (await world.say(YP, "/forgetme"))[-1]
    cancel = await world.press(YP, "Cancel", ask)
    assert "Nothing was deleted" in cancel[-1].content
    ask = (await world.say(YP, "/forgetme"))[-1]
    await world.press(YP, "keep my answers", ask)
    assert "deleted everything that could identify you" in world.last(YP).content
    assert await rows(world, "SELECT chat_id, label, status FROM enrolments") == [
        (None, None, "forgotten")
    ]
    assert await rows(world, "SELECT count(*) FROM answers") == [(1,)]
    again = await world.say(YP, "/checkin")
    assert "ask your key worker for an invite link" in again[-1].content


async def test_staff_commands_are_refused_to_young_people_and_strangers(world: World) -> None:
    await enrolled(world)
    for user in (YP, 5555):
        for command in ("/invite XY", "/caseload", "/exit AB"):
            replies = await world.say(user, command)
            assert replies[-1].content == (
                "Sorry, I don't know that command. Send /help to see what I can do."
            )
    assert await rows(world, "SELECT count(*) FROM invites WHERE kind = 'young_person'") == [(1,)]
