"""What a young person can always do: help, privacy, support, stop, forget me, and stray messages.

Each handler is small: it finds who is writing, answers in their language, and changes only what
the command names. Anything unexpected (stickers, photos, voice notes, random text, unknown
commands) gets a short, kind answer and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from conversations import buttons
from conversations.alerts import AGREED, check_free_text
from conversations.checkin import describe, on_comment
from conversations.commands import staff_help, young_person_help
from conversations.departures import departures, quarters_of, response_departures
from conversations.presses import pressed
from conversations.questionnaire import COMMENT
from conversations.roles import refuse, who_writes
from conversations.runtime import Context, Runtime
from conversations.sending import (
    answer_press,
    edit_or_send,
    notify_staff,
    remove_buttons,
    send,
    tell,
)
from conversations.texts import (
    not_enrolled,
    privacy,
    support,
)
from conversations.updates import take_we_did
from core.i18n import Translator
from storage import checkins, digests, enrolments, handled, ledger, staff
from storage.records import StaffMember

log = logging.getLogger(__name__)


_who = who_writes


def contact_button(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t._("📞 Ask my key worker to get in touch"),
                    callback_data=buttons.encode(buttons.ContactMe()),
                )
            ]
        ]
    )


async def help_command(update: Update, context: Context) -> None:
    """/help: what the bot can do for this person (staff: the commands of their role)."""
    rt = context.runtime
    chat_id, enrolment, t = await _who(rt, update)
    member = await _staff_member(rt, chat_id)
    if member is not None:
        text = staff_help(rt.translator(member.language), member, rt.commands)
    else:
        text = young_person_help(t, rt.commands) if enrolment else not_enrolled(t)
    await send(context.bot, chat_id, text)


async def _staff_member(rt: Runtime, chat_id: int) -> StaffMember | None:
    """The active staff member using this chat, if any."""
    async with rt.db.read() as conn:
        member = await staff.staff_by_chat(conn, chat_id)
    return member if member is not None and member.active else None


async def privacy_command(update: Update, context: Context) -> None:
    """/privacy: who sees what, what is kept and for how long."""
    rt = context.runtime
    chat_id, _enrolment, t = await _who(rt, update)
    await send(context.bot, chat_id, privacy(t, rt.privacy_wording))


async def support_command(update: Update, context: Context) -> None:
    """/support: the service's helplines, and the "please get in touch" button."""
    rt = context.runtime
    chat_id, enrolment, t = await _who(rt, update)
    markup = contact_button(t) if enrolment and enrolment.status != enrolments.PENDING else None
    await send(context.bot, chat_id, support(t, rt.settings.helplines), markup)


CONTACT_AGAIN_AFTER = timedelta(hours=24)
"""A young person's "please get in touch" tells their key worker once in this time."""


