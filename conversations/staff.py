"""The staff side in Telegram: invites, caseloads and marking the end of support.

Every staff command checks the caller's role on every call (:func:`entitled`). Anyone else, a
young person, a stranger or staff in another role, gets exactly the answer an unknown command
gets, and nothing about the data. Reads of data are written to the audit log.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from datetime import date, timedelta

import segno
from telegram import Update

from conversations import buttons
from conversations.checkin import describe
from conversations.digest import checkpoint_order
from conversations.planning import plan_exit
from conversations.presses import pressed
from conversations.roles import entitled
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press, button_row, edit_or_send, send_lines, tell
from conversations.texts import unknown_command
from conversations.wording import checkpoint_name
from core.i18n import Translator
from storage import audit, checkins, enrolments, handled, invites
from storage.invites import new_token
from storage.records import Enrolment, StaffMember

log = logging.getLogger(__name__)

LABEL_MAX = 32


def clean_label(raw: str) -> str | None:
    """A private label: printable, at most 32 characters; None when there is nothing left."""
    text = "".join(ch for ch in raw if unicodedata.category(ch)[0] not in "C")
    text = re.sub(r"\s+", " ", text).strip()[:LABEL_MAX]
    return text or None


def parse_invite_args(args: list[str], today: date) -> tuple[str | None, date | None, str | None]:
    """``/invite [label] [YYYY-MM-DD]`` -> (label, planned end, problem)."""
    planned_end = None
    if args and re.fullmatch(r"\d{4}-\d{2}-\d{2}", args[-1]):
        try:
            planned_end = date.fromisoformat(args[-1])
        except ValueError:
            return None, None, "date"
        if planned_end <= today:
            return None, None, "past"
        args = args[:-1]
    return clean_label(" ".join(args)), planned_end, None


def qr_png(link: str) -> bytes:
    """The QR code of ``link`` as a PNG image."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=3)
    return buffer.getvalue()


async def invite_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """/invite [label] [end date]: a single-use, expiring invite link and its QR code."""
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    now = rt.clock.now()
    label, planned_end, problem = parse_invite_args(list(context.args or []), now.date())
    if problem is not None:
        await tell(
            context.bot,
            update.effective_chat.id,
            t,
            t.pgettext(
                "staff", "That end date is not a valid future date. Write it like 2027-03-31."
            ),
        )
        return
    token = new_token()
    expires = now + timedelta(days=rt.settings.invite_ttl_days)
    async with rt.db.transaction() as conn:
        if not await handled.first_time(conn, update.update_id, now):
            return  # a redelivery: the first delivery made the invite
        await invites.create_invite(
            conn,
            kind="young_person",
            token=token,
            created_by=member.id,
            label=label,
            planned_end=planned_end,
            now=now,
            expires_at=expires,
        )
    link = rt.deep_link(token)
    caption = t.message(
        "\n\n".join(
            (
                t.pgettext("staff", "Invite for {label}").format(label=t.isolate(label))
                if label
                else t.pgettext("staff", "Invite for a young person"),
                t.pgettext(
                    "staff",
                    "Show this QR code, or send them the link. It works once and expires on "
                    "{date}.",
                ).format(date=t.date(expires)),
                t.isolate(link),
            )
        )
    )
    await context.bot.send_photo(update.effective_chat.id, qr_png(link), caption=caption)
    log.info("a young person's invite was created")


async def caseload_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """/caseload: labels, enrolment dates, check-ins done or open, reachable or not; no answers."""
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    async with rt.db.transaction() as conn:
        people = await enrolments.caseload(conn, member.id)
        actor = f"staff:{member.id}"
        last_view = await audit.last_time(conn, actor=actor, action="caseload")
        left = await enrolments.left_since(conn, member.id, last_view)
        lines = [
            t.npgettext(
                "staff", "You have {n} young person:", "You have {n} young people:", len(people)
            ).format(n=t.number(len(people)))
        ]
        if left:
            lines.insert(0, leavers_note(t, left))
        for person in people:
            done = await checkins.finished_checkpoints(conn, person.id)
            live = await checkins.live_checkin(conn, person.id)
            lines.append(caseload_line(t, person, done, live.checkpoint if live else None))
        await audit.record(
            conn,
            actor=actor,
            action="caseload",
            scope=f"key_worker:{member.id}",
            now=rt.clock.now(),
        )
    await send_lines(context.bot, update.effective_chat.id, t, lines)


