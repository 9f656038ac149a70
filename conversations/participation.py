"""Taking part: how many of those asked answered, how many can be reached, shared comments.

Pure, no I/O; :mod:`conversations.digest` re-exports these. Response and reachability figures are
about taking part, not answers: they are banded and their group sizes are protected, but they are
not released in blocks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from conversations.disclosure import (
    CountRange,
    NodeId,
    Shown,
    Status,
    Tally,
    redact,
    release_count,
    suppress,
    validate_k,
    visible_groups,
)
from conversations.windows import Window, checkpoint_order
from storage.records import CommentRecord, PopulationRecord


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


@dataclass(frozen=True)
class TakingPart:
    """Taking part per key worker (``(team, key_worker)``): per checkpoint, how many were
    prompted and how many of them answered; and how many young people there are and how many
    cannot be reached. Made from records (:func:`taking_part`) or counted by the database
    (``storage.digests.taking_part``): a handful of counts per key worker, whatever the number
    of young people or answers."""

    response: Mapping[str, Mapping[tuple[str, str], Tally]]
    reach: Mapping[tuple[str, str], Tally]


def taking_part(
    population: Iterable[PopulationRecord], answered: Collection[tuple[str, str]]
) -> TakingPart:
    """:class:`TakingPart` from records: *answered* holds ``(respondent, checkpoint)`` for
    everyone who answered (a skip too) in the window."""
    response: dict[str, dict[tuple[str, str], Tally]] = defaultdict(dict)
    reach: dict[tuple[str, str], Tally] = {}
    for p in population:
        leaf = (p.team, p.key_worker)
        one = Tally.binary(1, int(not p.reachable))
        reach[leaf] = reach.get(leaf, Tally.binary(0, 0)).plus(one)
        for checkpoint in p.prompted_checkpoints:
            yes = Tally.binary(1, int((p.respondent, checkpoint) in answered))
            per_leaf = response[checkpoint]
            per_leaf[leaf] = per_leaf.get(leaf, Tally.binary(0, 0)).plus(yes)
    return TakingPart(response, reach)


def _nodes(leaves: Mapping[tuple[str, str], Tally]) -> dict[NodeId, Tally]:
    return {leaf: tally for leaf, tally in leaves.items()}


def response_figures(part: TakingPart, node: NodeId, k: int) -> tuple[ResponseFigures, ...]:
    """Per checkpoint, how many prompted young people answered (skips count as answering)."""
    figures = []
    for checkpoint in sorted(part.response, key=checkpoint_order):
        shown = suppress(_nodes(part.response[checkpoint]), k).get(node, Shown("no_answers", 0))
        figures.append(ResponseFigures(checkpoint, shown.status, shown.total, shown.positive))
    return tuple(figures)


def reach_figures(
    part: TakingPart | Iterable[PopulationRecord], node: NodeId, k: int
) -> ReachFigures:
    """How many of the group's young people cannot be reached (from taking-part counts, or
    from the records of everyone enrolled during the window)."""
    if not isinstance(part, TakingPart):
        part = taking_part(part, ())
    shown = suppress(_nodes(part.reach), k).get(node, Shown("no_answers", 0))
    return ReachFigures(shown.status, shown.total, shown.positive)


def shared_comments(
    comments: Iterable[CommentRecord], window: Window, node: NodeId, k: int
) -> tuple[str, ...] | None:
    """The group's shared comments, redacted and sorted, or ``None`` if it may not see them.

    Sharers are released in blocks of *k* per key worker (by time written, when known) and the
    group must pass :func:`~conversations.disclosure.visible_groups`.
    """
    k = validate_k(k)
    by_leaf: dict[NodeId, dict[str, list[CommentRecord]]] = defaultdict(dict)
    for c in comments:
        text = redact(c.text).strip()
        if c.shared and text and (c.written_at is None or c.written_at in window):
            kept = CommentRecord(c.respondent, c.team, c.key_worker, text, True, c.written_at)
            by_leaf[(c.team, c.key_worker)].setdefault(c.respondent, []).append(kept)
    released: dict[NodeId, list[CommentRecord]] = {}
    for leaf, people in by_leaf.items():
        order = sorted(people, key=lambda r: (_first_written(people[r], window), r))
        chosen = order[: release_count(len(order), k)]
        released[leaf] = [c for r in chosen for c in people[r]]
    counts = {leaf: len({c.respondent for c in cs}) for leaf, cs in released.items()}
    if node not in visible_groups(counts, k):
        return None
    texts = [c.text for leaf, cs in released.items() if leaf[: len(node)] == node for c in cs]
    return tuple(sorted(texts, key=lambda t: (t.casefold(), t)))


def _first_written(comments: list[CommentRecord], window: Window) -> datetime:
    return min((c.written_at for c in comments if c.written_at is not None), default=window.since)
