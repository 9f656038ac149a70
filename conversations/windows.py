"""Whose digest and which period: scopes, windows (calendar quarters) and checkpoint order.

Pure, no I/O; :mod:`conversations.digest` re-exports these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from conversations.checkpoints import EXIT, START, months_of
from conversations.disclosure import SERVICE, NodeId

# ---------------------------------------------------------------------------------------------
# Records and scope


@dataclass(frozen=True)
class Scope:
    """Whose digest: one key worker's (``team`` and ``key_worker``), a team's, or the service's."""

    kind: Literal["key_worker", "team", "service"]
    team: str | None = None
    key_worker: str | None = None

    def __post_init__(self) -> None:
        wants = {"service": (False, False), "team": (True, False), "key_worker": (True, True)}
        if wants.get(self.kind) != (self.team is not None, self.key_worker is not None):
            raise ValueError(f"scope {self.kind!r} needs exactly the ids it names")

    @classmethod
    def service(cls) -> Scope:
        return cls("service")

    @classmethod
    def of_team(cls, team: str) -> Scope:
        return cls("team", team)

    @classmethod
    def of_key_worker(cls, team: str, key_worker: str) -> Scope:
        return cls("key_worker", team, key_worker)

    @property
    def node(self) -> NodeId:
        """This scope's group in the service tree."""
        if self.team is None:
            return SERVICE
        return (self.team,) if self.key_worker is None else (self.team, self.key_worker)


@dataclass(frozen=True)
class Window:
    """The instants ``since <= t < until`` (aware datetimes)."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.since >= self.until:
            raise ValueError("window must end after it starts")

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.since <= instant < self.until


def quarter_windows(at: datetime) -> tuple[Window, Window]:
    """The calendar quarter (UTC) so far up to *at*, and the whole quarter before it.

    Successive calls in one quarter share the start, as the cross-digest guarantee requires.
    """
    at = at.astimezone(UTC)
    start = datetime(at.year, (at.month - 1) // 3 * 3 + 1, 1, tzinfo=UTC)
    prev_year, prev_month = (
        (start.year, start.month - 3) if start.month > 3 else (start.year - 1, 10)
    )
    previous = datetime(prev_year, prev_month, 1, tzinfo=UTC)
    until = at if at > start else start + timedelta(microseconds=1)
    return Window(start, until), Window(previous, start)


def checkpoint_order(name: str) -> tuple[int, int, str]:
    """Sort key: ``start``, then ``N_months`` by N, then other names, then ``exit``."""
    months = months_of(name)
    if name == START:
        return (0, 0, name)
    if months is not None:
        return (1, months, name)
    return (3, 0, name) if name == EXIT else (2, 0, name)
