"""The local Bot API stand-in, driven through the real python-telegram-bot HTTP stack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import Bot as PTBBot
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from core.settings import DEFAULT_SPEC_PATH
from local_bot_api import LocalBotAPI
from local_bot_api.formatting import FormattingError, parse_text, utf16_len

SPEC = DEFAULT_SPEC_PATH
TOKEN = "123456:TEST"
USER = 4242

pytestmark = pytest.mark.filterwarnings(
    "ignore:Please use 'Bot.:telegram.warnings.PTBUserWarning",  # do_api_request on purpose
    "ignore::telegram.warnings.PTBDeprecationWarning",  # RetryAfter.retry_after type change
)


@pytest.fixture
async def api() -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI(SPEC, token=TOKEN) as server:
        yield server


def make_bot(api: LocalBotAPI, **request_options: Any) -> PTBBot:
    request = HTTPXRequest(**request_options) if request_options else None
    return PTBBot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url, request=request)


@pytest.fixture
async def bot(api: LocalBotAPI) -> AsyncIterator[PTBBot]:
    async with make_bot(api) as client:
        yield client


@asynccontextmanager
async def running_app(
    api: LocalBotAPI, *handlers: Any
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A PTB Application polling the local API with the given handlers."""
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# ---- end to end through an Application ---------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    payload = " ".join(context.args or [])
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Good", callback_data="mood:good"),
                InlineKeyboardButton("Help", url="https://t.me/checkin_test_bot?start=help-1"),
            ]
        ]
    )
    await update.effective_message.reply_text(f"Hello! payload={payload}", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Thanks")
    await query.edit_message_text(f"You chose {query.data}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    assert update.effective_message.text
    await update.effective_message.reply_text(
        f"<b>echo</b> {update.effective_message.text}", parse_mode="HTML"
    )


async def test_conversation_through_application(api: LocalBotAPI) -> None:
    handlers = (
        CommandHandler("start", start),
        CallbackQueryHandler(on_button),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
    )
    async with running_app(api, *handlers):
        api.send_text(USER, "/start abc_123")
        greeting = await api.wait_for_message(USER)
        assert greeting.text == "Hello! payload=abc_123"
        assert api.buttons(greeting) == [
            ("Good", "mood:good"),
            ("Help", "https://t.me/checkin_test_bot?start=help-1"),
        ]

        api.press_button(USER, greeting.message_id, "mood:good")
        await api.wait_until(lambda: greeting.edited)
        assert greeting.text == "You chose mood:good"
        assert greeting.reply_markup is None  # editing the text without a markup drops it
        assert greeting.history[0].text == "Hello! payload=abc_123"
        assert api.callback_answers[0]["text"] == "Thanks"

        api.send_text(USER, "hi there")
        reply = await api.wait_for_message(USER)
        assert reply.text == "echo hi there"
        assert reply.entities == [{"type": "bold", "offset": 0, "length": 4}]
        assert [m.message_id for m in api.messages(USER)] == [2, 4]  # ids shared with the user's
    api.assert_no_violations()


async def test_wait_for_idle_waits_for_handlers(api: LocalBotAPI) -> None:
    gate = asyncio.Event()
    done: list[str] = []

    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await gate.wait()
        done.append("handled")

    async with running_app(api, MessageHandler(filters.TEXT, slow)) as app:
        api.send_text(USER, "one")
        idle = asyncio.create_task(api.wait_for_idle(app, timeout=5))
        await api.wait_until(api.state.all_confirmed)
        assert not idle.done()
        gate.set()
        await idle
        assert done == ["handled"]


async def test_wait_for_messages_consumes_in_order(api: LocalBotAPI, bot: PTBBot) -> None:
    for n in range(3):
        await bot.send_message(USER, f"m{n}")
    first = await api.wait_for_message(USER)
    rest = await api.wait_for_messages(USER, 2)
    assert [first.text, *(m.text for m in rest)] == ["m0", "m1", "m2"]
    with pytest.raises(TimeoutError, match=r"(?i)no 1 matching"):
        await api.wait_for_message(USER, timeout=0.05)
    await bot.send_message(USER, "skip")
    await bot.send_message(USER, "target")
    found = await api.wait_for_message(USER, predicate=lambda m: m.text == "target")
    assert found.text == "target"


# ---- protocol basics --------------------------------------------------------------------


async def test_get_me_and_unknown_method(api: LocalBotAPI, bot: PTBBot) -> None:
    me = await bot.get_me()
    assert (me.username, me.id) == ("checkin_test_bot", 123456)
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("notARealMethod")
    assert await bot.do_api_request("setMyShortDescription", api_kwargs={"short_description": "x"})


async def test_long_polling_returns_promptly_and_confirms(api: LocalBotAPI, bot: PTBBot) -> None:
    assert await bot.get_updates(timeout=0) == ()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_until(lambda: api.request_counts["getUpdates"] == 2)
    api.send_text(USER, "hello")
    updates = await asyncio.wait_for(poll, timeout=2)
    assert [u.message.text for u in updates if u.message] == ["hello"]
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]  # not confirmed yet
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()


async def test_get_updates_limit_and_allowed_updates(api: LocalBotAPI, bot: PTBBot) -> None:
    for text in ("a", "b", "c"):
        api.send_text(USER, text)
    first = await bot.get_updates(limit=2, timeout=0)
    assert len(first) == 2
    sent = await bot.send_message(
        USER,
        "x",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("x", callback_data="x")),
    )
    api.press_button(USER, sent.message_id, "x")
    only = await bot.get_updates(
        offset=first[-1].update_id + 1, timeout=0, allowed_updates=["callback_query"]
    )
    assert [u.callback_query.data for u in only if u.callback_query] == ["x"]
    assert len(only) == 1


