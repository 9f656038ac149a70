"""What a newcomer trips over (issue 15, young people): one live message, true answers.

Each test drives the real bot through the local Bot API stand-in (the ``world`` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from conversations.retention import run_retention
from core.i18n import RLM
from local_bot_api.models import BotMessage
from tests.people import KEY_WORKER, YOUNG_PERSON, add_staff, enrolled, invite, join
from tests.test_e2e_checkin import rows
from tests.world import World

YP = YOUNG_PERSON
KW = KEY_WORKER


def live_messages(world: World, user: int) -> list[BotMessage]:
    """The bot's messages in this chat that still carry check-in answer buttons."""
    return [
        m
        for m in world.api.messages(user)
        if any(
            label.endswith("Skip") or "Nothing to add" in label for label, _ in world.api.buttons(m)
        )
    ]


def current(world: World, user: int, message: BotMessage) -> BotMessage:
    """``message`` as the chat shows it now (after any edits)."""
    found = world.api.state.find_message(user, message.message_id)
    assert found is not None
    return found


def last_callback_answer(world: World) -> str:
    return str(world.api.callback_answers[-1]["text"] or "")


async def test_after_language_only_the_newest_statement_carries_buttons(world: World) -> None:
    first = (await enrolled(world))[-1]
    second = (await world.press(YP, "Mostly", first))[-1]
    assert second.content.startswith("Statement 2 of 9")
    picker = (await world.say(YP, "/language"))[-1]
    shown = (await world.press(YP, "English", picker))[-1]
    assert shown.content.startswith("Statement 2 of 9")
    assert shown.message_id != second.message_id
    # Exactly one message carries live buttons: the newest one.
    assert [m.message_id for m in live_messages(world, YP)] == [shown.message_id]
    assert world.api.buttons(current(world, YP, second)) == []

    # A tap on the older copy that was already on its way changes nothing and says where to go.
    same_step = next(d for label, d in world.api.buttons(shown) if label.endswith("Mostly"))
    await world.press_data(YP, second, same_step, verify=False)
    assert last_callback_answer(world) == "Please carry on with the newest message below."
    assert current(world, YP, second).content.startswith("Statement 2 of 9")
    assert current(world, YP, shown).content.startswith("Statement 2 of 9")

    # The newest one always works.
    third = (await world.press(YP, "Yes, definitely", shown))[-1]
    assert third.message_id == shown.message_id
    assert third.content.startswith("Statement 3 of 9")
    assert [m.message_id for m in live_messages(world, YP)] == [shown.message_id]


async def test_staff_commands_are_refused_exactly_as_unknown_ones_in_the_persons_language(
    world: World,
) -> None:
    await add_staff(world, KW)
    for user, language in ((YP, "العربية"), (1002, "ትግርኛ")):
        token = await invite(world, KW, f"P{user}")
        await join(world, user, token, language=language)
        unknown = (await world.say(user, "/foo"))[-1].content
        assert "Sorry, I don't know that command" not in unknown  # in their own language
        for command in ("/digest", "/caseload", "/invite", "/staff", "/exit AB", "/safeguarding"):
            assert (await world.say(user, command))[-1].content == unknown, command
    # A stranger whose Telegram is in Arabic: the same bytes for /caseload as for /foo.
    stranger = 5555
    foo = (await world.say(stranger, "/foo", language_code="ar"))[-1].content
    assert foo.startswith(RLM)
    assert (await world.say(stranger, "/caseload", language_code="ar"))[-1].content == foo


async def test_privacy_names_what_mydata_shows_and_mydata_lists_answers_as_asked(
    world: World,
) -> None:
    message = (await enrolled(world))[-1]
    for _ in range(9):
        message = (await world.press(YP, "Mostly", message))[-1]
    message = (await world.press(YP, "Nothing to add", message))[-1]
    await world.press(YP, "Keep them private", message)

    mydata = "\n".join(m.content for m in await world.say(YP, "/mydata"))
    privacy = (await world.say(YP, "/privacy"))[-1].content
    keep = next(p for p in privacy.split("\n\n") if p.startswith("What I keep"))
    for shown, said in (
        ("The label your key worker uses for you: AB", "the label your key worker uses for you"),
        ("Your key worker's team: North", "your key worker's team"),
        ("A random code used instead of your name", "a random code used instead of your name"),
    ):
        assert shown in mydata
        assert said in keep

    assert world.rt is not None
    q = world.rt.questionnaire
    asked = [f"• {item.short}: 🙂 Mostly" for item in q.items_for("start")]
    listed = [line for line in mydata.splitlines() if line.endswith(": 🙂 Mostly")]
    assert listed == asked
    assert sorted(item.id for item in q.items_for("start")) != [i.id for i in q.items_for("start")]


