"""The local Bot API stand-in's voice messages: sendVoice (upload or file id), voice notes and
files from users with getFile and download, checked against the Bot API spec."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot as PTBBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from local_bot_api import LocalBotAPI
from tests.test_local_api import SPEC, TOKEN, USER, make_bot
from tests.voice_files import ogg_opus

pytestmark = pytest.mark.filterwarnings(
    "ignore:Please use 'Bot.:telegram.warnings.PTBUserWarning",  # do_api_request on purpose
)


@pytest.fixture
async def api() -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI(SPEC, token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(api: LocalBotAPI) -> AsyncIterator[PTBBot]:
    async with make_bot(api) as client:
        yield client


async def test_send_voice_uploads_then_resends_by_file_id(api: LocalBotAPI, bot: PTBBot) -> None:
    clip = ogg_opus(2.0)
    keep = InlineKeyboardMarkup.from_button(InlineKeyboardButton("Keep", callback_data="k"))
    sent = await bot.send_voice(USER, clip, duration=2, caption="Keep it?", reply_markup=keep)
    assert sent.voice is not None
    assert sent.voice.mime_type == "audio/ogg"
    assert sent.voice.file_size == len(clip)
    assert sent.caption == "Keep it?"
    stored = api.last_message(USER)
    assert stored is not None
    assert stored.method == "sendVoice"
    assert stored.voice == clip
    assert api.buttons(stored) == [("Keep", "k")]
    assert stored.payload["voice"]["duration"] == 2

    again = await bot.send_voice(USER, sent.voice.file_id)
    assert again.voice is not None
    assert again.voice.file_id == sent.voice.file_id
    assert api.messages(USER)[-1].voice == clip

    api.forget_files()  # a new bot token: the old ids mean nothing to Telegram
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_voice(USER, sent.voice.file_id)
    api.assert_no_violations()  # a refused file id is Telegram's answer, not a bad request


async def test_send_voice_is_checked_against_the_spec(api: LocalBotAPI, bot: PTBBot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)required field 'voice' is missing"):
        await bot.do_api_request("sendVoice", api_kwargs={"chat_id": USER})
    with pytest.raises(BadRequest, match=r"(?i)unknown field 'bogus'"):
        await bot.send_voice(USER, ogg_opus(1.0), api_kwargs={"bogus": 1})
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_voice(USER, ogg_opus(1.0), caption="a" * 1025)
    assert len(api.violations) == 3
    assert all(v.startswith("sendVoice: ") for v in api.violations)


async def test_a_users_voice_note_and_file_can_be_downloaded(api: LocalBotAPI, bot: PTBBot) -> None:
    clip = ogg_opus(3.0, tag=b"user")
    api.send_voice(USER, data=clip, duration=3)
    api.send_document(USER, b"%PDF-1.4", filename="letter.pdf", mime_type="application/pdf")
    updates = await bot.get_updates(timeout=0)
    assert updates[0].to_dict()["message"]["voice"]["duration"] == 3
    voice = updates[0].message.voice if updates[0].message else None
    document = updates[1].message.document if updates[1].message else None
    assert voice is not None
    assert document is not None
    assert (voice.mime_type, voice.file_size) == ("audio/ogg", len(clip))
    assert document.file_name == "letter.pdf"
    found = await bot.get_file(voice.file_id)
    assert found.file_size == len(clip)
    assert bytes(await found.download_as_bytearray()) == clip
    pdf = await bot.get_file(document.file_id)
    assert bytes(await pdf.download_as_bytearray()) == b"%PDF-1.4"
    # A voice note can be sent on by its file id, as in Telegram.
    forwarded = await bot.send_voice(USER, voice.file_id)
    assert forwarded.voice is not None
    assert api.messages(USER)[-1].voice == clip
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("voice-nope")
    api.assert_no_violations()
