"""Risk in free text, in Telegram: the signposting reply, alerts to safeguarding leads, escalation.

Every free-text message goes through :func:`check_free_text` before anything else happens to it.
On a risk phrase (conversations/safeguarding.py) the young person gets, at once and in their
language, a short caring reply with the service's helplines. Under the ``alert_lead`` policy an
enrolled young person's words also reach the safeguarding lead(s), with an "Acknowledge" button;
an alert nobody acknowledges within ``CHECKIN_ALERT_ESCALATE_MINUTES`` goes to the second lead(s)
(:func:`escalate_due`, run by the periodic job). Alerts, acknowledgements and escalations are in
the audit log; message text never appears in logs or in the audit log.

Admins name the leads with ``/safeguarding STAFF_ID lead|second|off``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ExtBot

from conversations import buttons
from conversations.checkin import describe
from conversations.presses import pressed
from conversations.runtime import Context, Runtime
from conversations.safeguarding import Match, explain, match_risk
from conversations.sending import answer_press, send, send_lines, tell
from conversations.texts import risk_reply
from core.i18n import Translator
from storage import alerts, audit, enrolments, handled, staff
from storage.alerts import FIRST, SECOND, Alert
from storage.records import Enrolment, StaffMember

log = logging.getLogger(__name__)

ALERT_TEXT_MAX = 2500  # keeps the lead's message under Telegram's 4096 characters
AGREED = (enrolments.ACTIVE, enrolments.STOPPED, enrolments.EXITED)


async def check_free_text(
    rt: Runtime,
    bot: ExtBot[None],
    chat_id: int,
    t: Translator,
    enrolment: Enrolment | None,
    text: str,
    source: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    update_id: int | None = None,
) -> Match | None:
    """Signpost (and, by policy, alert) when ``text`` holds a risk phrase; None when it does not.

    ``t`` is the writer's language. Strangers and people who have not agreed yet are signposted
    only: nothing about them is stored, and they have not agreed to alerts. The update's id is
    recorded with the alert (or alone, when signposting only): a redelivered update finds it and
    sends nothing again.
    """
    found = match_risk(text, t.code, rt.risk_lists)
    if found is None:
        return None
    policy = rt.settings.safeguarding_policy
    agreed = enrolment is not None and enrolment.status in AGREED
    alerting = policy == "alert_lead" and agreed
    now = rt.clock.now()
    alert_id: int | None = None
    async with rt.db.transaction() as conn:
        if not await handled.first_time(conn, update_id, now):
            log.info("a redelivered risk message changed nothing")
            return found
        if alerting and enrolment is not None:
            alert_id = await alerts.create(
                conn,
                enrolment_id=enrolment.id,
                category=found.category,
                source=source,
                text=text.strip()[:ALERT_TEXT_MAX],
                now=now,
                rule=found.rule,
            )
    reply = risk_reply(t, rt.settings.helplines, policy if alerting else "signpost_only")
    await send(bot, chat_id, reply, markup)
    log.info("a risk rule matched (%s, rule %s)", found.category, found.rule)
    if alert_id is not None:
        await send_new_alert(rt, bot, alert_id)
    return found


async def send_new_alert(rt: Runtime, bot: ExtBot[None], alert_id: int) -> None:
    """Send a stored alert to the first lead(s); escalate at once if none can be reached."""
    now = rt.clock.now()
    async with rt.db.read() as conn:
        alert = await alerts.by_id(conn, alert_id)
        first = await alerts.leads(conn, FIRST)
    assert alert is not None
    told = await _send_alert(rt, bot, alert, first, escalated=False)
    async with rt.db.transaction() as conn:
        await audit.by_system(
            conn,
            action="alert_created",
            scope=f"alert:{alert_id} {alert.category} (rule {alert.rule}), {alert.source}; "
            f"sent to {told} lead(s)",
            now=now,
        )
    if told == 0:
        log.warning("a safeguarding alert reached no lead; escalating now")
        await _escalate(rt, bot, alert)


async def escalate_due(rt: Runtime, bot: ExtBot[None]) -> int:
    """Repeat to the second lead(s) every alert unacknowledged for the set time; how many."""
    now = rt.clock.now()
    wait = timedelta(minutes=rt.settings.alert_escalate_minutes)
    async with rt.db.read() as conn:
        due = await alerts.due_for_escalation(conn, now - wait)
    done = 0
    for alert in due:
        done += await _escalate(rt, bot, alert)
    return done


async def _escalate(rt: Runtime, bot: ExtBot[None], alert: Alert) -> int:
    """Claim one alert for escalation and send it on; 0 if another process or a lead got there."""
    async with rt.db.transaction() as conn:
        claimed = await alerts.mark_escalated(conn, alert.id, rt.clock.now())
        second = await alerts.leads(conn, SECOND) if claimed else []
        if claimed and not second:  # no second lead: remind the first one(s)
            second = await alerts.leads(conn, FIRST)
    if not claimed:
        return 0
    told = await _send_alert(rt, bot, alert, second, escalated=True)
    async with rt.db.transaction() as conn:
        await audit.by_system(
            conn,
            action="alert_escalated",
            scope=f"alert:{alert.id}; sent to {told} lead(s)",
            now=rt.clock.now(),
        )
    if told == 0:
        log.error("an unacknowledged safeguarding alert could not reach any lead")
    return 1


async def _send_alert(
    rt: Runtime, bot: ExtBot[None], alert: Alert, leads: list[StaffMember], *, escalated: bool
) -> int:
    """Send the alert to each lead who has joined; how many it reached."""
    async with rt.db.read() as conn:
        enrolment = await enrolments.by_id(conn, alert.enrolment_id)
        key_worker = (
            await staff.staff_by_id(conn, enrolment.key_worker_id)
            if enrolment and enrolment.key_worker_id
            else None
        )
    if enrolment is None:
        return 0
    told = 0
    for lead in leads:
        if lead.chat_id is None or not lead.active:
            continue
        t = rt.translator(lead.language)
        rule = explain(alert.rule, rt.risk_lists) if alert.rule else None
        text = alert_message(
            t,
            rt.settings.zone,
            alert,
            enrolment,
            key_worker,
            escalated=escalated,
            rule_source=rule.source if rule else None,
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t._("✅ Acknowledge"),
                        callback_data=buttons.encode(buttons.AckAlert(alert.id)),
                    )
                ]
            ]
        )
        if await send(bot, lead.chat_id, text, markup) is not None:
            told += 1
    return told


def when(t: Translator, moment: datetime, zone: ZoneInfo) -> str:
    """A date and 24-hour time in the service's time zone, in the reader's language."""
    local = moment.astimezone(zone)
    return (
        f"{t.date(local)} {t.isolate(format_time(local, 'HH:mm', locale=t.language.babel_locale))}"
    )


def category_name(t: Translator, category: str) -> str:
    names = {
        "self_harm": t._("self-harm or suicide"),
        "abuse": t._("abuse or violence"),
        "exploitation": t._("exploitation"),
        "missing": t._("going missing"),
        "danger": t._("immediate danger"),
    }
    return names.get(category, t.isolate(category))


def alert_message(
    t: Translator,
    zone: ZoneInfo,
    alert: Alert,
    enrolment: Enrolment,
    key_worker: StaffMember | None,
    *,
    escalated: bool,
    rule_source: str | None = None,
) -> str:
    """What a safeguarding lead reads: who, their key worker, when, what they wrote, and why
    the alert fired (the rule's id, and the rule as written while their words are kept)."""
    lines = [
        t._("⚠️ Safeguarding alert: not yet acknowledged by anyone.")
        if escalated
        else t._("⚠️ Safeguarding alert"),
        t._("A young person wrote something that may mean they are at risk ({category}).").format(
            category=category_name(t, alert.category)
        ),
        t._("Young person: {who}").format(who=describe(t, enrolment)),
        t._("Key worker: {name}").format(
            name=t.isolate(key_worker.name) if key_worker else t._("none")
        ),
        t._("Time: {when}").format(when=when(t, alert.created_at, zone)),
        t._('In their answer to "anything else?":')
        if alert.source == "comment"
        else t._("In a message to the bot:"),
        t.isolate(alert.text) if alert.text else t._("(they have since deleted what they wrote)"),
        *why(t, alert, rule_source),
        "",
        t._(
            "They were shown the helplines and told to call 999 if they are in danger now. "
            "Please acknowledge, then follow your service's safeguarding procedure."
        ),
    ]
    return t.message("\n".join(lines))


def why(t: Translator, alert: Alert, rule_source: str | None) -> list[str]:
    """The rule that raised the alert: its id always; the rule as written only while the young
    person's words are kept (it would hint at what they deleted)."""
    if not alert.rule:
        return []
    if rule_source and alert.text:
        return [
            t.pgettext("staff", "Why: risk rule {rule}: {source}").format(
                rule=t.isolate(alert.rule), source=t.isolate(rule_source)
            )
        ]
    return [t.pgettext("staff", "Why: risk rule {rule}").format(rule=t.isolate(alert.rule))]


async def on_acknowledge(update: Update, context: Context) -> None:
    """A lead pressed "Acknowledge": record it once, tell them, and tell the other leads."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.AckAlert)
    if read is None:
        return
    press, action = read
    query = press.query
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        member = await staff.staff_by_chat(conn, press.chat_id)
        rank = await alerts.lead_rank(conn, member.id) if member else None
        alert = await alerts.by_id(conn, action.alert_id)
        done = False
        if member is not None and rank is not None and alert is not None:
            done = await alerts.acknowledge(conn, alert.id, member.id, now)
            if done:
                await audit.by_staff(
                    conn, member.id, action="alert_acknowledged", scope=f"alert:{alert.id}", now=now
                )
            alert = await alerts.by_id(conn, alert.id)
        others = await alerts.all_leads(conn)
    t = rt.translator(member.language if member else None)
    if member is None or rank is None or alert is None:
        await answer_press(query, t._("This button no longer works."))
        return
    if not done:
        async with rt.db.read() as conn:
            by = await staff.staff_by_id(conn, alert.acknowledged_by or 0)
        await answer_press(
            query, t._("Already acknowledged by {name}.").format(name=by.name if by else "?")
        )
        return
    await answer_press(query, t._("Acknowledged. Thank you."))
    await tell(
        context.bot,
        press.chat_id,
        t,
        t._("You acknowledged this alert at {when}. It is recorded in the audit log.").format(
            when=when(t, now, rt.settings.zone)
        ),
    )
    log.info("a safeguarding alert was acknowledged")
    for other, _rank in others:
        if other.id == member.id or other.chat_id is None:
            continue
        if _rank == SECOND and alert.escalated_at is None:
            continue  # the second lead never heard of it
        ot = rt.translator(other.language)
        await tell(
            context.bot,
            other.chat_id,
            ot,
            ot._("{name} acknowledged the safeguarding alert from {when}.").format(
                name=ot.isolate(member.name), when=when(ot, alert.created_at, rt.settings.zone)
            ),
        )


RANKS = {"lead": FIRST, "second": SECOND, "off": None}


async def safeguarding_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """/safeguarding [STAFF_ID lead|second|off]: name the safeguarding leads, or list them."""
    assert update.effective_chat is not None
    t = rt.translator(member.language)
    args = context.args or []
    now = rt.clock.now()
    if len(args) == 2 and args[0].isdigit() and args[1].lower() in RANKS:
        rank = RANKS[args[1].lower()]
        async with rt.db.transaction() as conn:
            changed = await alerts.set_lead(conn, int(args[0]), rank)
            if changed:
                await audit.by_staff(
                    conn,
                    member.id,
                    action="safeguarding_lead",
                    scope=f"staff:{int(args[0])} {args[1].lower()}",
                    now=now,
                )
        if not changed:
            await tell(
                context.bot,
                update.effective_chat.id,
                t,
                t._("There is no staff member with that id. Send /staff to see them."),
            )
            return
    elif args:
        await tell(context.bot, update.effective_chat.id, t, safeguarding_help(t))
        return
    async with rt.db.read() as conn:
        leads = await alerts.all_leads(conn)
    lines = [t._("Safeguarding leads (they get alerts when the policy is alert_lead):")]
    lines += [
        t._("• {id}: {name}, {rank}").format(
            id=t.isolate(lead.id),
            name=t.isolate(lead.name),
            rank=t._("lead") if rank == FIRST else t._("second lead"),
        )
        for lead, rank in leads
    ] or [t._("• nobody yet")]
    lines += ["", safeguarding_help(t)]
    await send_lines(context.bot, update.effective_chat.id, t, lines)


def safeguarding_help(t: Translator) -> str:
    return t._(
        "/safeguarding id lead|second|off: make a staff member the safeguarding lead (gets "
        "alerts), the second lead (gets alerts nobody acknowledged in time), or neither, like "
        "/safeguarding 7 lead"
    )
