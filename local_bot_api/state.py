"""The simulated Telegram side: chats, the bot's messages, the update queue, events.

All state lives in one :class:`TelegramState`; the HTTP server and the user simulator both
mutate it from the same event loop, so no locking is needed. Waiting is event-driven through
:class:`Notifier`.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_bot_api.models import (
    ApiEvent,
    BotMessage,
    Clock,
    RecordedError,
    SystemClock,
    UploadedFile,
    Webhook,
)

# Update types delivered when allowed_updates was never set (Telegram's default).
_DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Notifier:
    """Wake every waiter whenever something changed; waiters re-check their condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, condition: Callable[[], bool], seconds: float | None) -> None:
        """Return once ``condition()`` holds; raise ``TimeoutError`` after ``seconds``."""
        async with asyncio.timeout(seconds):
            while not condition():
                await self._event.wait()

    async def wait_once(self, seconds: float) -> bool:
        """Wait for the next notification; ``False`` after ``seconds`` without one."""
        try:
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


@dataclass
class ChatState:
    """One chat as the simulator knows it."""

    chat: dict[str, Any]
    user: dict[str, Any] | None = None
    next_message_id: int = 1
    bot_messages: list[BotMessage] = field(default_factory=list)
    by_id: dict[int, BotMessage] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocked: bool = False
    mark: int = 0  # len(bot_messages) at the last user action: "new" messages start here

    def take_message_id(self) -> int:
        """Allocate the next message id (shared by the user's and the bot's messages)."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class CallbackQuery:
    """A callback query issued by a simulated button press."""

    query_id: str
    chat_id: int
    message_id: int
    data: str | None
    answered: bool = False


class TelegramState:
    """Everything the simulated Telegram remembers."""

    def __init__(self, *, bot_id: int, bot_username: str, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Check-in",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.chats: dict[int, ChatState] = {}
        self.pending: deque[dict[str, Any]] = deque()
        # Telegram's update ids do not start at 1 (and start anew at a random number after a
        # week without updates); a random start also keeps a database used with an earlier
        # stand-in (the playground's --database) from seeing the same ids again.
        self.last_update_id = secrets.randbelow(1 << 30)
        self.confirmed_update_id = 0
        self.allowed_updates: list[str] | None = None
        self.webhook: Webhook | None = None
        self.poll_generation = 0
        self.updates_changed = Notifier()
        self.activity = Notifier()
        self.callbacks: dict[str, CallbackQuery] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.menu_buttons: dict[str, dict[str, Any]] = {}
        self.files: dict[str, UploadedFile] = {}
        self.violations: list[str] = []
        self.errors: list[RecordedError] = []
        self.inflight = 0
        self.subscribers: list[asyncio.Queue[ApiEvent]] = []
        self._ids = itertools.count(1)

    # ---- time and ids -------------------------------------------------------------------
    def now(self) -> int:
        """Unix time for message dates, from the injected clock."""
        return int(self.clock.now().timestamp())

    def unique(self, prefix: str) -> str:
        """A fresh opaque id (file ids, callback query ids)."""
        return f"{prefix}{next(self._ids):08d}"

    # ---- chats --------------------------------------------------------------------------
    def chat(self, chat_id: int, *, create: bool = True) -> ChatState | None:
        """The chat with this id; unknown chats are created as private chats when asked."""
        state = self.chats.get(chat_id)
        if state is None and create:
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
            if chat_id > 0:
                chat["first_name"] = "Test"
            else:
                chat["title"] = "Test group"
            state = self.chats[chat_id] = ChatState(chat=chat)
        return state

    def store_bot_message(self, message: BotMessage) -> None:
        """Remember a message the bot just sent and tell listeners."""
        state = self.chat(message.chat_id)
        assert state is not None
        state.bot_messages.append(message)
        state.by_id[message.message_id] = message
        self.emit(ApiEvent("message_sent", message.chat_id, message))

    def find_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        """A live (not deleted) bot message."""
        state = self.chats.get(chat_id)
        message = state.by_id.get(message_id) if state else None
        return None if message is None or message.deleted else message

    # ---- updates ------------------------------------------------------------------------
    def queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update of ``kind`` (e.g. ``message``) and wake a waiting getUpdates."""
        self.last_update_id += 1
        update = {"update_id": self.last_update_id, kind: payload}
        self.pending.append(update)
        self.updates_changed.notify()
        self.emit(
            ApiEvent("update_queued", None, None, {"update_id": self.last_update_id, "type": kind})
        )
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates ``offset`` semantics: forget updates with a smaller id (negative: keep
        only the last ``-offset`` ones)."""
        if offset < 0:
            while len(self.pending) > -offset:
                self.confirmed_update_id = self.pending.popleft()["update_id"]
        else:
            while self.pending and self.pending[0]["update_id"] < offset:
                self.pending.popleft()
            self.confirmed_update_id = max(self.confirmed_update_id, offset - 1)
        self.activity.notify()

    def forget_update(self, update_id: int) -> None:
        """A webhook delivery of ``update_id`` was answered 2xx: it is confirmed."""
        self.pending = deque(u for u in self.pending if u["update_id"] != update_id)
        self.confirmed_update_id = max(self.confirmed_update_id, update_id)
        self.activity.notify()

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _DEFAULT_EXCLUDED

    def take_batch(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` pending updates; updates of types not allowed are dropped."""
        kept = [u for u in self.pending if self._allowed(u)]
        if len(kept) != len(self.pending):
            self.pending = deque(kept)
        return kept[:limit]

    def all_confirmed(self) -> bool:
        """Every update queued so far was confirmed by a later getUpdates offset (or dropped
        because its type is not in ``allowed_updates``)."""
        return not self.pending

    # ---- events -------------------------------------------------------------------------
    def emit(self, event: ApiEvent) -> None:
        """Wake waiters and hand the event to every subscriber."""
        self.activity.notify()
        for queue in self.subscribers:
            queue.put_nowait(event)

    def record_error(self, method: str, code: int, description: str, *, violation: bool) -> None:
        """Remember an error answer; violations also go to :attr:`violations`."""
        self.errors.append(RecordedError(method, code, description))
        if violation:
            self.violations.append(f"{method}: {description}")
        kind = "violation" if violation else "error"
        self.emit(
            ApiEvent(
                kind, None, None, {"method": method, "error_code": code, "description": description}
            )
        )
