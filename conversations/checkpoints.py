"""Checkpoint schedule: which check-ins a young person gets, when, and what to do with each prompt.

Everything here is pure (no clock, no database); only :func:`load_schedule` reads a file. All
datetimes are aware; instants go in and come out in UTC. Local times use the young person's zone.

- ``start`` falls due at enrolment; numbered checkpoints (``3_months``...) at the start of the send
  window on the enrolment's *local* calendar date plus N months (31 Jan + 1 month = 28/29 Feb); an
  optional ``repeat`` continues every N months after the last numbered one while enrolled; ``exit``
  falls due at ``/exit`` or at the start of the send window on the planned end date, whichever is
  first. Nothing is planned at or after exit.
- Prompts and reminders go out only inside the local send window ``[start, end)``; one that falls
  due outside it, or while the bot was down, goes at the next allowed instant unless the check-in's
  window has closed (``due_at + close_after_days``), in which case it is *expired*, never dropped.
- A sent check-in that is not finished gets exactly one reminder at ``sent_at +
  reminder_after_days`` (moved into the send window) and closes at ``sent_at + close_after_days``.
  Days are exact 24-hour days.

Collision rule: a young person has at most one open check-in. If a checkpoint falls due while
another check-in is still open, the newer one waits until the older is finished or closes (its own
close deadline keeps running, so it expires, recorded, if it waits too long): a young person is
never asked to juggle two check-ins, and the one they may be midway through is not taken away.
The ``exit`` checkpoint is the exception: it replaces (closes) an open older check-in, because the
relationship is ending and the exit answers matter most; answers already given are kept.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from storage.records import EXIT as EXIT
from storage.records import START as START
from storage.records import THREE_MONTHS as THREE_MONTHS

_NAME = re.compile(r"[a-z0-9_]+")
_MONTHS_NAME = re.compile(r"(\d+)_months")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def months_of(name: str) -> int | None:
    """N for a checkpoint named ``N_months`` (``3_months``, a repeat's ``6_months``), else None."""
    named = _MONTHS_NAME.fullmatch(name)
    return int(named[1]) if named else None


def months_name(months: int) -> str:
    """The name of the checkpoint ``months`` months after enrolment: ``6_months``."""
    return f"{months}_months"


class ScheduleError(ValueError):
    """The schedule is unreadable or invalid; the message names the file and the field."""


class _FieldProblem(ValueError):
    """A validation problem about ``path``, a field below the validator's own location."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SendWindow(_Frozen):
    """Local hours ``[start, end)`` in which prompts and reminders may be sent."""

    start: time = time(10, 0)
    end: time = time(19, 0)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _parse_hhmm(cls, value: object) -> object:
        if isinstance(value, time):
            return value.replace(tzinfo=None)
        if isinstance(value, str) and (match := _HHMM.fullmatch(value.strip())):
            return time(int(match[1]), int(match[2]))
        raise ValueError(f'must be a time in quotes such as "10:00" (got {value!r})')

    @model_validator(mode="after")
    def _start_before_end(self) -> SendWindow:
        if self.start >= self.end:
            raise _FieldProblem("end", f"must be later than start ({self.start:%H:%M})")
        return self


class CheckpointRule(_Frozen):
    """A configured checkpoint: ``start``, ``exit``, or one due ``after_months`` after enrolment."""

    name: str
    questionnaire: str = Field(min_length=1)
    enabled: bool = True
    after_months: int | None = Field(default=None, ge=1)

    @field_validator("name")
    @classmethod
    def _name_format(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"must use only a-z, 0-9 and _ (got {value!r})")
        return value

    @model_validator(mode="after")
    def _timing(self) -> CheckpointRule:
        if self.name in (START, EXIT):
            if self.after_months is not None:
                raise _FieldProblem("after_months", f"not allowed for {self.name!r}")
            return self
        if self.after_months is None:
            raise _FieldProblem("after_months", "is required (months after enrolment)")
        named = months_of(self.name)
        if named is not None and named != self.after_months:
            raise _FieldProblem("after_months", f"must be {named} for {self.name!r}")
        return self


class RepeatRule(_Frozen):
    """More checkpoints every ``every_months`` after the last numbered one, named ``N_months``."""

    every_months: int = Field(ge=1)
    questionnaire: str = Field(min_length=1)


_DEFAULT_QUESTIONNAIRE = "quality_experience"
_DEFAULT_CHECKPOINTS = (
    CheckpointRule(name=START, questionnaire=_DEFAULT_QUESTIONNAIRE),
    CheckpointRule(name=THREE_MONTHS, questionnaire=_DEFAULT_QUESTIONNAIRE, after_months=3),
    CheckpointRule(name=EXIT, questionnaire=_DEFAULT_QUESTIONNAIRE),
)


class ScheduleConfig(_Frozen):
    """A service's schedule. ``ScheduleConfig()`` is the default (start, 3 months, exit)."""

    send_window: SendWindow = SendWindow()
    reminder_after_days: int = Field(default=3, ge=1)
    close_after_days: int = Field(default=14, ge=1)
    checkpoints: tuple[CheckpointRule, ...] = _DEFAULT_CHECKPOINTS
    repeat: RepeatRule | None = None

    @field_validator("checkpoints")
    @classmethod
    def _unique(cls, rules: tuple[CheckpointRule, ...]) -> tuple[CheckpointRule, ...]:
        seen: dict[tuple[str, object], int] = {}
        for index, rule in enumerate(rules):
            for field, key in (("name", rule.name), ("after_months", rule.after_months)):
                earlier = seen.setdefault((field, key), index)
                if key is not None and earlier != index:
                    raise _FieldProblem(
                        f"[{index}].{field}", f"{key!r} is already used by checkpoints[{earlier}]"
                    )
        return rules

    @model_validator(mode="after")
    def _reminder_before_close(self) -> ScheduleConfig:
        if self.reminder_after_days >= self.close_after_days:
            raise _FieldProblem(
                "reminder_after_days",
                f"must be less than close_after_days ({self.close_after_days})",
            )
        return self

    def rule(self, name: str) -> CheckpointRule | None:
        """The configured rule called ``name``, if any."""
        return next((rule for rule in self.checkpoints if rule.name == name), None)

    @property
    def questionnaire_ids(self) -> frozenset[str]:
        """Every questionnaire the schedule uses (to check against those loaded at start-up)."""
        ids = {rule.questionnaire for rule in self.checkpoints}
        return frozenset(ids | ({self.repeat.questionnaire} if self.repeat else set()))


_MESSAGES = {
    "greater_than_equal": "must be at least {ge}",
    "missing": "is required",
    "extra_forbidden": "is not a known setting",
}


def _field_path(loc: tuple[int | str, ...], below: str) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    if below:
        path += below if below.startswith("[") or not path else f".{below}"
    return path or "(top level)"


def _describe(error: Any) -> str:
    ctx = error.get("ctx", {})
    cause = ctx.get("error")
    path = _field_path(error["loc"], cause.path if isinstance(cause, _FieldProblem) else "")
    if error["type"] == "value_error":
        return f"{path}: {cause}"
    template = _MESSAGES.get(error["type"], error["msg"][:1].lower() + error["msg"][1:])
    return f"{path}: {template.format(**ctx)}"


def parse_schedule(data: object, source: str = "schedule") -> ScheduleConfig:
    """Validate already-parsed YAML ``data``; errors name ``source`` and the field."""
    if not isinstance(data, dict):
        raise ScheduleError(
            f"{source}: must be a mapping of settings (see conversations/schedule.yaml)"
        )
    try:
        return ScheduleConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_describe(error)}" for error in exc.errors()]
        raise ScheduleError("\n".join(lines)) from None


