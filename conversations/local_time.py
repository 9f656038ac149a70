"""Calendar and clock arithmetic in a young person's time zone: local instants and the send window.

Pure (no clock, no database). All datetimes are aware; instants go in and come out in UTC. Local
times use the young person's zone. Prompts and reminders go out only inside the local send window
``[start, end)``; in a gap (clocks going forward) a local time is the moment the clocks jump.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conversations.checkpoints import SendWindow


def as_utc(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC; ``name`` says which argument was naive, when it was."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment.astimezone(UTC)


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The earliest instant (UTC) at which the local clock in ``tz`` reads ``day at`` or later.

    In a fold (clocks going back) this is the first occurrence; in a gap (clocks going forward)
    it is the moment the clocks jump, e.g. 01:30 on 29 March 2026 in London gives 01:00 UTC.
    """
    naive = datetime.combine(day, at.replace(tzinfo=None))
    first = naive.replace(tzinfo=tz).astimezone(UTC)
    if _wall(first, tz) == naive:
        return first
    # In a gap: fold=1 lies before the jump, fold=0 after it; find the jump to the second.
    low = int(naive.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), tz) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def is_within_window(now: datetime, tz: ZoneInfo, window: SendWindow) -> bool:
    """Whether the local clock in ``tz`` at ``now`` is inside ``[window.start, window.end)``."""
    return window.start <= as_utc(now, "now").astimezone(tz).time() < window.end


def next_send_time(due_at: datetime, tz: ZoneInfo, window: SendWindow) -> datetime:
    """The earliest instant at or after ``due_at`` inside the local send window (UTC)."""
    due = as_utc(due_at, "due_at")
    first_day = due.astimezone(tz).date() - timedelta(days=1)
    for offset in range(4):  # a day's window can be empty only when the zone skips a whole day
        day = first_day + timedelta(days=offset)
        opens = local_instant(day, window.start, tz)
        closes = local_instant(day, window.end, tz)
        candidate = max(due, opens)
        if candidate < closes:
            return candidate
    raise AssertionError(f"no send window within days of {due.isoformat()} in {tz.key}")
