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

from babel.dates import format_skeleton

from conversations.checkpoints import SendWindow
from conversations.local_time import is_within_window, local_instant, next_send_time
from conversations.planning import zone_of
from conversations.runtime import Runtime
from core.prompt_status import PromptStatus
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


def default_start(zone: ZoneInfo, window: SendWindow, now: datetime | None = None) -> datetime:
    """Where a playground's clock starts: today (in the service's time zone) one hour into the
    send window, so a prompt due "now", or a whole number of months from now, goes at once."""
    local = (now or datetime.now(UTC)).astimezone(zone)
    start = (datetime.combine(local.date(), window.start) + timedelta(hours=1)).time()
    if not window.start <= start < window.end:
        start = window.start
    return local_instant(local.date(), start, zone)


def describe(moment: datetime, zone: ZoneInfo, locale: str = "en") -> str:
    """``Mon, Jan 5, 2026, 11:00 GMT``: a service time as people read it (through Babel)."""
    local = moment.astimezone(zone)
    day = format_skeleton("yMMMEd", local, locale=locale)
    return f"{day}, {format_skeleton('Hm', local, locale=locale)} {local.tzname()}"


async def waiting_for_window(
    rt: Runtime, chat_ids: Iterable[int], now: datetime
) -> datetime | None:
    """When the first prompt that has fallen due for these people, and is held only because it
    is outside the send window, will go (None if nothing waits for the window)."""
    window = rt.schedule.send_window
    found: list[datetime] = []
    async with rt.db.read() as conn:
        for chat_id in chat_ids:
            person = await enrolments.by_chat(conn, chat_id)
            if person is None or person.status != enrolments.ACTIVE:
                continue
            zone = zone_of(rt, person)
            if is_within_window(now, zone, window):
                continue
            opens = next_send_time(now, zone, window)
            for prompt in await prompts.of_enrolment(conn, person.id):
                if (
                    prompt.status in (PromptStatus.DUE, PromptStatus.SENT)
                    and prompt.next_check_at == opens
                ):
                    found.append(opens)
    return min(found, default=None)


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
