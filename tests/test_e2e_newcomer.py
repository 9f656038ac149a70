"""What a newcomer trips over (issue 15, young people): one live message, true answers.

Each test drives the real bot through the local Bot API stand-in (the ``world`` fixture).
"""

from __future__ import annotations

from core.i18n import RLM
from local_bot_api.models import BotMessage
from tests.conftest import World
from tests.people import add_staff, enrolled, invite, join

YP = 1001
KW = 900101


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
