"""What to do with one prompt now: send it, remind, wait, or record it as expired (pure).

- A prompt goes out only inside the local send window; one that falls due outside it, or while the
  bot was down, goes at the next allowed instant unless the check-in's window has closed
  (``due_at + close_after_days``), in which case it is *expired*, never dropped.
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

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from conversations.checkpoints import EXIT, ScheduleConfig
from conversations.local_time import as_utc, next_send_time
from core.prompt_status import PromptStatus

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
        as_utc(self.due_at, "due_at")
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
    now = as_utc(now, "now")
    if prompt.finished or prompt.status not in _ACTIONABLE:
        return NOTHING
    if prompt.status is PromptStatus.DUE:
        return _decide_unsent(as_utc(prompt.due_at, "due_at"), now, config, tz)
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
    sent = as_utc(prompt.sent_at, "sent_at")
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
