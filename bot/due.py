"""``checkin-bot due``: what the scheduler (``bot/schedule.py``) would do at a given time, without
claiming or sending anything."""

from __future__ import annotations

from datetime import datetime

from conversations.planning import zone_of
from conversations.prompts import (
    ActionKind,
    PromptState,
    decide,
    resolve_collision,
)
from conversations.runtime import Runtime
from core.prompt_status import PromptStatus
from storage import checkins, enrolments, prompts
from storage.prompts import Prompt
from storage.records import Checkin, Enrolment


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
    if prompt.status == PromptStatus.SENDING:
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
