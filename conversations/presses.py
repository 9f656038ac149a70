"""Reading a button press, and the one answer every unusable press gets.

:func:`pressed` is the one preamble of a button handler: read the press, refuse stale data.

A press is only acted on in a private chat and when its data decodes to the kind of button the
handler expects; anything else (an old format, tampered or missing data, a press from a group)
is answered "this button no longer works" in the presser's language and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from telegram import CallbackQuery, Update

from conversations import buttons
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press
from storage import checkins, enrolments, staff

A = TypeVar("A", bound=buttons.Action)


@dataclass(frozen=True, slots=True)
class Press:
    """Who pressed, on which message, and what the button's data decodes to (None: unusable)."""

    query: CallbackQuery
    chat_id: int
    message_id: int | None
    action: buttons.Action | None


def press_of(update: Update) -> Press:
    """The press in ``update`` (a callback query)."""
    query = update.callback_query
    assert query is not None, "registered for callback queries only"
    chat = update.effective_chat
    private = chat is None or chat.type == "private"
    return Press(
        query=query,
        chat_id=chat.id if chat is not None else query.from_user.id,
        message_id=query.message.message_id if query.message else None,
        action=buttons.decode(query.data) if private else None,
    )


async def pressed(rt: Runtime, update: Update, kind: type[A]) -> tuple[Press, A] | None:
    """The press in ``update`` and its action, if its data is exactly a ``kind`` button from a
    private chat; otherwise the press is answered as stale and nothing else happens (None).

    The one preamble of every button handler that acts on one kind of button."""
    press = press_of(update)
    if not isinstance(press.action, kind):
        await answer_stale(rt, press)
        return None
    return press, press.action


async def answer_stale(rt: Runtime, press: Press) -> None:
    """ "This button no longer works", in the presser's language; nothing changes. Only a young
    person with a check-in to carry on is pointed to ``/checkin`` (after ``/forgetme``, for
    staff and for strangers it would not work)."""
    async with rt.db.read() as conn:
        enrolment = await enrolments.by_chat(conn, press.chat_id)
        member = await staff.staff_by_chat(conn, press.chat_id)
        live = (
            await checkins.live_checkin(conn, enrolment.id)
            if enrolment is not None and enrolment.status in (enrolments.ACTIVE, enrolments.STOPPED)
            else None
        )
    language = enrolment.language if enrolment else member.language if member else None
    t = rt.translator(language)
    await answer_press(
        press.query,
        t._("This button no longer works. Send /checkin to carry on.")
        if live is not None
        else t._("This button no longer works."),
    )


async def on_stale_button(update: Update, context: Context) -> None:
    """A press no other handler takes: answer it as stale."""
    await answer_stale(context.runtime, press_of(update))