def load_schedule(path: str | Path) -> ScheduleConfig:
    """Read and validate a schedule YAML file, raising :class:`ScheduleError` on any problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ScheduleError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScheduleError(f"{source}: is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{source}: not valid YAML: {exc}") from None
    return parse_schedule(data, source)


# --- calendar and clock arithmetic -------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to month end (31 Jan + 1 = 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def _utc(moment: datetime, name: str) -> datetime:
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
    return window.start <= _utc(now, "now").astimezone(tz).time() < window.end


def next_send_time(due_at: datetime, tz: ZoneInfo, window: SendWindow) -> datetime:
    """The earliest instant at or after ``due_at`` inside the local send window (UTC)."""
    due = _utc(due_at, "due_at")
    first_day = due.astimezone(tz).date() - timedelta(days=1)
    for offset in range(4):  # a day's window can be empty only when the zone skips a whole day
        day = first_day + timedelta(days=offset)
        opens = local_instant(day, window.start, tz)
        closes = local_instant(day, window.end, tz)
        candidate = max(due, opens)
        if candidate < closes:
            return candidate
    raise AssertionError(f"no send window within days of {due.isoformat()} in {tz.key}")


# --- which checkpoints, and when ---------------------------------------------------------------


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
    candidates = [_utc(exit_at, "exit_at")] if exit_at is not None else []
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

    Includes ones already due (the caller records them and :func:`decide` sends or expires them)
    and configured ones still to come; repeats are listed up to the first one after ``now``.
    ``exit`` is listed once ``exit_at`` or ``planned_end`` is known; nothing is planned after it.
    """
    enrolled = _utc(enrolled_at, "enrolled_at")
    now = _utc(now, "now")
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
        exit_rule = config.rule(EXIT)
        if exit_rule is not None and exit_rule.enabled:
            plan.append(PlannedCheckpoint(EXIT, exit_rule.questionnaire, end))
    return sorted(plan, key=lambda checkpoint: checkpoint.due_at)


