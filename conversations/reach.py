"""Reach: how many young people can no longer be reached, decided across releases. Pure, no I/O.

Whether someone can be reached changes both ways (blocking and unblocking the bot, ``/stop`` and
back, ``/forgetme``), and they may move to another key worker; ``storage/reach.py`` keeps every
change with its time. Reach is then one yes/no answer per young person ("can no longer be
reached?"), decided exactly like response figures and answers
(:func:`conversations.publication.publish`, kind ``reach``): each young person enters their key
worker's queue when they enrol (or at the quarter's start), and re-enters at the back whenever
their reach or key worker changes; the queue is released in blocks of k per key worker, and the
state they held before stays in the reader's system as a member of its own for the releases
that counted it. So two digests differ by whole blocks of k, and a new release is decided given
every earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from conversations.disclosure import CountRange, NodeId, Shown, Status
from conversations.publication import latest_answers, publish
from conversations.windows import Window
from storage.records import AnswerRecord, PopulationRecord, ReachChange, ReleasedCell

REACH = "reach"
"""The release ledger's kind for reach figures."""
CELL = ("", "unreachable")
"""The one cell of reach figures: ``(checkpoint, item)``."""
REACHABLE, UNREACHABLE = 1, 4
"""The yes/no answer: 4 ("positive") when the young person can no longer be reached."""


@dataclass(frozen=True)
class ReachFigures:
    """How many young people can no longer be reached (blocked the bot, or ``/stop``), of the
    ``young_people`` counted (in blocks of k per key worker)."""

    status: Status
    young_people: int
    unreachable: CountRange | None


def history_of(person: PopulationRecord, since: datetime) -> Sequence[ReachChange]:
    """The person's reach history; without one, ``reachable`` from *since*."""
    if person.reach:
        return person.reach
    return (ReachChange(since, person.reachable, person.team, person.key_worker),)


def leaf_at(person: PopulationRecord, at: datetime) -> tuple[str, str]:
    """The person's key worker at *at* (their first one before their history starts)."""
    history = history_of(person, at)
    found = history[0]
    for change in history:
        if change.at <= at:
            found = change
    return (found.team, found.key_worker)


def moves_of(person: PopulationRecord, since: datetime, until: datetime) -> list[datetime]:
    """When, in ``(since, until)``, the person moved to another key worker."""
    history = history_of(person, since)
    return [
        b.at
        for a, b in pairwise(history)
        if since < b.at < until and (a.team, a.key_worker) != (b.team, b.key_worker)
    ]


def reach_events(population: Iterable[PopulationRecord], window: Window) -> list[AnswerRecord]:
    """Reach as answers to one yes/no question: the state at the window's start (or when they
    enrolled, if later), then every change in the window, each under the key worker then."""
    events = []
    for p in population:
        history = history_of(p, window.since)
        before = [c for c in history if c.at <= window.since]
        changes = [c for c in history if window.since < c.at < window.until]
        if before:
            changes.insert(0, before[-1])
        for c in changes:
            at = max(c.at, window.since)
            value = REACHABLE if c.reachable else UNREACHABLE
            events.append(
                AnswerRecord(p.respondent, c.team, c.key_worker, CELL[0], CELL[1], value, at, at)
            )
    return events


def reach_figures(
    population: Iterable[PopulationRecord],
    window: Window,
    node: NodeId,
    k: int,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime | None = None,
    reader: str = "",
) -> tuple[ReachFigures, list[ReleasedCell]]:
    """How many of the group's young people can no longer be reached, given every earlier
    release of reach figures; and the new releases to record first."""
    latest = latest_answers(reach_events(population, window), window.since, window.until)
    table, new = publish(
        latest, window.since, earlier, now=now or window.until, reader=reader, k=k, kind=REACH
    )
    shown = table.get(CELL, {}).get(node, Shown("no_answers", 0))
    return ReachFigures(shown.status, shown.total, shown.positive), new
