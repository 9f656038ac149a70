"""Taking part: how many of those asked answered, how many can be reached, shared comments.

Pure, no I/O; :mod:`conversations.digest` re-exports these. Response and reachability figures are
about taking part, not answers: they are banded and their group sizes are protected, but they are
not released in blocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conversations.comments import shared_comments_released
from conversations.disclosure import (
    CountRange,
    NodeId,
    Shown,
    Status,
    Tally,
    suppress,
)
from conversations.windows import Window, checkpoint_order
from storage.records import AnswerRecord, CommentRecord, PopulationRecord


@dataclass(frozen=True)
class ResponseFigures:
    """How many of those prompted at a checkpoint answered anything."""

    checkpoint: str
    status: Status
    prompted: int
    answered: CountRange | None


@dataclass(frozen=True)
class ReachFigures:
    """How many young people can no longer be reached (blocked the bot, or ``/stop``)."""

    status: Status
    young_people: int
    unreachable: CountRange | None


def response_figures(
    population: Iterable[PopulationRecord],
    answers: Iterable[AnswerRecord],
    window: Window,
    node: NodeId,
    k: int,
) -> tuple[ResponseFigures, ...]:
    """Per checkpoint, how many prompted young people answered (skips count as answering)."""
    people = list(population)
    answered = {(r.respondent, r.checkpoint) for r in answers if r.answered_at in window}
    checkpoints = sorted({c for p in people for c in p.prompted_checkpoints}, key=checkpoint_order)
    figures = []
    for checkpoint in checkpoints:
        leaves: dict[NodeId, Tally] = {}
        for p in people:
            if checkpoint in p.prompted_checkpoints:
                yes = int((p.respondent, checkpoint) in answered)
                leaf = (p.team, p.key_worker)
                leaves[leaf] = leaves.get(leaf, Tally.binary(0, 0)).plus(Tally.binary(1, yes))
        shown = suppress(leaves, k).get(node, Shown("no_answers", 0))
        figures.append(ResponseFigures(checkpoint, shown.status, shown.total, shown.positive))
    return tuple(figures)


def reach_figures(population: Iterable[PopulationRecord], node: NodeId, k: int) -> ReachFigures:
    """How many of the group's young people cannot be reached."""
    leaves: dict[NodeId, Tally] = {}
    for p in population:
        leaf = (p.team, p.key_worker)
        one = Tally.binary(1, int(not p.reachable))
        leaves[leaf] = leaves.get(leaf, Tally.binary(0, 0)).plus(one)
    shown = suppress(leaves, k).get(node, Shown("no_answers", 0))
    return ReachFigures(shown.status, shown.total, shown.positive)


def shared_comments(
    comments: Iterable[CommentRecord], window: Window, node: NodeId, k: int
) -> tuple[str, ...] | None:
    """The group's shared comments, redacted and sorted, or ``None`` if it may not see them,
    with no earlier release (:func:`conversations.comments.shared_comments_released`)."""
    return shared_comments_released(comments, window, node, k).texts