# --- what to do with one prompt now ------------------------------------------------------------


class PromptStatus(StrEnum):
    """Where one (young person, checkpoint) prompt stands."""

    DUE = "due"
    SENDING = "sending"
    SENT = "sent"
    UNCERTAIN = "uncertain"
    ANSWERED = "answered"
    EXPIRED = "expired"
    UNREACHABLE = "unreachable"


OPEN_STATUSES = frozenset({PromptStatus.SENDING, PromptStatus.SENT, PromptStatus.UNCERTAIN})
_ACTIONABLE = frozenset({PromptStatus.DUE, PromptStatus.SENT, PromptStatus.UNCERTAIN})


@dataclass(frozen=True, slots=True)
class PromptState:
    """The stored state of one prompt, as :func:`decide` needs it.

    ``started`` does not change the decision (one reminder either way); the caller may use it to
    word the reminder ("carry on" rather than "start").
    """

    checkpoint: str
    status: PromptStatus
    due_at: datetime
    sent_at: datetime | None = None
    reminded_at: datetime | None = None
    started: bool = False
    finished: bool = False

    def __post_init__(self) -> None:
        _utc(self.due_at, "due_at")
        if self.status in (PromptStatus.SENT, PromptStatus.UNCERTAIN) and self.sent_at is None:
            raise ValueError(f"a {self.status} prompt needs sent_at")

    @property
    def is_open(self) -> bool:
        """Sent (or being sent) and neither finished nor closed: blocks other check-ins."""
        return self.status in OPEN_STATUSES and not self.finished


class ActionKind(StrEnum):
    """What the scheduler should do with a prompt."""

    WAIT = "wait"
    SEND_NOW = "send_now"
    REMIND_NOW = "remind_now"
    EXPIRE = "expire"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class Action:
    """A decision; ``until`` (UTC) is set only for ``WAIT``: look at the prompt again then."""

    kind: ActionKind
    until: datetime | None = None

    @classmethod
    def wait_until(cls, moment: datetime) -> Action:
        """Do nothing before ``moment``."""
        return cls(ActionKind.WAIT, moment)


SEND_NOW = Action(ActionKind.SEND_NOW)
REMIND_NOW = Action(ActionKind.REMIND_NOW)
EXPIRE = Action(ActionKind.EXPIRE)
NOTHING = Action(ActionKind.NOTHING)


def decide(prompt: PromptState, now: datetime, config: ScheduleConfig, tz: ZoneInfo) -> Action:
    """What to do with ``prompt`` at ``now``; collisions are the caller's (see module docstring).

    ``sending`` (in flight), finished, answered, expired and unreachable prompts need nothing.
    An ``uncertain`` send is never re-sent nor reminded (it may have arrived) but still closes.
    """
    now = _utc(now, "now")
    if prompt.finished or prompt.status not in _ACTIONABLE:
        return NOTHING
    if prompt.status is PromptStatus.DUE:
        return _decide_unsent(_utc(prompt.due_at, "due_at"), now, config, tz)
    return _decide_sent(prompt, now, config, tz)


def _decide_unsent(due: datetime, now: datetime, config: ScheduleConfig, tz: ZoneInfo) -> Action:
    deadline = due + timedelta(days=config.close_after_days)
    if now >= deadline:
        return EXPIRE
    send_at = next_send_time(max(now, due), tz, config.send_window)
    if send_at <= now:
        return SEND_NOW
    return Action.wait_until(min(send_at, deadline))


def _decide_sent(
    prompt: PromptState, now: datetime, config: ScheduleConfig, tz: ZoneInfo
) -> Action:
    assert prompt.sent_at is not None  # checked in PromptState.__post_init__
    sent = _utc(prompt.sent_at, "sent_at")
    closes = sent + timedelta(days=config.close_after_days)
    if now >= closes:
        return EXPIRE
    if prompt.status is PromptStatus.UNCERTAIN or prompt.reminded_at is not None:
        return Action.wait_until(closes)
    due = max(now, sent + timedelta(days=config.reminder_after_days))
    remind_at = next_send_time(due, tz, config.send_window)
    if remind_at >= closes:
        return Action.wait_until(closes)
    return REMIND_NOW if remind_at <= now else Action.wait_until(remind_at)


def resolve_collision(open_checkpoint: str, new_checkpoint: str) -> Literal["wait", "replace"]:
    """What a newly due checkpoint does while ``open_checkpoint`` is still open.

    ``exit`` replaces (the caller closes the older check-in as expired, keeping its answers);
    anything else waits until the older one is finished or closes.
    """
    return "replace" if new_checkpoint == EXIT and open_checkpoint != EXIT else "wait"
