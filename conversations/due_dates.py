"""Which checkpoints a young person has, and when each falls due (pure).

- ``start`` falls due at enrolment; numbered checkpoints (``3_months``...) at the start of the send
  window on the enrolment's *local* calendar date plus N months (31 Jan + 1 month = 28/29 Feb); an
  optional ``repeat`` continues every N months after the last numbered one while enrolled; ``exit``
  falls due at ``/exit`` or at the start of the send window on the planned end date, whichever is
  first. Nothing is planned at or after exit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from conversations.checkpoints import (
    EXIT,
    CheckpointRule,
    RepeatRule,
    ScheduleConfig,
    add_months,
    months_name,
)
from conversations.local_time import as_utc, local_instant


@dataclass(frozen=True, slots=True)
class PlannedCheckpoint:
    """A checkpoint this young person has: its name, questionnaire and when it falls due (UTC)."""

    name: str
    questionnaire: str
    due_at: datetime
    months: int | None = None


def _exit_due(
    opens: time, enrolled: datetime, tz: ZoneInfo, exit_at: datetime | None, end_day: date | None
) -> datetime | None:
    candidates = [as_utc(exit_at, "exit_at")] if exit_at is not None else []
    if end_day is not None:
        candidates.append(local_instant(end_day, opens, tz))
    return max(enrolled, min(candidates)) if candidates else None


def _monthly(
    config: ScheduleConfig,
    enrol_day: date,
    tz: ZoneInfo,
    rule: CheckpointRule | RepeatRule,
    months: int,
) -> PlannedCheckpoint:
    name = rule.name if isinstance(rule, CheckpointRule) else months_name(months)
    due = local_instant(add_months(enrol_day, months), config.send_window.start, tz)
    return PlannedCheckpoint(name, rule.questionnaire, due, months)


def _repeats(
    config: ScheduleConfig, enrol_day: date, tz: ZoneInfo, end: datetime | None, now: datetime
) -> list[PlannedCheckpoint]:
    numbered = [rule.after_months for rule in config.checkpoints if rule.after_months is not None]
    months = max(numbered, default=0)
    planned: list[PlannedCheckpoint] = []
    while config.repeat is not None:  # up to exit, or up to the first one still in the future
        months += config.repeat.every_months
        checkpoint = _monthly(config, enrol_day, tz, config.repeat, months)
        if end is not None and checkpoint.due_at >= end:
            break
        planned.append(checkpoint)
        if checkpoint.due_at > now:
            break
    return planned


def checkpoint_due_dates(
    config: ScheduleConfig,
    enrolled_at: datetime,
    tz: ZoneInfo,
    *,
    exit_at: datetime | None = None,
    planned_end: date | None = None,
    now: datetime,
) -> list[PlannedCheckpoint]:
    """Every checkpoint this young person has and when it falls due, in order (UTC).

    Includes ones already due (the caller records them and
    :func:`conversations.prompts.decide` sends or expires them) and configured ones still to
    come; repeats are listed up to the first one after ``now``.
    ``exit`` is listed once ``exit_at`` or ``planned_end`` is known; nothing is planned after it.
    """
    enrolled = as_utc(enrolled_at, "enrolled_at")
    now = as_utc(now, "now")
    enrol_day = enrolled.astimezone(tz).date()
    end = _exit_due(config.send_window.start, enrolled, tz, exit_at, planned_end)
    plan: list[PlannedCheckpoint] = []
    for rule in config.checkpoints:
        if not rule.enabled or rule.name == EXIT:
            continue
        if rule.after_months is None:
            plan.append(PlannedCheckpoint(rule.name, rule.questionnaire, enrolled))
        else:
            plan.append(_monthly(config, enrol_day, tz, rule, rule.after_months))
    plan.extend(_repeats(config, enrol_day, tz, end, now))
    if end is not None:
        plan = [checkpoint for checkpoint in plan if checkpoint.due_at < end]
        exit_rule = config.switched_on(EXIT)
        if exit_rule is not None:
            plan.append(PlannedCheckpoint(EXIT, exit_rule.questionnaire, end))
    return sorted(plan, key=lambda checkpoint: checkpoint.due_at)