async def test_user_side_updates_deserialise(api: LocalBotAPI, bot: PTBBot) -> None:
    api.send_sticker(USER)
    api.send_photo(USER, caption="look")
    api.send_voice(USER)
    api.send_location(USER, 1.5, 2.5)
    sent = api.send_text(USER, "typo")
    api.edit_text(USER, sent["message"]["message_id"], "fixed")
    api.block_bot(USER)
    updates = await bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message]
    assert messages[0].sticker is not None
    assert messages[1].photo
    assert messages[1].caption == "look"
    assert messages[2].voice is not None
    assert messages[3].location is not None
    assert updates[5].edited_message is not None
    assert updates[5].edited_message.text == "fixed"
    member = updates[6].my_chat_member
    assert member is not None
    assert member.new_chat_member.status == "kicked"


# ---- validation ---------------------------------------------------------------------------


async def test_text_limits_count_utf16_after_parsing(api: LocalBotAPI, bot: PTBBot) -> None:
    await bot.send_message(USER, "a" * 4096)
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    api.assert_no_violations()
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(USER, "a" * 5000)
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(USER, "😀" * 2049)  # 4098 UTF-16 code units
    with pytest.raises(BadRequest, match=r"(?i)empty"):
        await bot.send_message(USER, "<b></b>", parse_mode="HTML")
    assert len(api.violations) == 3
    assert api.violations[0].startswith("sendMessage: Bad Request: message text is too long")
    with pytest.raises(AssertionError, match=r"(?i)invalid Bot API requests"):
        api.assert_no_violations()


async def test_parse_mode_errors(api: LocalBotAPI, bot: PTBBot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
        await bot.send_message(USER, "<blink>x</blink>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(USER, "Hello.", parse_mode="MarkdownV2")
    await bot.send_message(USER, "*Hello*\\.", parse_mode="MarkdownV2")
    last = api.last_message(USER)
    assert last is not None
    assert last.text == "Hello."
    assert last.entities == [{"type": "bold", "offset": 0, "length": 5}]
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await bot.send_message(USER, "x", parse_mode="BBCode")


async def test_callback_data_limit(api: LocalBotAPI, bot: PTBBot) -> None:
    ok = InlineKeyboardMarkup.from_button(InlineKeyboardButton("ok", callback_data="x" * 64))
    await bot.send_message(USER, "fine", reply_markup=ok)
    for data in ("x" * 65, "é" * 33):
        markup = InlineKeyboardMarkup.from_button(InlineKeyboardButton("b", callback_data=data))
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "too much", reply_markup=markup)
    assert len(api.violations) == 2
    assert "65 bytes" in api.violations[0]
    assert "66 bytes" in api.violations[1]


async def test_spec_checks_fields_and_types(api: LocalBotAPI, bot: PTBBot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)unknown field 'bogus'"):
        await bot.send_message(USER, "hi", api_kwargs={"bogus": 1})
    with pytest.raises(BadRequest, match=r"(?i)required field 'text' is missing"):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": USER})
    with pytest.raises(BadRequest, match=r"(?i)must be Boolean"):
        await bot.do_api_request(
            "sendMessage",
            api_kwargs={"chat_id": USER, "text": "x", "disable_notification": "maybe"},
        )
    nested = {"inline_keyboard": [[{"text": "x", "callback_data": "y", "colour": "red"}]]}
    with pytest.raises(
        BadRequest, match=r"(?i)unknown field 'reply_markup.inline_keyboard\[0\]\[0\]\.colour'"
    ):
        await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": USER, "text": "x", "reply_markup": nested}
        )
    with pytest.raises(BadRequest, match=r"(?i)required field 'scope.chat_id'"):
        await bot.do_api_request(
            "setMyCommands", api_kwargs={"commands": [], "scope": {"type": "chat"}}
        )
    assert len(api.violations) == 5
    assert all(v.startswith(("sendMessage: ", "setMyCommands: ")) for v in api.violations)


