"""The playground's clock control: whole days, weeks and months, and "the next checkpoint".

Only the bot's injected :class:`~core.clock.ManualClock` moves; the machine's clock is never
touched. Months are calendar months in the service's time zone (31 January + 1 month = 28/29
February, 11:00 stays 11:00 across a change to summer time).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from conversations.runtime import Runtime
from storage import enrolments, prompts

STEPS = {"day": timedelta(days=1), "week": timedelta(weeks=1)}


def add_months(moment: datetime, months: int, zone: ZoneInfo) -> datetime:
    """``moment`` plus ``months`` calendar months, keeping the local time of day in ``zone``."""
    local = moment.astimezone(zone)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    moved = local.replace(year=year, month=month, day=day, tzinfo=None).replace(tzinfo=zone)
    return moved.astimezone(UTC)


def default_start(now: datetime | None = None) -> datetime:
    """Where a playground's clock starts: the real time, to the minute."""
    now = now or datetime.now(UTC)
    return now.replace(second=0, microsecond=0)


def describe(moment: datetime, zone: ZoneInfo) -> str:
    """``Mon 5 Jan 2026, 11:00 GMT``: a service time as people read it."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


async def next_event(rt: Runtime, chat_ids: Iterable[int], after: datetime) -> datetime | None:
    """The first time after ``after`` when the scheduler has something to do for these people.

    That is the earliest ``next_check_at`` of their prompts: a checkpoint falling due, a
    reminder, or a check-in closing unanswered.
    """
    found: list[datetime] = []
    async with rt.db.read() as conn:
        for chat_id in chat_ids:
            person = await enrolments.by_chat(conn, chat_id)
            if person is None:
                continue
            for prompt in await prompts.of_enrolment(conn, person.id):
                if prompt.next_check_at is not None and prompt.next_check_at > after:
                    found.append(prompt.next_check_at)
    return min(found, default=None)
