"""The check-in conversation: one statement at a time, stored the moment it is answered.

The position in a check-in is the ``step`` stored in the database; every button carries the
check-in and step it was shown for, so an old button, a double tap or a replayed update finds the
check-in elsewhere and changes nothing. Rendering a step is a pure function; the handlers around
it only read the update, call storage, and reply.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ExtBot

from conversations import buttons
from conversations.checkpoints import EXIT
from conversations.presses import Press, answer_stale, press_of
from conversations.questionnaire import (
    COMMENT,
    DONE,
    SHARE,
    SKIPPED,
    Questionnaire,
    first_step,
    next_step,
    previous_step,
    step_number,
)
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press, edit_or_send, notify_staff, remove_buttons, send
from conversations.texts import not_enrolled
from conversations.voice import listen_row
from conversations.voiceclips import item_key
from conversations.wording import checkpoint_name
from core.i18n import Translator
from storage import checkins, enrolments, prompts, staff, voice
from storage.press_store import PressStore, run_press
from storage.records import Checkin, Enrolment

# --- pure rendering -------------------------------------------------------------------------


def render_step(
    q: Questionnaire,
    checkin: Checkin,
    t: Translator,
    previous: int | None = None,
    *,
    listen: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons that show ``checkin`` at its current step; ``listen``: the
    statement has a voice clip in the check-in's language, so it gets "🔊 Listen"."""
    step, cid = checkin.step, checkin.id
    back = _back_row(q, checkin, t)
    if step == COMMENT:
        text = "\n\n".join(
            (
                t._(
                    "Is there anything else you'd like to say about working with your key "
                    'worker? Write it in a message, or press "Nothing to add".'
                ),
                t._(
                    "This chat is not watched all the time. If you are in danger now, call 999. "
                    "Send /support for people you can talk to."
                ),
            )
        )
        rows = [
            [
                InlineKeyboardButton(
                    t._("Nothing to add"), callback_data=_data(buttons.NoComment(cid))
                )
            ]
        ]
        return t.message(text), InlineKeyboardMarkup(rows + back)
    if step == SHARE:
        text = t._(
            "Would you like your key worker to see your answers from this check-in? If "
            "you keep them private, staff only ever see totals from many young people "
            "together."
        )
        rows = [
            [
                InlineKeyboardButton(
                    t._("🔒 Keep them private"),
                    callback_data=_data(buttons.Share(cid, share=False)),
                )
            ],
            [
                InlineKeyboardButton(
                    t._("🤝 Share with my key worker"),
                    callback_data=_data(buttons.Share(cid, share=True)),
                )
            ],
        ]
        return t.message(text), InlineKeyboardMarkup(rows)
    if step == DONE:
        return t.message(t._("This check-in is finished. Thank you!")), None
    item = q.item(step)
    n, total = step_number(q, checkin.checkpoint, step)
    parts = [
        t._("Statement {n} of {total}").format(n=t.number(n), total=t.number(total)),
        t.pgettext(q.context(item.id), item.text),
    ]
    option = q.option(previous) if previous else None
    if option is not None:
        parts.append(
            t._("Your answer was: {answer}").format(
                answer=f"{option.emoji} {t.pgettext(q.context('scale'), option.label)}"
            )
        )
    rows = [
        [
            InlineKeyboardButton(
                f"{o.emoji} {t.pgettext(q.context('scale'), o.label)}",
                callback_data=_data(buttons.Answer(cid, item.id, o.value)),
            )
        ]
        for o in q.scale
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t._("Skip"), callback_data=_data(buttons.Answer(cid, item.id, SKIPPED))
            )
        ]
    )
    if listen:
        rows.insert(0, listen_row(t, item_key(item.id)))
    return t.message("\n\n".join(parts)), InlineKeyboardMarkup(rows + back)


def _back_row(
    q: Questionnaire, checkin: Checkin, t: Translator
) -> list[list[InlineKeyboardButton]]:
    row = []
    if previous_step(q, checkin.checkpoint, checkin.step) is not None:
        row.append(
            InlineKeyboardButton(
                t._("⬅️ Back"), callback_data=_data(buttons.Back(checkin.id, checkin.step))
            )
        )
    if checkin.step not in (SHARE, DONE):
        row.append(
            InlineKeyboardButton(
                t._("⏸ Pause"), callback_data=_data(buttons.Pause(checkin.id, checkin.step))
            )
        )
    return [row] if row else []


