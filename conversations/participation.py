"""Taking part: how many of those asked answered, shared comments.

Pure, no I/O; :mod:`conversations.digest` re-exports these. Response figures go through the
release ledger like answers (a yes/no answer per young person and checkpoint, in blocks of k);
so do reach figures (:mod:`conversations.reach`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from conversations.comments import shared_comments_released
from conversations.disclosure import (
    CountRange,
    NodeId,
    Shown,
    Status,
)
from conversations.publication import (
    CellKey,
    Queue,
    Version,
    latest_answers,
    publish,
    publish_queues,
)
from conversations.windows import Window, checkpoint_order
from storage import records
from storage.records import AnswerRecord, CommentRecord, PopulationRecord, ReleasedCell


@dataclass(frozen=True)
class ResponseFigures:
    """How many of those prompted at a checkpoint answered anything."""

    checkpoint: str
    status: Status
    prompted: int
    answered: CountRange | None


RESPONSE = "response"
"""The release ledger's kind for response figures."""
ANSWERED = records.ANSWERED


def response_events(
    population: Iterable[PopulationRecord], answers: Iterable[AnswerRecord], window: Window
) -> list[AnswerRecord]:
    """Taking part as answers to one yes/no question per checkpoint
    (:func:`storage.records.response_events`, the rule the taking-part tallies keep too)."""
    return records.response_events(population, answers, window.since, window.until)


def response_figures(
    population: Iterable[PopulationRecord],
    answers: Iterable[AnswerRecord],
    window: Window,
    node: NodeId,
    k: int,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime | None = None,
    reader: str = "",
) -> tuple[tuple[ResponseFigures, ...], list[ReleasedCell]]:
    """Per checkpoint, how many prompted young people answered (skips count as answering), given
    every earlier release of them; and the new releases to record first. Young people enter in
    blocks of k per key worker, and whoever answers since re-enters (:func:`response_events`),
    so figures are decided like answers (:func:`conversations.publication.publish`)."""
    people = list(population)
    events = response_events(people, answers, window)
    latest = latest_answers(events, window.since, window.until)
    table, new = publish(
        latest, window.since, earlier, now=now or window.until, reader=reader, k=k, kind=RESPONSE
    )
    checkpoints = sorted({c for p in people for c in p.prompted_checkpoints}, key=checkpoint_order)
    figures = []
    for checkpoint in checkpoints:
        shown = table.get((checkpoint, ANSWERED), {}).get(node, Shown("no_answers", 0))
        figures.append(ResponseFigures(checkpoint, shown.status, shown.total, shown.positive))
    return tuple(figures), new


def response_figures_counted(
    queues: Mapping[CellKey, Mapping[NodeId, Queue]],
    replaced: Mapping[CellKey, Mapping[NodeId, Sequence[Version]]],
    since: datetime,
    node: NodeId,
    k: int,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime,
    reader: str = "",
) -> tuple[tuple[ResponseFigures, ...], list[ReleasedCell]]:
    """:func:`response_figures` given the response queues already counted (the taking-part
    tallies, ``storage/part_tallies.py``): every checkpoint anyone was prompted at has one."""
    table, new = publish_queues(
        queues, replaced, since, earlier, now=now, reader=reader, k=k, kind=RESPONSE
    )
    checkpoints = sorted(
        {cell[0] for cell, per_leaf in queues.items() if per_leaf}, key=checkpoint_order
    )
    figures = []
    for checkpoint in checkpoints:
        shown = table.get((checkpoint, ANSWERED), {}).get(node, Shown("no_answers", 0))
        figures.append(ResponseFigures(checkpoint, shown.status, shown.total, shown.positive))
    return tuple(figures), new


def shared_comments(
    comments: Iterable[CommentRecord], window: Window, node: NodeId, k: int
) -> tuple[str, ...] | None:
    """The group's shared comments, redacted and sorted, or ``None`` if it may not see them,
    with no earlier release (:func:`conversations.comments.shared_comments_released`)."""
    return shared_comments_released(comments, window, node, k).texts
