"""The command menu in each language: per language where Telegram allows it, else per chat.

Telegram keys command lists by two-letter ISO 639-1 codes. Languages without one (Dari ``fa_AF``,
Sorani ``ckb``), and staff (whose menu holds staff commands), get a menu set on their own chat.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import ExtBot

from conversations.commands import Command, menu
from core.i18n import Catalogues, Translator

log = logging.getLogger(__name__)


def telegram_code(code: str) -> str | None:
    """The two-letter code Telegram knows for a catalogue, if there is one."""
    return code if len(code) == 2 else None


async def set_default_menus(
    bot: ExtBot[None], catalogues: Catalogues, commands: Sequence[Command]
) -> None:
    """The young people's menu: the default (English) and one per two-letter language."""
    await bot.set_my_commands(menu(catalogues.get("en"), commands))
    for code in catalogues.codes:
        two_letter = telegram_code(code)
        if two_letter and two_letter != "en":
            await bot.set_my_commands(
                menu(catalogues.get(code), commands), language_code=two_letter
            )


async def set_chat_menu(
    bot: ExtBot[None],
    chat_id: int,
    t: Translator,
    commands: Sequence[Command],
    role: str | None = None,
) -> None:
    """A menu for one chat: staff commands for staff, or young people's in a language without a
    two-letter code. Failures are logged (without ids) and never stop the conversation."""
    if role is None and telegram_code(t.code):
        return
    try:
        await bot.set_my_commands(menu(t, commands, role), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("a chat's command menu could not be set: %s", type(exc).__name__)
