"""A check-in's buttons pressed: answer, skip, back, pause, nothing to add, share, resume.

Every button carries the check-in and the step it was shown for. One write transaction checks the
press belongs to this chat's check-in and is on its newest message, stores it as a compare-and-set
on the stored step, and reads what to show next; so an old button, a double tap or a replayed
update finds the check-in elsewhere and changes nothing. A shared check-in, once finished, reaches
the key worker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from telegram import Update

from conversations import buttons
from conversations.checkin import describe, hand_over
from conversations.checkpoints import EXIT
from conversations.presses import Press, answer_stale, press_of
from conversations.questionnaire import (
    COMMENT,
    DONE,
    SHARE,
    SKIPPED,
    next_step,
    previous_step,
)
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press, edit_or_send, notify_staff, remove_buttons
from conversations.steps import NEXT, render_step, thanks, what_comes_next
from conversations.voiceclips import item_key
from conversations.wording import checkpoint_name
from storage import checkins, enrolments, staff
from storage.press_store import PressStore, run_press
from storage.records import Checkin, Enrolment

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
    exit_to_come = rt.schedule.switched_on(EXIT) is not None
    return what_comes_next(checkin.checkpoint, planned, exit_to_come)


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