def _data(action: buttons.Action) -> str:
    return buttons.encode(action)


NEXT, END_OF_SUPPORT, LAST = "next", "end_of_support", "last"


def what_comes_next(checkpoint: str, planned: bool, exit_enabled: bool) -> str:
    """After a finished check-in: another one is ``planned`` (a prompt waits), the exit
    check-in will come when support ends, or this was the last one."""
    if checkpoint == EXIT:
        return LAST
    if planned:
        return NEXT
    return END_OF_SUPPORT if exit_enabled else LAST


def thanks(t: Translator, shared: bool, after: str = NEXT) -> str:
    """The thank-you after the last step: saved, who sees it, and what is true about what next."""
    lines = [t._("Thank you! Your answers are saved.")]
    if shared:
        lines.append(t._("Your key worker will see this check-in."))
    else:
        lines.append(
            t._("Your answers stay private: staff only see totals from many young people together.")
        )
    if after == NEXT:
        lines.append(
            t._(
                "I'll message you when the next check-in is ready. You don't need to do "
                "anything until then."
            )
        )
    elif after == END_OF_SUPPORT:
        lines.append(
            t._(
                "I'll message you once more, when your support ends. You don't need to do "
                "anything until then."
            )
        )
    else:
        lines.append(t._("That was your last check-in. Thank you for taking part."))
    return t.message("\n\n".join(lines))


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
            await enrolments.resume(conn, enrolment.id)
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
    planned = any(p.status == "due" for p in await prompts.of_enrolment(conn, enrolment.id))
    rule = rt.schedule.rule(EXIT)
    exit_to_come = rule is not None and rule.enabled and enrolment.exit_at is None
    return NEXT if planned else END_OF_SUPPORT if exit_to_come else LAST


# --- buttons --------------------------------------------------------------------------------


# The buttons of a check-in message, all handled by :func:`on_checkin_button`.
BUTTON_KINDS: tuple[type[buttons.Action], ...] = (
    buttons.Answer,
    buttons.Back,
    buttons.Pause,
    buttons.NoComment,
    buttons.Share,
    buttons.Resume,
)


async def on_checkin_button(update: Update, context: Context) -> None:
    """Every check-in button: answer, skip, back, pause, nothing to add, share, resume.

    One write transaction checks the press belongs to this chat's check-in, stores it (a
    compare-and-set on the step), and reads what to show next; then the callback is answered
    and the message edited side by side.
    """
    rt = context.runtime
    press = press_of(update)
    query, chat_id, message_id, action = press.query, press.chat_id, press.message_id, press.action

    async def store(db: PressStore) -> tuple[Checkin | None, bool, Checkin | None, Shown]:
        checkin = await db.owned(getattr(action, "checkin_id", 0), chat_id)
        current = checkin is not None and _is_newest(checkin.message_id, message_id)
        changed = await _apply(db, rt, action, checkin) if checkin and current else None
        shown = Shown()
        if changed is not None and changed.step not in (COMMENT, SHARE, DONE):
            shown.previous = await db.answer_of(changed.id, changed.step)
            shown.listen = await db.has_clip(item_key(changed.step), changed.language)
        if changed is not None and changed.step == DONE:
            shown.after = await _after(db, rt, changed)
        return checkin, current, changed, shown

    checkin, current, changed, shown_next = await run_press(rt.db, store)
    previous, listen, after = shown_next.previous, shown_next.listen, shown_next.after
    if checkin is None:
        await answer_stale(rt, press)
        return
    t = rt.translator(checkin.language)
    if changed is None:
        await _not_now(rt, context, press, checkin, current)
        return
    checkin = changed
    markup = None
    if isinstance(action, buttons.Pause):
        text = t.message(
            t._("Paused. Your answers so far are saved. Send /checkin when you want to carry on.")
        )
    elif checkin.step == DONE:
        text = thanks(t, checkin.shared, after)
    else:
        text, markup = render_step(rt.questionnaire, checkin, t, previous, listen=listen)
    _, shown = await asyncio.gather(
        answer_press(query), edit_or_send(context.bot, chat_id, message_id, text, markup)
    )
    if markup is not None and shown != checkin.message_id:  # else it carries them already
        await hand_over(rt, context.bot, chat_id, checkin.id, shown)
    if checkin.step == DONE and checkin.shared:
        async with rt.db.read() as conn:
            enrolment = await enrolments.by_id(conn, checkin.enrolment_id)
        if enrolment is not None:
            await _tell_key_worker(rt, context, enrolment, checkin)