async def test_a_double_tap_on_get_in_touch_tells_the_key_worker_once(world: World) -> None:
    await enrolled(world)
    support = (await world.say(YP, "/support"))[-1]
    data = next(d for label, d in world.api.buttons(support) if "get in touch" in label)
    before = len(world.api.messages(KW))
    await world.press_data(YP, support, data)
    await world.press_data(YP, support, data, verify=False)  # the second tap of a double tap
    told = [m.content for m in world.api.messages(KW)[before:]]
    assert told == ["AB asked you to get in touch with them."]
    assert last_callback_answer(world) == (
        "I've already told your key worker that you'd like them to get in touch."
    )
    assert world.api.buttons(current(world, YP, support)) == []  # the button has done its job
    assert await rows(world, "SELECT count(*) FROM contact_requests") == [(1,)]

    # From another /support message, a day later, the key worker is told again.
    world.clock.advance(timedelta(hours=25))
    again = (await world.say(YP, "/support"))[-1]
    await world.press(YP, "Ask my key worker to get in touch", again)
    assert len(world.api.messages(KW)) == before + 2


async def test_after_forgetme_an_old_button_says_only_that_it_no_longer_works(
    world: World,
) -> None:
    first = (await enrolled(world))[-1]
    statement = (await world.press(YP, "Mostly", first))[-1]
    data = next(d for label, d in world.api.buttons(statement) if label.endswith("Mostly"))
    ask = (await world.say(YP, "/forgetme"))[-1]
    await world.press(YP, "Delete everything", ask)
    await world.press_data(YP, statement, data, verify=False)
    assert last_callback_answer(world) == "This button no longer works."


async def test_a_reminder_for_a_half_finished_checkin_says_carry_on(world: World) -> None:
    first = (await enrolled(world))[-1]
    statement = (await world.press(YP, "Mostly", first))[-1]
    world.clock.advance(timedelta(days=3, minutes=1))
    report = await world.tick()
    assert report.reminded == 1
    reminder = world.last(YP)
    assert reminder.content.startswith("A gentle reminder")
    assert [label for label, _ in world.api.buttons(reminder)] == ["▶️ Carry on"]
    assert world.api.buttons(current(world, YP, statement)) == []  # one live message
    shown = (await world.press(YP, "Carry on", reminder))[-1]
    assert shown.message_id == reminder.message_id
    assert shown.content.startswith("Statement 2 of 9")


async def test_staff_get_help_for_their_role_from_help_and_from_plain_text(world: World) -> None:
    await add_staff(world, KW)
    await add_staff(world, 900102, role="manager", name="Mo")
    await add_staff(world, 900103, role="admin", team="-", name="Ada")
    stranger = (await world.say(5555, "/help"))[-1].content
    assert "ask your key worker for an invite link" in stranger
    for chat, role, has, lacks in (
        (KW, "key worker", "/invite", "/addstaff"),
        (900102, "manager", "/digest", "/invite"),
        (900103, "admin", "/addstaff", "/invite"),
    ):
        help_text = (await world.say(chat, "/help"))[-1].content
        assert help_text.startswith(f"You are signed in as staff ({role}).")
        assert has in help_text
        assert lacks not in help_text
        assert "ask your key worker" not in help_text
        plain = (await world.say(chat, "hello?"))[-1].content
        assert plain == "I only read commands. Here is what you can do as staff:\n\n" + help_text
        world.api.send_sticker(chat)
        await world.idle()
        assert world.last(chat).content == plain


async def test_caseload_says_when_young_people_left_without_naming_them(world: World) -> None:
    await enrolled(world)
    token = await invite(world, KW, "CD")
    await join(world, 1002, token)
    first = (await world.say(KW, "/caseload"))[-1].content
    assert first.startswith("You have 2 young people:")

    world.clock.advance(timedelta(hours=1))
    ask = (await world.say(YP, "/forgetme"))[-1]
    await world.press(YP, "Delete, but keep my answers in anonymous totals", ask)
    world.clock.advance(timedelta(hours=1))
    seen = (await world.say(KW, "/caseload"))[-1].content
    lines = seen.splitlines()
    assert lines[0] == (
        "Since you last looked, 1 young person left (they deleted their data, or it was "
        "deleted at the end of the retention period), so they are no longer listed."
    )
    assert lines[1] == "You have 1 young person:"
    assert "AB" not in seen
    assert "CD" in seen
    # Told once: the next view lists only who is there.
    world.clock.advance(timedelta(hours=1))
    again = (await world.say(KW, "/caseload"))[-1].content
    assert again.startswith("You have 1 young person:")
    assert "young person left" not in again


