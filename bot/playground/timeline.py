"""What a phone shows: one chat's messages, the person's and the bot's, in order.

The local Bot API keeps both sides of each private chat (message ids are shared, as in
Telegram, so sorting by id interleaves them). This module turns them into plain JSON for the page.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from local_bot_api import LocalBotAPI
from local_bot_api.models import BotMessage

JSONDict = dict[str, Any]
_DEEP_LINK = re.compile(r"/start [A-Za-z0-9_-]{1,64}")


def chat_timeline(api: LocalBotAPI, chat_id: int, zone: ZoneInfo) -> list[JSONDict]:
    """Every live message of the chat, oldest first."""
    chat = api.state.chats.get(chat_id)
    if chat is None:
        return []
    items = [user_item(message, zone) for message in chat.user_messages.values()]
    items += [bot_item(message, zone) for message in chat.bot_messages if not message.deleted]
    return sorted(items, key=lambda item: int(item["id"]))


def user_item(message: JSONDict, zone: ZoneInfo) -> JSONDict:
    """A message the simulated person sent. An opened invite link shows as "/start", as in
    Telegram (the token travels with the command but is not shown in the chat)."""
    text = message.get("text") or message.get("caption") or _kind(message)
    return {
        "id": message["message_id"],
        "from": "user",
        "text": "/start" if _DEEP_LINK.fullmatch(text) else text,
        "entities": [],
        "buttons": [],
        "photo": None,
        "edited": "edit_date" in message,
        "time": clock_time(message["date"], zone),
    }


def bot_item(message: BotMessage, zone: ZoneInfo) -> JSONDict:
    """A message the bot sent (its current state after any edits)."""
    photo = f"/api/photos/{message.chat_id}/{message.message_id}" if message.photo else None
    return {
        "id": message.message_id,
        "from": "bot",
        "text": message.content,
        "entities": message.entities,
        "buttons": button_rows(message.reply_markup),
        "photo": photo,
        "document": message.document is not None,
        "voice": f"/api/voices/{message.chat_id}/{message.message_id}" if message.voice else None,
        "edited": message.edited,
        "time": clock_time(message.edit_date or message.date, zone),
    }


def button_rows(markup: object) -> list[list[JSONDict]]:
    """Inline keyboard rows as ``[{"text", "data", "url"}]``."""
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return []
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or []
    return [
        [
            {
                "text": str(button.get("text", "")),
                "data": button.get("callback_data"),
                "url": button.get("url"),
            }
            for button in row
            if isinstance(button, dict)
        ]
        for row in rows
        if isinstance(row, list)
    ]


def command_menu(api: LocalBotAPI, chat_id: int, language_code: str) -> list[JSONDict]:
    """The command menu this chat sees, resolved as Telegram does: the chat's own menu, else
    the default menu in the user's language, else the default menu."""
    chat_scope = {"type": "chat", "chat_id": chat_id}
    default = {"type": "default"}
    for scope, language in ((chat_scope, ""), (default, language_code[:2]), (default, "")):
        key = json.dumps([scope, language], sort_keys=True)
        if key in api.state.commands:
            return [
                {"command": str(c.get("command")), "description": str(c.get("description"))}
                for c in api.state.commands[key]
            ]
    return []


def clock_time(unix: int, zone: ZoneInfo, locale: str = "en") -> str:
    """A message's time as its phone shows it, through Babel, e.g. ``Jan 5, 11:00``."""
    local = datetime.fromtimestamp(unix, UTC).astimezone(zone)
    day = format_skeleton("MMMd", local, locale=locale)
    return f"{day}, {format_skeleton('Hm', local, locale=locale)}"


def _kind(message: JSONDict) -> str:
    for kind in ("photo", "sticker", "voice", "location", "document"):
        if kind in message:
            return f"[{kind}]"
    return ""
