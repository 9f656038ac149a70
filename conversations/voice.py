"""Voice prompts for young people: the "🔊 Listen" button and sending a stored clip.

A clip is sent by Telegram's ``file_id`` when the bot has one; when Telegram refuses it (a new bot
token, or a clip uploaded in the playground) the stored audio is uploaded again and the new
``file_id`` kept. Listening changes nothing in a check-in: not its position, not its answers,
not the message that shows it.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InputFile, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from conversations import buttons
from conversations.presses import answer_stale, pressed
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press
from conversations.voiceclips import WELCOME, option_key
from core.i18n import Translator
from storage import checkins, enrolments, voice
from storage.voice import Clip

log = logging.getLogger(__name__)


def listen_row(t: Translator, text_key: str) -> list[InlineKeyboardButton]:
    """The "🔊 Listen" button of a text (``welcome`` or ``item.<id>``), in ``t``'s language."""
    return [
        InlineKeyboardButton(
            t._("🔊 Listen"), callback_data=buttons.encode(buttons.Listen(text_key))
        )
    ]


async def send_voice(
    bot: ExtBot[None],
    chat_id: int,
    audio: bytes | str,
    *,
    duration: int | None = None,
    caption: str | None = None,
    markup: object = None,
) -> Message | None:
    """Send a voice message (bytes to upload, or a ``file_id``); ``None`` if it did not go.

    A refused ``file_id`` raises :class:`BadRequest` so the caller can upload the audio instead.
    """
    voice_file: InputFile | str = (
        InputFile(audio, filename="clip.ogg") if isinstance(audio, bytes) else audio
    )
    try:
        return await bot.send_voice(
            chat_id,
            voice_file,
            duration=duration,
            caption=caption,
            reply_markup=markup,  # type: ignore[arg-type]
        )
    except BadRequest:
        if isinstance(audio, str):
            raise
        log.warning("a voice message could not be sent: BadRequest")
    except Forbidden:
        log.info("a chat could not be reached (blocked or left)")
    except TelegramError as exc:
        log.warning("a voice message could not be sent: %s", type(exc).__name__)
    return None


async def play(rt: Runtime, bot: ExtBot[None], chat_id: int, clip: Clip) -> bool:
    """Send ``clip``: by its ``file_id``, else (or when refused) from the stored audio."""
    if clip.file_id is not None:
        try:
            return await send_voice(bot, chat_id, clip.file_id, duration=clip.duration) is not None
        except BadRequest:
            log.info("a voice clip's file id was refused; uploading it again")
    sent = await send_voice(bot, chat_id, clip.audio, duration=clip.duration)
    if sent is None or sent.voice is None:
        return False
    async with rt.db.transaction() as conn:
        await voice.set_file_id(conn, clip.id, sent.voice.file_id)
    return True


async def on_listen(update: Update, context: Context) -> None:
    """ "🔊 Listen": the clip of the welcome or of a statement (then its answer labels' clips),
    in the language the young person reads it in. Nothing else changes."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.Listen)
    if read is None:
        return
    press, action = read
    async with rt.db.read() as conn:
        enrolment = await enrolments.by_chat(conn, press.chat_id)
        live = await checkins.live_checkin(conn, enrolment.id) if enrolment else None
        language = (
            live.language
            if live is not None
            else (enrolment.language if enrolment else None) or rt.settings.default_language
        )
        keys = [action.text]
        if action.text != WELCOME:
            keys += [option_key(o.value) for o in rt.questionnaire.scale]
        clips = [found for key in keys if (found := await voice.clip(conn, key, language))]
    if enrolment is None or enrolment.status == enrolments.FORGOTTEN:
        await answer_stale(rt, press)
        return
    t = rt.translator(language)
    if not clips or clips[0].text_key != action.text:
        await answer_press(press.query, t._("Sorry, there is no recording of this yet."))
        return
    await answer_press(press.query)
    for clip in clips:
        if not await play(rt, context.bot, press.chat_id, clip):
            break
