"""Planning a young person's checkpoints: which prompt rows exist, and when they fall due.

The pure decisions are in :mod:`conversations.due_dates`; this writes what they decide as
prompt rows, which the periodic job (``bot/schedule.py``) later claims and sends.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from conversations.checkpoints import EXIT
from conversations.due_dates import checkpoint_due_dates
from conversations.runtime import Runtime
from storage import prompts
from storage.records import Enrolment


def zone_of(rt: Runtime, enrolment: Enrolment) -> ZoneInfo:
    return ZoneInfo(enrolment.timezone) if enrolment.timezone else rt.settings.zone


async def plan_enrolment(
    conn: AsyncConnection, rt: Runtime, enrolment: Enrolment, now: datetime
) -> None:
    """Record every checkpoint this young person has so far (idempotent)."""
    if enrolment.enrolled_at is None:
        return
    for checkpoint in checkpoint_due_dates(
        rt.schedule,
        enrolment.enrolled_at,
        zone_of(rt, enrolment),
        exit_at=enrolment.exit_at,
        planned_end=enrolment.planned_end,
        now=now,
    ):
        await prompts.plan(
            conn,
            enrolment_id=enrolment.id,
            checkpoint=checkpoint.name,
            questionnaire_id=checkpoint.questionnaire,
            due_at=checkpoint.due_at,
            now=now,
        )


async def plan_exit(conn: AsyncConnection, rt: Runtime, enrolment_id: int) -> None:
    """Support has ended now: later checkpoints are dropped and the exit one falls due."""
    now = rt.clock.now()
    rule = rt.schedule.switched_on(EXIT)
    await prompts.drop_unsent_from(conn, enrolment_id, now)
    if rule is not None:
        await prompts.bring_forward_exit(conn, enrolment_id, rule.questionnaire, now)
