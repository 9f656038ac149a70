"""The check-in conversation: starting a check-in, carrying on with one, and free text.

The position in a check-in is the ``step`` stored in the database, so a restart at any moment
loses and doubles nothing. What each step shows is :mod:`conversations.steps`; the buttons
pressed on it are :mod:`conversations.answers`. The handlers here only read the update, call
storage, and reply.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Update
from telegram.ext import ExtBot

from conversations.checkpoints import EXIT
from conversations.questionnaire import COMMENT, DONE, SHARE, first_step
from conversations.runtime import Context, Runtime
from conversations.sending import edit_or_send, remove_buttons, send
from conversations.steps import END_OF_SUPPORT, LAST, NEXT, render_step
from conversations.texts import not_enrolled
from conversations.voiceclips import item_key
from core.i18n import Translator
from core.prompt_status import PromptStatus
from storage import checkins, enrolments, prompts, voice
from storage.records import Checkin, Enrolment

# --- starting and resuming ------------------------------------------------------------------


def checkin_language(rt: Runtime, wanted: str) -> str:
    """``wanted`` when its catalogue lacks nothing, else the service's default language.

    A check-in is never sent half in one language: one missing or fuzzy message that a young
    person can see (items included; staff-only texts aside) sends the whole check-in in the
    default language instead.
    """
    missing = rt.catalogues.missing(wanted, young_people_only=True)
    return wanted if not missing else rt.settings.default_language


async def open_and_send(
    rt: Runtime, context: Context, enrolment: Enrolment, checkpoint: str
) -> Checkin | None:
    """Open a new check-in for ``checkpoint`` and send its first statement."""
    q = rt.questionnaire
    wanted = enrolment.language or rt.settings.default_language
    language = checkin_language(rt, wanted)
    async with rt.db.transaction() as conn:
        if await checkins.live_checkin(conn, enrolment.id) is not None:
            return None
        checkin_id = await checkins.open_checkin(
            conn,
            enrolment_id=enrolment.id,
            checkpoint=checkpoint,
            questionnaire_id=q.id,
            questionnaire_version=q.version,
            language=language,
            step=first_step(q, checkpoint),
            team_id=enrolment.team_id,
            key_worker_id=enrolment.key_worker_id,
            now=rt.clock.now(),
        )
        checkin = await checkins.by_id(conn, checkin_id)
    assert checkin is not None
    assert enrolment.chat_id is not None
    if language != wanted:
        await send(context.bot, enrolment.chat_id, fallback_notice(rt.translator(wanted)))
    await show(rt, context, enrolment.chat_id, checkin)
    return checkin


def fallback_notice(t: Translator) -> str:
    return t.message(
        t._(
            "Some of this check-in is not yet translated into your language, so "
            "it is in English this time. Sorry about that."
        )
    )


async def show(
    rt: Runtime, context: Context, chat_id: int, checkin: Checkin, message_id: int | None = None
) -> None:
    """Show the check-in at its step: edit the message the button sat on, or send a new one.

    The message that shows it becomes the one that carries the check-in's live buttons; an
    earlier one loses its buttons (so exactly one message can be answered)."""
    q = rt.questionnaire
    t = rt.translator(checkin.language)
    previous, listen = None, False
    if checkin.step not in (COMMENT, SHARE, DONE):
        async with rt.db.read() as conn:
            previous = (await checkins.answers_of(conn, checkin.id)).get(checkin.step)
            listen = await voice.has_clip(conn, item_key(checkin.step), checkin.language)
    text, markup = render_step(q, checkin, t, previous, listen=listen)
    shown = await edit_or_send(context.bot, chat_id, message_id, text, markup)
    await hand_over(rt, context.bot, chat_id, checkin.id, shown)


async def hand_over(
    rt: Runtime, bot: ExtBot[None], chat_id: int, checkin_id: int, message_id: int | None
) -> None:
    """``message_id`` now carries the check-in's live buttons: record it, and take the buttons
    off the message that carried them before."""
    if message_id is None:
        return
    async with rt.db.transaction() as conn:
        before = await checkins.hand_buttons_to(conn, checkin_id, message_id)
    if before is not None and before != message_id:
        await remove_buttons(bot, chat_id, before)


async def checkin_command(update: Update, context: Context) -> None:
    """/checkin: carry on with a paused or open check-in from the step it stopped at."""
    rt = context.runtime
    chat = update.effective_chat
    assert chat is not None
    async with rt.db.read() as conn:
        enrolment = await enrolments.by_chat(conn, chat.id)
        live = await checkins.live_checkin(conn, enrolment.id) if enrolment else None
    if enrolment is None or enrolment.status not in (enrolments.ACTIVE, enrolments.STOPPED):
        await send(context.bot, chat.id, not_enrolled(rt.translator(None)))
        return
    t = rt.translator(enrolment.language)
    async with rt.db.transaction() as conn:
        if enrolment.status == enrolments.STOPPED:
            await enrolments.resume(conn, enrolment.id, rt.clock.now())
        if live is not None:
            await checkins.reopen(conn, live.id)
    if live is None:
        async with rt.db.read() as conn:
            after = await coming_up(conn, rt, enrolment)
        await send(context.bot, chat.id, nothing_open(t, after))
        return
    await show(rt, context, chat.id, live)


def nothing_open(t: Translator, after: str) -> str:
    """``/checkin`` with no check-in open: what is true about the next one."""
    if after == NEXT:
        text = t._(
            "There is no check-in for you right now. I'll message you when the next one is ready."
        )
    elif after == END_OF_SUPPORT:
        text = t._(
            "There is no check-in for you right now. I'll message you once more, when your "
            "support ends."
        )
    else:
        text = t._("There are no more check-ins for you. Thank you for taking part.")
    return t.message(text)


async def coming_up(conn: AsyncConnection, rt: Runtime, enrolment: Enrolment) -> str:
    """What comes next for a young person with no check-in open: a planned one, the exit
    check-in when support ends, or nothing more."""
    planned = any(
        p.status == PromptStatus.DUE for p in await prompts.of_enrolment(conn, enrolment.id)
    )
    exit_to_come = rt.schedule.switched_on(EXIT) is not None and enrolment.exit_at is None
    return NEXT if planned else END_OF_SUPPORT if exit_to_come else LAST


def describe(t: Translator, enrolment: Enrolment) -> str:
    """How staff see a young person: their private label, or when they enrolled."""
    if enrolment.label:
        return t.isolate(enrolment.label)
    when = enrolment.enrolled_at or datetime.min
    return t._("a young person who joined on {date}").format(date=t.date(when))


# --- free text ------------------------------------------------------------------------------


async def on_comment(
    rt: Runtime, context: Context, enrolment: Enrolment, checkin: Checkin, text: str
) -> None:
    """The young person wrote their "anything else?" answer."""
    assert enrolment.chat_id is not None
    t = rt.translator(checkin.language)
    limit = rt.settings.comment_max_chars
    if len(text) > limit:
        await send(
            context.bot,
            enrolment.chat_id,
            t.message(
                t.ngettext(
                    "That message is too long for me to keep. Please make it shorter than {n} "
                    "character and send it again.",
                    "That message is too long for me to keep. Please make it shorter than {n} "
                    "characters and send it again.",
                    limit,
                ).format(n=t.number(limit))
            ),
        )
        return
    async with rt.db.transaction() as conn:
        saved = await checkins.save_comment(conn, checkin.id, text=text.strip(), new_step=SHARE)
        fresh = await checkins.by_id(conn, checkin.id)
    if saved and fresh is not None:
        await send(context.bot, enrolment.chat_id, t.message(t._("Thank you, I've saved that.")))
        await show(rt, context, enrolment.chat_id, fresh)
