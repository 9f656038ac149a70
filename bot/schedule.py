"""The periodic job that plans, claims and sends checkpoint prompts, reminders and closings.

One job (PTB's JobQueue, which runs APScheduler) calls :func:`tick`. Each tick claims the prompt
rows whose ``next_check_at`` has come (storage/prompts.py), asks the pure
:func:`conversations.prompts.decide` what to do with each, and does it:

- send the prompt (a new check-in, with a "Start" button), a reminder, or nothing yet;
- mark it expired when its window has closed (never dropped without trace);
- hold it while another check-in is open (``exit`` replaces the open one instead);
- on Telegram's answers: "retry after" holds every prompt (the rest of the batch, and every
  later tick) for that long; a time-out leaves the prompt *uncertain* (never resent);
  "blocked" marks the young person unreachable; other errors retry with back-off.

**One send budget.** Telegram's ~30 messages a second is per bot, while the pacer is per
process: only the holder of the ``fan_out`` lease (storage/leases.py) claims and sends prompts.
It renews the lease with every batch; when it dies, another process takes the lease once it has
expired (:data:`FAN_OUT_LEASE`) and at once takes back the rows the dead one had claimed.
Replies to people's own messages and presses are sent by whichever process handles them.

**A kill loses no prompt.** The steps of a send (:data:`STEPS`): claim; open its check-in;
wait for the pacer; mark it *sending* and hand it to Telegram at once; record the outcome. Only
a row marked *sending* can have reached Telegram, so only such a row becomes *uncertain* when
its process died; a row that died earlier is simply sent by the next holder. Marking is a
compare-and-set on the claim, so a process that lost its rows to another never sends them.

Every state change is logged at info level with the checkpoint and status only (no ids, no text).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.ext import ExtBot

from bot.prompt_sending import STEPS, TickReport, at_step, deliver
from conversations.checkin import checkin_language
from conversations.planning import zone_of
from conversations.prompts import (
    ActionKind,
    PromptState,
    decide,
    resolve_collision,
)
from conversations.questionnaire import first_step
from conversations.runtime import Runtime
from conversations.sending import remove_buttons
from conversations.updates import deliver_due
from core.prompt_status import PromptStatus
from storage import checkins, enrolments, leases, prompts
from storage.prompts import Prompt
from storage.records import Checkin, Enrolment

__all__ = [
    "BATCH",
    "CLAIM_LEASE",
    "FAN_OUT_LEASE",
    "STEPS",
    "TickReport",
    "release_fan_out",
    "tick",
]

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)
"""Claimed rows are hidden from others this long; a batch takes at most :data:`BATCH_SECONDS`."""
FAN_OUT_LEASE = timedelta(seconds=60)
"""Another process takes the fan-out over this long after its holder last renewed it."""
HOLD = timedelta(hours=6)
BATCH = 200
BATCH_SECONDS = 30  # a batch is at most this many seconds of sends at CHECKIN_SEND_RATE
CONCURRENCY = 8


# --- the tick ---------------------------------------------------------------------------------


async def tick(rt: Runtime, bot: ExtBot[None]) -> TickReport:
    """Claim every prompt whose time has come and act on it, if this process holds the fan-out
    lease (else ``standby``); returns what was done."""
    report = TickReport()
    gate = asyncio.Semaphore(CONCURRENCY)
    limit = max(1, min(BATCH, int(rt.settings.send_rate * BATCH_SECONDS)))

    async def one(prompt: Prompt) -> None:
        async with gate:
            await _handle(rt, bot, prompt, report)

    while True:
        now = rt.clock.now()
        async with rt.db.transaction() as conn:
            lease = await leases.take(
                conn, leases.FAN_OUT, holder=rt.worker, now=now, ttl=FAN_OUT_LEASE
            )
            if lease is None:
                report.standby = True
                return report
            if lease == "taken":  # rows claimed by a process that is gone are due again now
                await prompts.reclaim(conn, worker=rt.worker, now=now)
            if rt.send_held_until is not None and now < rt.send_held_until:
                return report  # Telegram said "retry after": nothing goes out until then
            batch = await prompts.claim(
                conn, now=now, lease=CLAIM_LEASE, limit=limit, worker=rt.worker
            )
        if lease == "taken":
            log.info("this process now sends the prompts (fan-out lease taken)")
        if not batch:
            break
        at_step(rt, "claimed")
        results = await asyncio.gather(*(one(p) for p in batch), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
    # "You said, we did" updates share the send budget (this process holds the fan-out lease):
    # after the prompts, in the send window.
    report.updates = await deliver_due(rt, bot, BATCH)
    return report


async def release_fan_out(rt: Runtime) -> None:
    """A clean shutdown: let another process take the fan-out at once."""
    async with rt.db.transaction() as conn:
        await leases.release(conn, leases.FAN_OUT, holder=rt.worker)


class _TakenOver(Exception):
    """This process lost a claimed row to another one (it held the fan-out lease too long)."""


async def _handle(rt: Runtime, bot: ExtBot[None], prompt: Prompt, report: TickReport) -> None:
    """Act on one claimed prompt; then take the buttons off the messages of check-ins that
    closed or were replaced (a closed check-in keeps no live buttons)."""
    stale: list[tuple[int, int]] = []
    try:
        await _act(rt, bot, prompt, report, stale)
    except _TakenOver:
        log.info("prompt %s: taken over by another process; not sent here", prompt.checkpoint)
        return
    for chat_id, message_id in stale:
        await remove_buttons(bot, chat_id, message_id)


async def _act(
    rt: Runtime,
    bot: ExtBot[None],
    prompt: Prompt,
    report: TickReport,
    stale: list[tuple[int, int]],
) -> None:
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
            await _set(
                conn, prompt, now, report, status=PromptStatus.UNREACHABLE, next_check_at=None
            )
            return
        if prompt.status == PromptStatus.SENDING:  # handed to Telegram by a process that died
            await _set(
                conn,
                prompt,
                now,
                report,
                status=PromptStatus.UNCERTAIN,
                sent_at=prompt.sent_at or now,
                next_check_at=now,
            )
            return
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
            await _set(conn, prompt, now, report, status=PromptStatus.ANSWERED, next_check_at=None)
            return
        action = decide(state, now, rt.schedule, zone_of(rt, enrolment))
        if action.kind is ActionKind.EXPIRE:
            if checkin is not None:
                await checkins.close_checkin(conn, checkin.id, now)
                if checkin.message_id is not None:
                    stale.append((enrolment.chat_id, checkin.message_id))
            await _set(conn, prompt, now, report, status=PromptStatus.EXPIRED, next_check_at=None)
            return
        if action.kind is ActionKind.WAIT:
            await prompts.change(conn, prompt.id, now, next_check_at=action.until)
            return
        if action.kind is ActionKind.NOTHING:
            await prompts.change(conn, prompt.id, now, next_check_at=None)
            return
        if enrolment.status == enrolments.STOPPED:  # /stop: hold until they come back or it closes
            await prompts.change(conn, prompt.id, now, next_check_at=now + HOLD)
            report.held += 1
            return
        if action.kind is not ActionKind.REMIND_NOW:
            live = await checkins.live_checkin(conn, enrolment.id)
            if live is not None and live.id == prompt.checkin_id:
                live = None  # opened by an earlier attempt at this same prompt
            if live is not None and not await _make_room(conn, rt, live, prompt, now, report):
                return
            if live is not None and live.message_id is not None:  # replaced by exit
                stale.append((enrolment.chat_id, live.message_id))
            checkin_id, language = await _open(conn, rt, enrolment, prompt, now)
            # Still due, and still claimed: a process dying from here on leaves it to be sent.
            if not await prompts.change_claimed(
                conn, prompt.id, worker=rt.worker, now=now, checkin_id=checkin_id
            ):
                raise _TakenOver  # another process has the row now: undo the check-in
    if action.kind is ActionKind.REMIND_NOW:
        assert checkin is not None
        await deliver(
            rt,
            bot,
            enrolment,
            prompt,
            checkin.id,
            checkin.language,
            reminder=True,
            started=state.started,
            report=report,
        )
        return
    at_step(rt, "opened")
    await deliver(rt, bot, enrolment, prompt, checkin_id, language, reminder=False, report=report)


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
        await prompts.change(conn, older.id, now, status=PromptStatus.EXPIRED, next_check_at=None)
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


async def _set(
    conn: AsyncConnection, prompt: Prompt, now: datetime, report: TickReport, **values: object
) -> None:
    await prompts.change(conn, prompt.id, now, **values)
    status = values.get("status")
    if status == PromptStatus.EXPIRED:
        report.expired += 1
    elif status == PromptStatus.UNCERTAIN:
        report.uncertain += 1
    elif status == PromptStatus.UNREACHABLE:
        report.unreachable += 1
    log.info("prompt %s -> %s", prompt.checkpoint, status)
