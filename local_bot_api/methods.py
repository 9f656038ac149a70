"""Bot API methods with realistic semantics, working on :class:`TelegramState`.

Each handler takes the decoded parameters and the uploaded files and returns the ``result`` of
the response, or raises :class:`ApiError` with the error Telegram would give. Requests have
already been validated (spec and limits) when they get here.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from local_bot_api.formatting import FormattingError, ParsedText, parse_text
from local_bot_api.models import (
    ApiError,
    ApiEvent,
    BotMessage,
    UploadedFile,
    Webhook,
    bad_request,
)
from local_bot_api.state import ChatState, TelegramState

Handler = Callable[[dict[str, Any], Mapping[str, UploadedFile]], Any]
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendSticker",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendLocation",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendMediaGroup",
        "sendVenue",
        "sendVideoNote",
        "copyMessage",
        "forwardMessage",
    }
)
BLOCKED = "Forbidden: bot was blocked by the user"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_OLD_QUERY = "query is too old and response timeout expired or query ID is invalid"


def _refuse_while_webhook(state: TelegramState) -> None:
    if state.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first",
        )


class BotMethods:
    """The implemented methods; anything else in the spec answers ``True``."""

    def __init__(self, state: TelegramState) -> None:
        self.state = state
        self.handlers: dict[str, Handler] = {
            "getMe": lambda p, f: self.state.bot_user,
            "logOut": lambda p, f: True,
            "close": lambda p, f: True,
            "deleteWebhook": self.delete_webhook,
            "setWebhook": self.set_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "sendMessage": self.send_message,
            "sendPhoto": lambda p, f: self.send_file(p, f, "photo"),
            "sendDocument": lambda p, f: self.send_file(p, f, "document"),
            "sendVoice": self.send_voice,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendChatAction": self.send_chat_action,
            "getFile": self.get_file,
        }

    def call(self, method: str, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        """Run a (non-getUpdates) method."""
        handler = self.handlers.get(method)
        return True if handler is None else handler(params, files)

    # ---- polling ------------------------------------------------------------------------
    async def get_updates(self, params: dict[str, Any], stopping: asyncio.Event) -> Any:
        """Long polling: answer at once when updates are pending, else wait up to ``timeout``."""
        state = self.state
        _refuse_while_webhook(state)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if params.get("allowed_updates") is not None:
            state.allowed_updates = list(params["allowed_updates"])
        if params.get("offset"):
            state.confirm(int(params["offset"]))
        state.poll_generation += 1
        generation = state.poll_generation
        state.updates_changed.notify()  # an older poll still waiting is now superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            _refuse_while_webhook(state)
            if generation != state.poll_generation:
                raise ApiError(409, CONFLICT)
            batch = state.take_batch(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or stopping.is_set():
                return batch
            await state.updates_changed.wait_once(remaining)

    def set_webhook(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        """Deliver updates to ``url`` from now on (:mod:`local_bot_api.webhook`); an empty url
        removes the webhook, as ``deleteWebhook`` does."""
        url = str(params.get("url") or "")
        if not url:
            self.state.webhook = None
            return True
        if not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("allowed_updates") is not None:
            self.state.allowed_updates = list(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self.state.confirm(self.state.last_update_id + 1)
        self.state.webhook = Webhook(
            url=url,
            secret=None if secret is None else str(secret),
            max_connections=min(max(int(params.get("max_connections") or 40), 1), 100),
        )
        self.state.updates_changed.notify()  # a waiting long poll ends; deliveries begin
        return True

    def delete_webhook(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        self.state.webhook = None
        if params.get("drop_pending_updates"):
            self.state.confirm(self.state.last_update_id + 1)
        return True

    def get_webhook_info(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        hook = self.state.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if self.state.allowed_updates:
                info["allowed_updates"] = self.state.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    # ---- commands and menu --------------------------------------------------------------
    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def set_my_commands(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        self.state.commands[self._commands_key(params)] = list(params.get("commands") or [])
        return True

    def get_my_commands(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        return self.state.commands.get(self._commands_key(params), [])

    def delete_my_commands(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    def set_chat_menu_button(
        self, params: dict[str, Any], files: Mapping[str, UploadedFile]
    ) -> Any:
        button = params.get("menu_button") or {"type": "default"}
        self.state.menu_buttons[str(params.get("chat_id", ""))] = button
        return True

    def get_chat_menu_button(
        self, params: dict[str, Any], files: Mapping[str, UploadedFile]
    ) -> Any:
        key = str(params.get("chat_id", ""))
        return (
            self.state.menu_buttons.get(key)
            or self.state.menu_buttons.get("")
            or {"type": "commands"}
        )

    # ---- sending ------------------------------------------------------------------------
    def target_chat(self, params: dict[str, Any]) -> ChatState:
        """The chat a send goes to; blocked chats answer 403 like Telegram."""
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise bad_request("chat not found")
        state = self.state.chat(chat_id)
        assert state is not None
        if state.blocked:
            raise ApiError(403, BLOCKED)
        return state

    def _new_message(self, chat: ChatState, method: str) -> BotMessage:
        message_id = chat.take_message_id()
        return BotMessage(message_id, chat.chat["id"], method, self.state.now())

    def send_message(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        chat = self.target_chat(params)
        parsed = _parse(params.get("text", ""), params)
        message = self._new_message(chat, "sendMessage")
        message.text, message.entities = parsed.text, parsed.entities
        message.raw_text, message.parse_mode = params.get("text"), params.get("parse_mode")
        message.reply_markup = params.get("reply_markup")
        self.state.store_bot_message(message)
        return self.render(message)

    def send_file(
        self, params: dict[str, Any], files: Mapping[str, UploadedFile], field: str
    ) -> Any:
        chat = self.target_chat(params)
        upload = self._resolve_file(params.get(field), files.get(field), files)
        message = self._new_message(chat, "sendPhoto" if field == "photo" else "sendDocument")
        if "caption" in params:
            parsed = _parse(params["caption"], params)
            message.caption, message.entities = parsed.text, parsed.entities
            message.raw_text, message.parse_mode = params["caption"], params.get("parse_mode")
        message.reply_markup = params.get("reply_markup")
        file_id = self.state.unique(f"{field}-")
        self.state.files[file_id] = upload
        message.file_id = file_id
        unique = f"u{file_id}"
        if field == "photo":
            message.photo = upload.data
            message.payload["photo"] = [
                {
                    "file_id": f"{file_id}-s",
                    "file_unique_id": f"{unique}-s",
                    "width": 90,
                    "height": 90,
                    "file_size": min(len(upload.data), 1000),
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "width": 800,
                    "height": 800,
                    "file_size": len(upload.data),
                },
            ]
        else:
            message.document = upload.data
            message.payload["document"] = {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": upload.filename,
                "mime_type": upload.content_type,
                "file_size": len(upload.data),
            }
        self.state.store_bot_message(message)
        return self.render(message)

    def send_voice(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        """A voice message: an upload (multipart) or a ``file_id`` Telegram already has.

        Like Telegram, a file id this bot never got (e.g. from another bot token) is refused."""
        chat = self.target_chat(params)
        upload = self._resolve_file(params.get("voice"), files.get("voice"), files)
        message = self._new_message(chat, "sendVoice")
        if "caption" in params:
            parsed = _parse(params["caption"], params)
            message.caption, message.entities = parsed.text, parsed.entities
            message.raw_text, message.parse_mode = params["caption"], params.get("parse_mode")
        message.reply_markup = params.get("reply_markup")
        known = params.get("voice")
        if isinstance(known, str) and known in self.state.files:
            file_id = known  # resending keeps Telegram's id
        else:
            file_id = self.state.unique("voice-")
            self.state.files[file_id] = upload
        message.file_id, message.voice = file_id, upload.data
        message.payload["voice"] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": int(params.get("duration") or 1),
            "mime_type": "audio/ogg",
            "file_size": len(upload.data),
        }
        self.state.store_bot_message(message)
        return self.render(message)

    def _resolve_file(
        self, value: Any, upload: UploadedFile | None, files: Mapping[str, UploadedFile]
    ) -> UploadedFile:
        if upload is not None:
            return upload
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value[len("attach://") :])
            if attached is not None:
                return attached
        if isinstance(value, str) and value.removesuffix("-s") in self.state.files:
            return self.state.files[value.removesuffix("-s")]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return UploadedFile(value.rsplit("/", 1)[-1] or "file", "application/octet-stream", b"")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def render(self, message: BotMessage) -> dict[str, Any]:
        """The Message object Telegram would return for this bot message."""
        chat = self.state.chats[message.chat_id].chat
        out: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat,
            "from": self.state.bot_user,
        }
        key = "entities" if message.text is not None else "caption_entities"
        if message.text is not None:
            out["text"] = message.text
        if message.caption is not None:
            out["caption"] = message.caption
        if message.entities:
            out[key] = message.entities
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        if isinstance(message.reply_markup, dict) and "inline_keyboard" in message.reply_markup:
            out["reply_markup"] = message.reply_markup
        out.update(message.payload)
        return out

    # ---- editing ------------------------------------------------------------------------
    def _editable(self, params: dict[str, Any], what: str) -> BotMessage | None:
        if params.get("inline_message_id"):
            return None
        chat = self.target_chat(params)
        message = self.state.find_message(chat.chat["id"], int(params.get("message_id") or 0))
        if message is None:
            raise bad_request(f"message to {what} not found")
        return message

    def _apply_edit(self, message: BotMessage, **changes: Any) -> Any:
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise bad_request(_NOT_MODIFIED)
        message.history.append(message.snapshot())
        for key, value in changes.items():
            setattr(message, key, value)
        message.edited, message.edit_date = True, self.state.now()
        self.state.emit(ApiEvent("message_edited", message.chat_id, message))
        return self.render(message)

    def edit_message_text(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        message = self._editable(params, "edit")
        if message is None:
            return True
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        parsed = _parse(params.get("text", ""), params)
        return self._apply_edit(
            message,
            text=parsed.text,
            entities=parsed.entities,
            reply_markup=params.get("reply_markup"),
        )

    def edit_message_caption(
        self, params: dict[str, Any], files: Mapping[str, UploadedFile]
    ) -> Any:
        message = self._editable(params, "edit")
        if message is None:
            return True
        parsed = _parse(params.get("caption", ""), params)
        return self._apply_edit(
            message,
            caption=parsed.text,
            entities=parsed.entities,
            reply_markup=params.get("reply_markup"),
        )

    def edit_message_reply_markup(
        self, params: dict[str, Any], files: Mapping[str, UploadedFile]
    ) -> Any:
        message = self._editable(params, "edit")
        if message is None:
            return True
        return self._apply_edit(message, reply_markup=params.get("reply_markup"))

    def delete_message(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        message = self._editable(params, "delete")
        assert message is not None
        message.deleted = True
        self.state.emit(ApiEvent("message_deleted", message.chat_id, message))
        return True

    # ---- callbacks, actions, files ------------------------------------------------------
    def answer_callback_query(
        self, params: dict[str, Any], files: Mapping[str, UploadedFile]
    ) -> Any:
        query = self.state.callbacks.get(str(params.get("callback_query_id")))
        if query is None or query.answered:
            raise bad_request(_OLD_QUERY)
        query.answered = True
        answer = {
            "callback_query_id": query.query_id,
            "chat_id": query.chat_id,
            "message_id": query.message_id,
            "data": query.data,
            "text": params.get("text"),
            "show_alert": bool(params.get("show_alert")),
            "url": params.get("url"),
        }
        self.state.callback_answers.append(answer)
        self.state.emit(ApiEvent("callback_answered", query.chat_id, None, answer))
        return True

    def send_chat_action(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        chat = self.target_chat(params)
        self.state.chat_actions.append((chat.chat["id"], str(params.get("action"))))
        self.state.emit(
            ApiEvent("chat_action", chat.chat["id"], None, {"action": params.get("action")})
        )
        return True

    def get_file(self, params: dict[str, Any], files: Mapping[str, UploadedFile]) -> Any:
        file_id = str(params.get("file_id", "")).removesuffix("-s")
        upload = self.state.files.get(file_id)
        if upload is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(upload.data),
            "file_path": f"files/{file_id}",
        }


def _parse(text: Any, params: dict[str, Any]) -> ParsedText:
    try:
        return parse_text(str(text), params.get("parse_mode"))
    except FormattingError as exc:  # normally caught earlier by the limit checks
        raise bad_request(f"can't parse entities: {exc}") from exc