async def test_caseload_says_so_when_retention_removed_someone_and_keeps_who_stopped(
    world: World,
) -> None:
    await enrolled(world)
    token = await invite(world, KW, "CD")
    await join(world, 1002, token)
    await world.say(1002, "/stop")
    listed = (await world.say(KW, "/caseload"))[-1].content
    assert "• CD: joined" in listed
    assert "stopped check-ins" in listed  # /stop: still listed, and says so
    assert world.rt is not None
    world.clock.advance(timedelta(days=400))  # a year of silence from both
    removed = await run_retention(world.rt, force=True)
    assert removed is not None
    assert removed.people == 2
    seen = (await world.say(KW, "/caseload"))[-1].content
    assert seen.startswith("Since you last looked, 2 young people left (they deleted")
    assert "AB" not in seen
    assert "CD" not in seen


async def finish(world: World, message: BotMessage) -> str:
    """Answer every statement "Mostly", add nothing, keep private; returns the thank-you."""
    while message.content.startswith(("Statement", "A gentle", "Hi!", "Your support")):
        label = "Mostly" if message.content.startswith("Statement") else "Start"
        message = (await world.press(YP, label, message))[-1]
    message = (await world.press(YP, "Nothing to add", message))[-1]
    return (await world.press(YP, "Keep them private", message))[-1].content


async def test_the_thank_you_says_what_is_true_at_every_checkpoint(world: World) -> None:
    first = (await enrolled(world))[-1]
    assert "I'll message you when the next check-in is ready" in await finish(world, first)
    assert (await world.say(YP, "/checkin"))[-1].content == (
        "There is no check-in for you right now. I'll message you when the next one is ready."
    )

    world.clock.set(datetime(2026, 4, 6, 10, 0, tzinfo=UTC))  # 3 months on, 11:00 BST
    assert (await world.tick()).sent == 1
    three = world.last(YP)
    assert three.content.startswith("Hi! It's time for your 3-month check-in")
    after_three = await finish(world, three)
    assert "I'll message you once more, when your support ends" in after_three
    assert "next check-in is ready" not in after_three
    assert (await world.say(YP, "/checkin"))[-1].content == (
        "There is no check-in for you right now. I'll message you once more, when your support "
        "ends."
    )

    await world.press(KW, "Yes", (await world.say(KW, "/exit AB"))[-1])
    world.clock.advance(timedelta(minutes=1))
    assert (await world.tick()).sent == 1
    last = await finish(world, world.last(YP))
    assert "That was your last check-in. Thank you for taking part." in last
    assert "I'll message you" not in last
    no_more = "There are no more check-ins for you. Thank you for taking part."
    assert (await world.say(YP, "/checkin"))[-1].content == no_more
    assert [m.content for m in await world.say(YP, "/start")] == [no_more]


async def test_a_replaced_checkin_keeps_no_live_buttons(world: World) -> None:
    first = (await enrolled(world))[-1]  # the start check-in stays open, unanswered
    await world.press(KW, "Yes", (await world.say(KW, "/exit AB"))[-1])
    await world.tick()
    assert world.api.buttons(current(world, YP, first)) == []
    exit_prompt = world.last(YP)
    assert [m.message_id for m in world.api.messages(YP) if world.api.buttons(m)] == [
        exit_prompt.message_id
    ]
    # A tap on the replaced check-in's statement that was already on its way: a true answer.
    data = "1:a:1:power:3"
    await world.press_data(YP, first, data, verify=False)
    assert (
        last_callback_answer(world) == "This check-in has closed, so this button no longer works."
    )


async def test_the_comment_prompt_drops_its_buttons_once_answered(world: World) -> None:
    message = (await enrolled(world))[-1]
    for _ in range(9):
        message = (await world.press(YP, "Skip", message))[-1]
    assert message.content.startswith("Is there anything else")
    await world.say(YP, "Thanks for the help with college.")
    assert world.api.buttons(current(world, YP, message)) == []
    share = world.last(YP)
    assert "Would you like your key worker to see" in share.content
    assert [m.message_id for m in world.api.messages(YP) if world.api.buttons(m)] == [
        share.message_id
    ]


async def test_the_newest_copy_works_even_if_a_crash_kept_it_from_being_recorded(
    world: World,
) -> None:
    first = (await enrolled(world))[-1]
    picker = (await world.say(YP, "/language"))[-1]
    newest = (await world.press(YP, "English", picker))[-1]
    assert world.rt is not None
    async with world.rt.db.transaction() as conn:  # as if the bot died before recording it
        await conn.execute(text("UPDATE checkins SET message_id = :m"), {"m": first.message_id})
    nxt = (await world.press(YP, "Mostly", newest))[-1]
    assert nxt.message_id == newest.message_id
    assert nxt.content.startswith("Statement 2 of 9")
    assert [m.message_id for m in live_messages(world, YP)] == [newest.message_id]
