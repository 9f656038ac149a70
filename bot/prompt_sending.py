"""Sending one prompt or its reminder: the message and its "Start" button, then the steps of a
send (wait for the pacer, mark it *sending*, hand it to Telegram, record the outcome), and the
:class:`TickReport` a tick fills in. The tick that claims the prompts is in bot/schedule.py.

Only a row marked *sending* can have reached Telegram, so only such a row becomes *uncertain*
when its process died; marking is a compare-and-set on the claim, so a process that lost its
rows to another never sends them. Logs carry the checkpoint and status only (no ids, no text).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from conversations import buttons
from conversations.checkin import hand_over
from conversations.checkpoints import EXIT
from conversations.planning import plan_enrolment
from conversations.runtime import Runtime
from conversations.wording import checkin_name
from core.prompt_status import PromptStatus
from storage import enrolments, prompts
from storage.prompts import Prompt
from storage.records import Enrolment

log = logging.getLogger(__name__)

STEPS = ("claimed", "opened", "paced", "handed")
"""The steps of a send where a test may kill the process (``Runtime.send_steps``)."""


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
    deferred: int = 0  # put back, untried, because Telegram said "retry after"
    standby: bool = False  # another process holds the fan-out lease
    updates: int = 0


def at_step(rt: Runtime, name: str) -> None:
    """A send reached step ``name`` (one of :data:`STEPS`): tests may kill the process here."""
    if rt.send_steps is not None:
        rt.send_steps(name)


def prompt_message(
    rt: Runtime,
    language: str,
    checkpoint: str,
    checkin_id: int,
    *,
    reminder: bool,
    started: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    """The text and "Start" button of a prompt or its one reminder ("Carry on" when the
    young person has already answered some of it)."""
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
            "Hi! It's time for your {checkin}: a few short statements about "
            "working with your key worker. It takes about a minute, and you can skip "
            "any of them."
        ).format(checkin=checkin_name(t, checkpoint, staff=False))
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
                    t._("▶️ Carry on") if started else t._("▶️ Start"),
                    callback_data=buttons.encode(buttons.Resume(checkin_id)),
                )
            ]
        ]
    )
    return t.message(text), markup


async def deliver(
    rt: Runtime,
    bot: ExtBot[None],
    enrolment: Enrolment,
    prompt: Prompt,
    checkin_id: int,
    language: str,
    *,
    reminder: bool,
    started: bool = False,
    report: TickReport,
) -> None:
    """Wait for the pacer, mark the send, hand it to Telegram, and record the outcome; the sent
    message then carries the check-in's live button."""
    text, markup = prompt_message(
        rt, language, prompt.checkpoint, checkin_id, reminder=reminder, started=started
    )
    assert enrolment.chat_id is not None
    await rt.pacer.wait()
    at_step(rt, "paced")
    now = rt.clock.now()
    if rt.send_held_until is not None and now < rt.send_held_until:
        # Another send of this batch was told "retry after": this one waits as long, untried.
        async with rt.db.transaction() as conn:
            await prompts.change(conn, prompt.id, now, next_check_at=rt.send_held_until)
        report.deferred += 1
        return
    marking: dict[str, object] = (
        {"reminded_at": now}
        if reminder
        else {"status": PromptStatus.SENDING, "sent_at": now, "attempts": prompt.attempts + 1}
    )
    async with rt.db.transaction() as conn:
        mine = await prompts.change_claimed(conn, prompt.id, worker=rt.worker, now=now, **marking)
    if not mine:
        log.info("prompt %s: taken over by another process; not sent here", prompt.checkpoint)
        return
    outcome: dict[str, object]
    sent: Message | None = None
    try:
        sent = await bot.send_message(enrolment.chat_id, text, reply_markup=markup)
        outcome = {"status": PromptStatus.SENT, "next_check_at": rt.clock.now()}
        report.reminded += reminder
        report.sent += not reminder
    except RetryAfter as exc:
        wait = (
            exc.retry_after
            if isinstance(exc.retry_after, timedelta)
            else timedelta(seconds=float(exc.retry_after))
        )
        until = rt.clock.now() + wait
        rt.send_held_until = max(until, rt.send_held_until or until)
        outcome = {
            "status": PromptStatus.SENT if reminder else PromptStatus.DUE,
            "next_check_at": until,
        }
        if reminder:
            outcome["reminded_at"] = None  # not sent: it is still to be sent
        report.retried += 1
        log.warning("Telegram said retry after %s s: every prompt waits", wait.total_seconds())
    except TimedOut:
        outcome = {"status": PromptStatus.UNCERTAIN, "next_check_at": rt.clock.now()}
        report.uncertain += 1
    except Forbidden:
        async with rt.db.transaction() as conn:
            await enrolments.set_reachable(conn, enrolment.chat_id, False, rt.clock.now())
            await prompts.stop_all(conn, enrolment.id, rt.clock.now())
        report.unreachable += 1
        log.info("prompt %s: young person unreachable", prompt.checkpoint)
        return
    except TelegramError as exc:
        backoff = timedelta(minutes=min(2**prompt.attempts, 240))
        outcome = {
            "status": PromptStatus.SENT if reminder else PromptStatus.DUE,
            "next_check_at": rt.clock.now() + backoff,
        }
        if reminder:
            outcome["reminded_at"] = None
        report.retried += 1
        log.warning(
            "prompt %s not sent (%s); retrying later", prompt.checkpoint, type(exc).__name__
        )
    at_step(rt, "handed")
    if reminder and outcome["status"] == PromptStatus.UNCERTAIN:
        outcome["status"] = (
            PromptStatus.SENT
        )  # the prompt itself was sent; only the reminder is unsure
    async with rt.db.transaction() as conn:
        await prompts.change(conn, prompt.id, rt.clock.now(), **outcome)
        if outcome["status"] != PromptStatus.DUE and not reminder and prompt.checkpoint == EXIT:
            await enrolments.mark_exit(conn, enrolment.id, rt.clock.now())
        if not reminder and rt.schedule.repeat is not None:  # plan the next repeat
            fresh = await enrolments.by_id(conn, enrolment.id)
            if fresh is not None:
                await plan_enrolment(conn, rt, fresh, rt.clock.now())
    log.info(
        "prompt %s -> %s%s", prompt.checkpoint, outcome["status"], " (reminder)" if reminder else ""
    )
    if sent is not None:
        await hand_over(rt, bot, enrolment.chat_id, checkin_id, sent.message_id)
