"""Who may do what: the role check every staff command and staff button makes on every call.

Anyone not entitled (a young person, a stranger, staff in another role or no longer active) gets
exactly the answer to an unknown command and nothing about the data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import Update

from conversations.runtime import Context, Runtime
from conversations.sending import send
from conversations.texts import unknown_command
from core.i18n import Translator, negotiate
from storage import enrolments, staff
from storage.records import Enrolment, StaffMember

StaffHandler = Callable[[Update, Context, Runtime, StaffMember], Awaitable[None]]
"""A staff handler: called with the runtime and the entitled staff member."""


async def who_writes(rt: Runtime, update: Update) -> tuple[int, Enrolment | None, Translator]:
    """The chat, its enrolment (if any, not forgotten) and the translator to answer with: the
    young person's or staff member's chosen language, else a guess from Telegram's."""
    chat, user = update.effective_chat, update.effective_user
    chat_id = chat.id if chat is not None else user.id if user is not None else 0
    async with rt.db.read() as conn:
        enrolment = await enrolments.by_chat(conn, chat_id)
        member = await staff.staff_by_chat(conn, chat_id)
    if enrolment is not None and enrolment.status == enrolments.FORGOTTEN:
        enrolment = None
    language = (
        enrolment.language
        if enrolment
        else member.language
        if member
        else negotiate(
            user.language_code if user else None, rt.catalogues.codes, rt.settings.default_language
        )
    )
    return chat_id, enrolment, rt.translator(language)


async def refuse(rt: Runtime, update: Update, context: Context) -> None:
    """The answer to an unknown command, and to every command the caller may not use: the
    same bytes, in the caller's own language."""
    chat_id, _enrolment, t = await who_writes(rt, update)
    await send(context.bot, chat_id, unknown_command(t))


def entitled(
    *roles: str,
) -> Callable[[StaffHandler], Callable[[Update, Context], Coroutine[Any, Any, None]]]:
    """Run the handler only for active staff in one of ``roles``; others get "unknown command"."""

    def wrap(handler: StaffHandler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
        @wraps(handler)
        async def checked(update: Update, context: Context) -> None:
            rt = context.runtime
            chat, user = update.effective_chat, update.effective_user
            chat_id = chat.id if chat is not None else user.id if user is not None else 0
            private = chat is None or chat.type == "private"
            async with rt.db.read() as conn:
                member = await staff.staff_by_chat(conn, chat_id) if private else None
            if member is None or member.role not in roles:
                await refuse(rt, update, context)
                return
            await handler(update, context, rt, member)

        return checked

    return wrap