async def on_contact_me(update: Update, context: Context) -> None:
    """ "Please get in touch": tell the key worker, by label, that this young person asked.

    Idempotent: a double tap (or a second press within :data:`CONTACT_AGAIN_AFTER`) finds the
    recorded request and tells the key worker nothing more."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.ContactMe)
    if read is None:
        return
    press = read[0]
    query = press.query
    chat_id, enrolment, t = await _who(rt, update)
    if enrolment is None or enrolment.status == enrolments.PENDING:
        await answer_press(query, t._("This button no longer works."))
        return
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        if not await handled.first_time(conn, update.update_id, now):
            request = None  # a redelivery: the first delivery told the key worker
        else:
            request = await enrolments.request_contact(
                conn, enrolment.id, enrolment.key_worker_id, now, since=now - CONTACT_AGAIN_AFTER
            )
        member = await staff.staff_by_id(conn, enrolment.key_worker_id or 0)
    if request is None:
        await answer_press(
            query, t._("I've already told your key worker that you'd like them to get in touch.")
        )
        return
    staff_t = rt.translator(member.language if member else None)
    told = await notify_staff(
        context.bot,
        member,
        staff_t.message(
            staff_t._("{who} asked you to get in touch with them.").format(
                who=describe(staff_t, enrolment)
            )
        ),
    )
    await answer_press(query)
    if told and press.message_id is not None:
        await remove_buttons(context.bot, chat_id, press.message_id)
    if not told:
        async with rt.db.transaction() as conn:
            await enrolments.withdraw_contact(conn, request)
    reply = (
        t._("Done. I've told your key worker that you'd like them to get in touch.")
        if told
        else t._(
            "I couldn't reach your key worker just now. Please contact your service "
            "directly, or use one of the helplines above."
        )
    )
    await tell(context.bot, chat_id, t, reply)


async def stop_command(update: Update, context: Context) -> None:
    """/stop: no more prompts; the young person can come back with /start or /checkin."""
    rt = context.runtime
    chat_id, enrolment, t = await _who(rt, update)
    if enrolment is None or enrolment.status == enrolments.PENDING:
        await send(context.bot, chat_id, not_enrolled(t))
        return
    async with rt.db.transaction() as conn:
        await enrolments.stop(conn, enrolment.id, rt.clock.now())
    log.info("a young person stopped prompts")
    await tell(
        context.bot,
        chat_id,
        t,
        t._(
            "OK, I won't send you any more check-ins. To start again, send /start. To delete "
            "everything about you, send /forgetme."
        ),
    )


async def forgetme_command(update: Update, context: Context) -> None:
    """/forgetme: ask for confirmation, and whether answers may stay in anonymous totals."""
    rt = context.runtime
    chat_id, enrolment, t = await _who(rt, update)
    if enrolment is None:
        await tell(context.bot, chat_id, t, t._("I don't have anything about you."))
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t._("Delete, but keep my answers in anonymous totals"),
                    callback_data=buttons.encode(buttons.Forget("keep")),
                )
            ],
            [
                InlineKeyboardButton(
                    t._("Delete everything"), callback_data=buttons.encode(buttons.Forget("all"))
                )
            ],
            [
                InlineKeyboardButton(
                    t._("Cancel"), callback_data=buttons.encode(buttons.Forget("cancel"))
                )
            ],
        ]
    )
    await tell(
        context.bot,
        chat_id,
        t,
        t._(
            "This deletes your chat number, your label and anything you wrote, straight away. "
            "I won't be able to message you again.\n\nYour answers can stay in the anonymous "
            "totals (nobody can link them to you), or be deleted too. What would you like?"
        ),
        markup,
    )


async def forget(
    conn: AsyncConnection, enrolment_id: int, *, keep_answers: bool, now: datetime
) -> None:
    """/forgetme's work in one transaction: without keeping answers, the release ledger first
    records where releases counted them (answers and "who answered"; not what they answered),
    then storage deletes them (``storage.enrolments.forget``)."""
    if not keep_answers:
        await ledger.lock(conn)
        mine = await ledger.answers_of(conn, enrolment_id)
        person = await digests.population_of(conn, enrolment_id, now)
        earlier = await ledger.released_since(conn, quarters_of(person, mine, now))
        gone = departures(mine, earlier, now)
        if person is not None:  # they leave "who answered" too
            gone += response_departures(person, mine, earlier, now)
        await ledger.record(conn, gone)
    await enrolments.forget(conn, enrolment_id, keep_answers=keep_answers, now=now)


async def on_forget(update: Update, context: Context) -> None:
    """The /forgetme choice."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.Forget)
    if read is None:
        return
    press, action = read
    query, message_id = press.query, press.message_id
    chat_id, enrolment, t = await _who(rt, update)
    await answer_press(query)
    if action.choice == "cancel" or enrolment is None:
        await edit_or_send(
            context.bot,
            chat_id,
            message_id,
            t.message(
                t._("Nothing was deleted.")
                if enrolment
                else t._("I don't have anything about you.")
            ),
        )
        return
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        await forget(conn, enrolment.id, keep_answers=action.choice == "keep", now=now)
    log.info("a young person was forgotten")
    await edit_or_send(
        context.bot,
        chat_id,
        message_id,
        t.message(
            t._("Done. I've deleted everything that could identify you. Take care, and thank you.")
        ),
    )


