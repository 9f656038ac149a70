"""Taking part: how many of those asked answered, shared comments.

Pure, no I/O; :mod:`conversations.digest` re-exports these. Response figures go through the
release ledger like answers (a yes/no answer per young person and checkpoint, in blocks of k);
so do reach figures (:mod:`conversations.reach`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from conversations.comments import shared_comments_released
from conversations.disclosure import (
    CountRange,
    NodeId,
    Shown,
    Status,
)
from conversations.publication import latest_answers, publish
from conversations.reach import leaf_at, moves_of
from conversations.windows import Window, checkpoint_order
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
ANSWERED = "answered"
"""The one yes/no question of a response cell: has the young person answered the checkpoint?"""


def response_events(
    population: Iterable[PopulationRecord], answers: Iterable[AnswerRecord], window: Window
) -> list[AnswerRecord]:
    """Taking part as answers to one yes/no question per checkpoint, so that response figures
    go through the release ledger like answers: "not yet" (value 1) when the checkpoint was sent
    (from the window's start if before it), "answered" (value 4) when they first answered in the
    window (skips count). The change re-enters the queue, so it shows only in a block of k; so
    does a move to another key worker (:func:`conversations.reach.moves_of`), and each event is
    under the key worker of its time."""
    first: dict[tuple[str, str], AnswerRecord] = {}
    for r in answers:
        if r.answered_at in window:
            seen = first.get((r.respondent, r.checkpoint))
            if seen is None or r.answered_at < seen.answered_at:
                first[(r.respondent, r.checkpoint)] = r
    events = []
    for p in population:
        sent = dict(p.prompted_at)
        for checkpoint in sorted(p.prompted_checkpoints):
            at = max(sent.get(checkpoint, window.since), window.since)
            events.append(
                AnswerRecord(p.respondent, *leaf_at(p, at), checkpoint, ANSWERED, 1, at, at)
            )
            done = first.get((p.respondent, checkpoint))
            when = None
            if done is not None:
                when = max(done.answered_at, at)
                counted = max(done.counted_at or done.answered_at, when)
                events.append(
                    AnswerRecord(
                        p.respondent, *leaf_at(p, when), checkpoint, ANSWERED, 4, when, counted
                    )
                )
            for moved in moves_of(p, at, window.until):  # re-enters with the new key worker
                value = 4 if when is not None and when <= moved else 1
                events.append(
                    AnswerRecord(
                        p.respondent, *leaf_at(p, moved), checkpoint, ANSWERED, value, moved, moved
                    )
                )
    return events


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


def shared_comments(
    comments: Iterable[CommentRecord], window: Window, node: NodeId, k: int
) -> tuple[str, ...] | None:
    """The group's shared comments, redacted and sorted, or ``None`` if it may not see them,
    with no earlier release (:func:`conversations.comments.shared_comments_released`)."""
    return shared_comments_released(comments, window, node, k).texts
