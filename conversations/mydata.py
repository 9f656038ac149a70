"""``/mydata``: a readable copy of everything stored about the young person, in their language.

The copy is built by a pure function from one snapshot (storage/personal_data.py) of the rows tied
to the asker's own enrolment, so it can hold nothing about anyone else. Long copies are split into
several messages at line boundaries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update

from conversations.alerts import category_name, when
from conversations.questionnaire import Questionnaire
from conversations.runtime import Context
from conversations.sending import send, send_lines
from conversations.wording import checkpoint_name
from core.i18n import BY_CODE, Translator
from storage import enrolments
from storage.personal_data import CheckinData, PersonalData, everything_about

log = logging.getLogger(__name__)


async def mydata_command(update: Update, context: Context) -> None:
    """/mydata: send the copy, in as many messages as it needs."""
    rt = context.runtime
    chat = update.effective_chat
    assert chat is not None
    async with rt.db.read() as conn:
        enrolment = await enrolments.by_chat(conn, chat.id)
        data = (
            await everything_about(conn, enrolment.id)
            if enrolment is not None and enrolment.status != enrolments.FORGOTTEN
            else None
        )
    t = rt.translator(enrolment.language if data and enrolment else None)
    if data is None:
        await send(context.bot, chat.id, t.message(t._("I don't have anything about you.")))
        return
    lines = render(t, data, rt.questionnaires, rt.settings.zone)
    await send_lines(context.bot, chat.id, t, lines)
    log.info("a young person read their data")


def render(
    t: Translator, data: PersonalData, questionnaires: dict[str, Questionnaire], zone: ZoneInfo
) -> list[str]:
    """Every stored fact about one young person, as lines of plain words."""
    e = data.enrolment
    lines = [t._("Everything I keep about you:"), ""]
    lines.append(
        t._("• Your Telegram chat number (so I can message you): {chat}").format(
            chat=t.isolate(e.chat_id)
        )
    )
    language = BY_CODE.get(e.language or "")
    lines.append(
        t._("• Your language: {language}").format(
            language=t.isolate(language.native_name if language else e.language or "-")
        )
    )
    if e.timezone:
        lines.append(t._("• Your time zone: {zone}").format(zone=t.isolate(e.timezone)))
    lines.append(t._("• You opened your invite on {date}").format(date=t.date(data.opened_at)))
    if e.enrolled_at:
        lines.append(t._("• You agreed to take part on {date}").format(date=t.date(e.enrolled_at)))
    if e.planned_end:
        lines.append(
            t._("• Planned end of your support: {date}").format(date=t.date(e.planned_end))
        )
    if e.exit_at:
        lines.append(t._("• Your support ended on {date}").format(date=t.date(e.exit_at)))
    if data.stopped_at:
        lines.append(
            t._("• You stopped check-ins with /stop on {date}").format(date=t.date(data.stopped_at))
        )
    if data.team_name:
        lines.append(t._("• Your key worker's team: {team}").format(team=t.isolate(data.team_name)))
    lines.append(
        t._("• The label your key worker uses for you: {label}").format(
            label=t.isolate(e.label) if e.label else t._("none")
        )
    )
    lines.append(
        t._("• A random code used instead of your name in anonymous exports: {code}").format(
            code=t.isolate(e.pseudonym)
        )
    )
    lines += _checkins(t, data.checkins, questionnaires)
    lines += _others(t, data, zone)
    lines += ["", t._("To delete everything, send /forgetme.")]
    return lines


def _checkins(
    t: Translator, found: list[CheckinData], questionnaires: dict[str, Questionnaire]
) -> list[str]:
    if not found:
        return ["", t._("Check-ins: none yet.")]
    lines: list[str] = []
    for item in found:
        c = item.checkin
        lines += ["", _checkin_heading(t, c.checkpoint, c.status, c.created_at, c.finished_at)]
        q = questionnaires.get(c.questionnaire_id)
        for item_id in asked_order(q, c.checkpoint, item.answers):
            lines.append(f"• {_item(t, q, item_id)}: {_answer(t, q, item.answers[item_id])}")
        if c.comment:
            lines.append(t._("You wrote: {comment}").format(comment=t.isolate(c.comment)))
        lines.append(
            t._("Shared with your key worker: yes")
            if c.shared
            else t._("Shared with your key worker: no")
        )
    return lines


def asked_order(q: Questionnaire | None, checkpoint: str, given: Iterable[str]) -> list[str]:
    """The answered items in the order they were asked; any the questionnaire no longer has
    come last, by name."""
    given = set(given)
    asked = [i.id for i in q.items_for(checkpoint)] if q is not None else []
    return [i for i in asked if i in given] + sorted(given - set(asked))


def _checkin_heading(
    t: Translator, checkpoint: str, status: str, created: datetime, finished: datetime | None
) -> str:
    name = checkpoint_name(t, checkpoint, staff=False)
    if status == "finished" and finished is not None:
        return t._("Check-in ({checkpoint}), finished on {date}:").format(
            checkpoint=name,
            date=t.date(finished),
        )
    if status == "closed":
        return t._("Check-in ({checkpoint}), started on {date}, closed unfinished:").format(
            checkpoint=name,
            date=t.date(created),
        )
    return t._("Check-in ({checkpoint}), started on {date}, not finished yet:").format(
        checkpoint=name,
        date=t.date(created),
    )


def _item(t: Translator, q: Questionnaire | None, item_id: str) -> str:
    if q is not None and item_id in {i.id for i in q.items}:
        return t.pgettext(q.context(item_id), q.item(item_id).short)
    return t.isolate(item_id)


def _answer(t: Translator, q: Questionnaire | None, value: int | None) -> str:
    if value is None:
        return t._("skipped")
    if q is None or q.option(value) is None:
        return t.number(value)
    option = q.option(value)
    assert option is not None
    return f"{option.emoji} {t.pgettext(q.context('scale'), option.label)}"


def _others(t: Translator, data: PersonalData, zone: ZoneInfo) -> list[str]:
    """Check-in messages sent, "please get in touch" requests and safeguarding alerts."""
    lines: list[str] = []
    sent = [p for p in data.prompts if p.sent_at is not None]
    if sent:
        lines += ["", t._("Check-in messages I sent you:")]
        lines += [
            t._("• {checkpoint}: {date}").format(
                checkpoint=checkpoint_name(t, p.checkpoint, staff=False),
                date=t.date(p.sent_at),
            )
            for p in sent
            if p.sent_at is not None
        ]
    if data.updates_sent:
        lines += [
            "",
            t._("Updates from your service that I sent you (send /updates to read them):"),
        ]
        lines += [f"• {t.date(moment)}" for moment in data.updates_sent]
    if data.contact_requests:
        lines += ["", t._("Times you asked your key worker to get in touch:")]
        lines += [f"• {when(t, moment, zone)}" for moment in data.contact_requests]
    if data.alerts:
        lines += [
            "",
            t._("Messages the safeguarding lead was shown because we were worried about you:"),
        ]
        for alert in data.alerts:
            lines.append(
                t._("• {when} ({category}): {text}").format(
                    when=when(t, alert.created_at, zone),
                    category=category_name(t, alert.category),
                    text=t.isolate(alert.text) if alert.text else t._("(deleted)"),
                )
            )
    return lines