def _is_newest(live: int | None, pressed: int | None) -> bool:
    """Whether a press is on the message carrying the live buttons, or a newer one (message ids
    grow in a chat: a newer one was sent when a crash kept it from being recorded)."""
    return live is None or (pressed is not None and pressed >= live)


async def _not_now(
    rt: Runtime, context: Context, press: Press, checkin: Checkin, current: bool
) -> None:
    """A press that changed nothing: an older copy (its buttons go), a closed check-in, or a
    double tap on the live message."""
    t = rt.translator(checkin.language)
    if (not current or checkin.status == checkins.CLOSED) and press.message_id is not None:
        await remove_buttons(context.bot, press.chat_id, press.message_id)
    if checkin.status == checkins.CLOSED:
        reply = t._("This check-in has closed, so this button no longer works.")
    elif not current:
        reply = t._("Please carry on with the newest message below.")
    else:
        reply = t._("That was already saved. You can carry on with the newest message.")
    await answer_press(press.query, reply)


@dataclass
class Shown:
    """What a press's transaction read for the reply: the answer given before to the statement
    now shown (after Back), whether it can be listened to, and what comes after the last step."""

    previous: int | None = None
    listen: bool = False
    after: str = NEXT


async def _after(db: PressStore, rt: Runtime, checkin: Checkin) -> str:
    """What the thank-you can truthfully say comes next for this young person."""
    planned = await db.another_prompt_due(checkin.enrolment_id, checkin.id)
    rule = rt.schedule.rule(EXIT)
    return what_comes_next(checkin.checkpoint, planned, rule is not None and rule.enabled)


async def _apply(
    db: PressStore, rt: Runtime, action: buttons.Action | None, checkin: Checkin
) -> Checkin | None:
    """Store what the button asked for and return the check-in as it is now; None when it was
    not where the button was shown (an old button, a double tap, tampered data)."""
    q = rt.questionnaire
    now = rt.clock.now()
    match action:
        case buttons.Answer(cid, item_id, value) if item_id in {
            i.id for i in q.items_for(checkin.checkpoint)
        } and (value == SKIPPED or q.option(value) is not None):
            return await db.record_answer(
                cid,
                item_id=item_id,
                item_version=q.item(item_id).version,
                value=None if value == SKIPPED else value,
                new_step=next_step(q, checkin.checkpoint, item_id),
                now=now,
            )
        case buttons.Back(cid, step):
            back = previous_step(q, checkin.checkpoint, step)
            if back is None:
                return None
            return await db.move(cid, expected_step=step, new_step=back)
        case buttons.Pause(cid, step):
            done = await db.pause(cid, expected_step=step)
        case buttons.NoComment(cid):
            done = await db.skip_comment(cid, new_step=SHARE)
        case buttons.Share(cid, share):
            done = await db.finish(cid, shared=share, now=now)
            if done:
                await db.mark_prompt_answered(cid, now)
        case buttons.Resume(cid):
            done = checkin.status in checkins.LIVE
        case _:
            done = False
    return await db.by_id(checkin.id) if done else None


async def _tell_key_worker(
    rt: Runtime, context: Context, enrolment: Enrolment, checkin: Checkin
) -> None:
    """A shared check-in reaches the key worker, with the young person's label."""
    async with rt.db.read() as conn:
        member = await staff.staff_by_id(conn, enrolment.key_worker_id or 0)
        given = await checkins.answers_of(conn, checkin.id)
    if member is None:
        return
    t = rt.translator(member.language)
    q = rt.questionnaire
    lines = [
        t._("{who} shared their check-in ({checkpoint}) with you:").format(
            who=describe(t, enrolment),
            checkpoint=checkpoint_name(t, checkin.checkpoint, staff=True),
        )
    ]
    for item in q.items_for(checkin.checkpoint):
        value = given.get(item.id)
        option = q.option(value) if value else None
        answer = (
            f"{option.emoji} {t.pgettext(q.context('scale'), option.label)}"
            if option
            else t._("skipped")
        )
        lines.append(f"• {t.pgettext(q.context(item.id), item.short)}: {answer}")
    if checkin.comment:
        lines.append(t._("They added: {comment}").format(comment=t.isolate(checkin.comment)))
    await notify_staff(context.bot, member, t.message("\n".join(lines)))


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