async def on_edited_text(update: Update, context: Context) -> None:
    """A young person edited an earlier message: the new words are checked for risk like any
    message (the helplines at once, and by policy an alert); nothing else changes."""
    rt = context.runtime
    message = update.effective_message
    assert message is not None
    chat_id, enrolment, t = await _who(rt, update)
    markup = contact_button(t) if enrolment is not None and enrolment.status in AGREED else None
    await check_free_text(
        rt, context.bot, chat_id, t, enrolment, message.text or "", "message", markup
    )


async def on_text(update: Update, context: Context) -> None:
    """Any text that is not a command: the "anything else?" answer, or a kind pointer.

    Every message is first checked for risk phrases (conversations/alerts.py): on a match the
    young person gets the helplines at once, before anything else; a comment is still saved.
    """
    rt = context.runtime
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    if update.effective_chat is not None and await take_we_did(
        rt, context, update.effective_chat.id, text
    ):
        return  # a manager's "we did" text for their update
    chat_id, enrolment, t = await _who(rt, update)
    live = None
    if enrolment is not None:
        async with rt.db.read() as conn:
            live = await checkins.live_checkin(conn, enrolment.id)
    source = "comment" if live is not None and live.step == COMMENT else "message"
    markup = contact_button(t) if enrolment is not None and enrolment.status in AGREED else None
    risk = await check_free_text(
        rt, context.bot, chat_id, t, enrolment, text, source, markup, update_id=update.update_id
    )
    if enrolment is None:
        member = await _staff_member(rt, chat_id)
        if member is not None:
            await send(context.bot, chat_id, staff_text_reply(rt, member))
        elif risk is None:
            await send(context.bot, chat_id, not_enrolled(t))
        return
    if live is not None and live.step == COMMENT:
        await on_comment(rt, context, enrolment, live, text)
    elif risk is not None:
        return  # the helplines were the answer; no reminder about buttons after that
    elif live is not None:
        t = rt.translator(live.language)
        await tell(
            context.bot,
            chat_id,
            t,
            t._(
                "Please answer with the buttons under the statement. Send /checkin to see it again."
            ),
        )
    else:
        await tell(
            context.bot,
            chat_id,
            t,
            t._(
                "Thanks for your message. This chat is not watched all the time, so I can't "
                "reply to messages. Send /help to see what I can do, or /support if you "
                "need to "
                "talk to someone."
            ),
        )


def staff_text_reply(rt: Runtime, member: StaffMember) -> str:
    """Staff writing plain text (or sending a sticker, a photo...): the bot reads only commands;
    their help follows."""
    t = rt.translator(member.language)
    note = t.message(t.pgettext("staff", "I only read commands. Here is what you can do as staff:"))
    return note + "\n\n" + staff_help(t, member, rt.commands)


async def on_other(update: Update, context: Context) -> None:
    """Stickers, photos, voice notes, files, locations: a kind answer; nothing changes."""
    rt = context.runtime
    chat_id, enrolment, t = await _who(rt, update)
    if enrolment is None:
        member = await _staff_member(rt, chat_id)
        reply = staff_text_reply(rt, member) if member is not None else not_enrolled(t)
        await send(context.bot, chat_id, reply)
        return
    await tell(
        context.bot,
        chat_id,
        t,
        t._(
            "Thank you, but I can only read button presses and text. Send /help to see what I "
            "can do."
        ),
    )


async def on_unknown_command(update: Update, context: Context) -> None:
    """Any command the caller may not use, or that does not exist: the same short answer."""
    await refuse(context.runtime, update, context)
