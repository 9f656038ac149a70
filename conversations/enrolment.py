"""Joining: opening an invite link, choosing a language, reading what this is, and agreeing.

A young person's invite is single-use and expires. Opening it starts a *pending* enrolment for
that chat; the invite is only spent when the young person agrees. Leaving before agreeing deletes
the pending row, so nothing about them is kept. Bad links (forged, used, expired) get a kind
answer and create nothing. Staff invites link a staff member to the chat that opens them.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from conversations import buttons
from conversations.checkin import checkin_language, coming_up, nothing_open, open_and_send, show
from conversations.checkpoints import START
from conversations.commands import staff_help, staff_welcome, young_person_help
from conversations.menu import set_chat_menu
from conversations.planning import plan_enrolment
from conversations.presses import answer_stale, pressed
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press, edit_or_send, remove_buttons, send
from conversations.steps import NEXT
from conversations.texts import not_enrolled, welcome
from conversations.voice import listen_row
from conversations.voiceclips import WELCOME
from core.i18n import LANGUAGES, Translator, negotiate
from core.prompt_status import PromptStatus
from storage import checkins, enrolments, handled, invites, prompts, staff, voice
from storage.records import Invite

log = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def language_picker(t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    """The language choice: every language named in its own script."""
    pairs = [
        InlineKeyboardButton(
            language.native_name,
            callback_data=buttons.encode(buttons.ChooseLanguage(language.code)),
        )
        for language in LANGUAGES
    ]
    rows = [pairs[i : i + 2] for i in range(0, len(pairs), 2)]
    return t.message("🌐 " + t._("Which language would you like to use?")), InlineKeyboardMarkup(
        rows
    )


def language_set(t: Translator) -> str:
    return t.message(
        t._("Done: I'll write to you in {language}.").format(
            language=t.isolate(t.language.native_name)
        )
    )


def consent_buttons(t: Translator, *, listen: bool = False) -> InlineKeyboardMarkup:
    """Agree or not; with "🔊 Listen" first when the welcome has a clip in ``t``'s language."""
    return InlineKeyboardMarkup(
        ([listen_row(t, WELCOME)] if listen else [])
        + [
            [
                InlineKeyboardButton(
                    t._("✅ Yes, let's go"),
                    callback_data=buttons.encode(buttons.Consent(agree=True)),
                )
            ],
            [
                InlineKeyboardButton(
                    t._("No, thanks"), callback_data=buttons.encode(buttons.Consent(agree=False))
                )
            ],
        ]
    )


def invite_problem(t: Translator, invite: Invite | None, rt: Runtime) -> str | None:
    """Why an invite cannot be used, in kind words; None when it can."""
    if invite is None:
        return t._(
            "I don't recognise this link. Please check you opened the whole link, or ask "
            "your key worker for a new one."
        )
    if invite.used_at is not None:
        return t._(
            "This link has already been used. Each link works once. Please ask your key "
            "worker for a new one. You haven't done anything wrong."
        )
    if invite.expires_at <= rt.clock.now():
        return t._(
            "This link has expired. Please ask your key worker for a new one. You "
            "haven't done anything wrong."
        )
    return None


async def start(update: Update, context: Context) -> None:
    """/start, with or without an invite token."""
    rt = context.runtime
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    guess = negotiate(
        user.language_code if user else None, rt.catalogues.codes, rt.settings.default_language
    )
    token = context.args[0] if context.args else None
    if token is not None:
        await _open_invite(rt, context, chat.id, token, guess, update.update_id)
        return
    async with rt.db.read() as conn:
        member = await staff.staff_by_chat(conn, chat.id)
        enrolment = await enrolments.by_chat(conn, chat.id)
    if member is not None:
        await send(
            context.bot, chat.id, staff_help(rt.translator(member.language), member, rt.commands)
        )
    elif enrolment is None or enrolment.status == enrolments.FORGOTTEN:
        await send(context.bot, chat.id, not_enrolled(rt.translator(guess)))
    elif enrolment.status == enrolments.PENDING:
        text, markup = language_picker(rt.translator(enrolment.language))
        await send(context.bot, chat.id, text, markup)
    else:
        await _welcome_back(rt, context, enrolment.id, chat.id)


