"""The user side of the simulation: people writing to the bot, and watching what it sends.

"New" bot messages: each chat has a *mark*. A user action in the chat (sending, pressing,
editing, blocking) moves the mark past every bot message so far, and :meth:`wait_for_message`
moves it past the message it returns, so consecutive waits see consecutive replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from local_bot_api.formatting import utf16_len
from local_bot_api.limits import iter_inline_buttons
from local_bot_api.methods import BotMethods
from local_bot_api.models import ApiEvent, BotMessage, UploadedFile
from local_bot_api.state import CallbackQuery, ChatState, TelegramState

Predicate = Callable[[BotMessage], bool]


class HasUpdateQueue(Protocol):
    """What :meth:`UserSimulator.wait_for_idle` needs of a PTB ``Application``."""

    @property
    def update_queue(self) -> asyncio.Queue[Any]: ...


class UserSimulator:
    """User-side actions (they queue updates) and observation of the bot's messages."""

    def __init__(self, state: TelegramState, methods: BotMethods) -> None:
        self.state = state
        self._methods = methods

    # ---- who is talking -----------------------------------------------------------------
    def _user_chat(
        self, user_id: int, chat_id: int | None, chat_type: str, first_name: str, language: str
    ) -> tuple[ChatState, dict[str, Any]]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language}
        cid = user_id if chat_id is None else chat_id
        state = self.state.chat(cid)
        assert state is not None
        if chat_type == "private":
            state.chat = {"id": cid, "type": "private", "first_name": first_name}
            state.user = user
        elif state.chat.get("type") != chat_type:
            state.chat = {"id": cid, "type": chat_type, "title": "Test group"}
        state.mark = len(state.bot_messages)
        return state, user

    def _post(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        language_code: str = "en",
    ) -> dict[str, Any]:
        chat, user = self._user_chat(user_id, chat_id, chat_type, first_name, language_code)
        message = {
            "message_id": chat.take_message_id(),
            "date": self.state.now(),
            "chat": chat.chat,
            "from": user,
            **content,
        }
        chat.user_messages[message["message_id"]] = message
        return self.state.queue_update("message", message)

    # ---- user actions -------------------------------------------------------------------
    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str = "en",
        first_name: str = "Test",
        chat_type: str = "private",
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends ``text``; a leading ``/command`` gets a ``bot_command`` entity.

        Returns the queued update (``update["message"]["message_id"]`` is the user's message).
        """
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._post(
            user_id,
            content,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            language_code=language_code,
        )

    def send_sticker(
        self, user_id: int, *, emoji: str = "👍", chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user sends a sticker (no text)."""
        file_id = self.state.unique("sticker-")
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._post(user_id, {"sticker": sticker}, chat_id=chat_id)

    def send_photo(
        self, user_id: int, *, caption: str | None = None, chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user sends a photo, optionally with a caption."""
        file_id = self.state.unique("userphoto-")
        content: dict[str, Any] = {
            "photo": [
                {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 640, "height": 480}
            ]
        }
        if caption is not None:
            content["caption"] = caption
        return self._post(user_id, content, chat_id=chat_id)

    def send_voice(
        self,
        user_id: int,
        *,
        duration: int = 3,
        data: bytes = b"",
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends a voice note (``data``: the OGG/Opus bytes, kept for getFile)."""
        file_id = self.state.unique("voice-")
        self.state.files[file_id] = UploadedFile("voice.ogg", "audio/ogg", data)
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._post(user_id, {"voice": voice}, chat_id=chat_id)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        *,
        filename: str = "file.ogg",
        mime_type: str = "audio/ogg",
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends a file (kept for getFile)."""
        file_id = self.state.unique("doc-")
        self.state.files[file_id] = UploadedFile(filename, mime_type, data)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        return self._post(user_id, {"document": document}, chat_id=chat_id)

    def forget_files(self) -> None:
        """Telegram no longer knows any file id this bot had (as after a new bot token)."""
        self.state.files.clear()

    def send_location(
        self,
        user_id: int,
        latitude: float = 51.5,
        longitude: float = -0.12,
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user shares a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._post(user_id, {"location": location}, chat_id=chat_id)

    def edit_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user edits one of their earlier text messages (an ``edited_message`` update)."""
        chat = self.state.chat(user_id if chat_id is None else chat_id, create=False)
        original = chat.user_messages.get(message_id) if chat else None
        if chat is None or original is None:
            raise LookupError(f"user message {message_id} not found")
        chat.mark = len(chat.bot_messages)
        edited = {**original, "text": text, "edit_date": self.state.now()}
        edited.pop("entities", None)
        chat.user_messages[message_id] = edited
        return self.state.queue_update("edited_message", edited)

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str | None = None,
        *,
        text: str | None = None,
        verify: bool = True,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The user presses an inline button of bot message ``message_id``.

        Pick the button by ``callback_data`` or by its label ``text``. With ``verify`` (the
        default) the button must exist on the message, else ``LookupError``; ``verify=False``
        sends any ``callback_data`` (tampering tests).
        """
        cid = user_id if chat_id is None else chat_id
        message = self.state.find_message(cid, message_id)
        data = self._button_data(message, callback_data, text, verify)
        chat, user = self._user_chat(
            user_id, chat_id, "private" if cid == user_id else "group", "Test", "en"
        )
        query_id = self.state.unique("cq")
        self.state.callbacks[query_id] = CallbackQuery(query_id, cid, message_id, data)
        query: dict[str, Any] = {
            "id": query_id,
            "from": chat.user or user,
            "chat_instance": f"ci{cid}",
            "data": data,
        }
        if message is not None:
            query["message"] = self._methods.render(message)
        return self.state.queue_update("callback_query", query)

    def _button_data(
        self, message: BotMessage | None, data: str | None, text: str | None, verify: bool
    ) -> str | None:
        if not verify:
            return data
        if message is None:
            raise LookupError("no such bot message (or it was deleted)")
        for label, button_data in self.buttons(message):
            if (data is not None and button_data == data) or (text is not None and label == text):
                return button_data
        raise LookupError(
            f"message {message.message_id} has no button {data or text!r}; "
            f"it has {self.buttons(message)}"
        )

    def block_bot(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot: a ``my_chat_member`` update; later sends answer 403."""
        return self._membership(user_id, "member", "kicked", blocked=True)

    def unblock_bot(self, user_id: int) -> dict[str, Any]:
        """The user unblocks (restarts) the bot."""
        return self._membership(user_id, "kicked", "member", blocked=False)

    def _membership(self, user_id: int, old: str, new: str, *, blocked: bool) -> dict[str, Any]:
        chat = self.state.chat(user_id)
        assert chat is not None
        chat.blocked = blocked
        chat.mark = len(chat.bot_messages)
        user = chat.user or {"id": user_id, "is_bot": False, "first_name": "Test"}
        bot = self.state.bot_user
        new_member: dict[str, Any] = {"status": new, "user": bot}
        old_member: dict[str, Any] = {"status": old, "user": bot}
        for member in (new_member, old_member):
            if member["status"] == "kicked":
                member["until_date"] = 0  # Telegram always sends it for "kicked"
        update = {
            "chat": chat.chat,
            "from": user,
            "date": self.state.now(),
            "old_chat_member": {
                "status": old,
                "user": bot,
                **({"until_date": 0} if old == "kicked" else {}),
            },
            "new_chat_member": new_member,
        }
        return self.state.queue_update("my_chat_member", update)

    # ---- observation --------------------------------------------------------------------
    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in a chat, oldest first."""
        chat = self.state.chats.get(chat_id)
        if chat is None:
            return []
        return [m for m in chat.bot_messages if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> BotMessage | None:
        """The bot's most recent live message in a chat."""
        found = self.messages(chat_id)
        return found[-1] if found else None

    @staticmethod
    def buttons(message: BotMessage) -> list[tuple[str, str | None]]:
        """Inline buttons of a message as ``(label, callback_data or url)``, row by row."""
        return [
            (str(b.get("text")), b.get("callback_data") or b.get("url"))
            for b in iter_inline_buttons(message.reply_markup)
        ]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """Every answerCallbackQuery the bot made, in order."""
        return self.state.callback_answers

    async def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline, not a cancel scope
    ) -> None:
        """Wait (event-driven) until ``condition()`` holds after some simulator change."""
        await self.state.activity.wait_for(condition, timeout)

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        count: int = 1,
        predicate: Predicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline, not a cancel scope
    ) -> BotMessage:
        """Wait for the ``count``-th new bot message (matching ``predicate``) and return it."""
        return (await self.wait_for_messages(chat_id, count, predicate=predicate, timeout=timeout))[
            -1
        ]

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        *,
        predicate: Predicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline, not a cancel scope
    ) -> list[BotMessage]:
        """Wait until ``count`` new bot messages match; return them and move the mark past."""
        chat = self.state.chat(chat_id)
        assert chat is not None
        found: list[tuple[int, BotMessage]] = []

        def ready() -> bool:
            found.clear()
            for index in range(chat.mark, len(chat.bot_messages)):
                message = chat.bot_messages[index]
                if predicate is None or predicate(message):
                    found.append((index, message))
            return len(found) >= count

        try:
            await self.state.activity.wait_for(ready, timeout)
        except TimeoutError:
            seen = [m.content for m in chat.bot_messages[chat.mark :]]
            raise TimeoutError(
                f"no {count} matching new message(s) in chat {chat_id} within "
                f"{timeout}s; new messages: {seen}"
            ) from None
        chat.mark = found[count - 1][0] + 1
        return [message for _, message in found[:count]]

    async def wait_for_idle(
        self,
        app: HasUpdateQueue | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline, not a cancel scope
    ) -> None:
        """Wait until the bot has taken every queued update and finished with it.

        Idle means: (1) every queued update was confirmed by a later getUpdates ``offset``
        (PTB then has put it in its update queue), (2) when ``app`` (a PTB Application) is
        given, its ``update_queue`` is fully processed (``join()``: all handlers returned),
        (3) no bot request other than getUpdates is in flight. Without ``app``, handlers may
        still be running between two requests. Background tasks started by handlers are not
        tracked.
        """
        async with asyncio.timeout(timeout):
            await self.state.activity.wait_for(self.state.all_confirmed, None)
            if app is not None:
                await app.update_queue.join()
            await self.state.activity.wait_for(lambda: self.state.inflight == 0, None)

    def subscribe(self) -> asyncio.Queue[ApiEvent]:
        """A queue receiving every :class:`ApiEvent` from now on (for a live web page)."""
        queue: asyncio.Queue[ApiEvent] = asyncio.Queue()
        self.state.subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ApiEvent]) -> None:
        """Stop delivering events to ``queue``."""
        if queue in self.state.subscribers:
            self.state.subscribers.remove(queue)
