"""Telegram's limits that the spec states only in prose; checked on every request.

Works on decoded parameters (Python values). Every function returns a list of human-readable
problems; an empty list means the request is within limits. Text lengths are counted in UTF-16
code units after entity parsing (see :mod:`local_bot_api.formatting`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from local_bot_api.formatting import FormattingError, parse_text, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
MAX_COMMANDS = 100
MAX_COMMAND_LEN = 32
MAX_COMMAND_DESCRIPTION = 256  # Bot API 10.1 says "1-256 characters"
MAX_START_PAYLOAD = 64

_COMMAND_RE = re.compile(r"[a-z0-9_]+")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]+")
_DEEP_LINK_RE = re.compile(
    r"(?:https?://)?(?:t|telegram)\.me/(\w+)\?(start|startgroup)=([^\s\"'<>&#)]*)", re.IGNORECASE
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_TEXT_METHODS = frozenset({"sendMessage", "editMessageText"})
_COMMAND_METHODS = frozenset({"setMyCommands", "getMyCommands", "deleteMyCommands"})


def check_limits(method: str, params: Mapping[str, Any]) -> list[str]:
    """All limit problems of one request (``method`` in canonical spelling)."""
    problems: list[str] = []
    if method in _TEXT_METHODS:
        problems += _check_text(params, "text", 1, MAX_TEXT, "message text")
    if "caption" in params:
        problems += _check_text(params, "caption", 0, MAX_CAPTION, "message caption")
    if "reply_markup" in params:
        problems += check_reply_markup(params["reply_markup"])
    if method == "answerCallbackQuery":
        problems += _check_length(params.get("text"), 0, MAX_CALLBACK_ANSWER, "callback answer")
    if method == "setMyCommands":
        problems += check_commands(params.get("commands"))
    if method in _COMMAND_METHODS:
        problems += _check_language(params.get("language_code"))
    if method == "sendChatAction" and params.get("action") not in _CHAT_ACTIONS:
        problems.append(f"wrong parameter action in request: {params.get('action')!r}")
    for key in ("text", "caption"):
        if isinstance(params.get(key), str):
            problems += check_deep_links(params[key])
    return problems


def _check_text(params: Mapping[str, Any], key: str, low: int, high: int, what: str) -> list[str]:
    raw = params.get(key)
    if raw is None:
        return [f"{what} is empty"] if low > 0 else []
    if not isinstance(raw, str):
        return [f"{key} must be a string"]
    try:
        parsed = parse_text(raw, params.get("parse_mode"))
    except FormattingError as exc:
        return [f"can't parse entities: {exc}"]
    if parsed.length < low or (low > 0 and not parsed.text.strip()):
        return [f"{what} is empty"]
    if parsed.length > high:
        return [
            f"{what} is too long ({parsed.length} UTF-16 units after entity parsing, max {high})"
        ]
    return []


def _check_length(value: Any, low: int, high: int, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{what} must be a string"]
    length = utf16_len(value)
    if not low <= length <= high:
        return [f"{what} must be {low}-{high} characters, got {length}"]
    return []


def iter_inline_buttons(markup: Any) -> Iterator[dict[str, Any]]:
    """Every button dict of an inline keyboard markup (ignores malformed parts)."""
    if not isinstance(markup, dict):
        return
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return
    for row in rows:
        if isinstance(row, list):
            yield from (button for button in row if isinstance(button, dict))


def check_reply_markup(markup: Any) -> list[str]:
    """Inline-button rules: callback_data 1-64 bytes, exactly one action, valid deep links."""
    problems: list[str] = []
    for button in iter_inline_buttons(markup):
        label = button.get("text")
        if not isinstance(label, str) or not label.strip():
            problems.append("inline keyboard button text must be non-empty")
        actions = [name for name in _BUTTON_ACTIONS if name in button]
        if len(actions) != 1:
            problems.append(
                f"inline keyboard button {label!r} must have exactly one action field, "
                f"has {actions or 'none'}"
            )
        data = button.get("callback_data")
        if data is not None:
            size = len(data.encode("utf-8")) if isinstance(data, str) else -1
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                problems.append(
                    f"BUTTON_DATA_INVALID: callback_data of button {label!r} is {size} bytes "
                    f"(allowed 1-{MAX_CALLBACK_DATA_BYTES} bytes UTF-8)"
                )
        if isinstance(button.get("url"), str):
            problems += check_deep_links(button["url"])
    return problems


def check_commands(commands: Any) -> list[str]:
    """setMyCommands: at most 100 commands; names 1-32 of [a-z0-9_]; descriptions 1-256."""
    if not isinstance(commands, list):
        return ["commands must be an array"]
    problems: list[str] = []
    if len(commands) > MAX_COMMANDS:
        problems.append(f"too many commands: {len(commands)} (max {MAX_COMMANDS})")
    for entry in commands:
        if not isinstance(entry, dict):
            problems.append("each command must be a BotCommand object")
            continue
        name, description = entry.get("command"), entry.get("description")
        if not isinstance(name, str) or not (
            1 <= len(name) <= MAX_COMMAND_LEN and _COMMAND_RE.fullmatch(name)
        ):
            problems.append(
                f"BOT_COMMAND_INVALID: command {name!r} must be 1-{MAX_COMMAND_LEN} "
                "characters of a-z, 0-9 and _"
            )
        if not isinstance(description, str) or not (
            1 <= utf16_len(description) <= MAX_COMMAND_DESCRIPTION
        ):
            problems.append(
                f"BOT_COMMAND_DESCRIPTION_INVALID: description of {name!r} must be "
                f"1-{MAX_COMMAND_DESCRIPTION} characters"
            )
    return problems


def _check_language(code: Any) -> list[str]:
    if code is None or code == "":
        return []
    if isinstance(code, str) and _LANGUAGE_RE.fullmatch(code):
        return []
    return [f"language_code {code!r} must be empty or a two-letter ISO 639-1 code"]


def check_deep_links(text: str) -> list[str]:
    """``t.me/<bot>?start=<payload>`` links need a payload of 1-64 of [A-Za-z0-9_-]."""
    problems = []
    for match in _DEEP_LINK_RE.finditer(text):
        payload = match.group(3)
        if not (len(payload) <= MAX_START_PAYLOAD and _PAYLOAD_RE.fullmatch(payload)):
            problems.append(
                f"invalid deep-link {match.group(2)} payload {payload!r} "
                f"(must be 1-{MAX_START_PAYLOAD} characters of A-Z, a-z, 0-9, _ and -)"
            )
    return problems