async def _welcome_back(rt: Runtime, context: Context, enrolment_id: int, chat_id: int) -> None:
    async with rt.db.transaction() as conn:
        await enrolments.resume(conn, enrolment_id, rt.clock.now())
        enrolment = await enrolments.by_id(conn, enrolment_id)
        live = await checkins.live_checkin(conn, enrolment_id)
        assert enrolment is not None
        after = NEXT if live is not None else await coming_up(conn, rt, enrolment)
    t = rt.translator(enrolment.language)
    await send(
        context.bot,
        chat_id,
        t.message(t._("Welcome back! I'll message you when the next check-in is ready."))
        if after == NEXT
        else nothing_open(t, after),
    )
    if live is not None:
        await show(rt, context, chat_id, live)


async def _open_invite(
    rt: Runtime, context: Context, chat_id: int, token: str, guess: str, update_id: int
) -> None:
    t = rt.translator(guess)
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        if not await handled.first_time(conn, update_id, now):
            return  # a redelivery: the first delivery used the link and answered
        invite = await invites.find_invite(conn, token) if TOKEN_PATTERN.match(token) else None
        problem = invite_problem(t, invite, rt)
        member = await staff.staff_by_chat(conn, chat_id)
        enrolment = await enrolments.by_chat(conn, chat_id)
        if problem is None and invite is not None and invite.kind == "staff":
            problem = await _join_staff(conn, invite, chat_id, guess, enrolment is not None, t, rt)
            if problem is None:
                joined = await staff.staff_by_chat(conn, chat_id)
                assert joined is not None
                staff_t = rt.translator(joined.language)
                await conn.commit()
                await send(context.bot, chat_id, staff_welcome(staff_t, joined, rt.commands))
                await set_chat_menu(context.bot, chat_id, staff_t, rt.commands, joined.role)
                return
        elif problem is None and invite is not None:
            if member is not None:
                problem = t._("This link is for a young person. Staff cannot join with it.")
            elif enrolment is not None and enrolment.status != enrolments.PENDING:
                problem = t._("You have already joined, so you don't need this link.")
            else:
                holder = await enrolments.pending_holder(conn, invite.id)
                if holder is not None and holder != chat_id:
                    problem = invite_problem(t, _used(invite), rt)
                else:
                    await enrolments.start_pending(
                        conn, invite=invite, chat_id=chat_id, language=guess, now=now
                    )
    if problem is not None:
        log.info("an invite link was refused")
        await send(context.bot, chat_id, t.message(problem))
        return
    text, markup = language_picker(t)
    await send(context.bot, chat_id, text, markup)


def _used(invite: Invite) -> Invite:
    return Invite(
        invite.id,
        invite.kind,
        invite.created_by,
        invite.staff_id,
        invite.label,
        invite.planned_end,
        invite.expires_at,
        used_at=invite.expires_at,
    )


async def _join_staff(
    conn: AsyncConnection,
    invite: Invite,
    chat_id: int,
    language: str,
    is_young_person: bool,
    t: Translator,
    rt: Runtime,
) -> str | None:
    """Link a staff invite to this chat; the reason it cannot be, or None."""
    assert invite.staff_id is not None
    target = await staff.staff_by_id(conn, invite.staff_id)
    if target is None or not target.active:
        return invite_problem(t, _used(invite), rt)
    if is_young_person:
        return t._("This link is for staff. It cannot be used from this chat.")
    if await staff.staff_by_chat(conn, chat_id) is not None:
        return t._("This chat already belongs to a staff member.")
    if not await invites.use_invite(conn, invite.id, rt.clock.now()):
        return invite_problem(t, _used(invite), rt)
    await staff.link_chat(conn, invite.staff_id, chat_id, language)
    return None