async def test_spec_less_server_still_checks_limits() -> None:
    async with LocalBotAPI(token=TOKEN) as plain, make_bot(plain) as client:
        await client.send_message(USER, "hi", api_kwargs={"bogus": 1})
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await client.send_message(USER, "a" * 4097)
        assert len(plain.violations) == 1


async def test_deep_link_payloads(api: LocalBotAPI, bot: PTBBot) -> None:
    await bot.send_message(USER, "Go https://t.me/checkin_test_bot?start=abc-DEF_123")
    with pytest.raises(BadRequest, match=r"(?i)deep-link"):
        await bot.send_message(USER, "Go https://t.me/checkin_test_bot?start=abc.def")
    with pytest.raises(BadRequest, match=r"(?i)deep-link"):
        await bot.send_message(USER, f"t.me/checkin_test_bot?start={'a' * 65}")
    button = InlineKeyboardButton("open", url="https://t.me/checkin_test_bot?start=a%20b")
    with pytest.raises(BadRequest, match=r"(?i)deep-link"):
        await bot.send_message(USER, "x", reply_markup=InlineKeyboardMarkup.from_button(button))
    assert len(api.violations) == 3


async def test_commands_rules_and_storage(api: LocalBotAPI, bot: PTBBot) -> None:
    commands = [BotCommand("start", "Start"), BotCommand("check_in", "Check in now")]
    assert await bot.set_my_commands(commands, language_code="de")
    assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeChat(USER))
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == [
        "start",
        "check_in",
    ]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(USER))] == [
        "start"
    ]
    assert await bot.delete_my_commands(language_code="de")
    assert await bot.get_my_commands(language_code="de") == ()
    api.assert_no_violations()
    bad_cases: list[tuple[list[BotCommand], str | None]] = [
        ([BotCommand("Start", "x")], None),
        ([BotCommand("a" * 33, "x")], None),
        ([BotCommand("ok", "d" * 257)], None),
        ([BotCommand(f"c{i}", "x") for i in range(101)], None),
        (commands, "eng"),
    ]
    for bad, language in bad_cases:
        with pytest.raises(BadRequest):
            await bot.set_my_commands(bad, language_code=language)
    assert len(api.violations) == 5


async def test_answer_callback_query_rules(api: LocalBotAPI, bot: PTBBot) -> None:
    sent = await bot.send_message(
        USER,
        "q",
        reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("b", callback_data="b")),
    )
    with pytest.raises(LookupError):
        api.press_button(USER, sent.message_id, "nope")
    api.press_button(USER, sent.message_id, text="b")
    api.press_button(USER, sent.message_id, "tampered", verify=False)
    updates = await bot.get_updates(timeout=0)
    first, second = (u.callback_query for u in updates)
    assert first is not None
    assert second is not None
    assert second.data == "tampered"
    assert first.message is not None
    assert first.message.message_id == sent.message_id
    with pytest.raises(BadRequest, match=r"(?i)0-200"):
        await first.answer("x" * 201)
    assert await first.answer("ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await first.answer("again")
    assert [a["data"] for a in api.callback_answers] == ["b"]


async def test_edit_and_delete_semantics(api: LocalBotAPI, bot: PTBBot) -> None:
    sent = await bot.send_message(USER, "v1")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("v1", chat_id=USER, message_id=sent.message_id)
    await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id)
    markup = InlineKeyboardMarkup.from_button(InlineKeyboardButton("b", callback_data="b"))
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=markup
    )
    message = api.last_message(USER)
    assert message is not None
    assert message.text == "v2"
    assert message.reply_markup is not None
    assert [h.text for h in message.history] == ["v1", "v2"]
    assert await bot.delete_message(USER, sent.message_id)
    assert api.messages(USER) == []
    assert api.messages(USER, include_deleted=True)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", chat_id=USER, message_id=sent.message_id)
    assert await bot.send_chat_action(USER, "typing")
    assert api.state.chat_actions == [(USER, "typing")]
    api.assert_no_violations()


