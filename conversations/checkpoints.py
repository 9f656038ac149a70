"""The checkpoint schedule as data: which check-ins a service has, and its settings file.

Everything here is pure; only :func:`load_schedule` reads a file. The checkpoints are ``start``
(at enrolment), numbered ones ``N_months`` after enrolment (calendar months: :func:`add_months`),
an optional ``repeat`` every N months, and ``exit``. When each falls due is
:mod:`conversations.due_dates`; what to do with one prompt now (send, remind, wait, expire, and
the collision rule) is :mod:`conversations.prompts`; local times and the send window are
:mod:`conversations.local_time`.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, time
from pathlib import Path
from typing import Any

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

    def switched_on(self, name: str) -> CheckpointRule | None:
        """The rule called ``name`` when it is configured and enabled, else None."""
        rule = self.rule(name)
        return rule if rule is not None and rule.enabled else None

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


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to month end (31 Jan + 1 = 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))
