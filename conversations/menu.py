"""The command menu in each language: per language where Telegram allows it, else per chat.

Telegram keys command lists by two-letter ISO 639-1 codes. Languages without one (Dari ``fa_AF``,
Sorani ``ckb``), and staff (whose menu holds staff commands), get a menu set on their own chat.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import ExtBot

from conversations.staff_menu import staff_commands
from core.i18n import Catalogues, Translator

log = logging.getLogger(__name__)


def young_person_commands(t: Translator) -> list[BotCommand]:
    return [
        BotCommand("checkin", t._("Start or carry on with a check-in")),
        BotCommand("language", t._("Change your language")),
        BotCommand("privacy", t._("Who sees what")),
        BotCommand("support", t._("People you can talk to")),
        BotCommand("mydata", t._("See everything kept about you")),
        BotCommand("help", t._("What I can do")),
        BotCommand("stop", t._("No more check-ins")),
        BotCommand("forgetme", t._("Delete everything about you")),
    ]


def telegram_code(code: str) -> str | None:
    """The two-letter code Telegram knows for a catalogue, if there is one."""
    return code if len(code) == 2 else None


async def set_default_menus(bot: ExtBot[None], catalogues: Catalogues) -> None:
    """The young people's menu: the default (English) and one per two-letter language."""
    await bot.set_my_commands(young_person_commands(catalogues.get("en")))
    for code in catalogues.codes:
        two_letter = telegram_code(code)
        if two_letter and two_letter != "en":
            await bot.set_my_commands(
                young_person_commands(catalogues.get(code)), language_code=two_letter
            )


async def set_chat_menu(
    bot: ExtBot[None], chat_id: int, t: Translator, role: str | None = None
) -> None:
    """A menu for one chat: staff commands for staff, or young people's in a language without a
    two-letter code. Failures are logged (without ids) and never stop the conversation."""
    if role is None and telegram_code(t.code):
        return
    commands = staff_commands(t, role) if role else young_person_commands(t)
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("a chat's command menu could not be set: %s", type(exc).__name__)
