"""Sending to people: safe message sends that never crash a handler, long texts split into
messages Telegram accepts, and notices to staff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from conversations import buttons
from core.i18n import Translator
from storage.records import StaffMember

log = logging.getLogger(__name__)

MESSAGE_MAX = 4000
"""Telegram takes up to 4096 characters a message; the margin leaves room for direction marks."""


async def send(
    bot: ExtBot[None],
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    parse_mode: str | None = None,
) -> Message | None:
    """Send a message; log (without text or ids) and return None if Telegram refuses it."""
    try:
        return await bot.send_message(chat_id, text, reply_markup=markup, parse_mode=parse_mode)
    except Forbidden:
        log.info("a chat could not be reached (blocked or left)")
    except TelegramError as exc:
        log.warning("a message could not be sent: %s", type(exc).__name__)
    return None


async def tell(
    bot: ExtBot[None],
    chat_id: int,
    t: Translator,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send ``text``, already in ``t``'s language, as one whole message in its direction."""
    return await send(bot, chat_id, t.message(text), markup)


def button_row(*choices: tuple[str, buttons.Action]) -> InlineKeyboardMarkup:
    """A keyboard of one row of buttons, each a (label, action), like "Send" and "Cancel"."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=buttons.encode(a)) for label, a in choices]]
    )


def split_lines(lines: Iterable[str], limit: int = MESSAGE_MAX) -> list[str]:
    """Whole lines joined into messages of at most ``limit`` characters each, in order.

    The one splitter of long texts: a line longer than ``limit`` on its own is cut to ``limit``,
    and a part with nothing but white space is left out (Telegram refuses an empty message).
    """
    parts: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    parts.append(current)
    return [part for part in parts if part.strip()]


async def send_lines(bot: ExtBot[None], chat_id: int, t: Translator, lines: Iterable[str]) -> None:
    """Send ``lines`` in as many messages as they need (:func:`split_lines`), each in ``t``'s
    direction."""
    for part in split_lines(lines):
        await send(bot, chat_id, t.message(part))


async def edit_or_send(
    bot: ExtBot[None],
    chat_id: int,
    message_id: int | None,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> int | None:
    """Replace the text of the message a button sat on; send a new one if that fails.

    Returns the id of the message that now shows ``text`` (None if nothing could be sent)."""
    if message_id is not None:
        try:
            await bot.edit_message_text(text, chat_id, message_id, reply_markup=markup)
            return message_id
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return message_id
        except TelegramError as exc:
            log.warning("a message could not be edited: %s", type(exc).__name__)
    sent = await send(bot, chat_id, text, markup)
    return None if sent is None else sent.message_id


async def remove_buttons(bot: ExtBot[None], chat_id: int, message_id: int | None) -> None:
    """Take the buttons off an earlier message, leaving its text in the chat (a welcome agreed
    to, an older copy of a statement); a message without them (or gone) is fine."""
    if message_id is None:
        return
    try:
        await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest:
        log.debug("an earlier message's buttons were already gone")
    except TelegramError as exc:
        log.warning("an earlier message's buttons could not be removed: %s", type(exc).__name__)


async def notify_staff(bot: ExtBot[None], member: StaffMember | None, text: str) -> bool:
    """Message a staff member who has joined; False if they cannot be reached."""
    if member is None or member.chat_id is None or not member.active:
        return False
    return await send(bot, member.chat_id, text) is not None


class Pacer:
    """Spaces sends evenly at ``rate`` per second (real time), with no burst.

    Telegram allows about 30 messages a second overall; an even spacing never crosses that in
    any one-second window, where a token bucket's opening burst could.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


async def answer_press(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press. One Telegram refuses (expired, or answered before a restart
    delivered it again) is not an error: the press itself was handled."""
    try:
        await query.answer(text)
    except BadRequest:
        log.info("a button press could not be answered (expired or already answered)")
    except TelegramError as exc:
        log.warning("a button press could not be answered: %s", type(exc).__name__)
