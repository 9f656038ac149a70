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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from conversations.disclosure import CountRange, NodeId, Shown, Status
from conversations.publication import (
    CellKey,
    Queue,
    Version,
    latest_answers,
    publish,
    publish_queues,
)
from conversations.windows import Window
from storage import records
from storage.records import AnswerRecord, PopulationRecord, ReleasedCell
from storage.records import history_of as history_of
from storage.records import leaf_at as leaf_at
from storage.records import moves_of as moves_of

REACH = "reach"
"""The release ledger's kind for reach figures."""
CELL = records.REACH_CELL
REACHABLE, UNREACHABLE = records.REACHABLE, records.UNREACHABLE


@dataclass(frozen=True)
class ReachFigures:
    """How many young people can no longer be reached (blocked the bot, or ``/stop``), of the
    ``young_people`` counted (in blocks of k per key worker)."""

    status: Status
    young_people: int
    unreachable: CountRange | None


def reach_events(population: Iterable[PopulationRecord], window: Window) -> list[AnswerRecord]:
    """Reach as answers to one yes/no question (:func:`storage.records.reach_events`, the
    rule the taking-part tallies keep too)."""
    return records.reach_events(population, window.since, window.until)


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


def reach_figures_counted(
    queues: Mapping[CellKey, Mapping[NodeId, Queue]],
    replaced: Mapping[CellKey, Mapping[NodeId, Sequence[Version]]],
    since: datetime,
    node: NodeId,
    k: int,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime,
    reader: str = "",
) -> tuple[ReachFigures, list[ReleasedCell]]:
    """:func:`reach_figures` given the reach queue already counted (the taking-part tallies,
    ``storage/part_tallies.py``)."""
    table, new = publish_queues(
        queues, replaced, since, earlier, now=now, reader=reader, k=k, kind=REACH
    )
    shown = table.get(CELL, {}).get(node, Shown("no_answers", 0))
    return ReachFigures(shown.status, shown.total, shown.positive), new
