"""The periodic job that plans, claims and sends checkpoint prompts, reminders and closings.

One job (PTB's JobQueue, which runs APScheduler) calls :func:`tick`. Each tick claims the prompt
rows whose ``next_check_at`` has come (storage/prompts.py), asks the pure
:func:`conversations.checkpoints.decide` what to do with each, and does it:

- send the prompt (a new check-in, with a "Start" button), a reminder, or nothing yet;
- mark it expired when its window has closed (never dropped without trace);
- hold it while another check-in is open (``exit`` replaces the open one instead);
- on Telegram's answers: "retry after" puts the rest of the batch back for that long; a time-out
  leaves the prompt *uncertain* (never resent); "blocked" marks the young person unreachable;
  other errors retry with back-off. A row left *sending* by a crashed process becomes uncertain.

Every state change is logged at info level with the checkpoint and status only (no ids, no text).
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from conversations import buttons
from conversations.checkin import checkin_language
from conversations.checkpoints import (
    EXIT,
    ActionKind,
    PromptState,
    PromptStatus,
    decide,
    resolve_collision,
)
from conversations.planning import plan_enrolment, zone_of
from conversations.questionnaire import first_step
from conversations.runtime import Runtime
from conversations.updates import deliver_due
from conversations.wording import checkpoint_name
from storage import checkins, enrolments, prompts
from storage.prompts import Prompt
from storage.records import Checkin, Enrolment

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
HOLD = timedelta(hours=6)
BATCH = 200
CONCURRENCY = 8
WORKER = f"{os.uname().nodename}:{os.getpid()}"


@dataclass
class TickReport:
    """What one tick did, for the operator and the tests."""

    sent: int = 0
    reminded: int = 0
    expired: int = 0
    held: int = 0
    uncertain: int = 0
    unreachable: int = 0
    retried: int = 0
    updates: int = 0


# --- the tick ---------------------------------------------------------------------------------


async def tick(rt: Runtime, bot: ExtBot[None]) -> TickReport:
    """Claim every prompt whose time has come and act on it; returns what was done."""
    report = TickReport()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(prompt: Prompt) -> RetryAfter | None:
        async with gate:
            return await _handle(rt, bot, prompt, report)

    while True:
        now = rt.clock.now()
        async with rt.db.transaction() as conn:
            batch = await prompts.claim(conn, now=now, lease=LEASE, limit=BATCH, worker=WORKER)
        if not batch:
            break
        results = await asyncio.gather(*(one(p) for p in batch))
        if any(isinstance(r, RetryAfter) for r in results):
            return report
    # "You said, we did" updates share the send budget: after the prompts, in the send window.
    report.updates = await deliver_due(rt, bot, BATCH)
    return report


async def _handle(
    rt: Runtime, bot: ExtBot[None], prompt: Prompt, report: TickReport
) -> RetryAfter | None:
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        enrolment = await enrolments.by_id(conn, prompt.enrolment_id)
        checkin = await checkins.by_id(conn, prompt.checkin_id) if prompt.checkin_id else None
        if (
            enrolment is None
            or enrolment.chat_id is None
            or not enrolment.reachable
            or (enrolment.status in (enrolments.FORGOTTEN, enrolments.PENDING))
        ):
            await _set(conn, prompt, now, report, status="unreachable", next_check_at=None)
            return None
        if prompt.status == "sending":  # claimed by a process that died mid-send
            await _set(
                conn,
                prompt,
                now,
                report,
                status="uncertain",
                sent_at=prompt.sent_at or now,
                next_check_at=now,
            )
            return None
        state = PromptState(
            checkpoint=prompt.checkpoint,
            status=PromptStatus(prompt.status),
            due_at=prompt.due_at,
            sent_at=prompt.sent_at,
            reminded_at=prompt.reminded_at,
            started=checkin is not None
            and checkin.step != first_step(rt.questionnaire, checkin.checkpoint),
            finished=checkin is not None and checkin.status == checkins.FINISHED,
        )
        if state.finished:
            await _set(conn, prompt, now, report, status="answered", next_check_at=None)
            return None
        action = decide(state, now, rt.schedule, zone_of(rt, enrolment))
        if action.kind is ActionKind.EXPIRE:
            if checkin is not None:
                await checkins.close_checkin(conn, checkin.id, now)
            await _set(conn, prompt, now, report, status="expired", next_check_at=None)
            return None
        if action.kind is ActionKind.WAIT:
            await prompts.change(conn, prompt.id, now, next_check_at=action.until)
            return None
        if action.kind is ActionKind.NOTHING:
            await prompts.change(conn, prompt.id, now, next_check_at=None)
            return None
        if enrolment.status == enrolments.STOPPED:  # /stop: hold until they come back or it closes
            await prompts.change(conn, prompt.id, now, next_check_at=now + HOLD)
            report.held += 1
            return None
        if action.kind is ActionKind.REMIND_NOW:
            await prompts.change(conn, prompt.id, now, reminded_at=now, next_check_at=now)
        else:
            live = await checkins.live_checkin(conn, enrolment.id)
            if live is not None and live.id == prompt.checkin_id:
                live = None  # opened by an earlier attempt at this same prompt
            if live is not None and not await _make_room(conn, rt, live, prompt, now, report):
                return None
            checkin_id, language = await _open(conn, rt, enrolment, prompt, now)
            await prompts.change(
                conn,
                prompt.id,
                now,
                status="sending",
                checkin_id=checkin_id,
                sent_at=now,
                attempts=prompt.attempts + 1,
            )
    if action.kind is ActionKind.REMIND_NOW:
        assert checkin is not None
        return await _deliver(
            rt, bot, enrolment, prompt, checkin.id, checkin.language, reminder=True, report=report
        )
    return await _deliver(
        rt, bot, enrolment, prompt, checkin_id, language, reminder=False, report=report
    )


async def _make_room(
    conn: AsyncConnection,
    rt: Runtime,
    live: Checkin,
    prompt: Prompt,
    now: datetime,
    report: TickReport,
) -> bool:
    """Another check-in is open: ``exit`` replaces it; anything else waits."""
    if resolve_collision(live.checkpoint, prompt.checkpoint) == "wait":
        await prompts.change(conn, prompt.id, now, next_check_at=now + HOLD)
        report.held += 1
        log.info("prompt %s held: another check-in is open", prompt.checkpoint)
        return False
    await checkins.close_checkin(conn, live.id, now)
    older = await prompts.by_checkin(conn, live.id)
    if older is not None:
        await prompts.change(conn, older.id, now, status="expired", next_check_at=None)
    return True


async def _open(
    conn: AsyncConnection, rt: Runtime, enrolment: Enrolment, prompt: Prompt, now: datetime
) -> tuple[int, str]:
    """The check-in this prompt opens (reused from an earlier attempt) and its language."""
    q = rt.questionnaires.get(prompt.questionnaire_id, rt.questionnaire)
    language = checkin_language(rt, enrolment.language or rt.settings.default_language)
    if prompt.checkin_id is not None:
        return prompt.checkin_id, language
    checkin_id = await checkins.open_checkin(
        conn,
        enrolment_id=enrolment.id,
        checkpoint=prompt.checkpoint,
        questionnaire_id=q.id,
        questionnaire_version=q.version,
        language=language,
        step=first_step(q, prompt.checkpoint),
        team_id=enrolment.team_id,
        key_worker_id=enrolment.key_worker_id,
        now=now,
    )
    return checkin_id, language


def prompt_message(
    rt: Runtime, language: str, checkpoint: str, checkin_id: int, *, reminder: bool
) -> tuple[str, InlineKeyboardMarkup]:
    """The text and "Start" button of a prompt or its one reminder."""
    t = rt.translator(language)
    if reminder:
        first = t._(
            "A gentle reminder: your check-in is still open. It takes about a minute, "
            "and you can skip any statement."
        )
    elif checkpoint == EXIT:
        first = t._(
            "Your support is coming to an end. Would you tell us how working with your "
            "key worker felt? It takes about a minute, and you can skip any statement."
        )
    else:
        first = t._(
            "Hi! It's time for your {checkpoint} check-in: a few short statements about "
            "working with your key worker. It takes about a minute, and you can skip "
            "any of them."
        ).format(checkpoint=checkpoint_name(t, checkpoint, staff=False))
    text = "\n\n".join(
        (
            first,
            t._(
                "This chat is not watched all the time. If you are in danger now, call 999. "
                "Send /support for people you can talk to."
            ),
        )
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t._("▶️ Start"), callback_data=buttons.encode(buttons.Resume(checkin_id))
                )
            ]
        ]
    )
    return t.message(text), markup


async def _deliver(
    rt: Runtime,
    bot: ExtBot[None],
    enrolment: Enrolment,
    prompt: Prompt,
    checkin_id: int,
    language: str,
    *,
    reminder: bool,
    report: TickReport,
) -> RetryAfter | None:
    """Send a prompt or reminder and record the outcome."""
    text, markup = prompt_message(rt, language, prompt.checkpoint, checkin_id, reminder=reminder)
    assert enrolment.chat_id is not None
    outcome: dict[str, object]
    failure: RetryAfter | None = None
    try:
        await rt.pacer.wait()
        await bot.send_message(enrolment.chat_id, text, reply_markup=markup)
        outcome = {"status": "sent", "next_check_at": rt.clock.now()}
        report.reminded += reminder
        report.sent += not reminder
    except RetryAfter as exc:
        failure = exc
        wait = (
            exc.retry_after
            if isinstance(exc.retry_after, timedelta)
            else timedelta(seconds=float(exc.retry_after))
        )
        outcome = {"status": "sent" if reminder else "due", "next_check_at": rt.clock.now() + wait}
        report.retried += 1
    except TimedOut:
        outcome = {"status": "uncertain", "next_check_at": rt.clock.now()}
        report.uncertain += 1
    except Forbidden:
        async with rt.db.transaction() as conn:
            await enrolments.set_reachable(conn, enrolment.chat_id, False)
            await prompts.stop_all(conn, enrolment.id, rt.clock.now())
        report.unreachable += 1
        log.info("prompt %s: young person unreachable", prompt.checkpoint)
        return None
    except TelegramError as exc:
        backoff = timedelta(minutes=min(2**prompt.attempts, 240))
        outcome = {
            "status": "sent" if reminder else "due",
            "next_check_at": rt.clock.now() + backoff,
        }
        report.retried += 1
        log.warning(
            "prompt %s not sent (%s); retrying later", prompt.checkpoint, type(exc).__name__
        )
    if reminder and outcome["status"] == "uncertain":
        outcome["status"] = "sent"  # the prompt itself was sent; only the reminder is unsure
    async with rt.db.transaction() as conn:
        await prompts.change(conn, prompt.id, rt.clock.now(), **outcome)
        if outcome["status"] != "due" and not reminder and prompt.checkpoint == EXIT:
            await enrolments.mark_exit(conn, enrolment.id, rt.clock.now())
        if not reminder and rt.schedule.repeat is not None:  # plan the next repeat
            fresh = await enrolments.by_id(conn, enrolment.id)
            if fresh is not None:
                await plan_enrolment(conn, rt, fresh, rt.clock.now())
    log.info(
        "prompt %s -> %s%s", prompt.checkpoint, outcome["status"], " (reminder)" if reminder else ""
    )
    return failure


async def _set(
    conn: AsyncConnection, prompt: Prompt, now: datetime, report: TickReport, **values: object
) -> None:
    await prompts.change(conn, prompt.id, now, **values)
    status = values.get("status")
    if status == "expired":
        report.expired += 1
    elif status == "uncertain":
        report.uncertain += 1
    elif status == "unreachable":
        report.unreachable += 1
    log.info("prompt %s -> %s", prompt.checkpoint, status)


async def preview(rt: Runtime, at: datetime) -> list[str]:
    """``checkin-bot due``: what would happen at ``at`` (label, checkpoint, language, why)."""
    lines: list[str] = []
    async with rt.db.read() as conn:
        for prompt in await prompts.peek(conn, at):
            enrolment = await enrolments.by_id(conn, prompt.enrolment_id)
            if enrolment is None:
                continue
            live = await checkins.live_checkin(conn, enrolment.id)
            who = enrolment.label or f"(no label, #{enrolment.pseudonym[:6]})"
            lines.append(
                f"{who}\t{prompt.checkpoint}\t{enrolment.language or '-'}\t"
                f"{_verdict(rt, prompt, enrolment, live, at)}"
            )
    return lines


def _verdict(
    rt: Runtime, prompt: Prompt, enrolment: Enrolment, live: Checkin | None, at: datetime
) -> str:
    if not enrolment.reachable or enrolment.chat_id is None:
        return "held: unreachable"
    if enrolment.status == enrolments.STOPPED:
        return "held: stopped (/stop)"
    if prompt.status == "sending":
        return "uncertain: a send was interrupted"
    state = PromptState(
        prompt.checkpoint,
        PromptStatus(prompt.status),
        prompt.due_at,
        prompt.sent_at,
        prompt.reminded_at,
    )
    action = decide(state, at, rt.schedule, zone_of(rt, enrolment))
    if action.kind is ActionKind.WAIT:
        return f"held: quiet hours or waiting, until {action.until:%Y-%m-%d %H:%M} UTC"
    if action.kind is ActionKind.SEND_NOW and live is not None and prompt.checkin_id != live.id:
        if resolve_collision(live.checkpoint, prompt.checkpoint) == "wait":
            return "held: another check-in is open"
        return "send (replaces the open check-in)"
    return {
        ActionKind.SEND_NOW: "send",
        ActionKind.REMIND_NOW: "remind",
        ActionKind.EXPIRE: "expire (its window has closed)",
    }.get(action.kind, "nothing")