async def test_send_photo_and_document_upload(api: LocalBotAPI, bot: PTBBot) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    sent = await bot.send_photo(USER, photo=data, caption="<i>chart</i>", parse_mode="HTML")
    stored = api.last_message(USER)
    assert stored is not None
    assert stored.photo == data
    assert stored.caption == "chart"
    assert sent.photo[-1].file_id
    assert sent.caption == "chart"
    again = await bot.send_photo(USER, photo=sent.photo[-1].file_id)
    assert api.messages(USER)[-1].photo == data
    assert again.photo
    downloaded = await (await bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == data
    doc = await bot.send_document(USER, document=b"a,b\n1,2\n", filename="report.csv")
    assert doc.document is not None
    assert doc.document.file_name == "report.csv"
    assert api.messages(USER)[-1].document == b"a,b\n1,2\n"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(USER, photo=data, caption="c" * 1025)


# ---- faults and limits ------------------------------------------------------------------


async def test_retry_after_and_server_error_faults(api: LocalBotAPI, bot: PTBBot) -> None:
    api.inject_fault("sendMessage", "retry_after", retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    # bot/__init__.py opts in to PTB's timedelta retry_after (PTB_TIMEDELTA).
    assert caught.value.retry_after in (3, timedelta(seconds=3))
    api.inject_fault("sendMessage", "server_error", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "finally")
    assert [m.text for m in api.messages(USER)] == ["finally"]
    assert [e.error_code for e in api.errors] == [429, 500, 500]
    api.assert_no_violations()


async def test_blocked_user(api: LocalBotAPI, bot: PTBBot) -> None:
    api.block_bot(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "x")
    api.unblock_bot(USER)
    await bot.send_message(USER, "back")
    api.inject_fault("sendMessage", "blocked", chat_id=USER + 1)
    await bot.send_message(USER, "other chat is faulty, not this one")
    with pytest.raises(Forbidden):
        await bot.send_message(USER + 1, "x")


async def test_hang_and_reset_faults(api: LocalBotAPI) -> None:
    api.hang_seconds = 60.0  # released by api.stop(), never waited out
    async with make_bot(api, read_timeout=0.2) as client:
        api.inject_fault("sendMessage", "hang")
        with pytest.raises(TimedOut):
            await client.send_message(USER, "x")
        api.inject_fault("sendMessage", "reset")
        with pytest.raises(NetworkError):
            await client.send_message(USER, "x")
        await client.send_message(USER, "after")
    assert [m.text for m in api.messages(USER)] == ["after"]


async def test_send_rate_limits() -> None:
    async with LocalBotAPI(
        SPEC, token=TOKEN, send_limit_per_second=2, enforce_per_chat_limit=True
    ) as limited:
        async with make_bot(limited) as client:
            await client.send_message(1, "a")
            with pytest.raises(RetryAfter):
                await client.send_message(1, "b")  # same chat within a second
            await client.send_message(2, "c")
            with pytest.raises(RetryAfter):
                await client.send_message(3, "d")  # third send within a second overall
        assert limited.too_many_requests == 2


async def test_events_for_listeners(api: LocalBotAPI, bot: PTBBot) -> None:
    events = api.subscribe()
    await bot.send_message(USER, "hello")
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "")
    kinds = [events.get_nowait().kind for _ in range(events.qsize())]
    assert kinds == ["message_sent", "violation"]
    api.unsubscribe(events)


async def test_conflicting_pollers(api: LocalBotAPI, bot: PTBBot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await api.wait_until(lambda: api.request_counts["getUpdates"] == 1)
    async with make_bot(api) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
        await asyncio.wait_for(first, timeout=2)


# ---- pure helpers -----------------------------------------------------------------------


def test_formatting_helpers() -> None:
    assert utf16_len("a😀") == 3
    parsed = parse_text('<a href="https://x.y">link</a> &amp; <tg-spoiler>s</tg-spoiler>', "HTML")
    assert parsed.text == "link & s"
    assert [e["type"] for e in parsed.entities] == ["text_link", "spoiler"]
    assert parse_text("[a](https://x.y) `c.d`", "MarkdownV2").text == "a c.d"
    with pytest.raises(FormattingError):
        parse_text("<b><i>x</b></i>", "HTML")
    with pytest.raises(FormattingError):
        parse_text("*open", "MarkdownV2")


async def test_json_bodies_and_wrong_token(api: LocalBotAPI) -> None:
    """A web page can call the API with JSON bodies; a wrong token is 401 like Telegram."""
    async with aiohttp.ClientSession() as session:
        url = f"{api.base_url}{TOKEN}/sendMessage"
        async with session.post(url, json={"chat_id": USER, "text": "from js"}) as response:
            body = await response.json()
        assert body["ok"] is True
        assert body["result"]["text"] == "from js"
        async with session.post(url, json={"chat_id": USER, "text": 5}) as response:
            assert response.status == 400
        async with session.post(f"{api.base_url}1:WRONG/getMe") as response:
            assert response.status == 401
    assert len(api.violations) == 1


async def test_wildcard_fault_and_idle_without_app(api: LocalBotAPI, bot: PTBBot) -> None:
    api.inject_fault("*", "server_error", chat_id=USER)
    with pytest.raises(NetworkError):
        await bot.send_chat_action(USER, "typing")
    api.send_text(USER, "hi")
    idle = asyncio.create_task(api.wait_for_idle(timeout=5))
    updates = await bot.get_updates(timeout=0)
    assert not idle.done()
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    await idle