def leavers_note(t: Translator, left: int) -> str:
    """How many young people left since the last /caseload, without anything about them."""
    return t.npgettext(
        "staff",
        "Since you last looked, {n} young person left (they deleted their data, or it "
        "was deleted at the end of the retention period), so they are no longer listed.",
        "Since you last looked, {n} young people left (they deleted their data, or it "
        "was deleted at the end of the retention period), so they are no longer listed.",
        left,
    ).format(n=t.number(left))


def caseload_line(
    t: Translator, person: Enrolment, done: set[str], open_checkpoint: str | None
) -> str:
    parts = [
        t.pgettext("staff", "joined {date}").format(date=t.date(person.enrolled_at))
        if person.enrolled_at
        else ""
    ]
    if done:
        parts.append(
            t.pgettext("staff", "done: {checkpoints}").format(
                checkpoints=", ".join(
                    checkpoint_name(t, c, staff=True) for c in sorted(done, key=checkpoint_order)
                )
            )
        )
    if open_checkpoint:
        parts.append(
            t.pgettext("staff", "open: {checkpoint}").format(
                checkpoint=checkpoint_name(t, open_checkpoint, staff=True)
            )
        )
    if person.exit_at:
        parts.append(t.pgettext("staff", "support ended"))
    if person.status == enrolments.STOPPED:
        parts.append(t.pgettext("staff", "stopped check-ins"))
    if not person.reachable:
        parts.append(t.pgettext("staff", "unreachable"))
    return f"• {describe(t, person)}: " + "; ".join(p for p in parts if p)


async def exit_command(update: Update, context: Context, rt: Runtime, member: StaffMember) -> None:
    """/exit label: after confirmation, mark that support has ended for one of your young people."""
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    label = clean_label(" ".join(context.args or []))
    chat_id = update.effective_chat.id
    if label is None:
        await tell(
            context.bot,
            chat_id,
            t,
            t.pgettext("staff", "Please add the young person's label, like this: /exit AB"),
        )
        return
    async with rt.db.read() as conn:
        matches = await enrolments.for_key_worker_by_label(conn, member.id, label)
    if len(matches) != 1:
        await tell(
            context.bot,
            chat_id,
            t,
            t.pgettext(
                "staff",
                "I can't find anyone with the label {label} in your caseload. Send /caseload "
                "to see your labels.",
            ).format(label=t.isolate(label))
            if not matches
            else t.pgettext(
                "staff",
                "More than one young person has the label {label}. Please ask an admin "
                "to give them different labels.",
            ).format(label=t.isolate(label)),
        )
        return
    person = matches[0]
    markup = button_row(
        (t.pgettext("staff", "Yes, support has ended"), buttons.ConfirmExit(person.id, True)),
        (t.pgettext("staff", "Cancel"), buttons.ConfirmExit(person.id, confirm=False)),
    )
    await tell(
        context.bot,
        chat_id,
        t,
        t.pgettext(
            "staff",
            "Mark support as ended for {who}? They will get the exit check-in at the next "
            "suitable time.",
        ).format(who=describe(t, person)),
        markup,
    )


@entitled("key_worker")
async def on_confirm_exit(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """The /exit confirmation; refuses anyone else's young person, even with forged data."""
    read = await pressed(rt, update, buttons.ConfirmExit)
    if read is None:
        return
    press, action = read
    query, chat_id, message_id = press.query, press.chat_id, press.message_id
    t = rt.translator(member.language)
    await answer_press(query)
    if not action.confirm:
        await edit_or_send(
            context.bot, chat_id, message_id, t.message(t.pgettext("staff", "Nothing changed."))
        )
        return
    async with rt.db.transaction() as conn:
        person = await enrolments.by_id(conn, action.enrolment_id)
        if person is None or person.key_worker_id != member.id:
            reply = unknown_command(t)
        elif await enrolments.mark_exit(conn, person.id, rt.clock.now()):
            await plan_exit(conn, rt, person.id)
            reply = t.message(
                t.pgettext("staff", "Done. Support for {who} is marked as ended.").format(
                    who=describe(t, person)
                )
            )
        else:
            reply = t.message(
                t.pgettext("staff", "Support for {who} was already marked as ended.").format(
                    who=describe(t, person)
                )
            )
    await edit_or_send(context.bot, chat_id, message_id, reply)