async def on_language(update: Update, context: Context) -> None:
    """A language button: during joining, from /language, for staff too."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.ChooseLanguage)
    if read is None:
        return
    press, action = read
    query, chat_id, message_id = press.query, press.chat_id, press.message_id
    if action.code not in rt.catalogues.codes:
        await answer_stale(rt, press)
        return
    await answer_press(query)
    t = rt.translator(action.code)
    async with rt.db.transaction() as conn:
        member = await staff.staff_by_chat(conn, chat_id)
        enrolment = await enrolments.by_chat(conn, chat_id)
        if member is not None:
            await staff.set_language(conn, member.id, action.code)
        elif enrolment is not None and enrolment.status != enrolments.FORGOTTEN:
            await enrolments.set_language(conn, enrolment.id, action.code)
            live = await checkins.live_checkin(conn, enrolment.id)
            if live is not None:
                await checkins.set_language(conn, live.id, checkin_language(rt, action.code))
    await set_chat_menu(context.bot, chat_id, t, rt.commands, member.role if member else None)
    if member is not None:
        await edit_or_send(context.bot, chat_id, message_id, language_set(t))
        return
    if enrolment is None or enrolment.status == enrolments.FORGOTTEN:
        await edit_or_send(context.bot, chat_id, message_id, not_enrolled(t))
    elif enrolment.status == enrolments.PENDING:
        async with rt.db.read() as conn:
            listen = await voice.has_clip(conn, WELCOME, action.code)
        await edit_or_send(
            context.bot,
            chat_id,
            message_id,
            welcome(t, rt.privacy_wording),
            consent_buttons(t, listen=listen),
        )
    else:
        await edit_or_send(context.bot, chat_id, message_id, language_set(t))
        async with rt.db.read() as conn:
            live = await checkins.live_checkin(conn, enrolment.id)
        if live is not None:
            await show(rt, context, chat_id, live)


async def language_command(update: Update, context: Context) -> None:
    """/language: show the picker again, at any time, even in the middle of a check-in."""
    rt = context.runtime
    chat = update.effective_chat
    assert chat is not None
    async with rt.db.read() as conn:
        member = await staff.staff_by_chat(conn, chat.id)
        enrolment = await enrolments.by_chat(conn, chat.id)
    language = member.language if member else enrolment.language if enrolment else None
    text, markup = language_picker(rt.translator(language))
    await send(context.bot, chat.id, text, markup)


async def on_consent(update: Update, context: Context) -> None:
    """Agree (join and start the first check-in) or leave (nothing is kept)."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.Consent)
    if read is None:
        return
    press, action = read
    query, chat_id, message_id = press.query, press.chat_id, press.message_id
    await answer_press(query)
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        enrolment = await enrolments.by_chat(conn, chat_id)
        if enrolment is None or enrolment.status != enrolments.PENDING:
            t = rt.translator(enrolment.language if enrolment else None)
            await conn.rollback()
            await send(
                context.bot,
                chat_id,
                t.message(t._("This button no longer works."))
                + "\n"
                + young_person_help(t, rt.commands),
            )
            return
        t = rt.translator(enrolment.language)
        if not action.agree:
            await enrolments.drop_pending(conn, enrolment.id)
            reply = t._(
                "That's fine. Nothing about you has been kept. If you change your mind, "
                "you can open the same link again while it is still valid."
            )
        else:
            assert enrolment is not None
            invite_ok = await invites.use_invite(conn, enrolment.invite_id or 0, now)
            if not invite_ok:
                await enrolments.drop_pending(conn, enrolment.id)
                reply = t._(
                    "This link has expired. Please ask your key worker for a new one. "
                    "You haven't done anything wrong."
                )
            else:
                await enrolments.activate(conn, enrolment.id, now)
                reply = t._(
                    "Thank you for joining! I'll send you a few short statements now "
                    "and then at the important points of your support."
                )
    # The welcome stays in the chat, so the young person can read again what they agreed to;
    # only its buttons go, and the answer comes as a new message.
    await remove_buttons(context.bot, chat_id, message_id)
    await send(context.bot, chat_id, t.message(reply))
    if action.agree and invite_ok:
        await begin(rt, context, enrolment.id)
        log.info("a young person joined")


async def begin(rt: Runtime, context: Context, enrolment_id: int) -> None:
    """Just enrolled: the start check-in right away (if the schedule has it), the rest planned."""
    async with rt.db.read() as conn:
        joined = await enrolments.by_id(conn, enrolment_id)
    assert joined is not None
    assert joined.enrolled_at is not None
    rule = rt.schedule.switched_on(START)
    checkin = None
    if rule is not None:
        checkin = await open_and_send(rt, context, joined, START)
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        if checkin is not None and rule is not None:
            await prompts.plan(
                conn,
                enrolment_id=joined.id,
                checkpoint=START,
                questionnaire_id=rule.questionnaire,
                due_at=joined.enrolled_at,
                now=now,
                status=PromptStatus.SENT,
                sent_at=now,
                checkin_id=checkin.id,
            )
        await plan_enrolment(conn, rt, joined, now)
