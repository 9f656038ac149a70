"""The few named errors of Check-in, and the one error handler of the Telegram application.

Every error the product raises on purpose is a :class:`CheckinError`. Operators see its message as
one line (the CLI prints it and exits non-zero); young people never see it: the error handler
answers them with a short, kind sentence in their language and logs no message text or ids.
"""

from __future__ import annotations


class CheckinError(Exception):
    """Base of every error Check-in raises on purpose."""


class SettingsError(CheckinError):
    """A setting is missing or malformed; the message names it."""


class QuestionnaireError(CheckinError):
    """A questionnaire file is broken; the message names the file, item and field."""


class StorageError(CheckinError):
    """The database could not do what was asked (locked for too long, disk full, ...)."""


class InviteError(CheckinError):
    """An invite token is missing, forged, used or expired."""


class NotAllowedError(CheckinError):
    """The caller is not entitled to what they asked for."""


async def handle_error(update: object, context: object) -> None:
    """The one error handler: log the error's type and where (no text, no ids), answer kindly.

    Registered with ``Application.add_error_handler``. A young person sees one short sentence in
    their language; nothing they said is lost, because every answer was stored before replying.
    """
    import logging

    from telegram import Update

    from bot.runtime import Context, runtime
    from bot.sending import send

    log = logging.getLogger("bot.errors")
    ctx = context  # typed loosely by PTB's add_error_handler
    error = getattr(ctx, "error", None)
    log.error(
        "an update could not be handled: %s",
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__)
        if isinstance(error, Exception)
        else None,
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    typed: Context = ctx  # type: ignore[assignment]
    t = runtime(typed).translator(None)
    await send(
        typed.bot,
        update.effective_chat.id,
        t.message(
            t._(
                "Sorry, something went wrong on my side. What you sent before this is "
                "saved. Please try again in a moment."
            )
        ),
    )
