"""Retention: identifying data is deleted a set time after exit, or after a long silence.

:func:`removal_due` is the pure decision; :func:`run_retention` (called by the periodic job, at
most once an hour) applies it to everyone and records what it removed in the audit log, as counts
only. A month is a calendar month: exit on 31 January + 1 month is 28 (or 29) February.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from conversations.checkpoints import add_months
from conversations.runtime import Runtime
from storage import audit, handled, retention
from storage.retention import Removed

log = logging.getLogger(__name__)

EVERY = timedelta(hours=1)
BATCH = 500


def months_after(moment: datetime, months: int) -> datetime:
    """The same time of day, ``months`` calendar months later (clamped to the month's end)."""
    return datetime.combine(add_months(moment.date(), months), moment.timetz())


def removal_due(
    exit_at: datetime | None,
    last_active: datetime,
    now: datetime,
    *,
    retention_months: int,
    silence_months: int,
) -> Literal["exit", "silence"] | None:
    """Why a young person's identifying data is due for deletion at ``now``, or None."""
    if exit_at is not None and now >= months_after(exit_at, retention_months):
        return "exit"
    if now >= months_after(last_active, silence_months):
        return "silence"
    return None


async def run_retention(rt: Runtime, *, force: bool = False) -> Removed | None:
    """Delete what is due; None when it ran less than an hour ago (unless ``force``)."""
    now = rt.clock.now()
    last = rt.retention_last_run
    if not force and last is not None and now - last < EVERY:
        return None
    rt.retention_last_run = now
    settings = rt.settings
    async with rt.db.read() as conn:
        everyone = await retention.activities(conn)
    due = [
        a.enrolment_id
        for a in everyone
        if removal_due(
            a.exit_at,
            a.last_active,
            now,
            retention_months=settings.retention_months,
            silence_months=settings.silence_months,
        )
    ][:BATCH]
    async with rt.db.transaction() as conn:
        await handled.forget_before(conn, now - timedelta(days=handled.KEEP_DAYS))
        removed = await retention.clear_expired_invite_labels(conn, now)
        for enrolment_id in due:
            removed += await retention.remove_identifying(conn, enrolment_id, now)
        if removed != Removed():
            await audit.by_system(
                conn,
                action="retention",
                scope=(
                    f"removed: {removed.people} people, {removed.comments} comments, "
                    f"{removed.alert_texts} alert texts, {removed.contact_requests} contact "
                    f"requests, {removed.invite_labels} invite labels"
                ),
                now=now,
            )
    if removed.people:
        log.info("retention removed identifying data of %d people", removed.people)
    return removed
