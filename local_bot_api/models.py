"""Plain data shared by the local Bot API modules: uploads, bot messages, events and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

JSON = Any
"""A JSON-compatible value (what ``json.loads`` returns)."""


class Clock(Protocol):
    """What the simulated Telegram asks the time of: any object with ``now()`` (aware, UTC).

    The bot's own clocks fit it, so a test moves both with one clock; the stand-in imports
    nothing of the bot.
    """

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, when none is given."""

    def now(self) -> datetime:
        return datetime.now(UTC)


FaultKind = Literal[
    "retry_after", "server_error", "blocked", "hang", "reset", "unauthorized", "conflict"
]


@dataclass(frozen=True)
class UploadedFile:
    """A file part received in a ``multipart/form-data`` request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class MessageSnapshot:
    """What a bot message looked like before an edit."""

    text: str | None
    caption: str | None
    reply_markup: dict[str, Any] | None


@dataclass
class BotMessage:
    """One message the bot sent, as the simulated user sees it.

    ``text``/``caption`` are the plain texts *after* entity parsing (what a user reads);
    ``raw_text`` is what the bot sent, before parsing.
    """

    message_id: int
    chat_id: int
    method: str
    date: int
    text: str | None = None
    caption: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    photo: bytes | None = None
    document: bytes | None = None
    voice: bytes | None = None
    file_id: str | None = None
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False
    history: list[MessageSnapshot] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def content(self) -> str:
        """The visible text of the message: its text, else its caption, else ``""``."""
        return self.text if self.text is not None else (self.caption or "")

    def snapshot(self) -> MessageSnapshot:
        """The current visible state, for the edit history."""
        return MessageSnapshot(self.text, self.caption, self.reply_markup)


@dataclass(frozen=True)
class ApiEvent:
    """Something that happened on the simulated Telegram side, for listeners.

    ``kind`` is one of ``message_sent``, ``message_edited``, ``message_deleted``,
    ``callback_answered``, ``chat_action``, ``update_queued``, ``violation``, ``error``.
    """

    kind: str
    chat_id: int | None = None
    message: BotMessage | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for a web page streaming events)."""
        out: dict[str, Any] = {"kind": self.kind, "chat_id": self.chat_id, **self.detail}
        if self.message is not None:
            msg = self.message
            out["message"] = {
                "message_id": msg.message_id,
                "method": msg.method,
                "text": msg.text,
                "caption": msg.caption,
                "entities": msg.entities,
                "reply_markup": msg.reply_markup,
                "has_photo": msg.photo is not None or msg.method == "sendPhoto",
                "has_voice": msg.voice is not None,
                "file_id": msg.file_id,
                "edited": msg.edited,
                "deleted": msg.deleted,
                "date": msg.date,
            }
        return out


@dataclass(frozen=True)
class RecordedError:
    """An error answer the server gave (violation or not)."""

    method: str
    error_code: int
    description: str


class ApiError(Exception):
    """Raised inside the simulator to answer a request with a Telegram error."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool = False,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.violation = violation

    def to_json(self) -> dict[str, Any]:
        """The response body Telegram would send."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(what: str, *, violation: bool = False) -> ApiError:
    """A 400 ``Bad Request: <what>`` error."""
    return ApiError(400, f"Bad Request: {what}", violation=violation)


@dataclass
class Webhook:
    """What ``setWebhook`` set, and the last delivery error (for ``getWebhookInfo``)."""

    url: str
    secret: str | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
