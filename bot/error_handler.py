"""The one error handler of the Telegram application (``Application.add_error_handler``).

It logs the error's type and traceback (never message text or ids) and answers a young person
or staff member with one short, kind sentence in the language they chose (the service's default
language when that cannot be read, e.g. while the database itself is failing). Nothing they said
before is lost: every answer is stored before the bot replies. When the database server cannot
be reached (PostgreSQL restarting, the network gone) nobody is answered: the update is left
unconfirmed and handled again once the database is back (``bot/polling.py``).
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.metrics import Metrics
from conversations.runtime import Context
from conversations.sending import send
from core.errors import DatabaseUnavailable
from storage import enrolments, staff

log = logging.getLogger(__name__)


async def handle_error(update: object, context: Context) -> None:
    """Log the failure without text or ids, then say sorry in the person's language; when the
    database could not be reached, say nothing: the polling loop tries the update again."""
    error = context.error
    Metrics.of(context.application).handler_errors.inc()
    if isinstance(error, DatabaseUnavailable) and isinstance(update, Update):
        context.runtime.database_lost += 1
        log.warning("an update waits for the database: %s", error)
        return
    log.error(
        "an update could not be handled: %s",
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__) if error is not None else None,
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    rt = context.runtime
    chat_id = update.effective_chat.id
    language: str | None = None
    try:
        async with rt.db.read() as conn:
            enrolment = await enrolments.by_chat(conn, chat_id)
            member = None if enrolment else await staff.staff_by_chat(conn, chat_id)
        language = enrolment.language if enrolment else member.language if member else None
    except Exception as exc:  # the database may be what failed: still say sorry
        log.warning("the reply language could not be read: %s", type(exc).__name__)
    t = rt.translator(language)
    await send(
        context.bot,
        chat_id,
        t.message(
            t._(
                "Sorry, something went wrong on my side. What you sent before this is "
                "saved. Please try again in a moment."
            )
        ),
    )
