"""From answers to one publication per cell, under the release ledger. Pure, no I/O.

A *cell* is one statement at one checkpoint in one window (a calendar quarter so far, or a whole
quarter). Answers enter a cell in blocks of *k* per key worker, in the order their check-ins were
counted (finished or closed), so every release counts a first stretch (a prefix) of each key
worker's young people, and a later release of the same quarter counts everyone an earlier one
did. :func:`publish` decides every group's figures for the whole service at once:

- a cell whose counted young people are exactly those of an earlier release shows that release
  again (nothing new, so nothing more to protect; every reader sees one publication);
- otherwise :func:`conversations.ledger.decide` decides, given every earlier release of the cell,
  and the new release is returned for the ledger to record before anything is shown.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from conversations.disclosure import (
    DEFAULT_K,
    CountRange,
    NodeId,
    Shown,
    Status,
    Tally,
    release_count,
    validate_k,
)
from conversations.ledger import Earlier, decide
from storage.records import (
    AnswerRecord,
    QueuePoint,
    ReleasedBlock,
    ReleasedCell,
    ReleasedFigure,
)

CellKey = tuple[str, str]
"""``(checkpoint, item_id)``."""

Table = dict[CellKey, dict[NodeId, Shown]]
"""What every group of the service may show, per cell."""

STATUSES: dict[str, Status] = {
    "shown": "shown",
    "too_few": "too_few",
    "withheld": "withheld",
    "no_answers": "no_answers",
}

OrderKey = tuple[datetime, str]
"""When a young person's answer was counted, and their pseudonym (ties)."""


@dataclass(frozen=True)
class Latest:
    """The answer that counts for one (respondent, checkpoint, item), and when it was first
    counted with a value (a skip turned into an answer later joins the queue then)."""

    record: AnswerRecord
    first_at: datetime | None

    @property
    def key(self) -> OrderKey:
        return (self.first_at or self.record.answered_at, self.record.respondent)


def latest_answers(
    answers: Iterable[AnswerRecord], since: datetime, until: datetime
) -> list[Latest]:
    """One answer per (respondent, checkpoint, item) answered in ``[since, until)``: the latest;
    skips included."""
    latest: dict[tuple[str, str, str], Latest] = {}
    for record in answers:
        if not since <= record.answered_at < until:
            continue
        key = (record.respondent, record.checkpoint, record.item_id)
        seen = latest.get(key)
        counted = record.counted_at or record.answered_at
        first = counted if record.value is not None else None
        if seen is not None:
            if _order(record) < _order(seen.record):
                record = seen.record
            times = [t for t in (first, seen.first_at) if t is not None]
            first = min(times, default=None)
        latest[key] = Latest(record, first)
    return list(latest.values())


def _order(record: AnswerRecord) -> tuple[datetime, int]:
    """Which of two answers to the same statement is the latest (ties: deterministic)."""
    return (record.answered_at, record.value or 0)


def queues(latest: Iterable[Latest]) -> dict[CellKey, dict[NodeId, list[Latest]]]:
    """Per cell and key worker, the non-skipped answers in the order they were counted."""
    found: dict[CellKey, dict[NodeId, list[Latest]]] = defaultdict(dict)
    for entry in latest:
        r = entry.record
        if r.value is not None:
            found[(r.checkpoint, r.item_id)].setdefault((r.team, r.key_worker), []).append(entry)
    for per_leaf in found.values():
        for entries in per_leaf.values():
            entries.sort(key=lambda e: e.key)
    return found


def released(latest: Iterable[Latest], k: int) -> list[AnswerRecord]:
    """The answers that enter figures: per key worker and cell, the first ``n // k * k``."""
    return [
        e.record
        for per_leaf in queues(latest).values()
        for entries in per_leaf.values()
        for e in entries[: release_count(len(entries), k)]
    ]


def tally(entries: Iterable[Latest]) -> Tally:
    counts = [0, 0, 0, 0]
    for e in entries:
        assert e.record.value is not None  # queues hold no skips
        counts[e.record.value - 1] += 1
    return Tally.of_values(counts)


# ---------------------------------------------------------------------------------------------
# Ledger records <-> decisions


def node_of(team: str | None, key_worker: str | None) -> NodeId:
    if team is None:
        return ()
    return (team,) if key_worker is None else (team, key_worker)


def shown_of(figure: ReleasedFigure) -> Shown:
    positive = CountRange(*figure.positive) if figure.positive is not None else None
    distribution = None
    if figure.distribution is not None:
        a, b, c, d = (CountRange(lo, hi) for lo, hi in figure.distribution)
        distribution = (a, b, c, d)
    status: Status = STATUSES.get(figure.status, "withheld")
    return Shown(status, figure.size, positive, distribution)


def figure_of(node: NodeId, shown: Shown) -> ReleasedFigure:
    team = node[0] if node else None
    worker = node[1] if len(node) > 1 else None
    positive = (shown.positive.lo, shown.positive.hi) if shown.positive is not None else None
    distribution = None
    if shown.distribution is not None:
        distribution = tuple((r.lo, r.hi) for r in shown.distribution)
    return ReleasedFigure(team, worker, shown.status, shown.total, positive, distribution)


@dataclass(frozen=True)
class LeafQueue:
    """One key worker's queue in one cell: how many positions were given (``assigned``), and
    the tally of the first *p* positions for every *p* a decision reads (the block rule's cut,
    and where earlier releases stopped). Holes (people who left) count nowhere, so a stretch of
    positions can hold fewer people than positions. ``last``: when the one before the cut was
    counted, and who (for the ledger's marks by time), when known."""

    assigned: int
    prefix: Mapping[int, Tally]
    last: Mapping[int, OrderKey] = field(default_factory=dict)

    def upto(self, position: int) -> Tally:
        if position <= 0:
            return _EMPTY
        return self.prefix.get(position, _EMPTY)


_EMPTY = Tally.of_values((0, 0, 0, 0))
CellQueues = dict[CellKey, dict[NodeId, LeafQueue]]
"""Every queue of one window (a quarter), per cell and key worker."""


def queues_of_records(latest: Iterable[Latest]) -> CellQueues:
    """The queues the answers themselves make (no holes): positions in the order counted."""
    found: CellQueues = defaultdict(dict)
    for cell, per_leaf in queues(latest).items():
        for leaf, entries in per_leaf.items():
            counts = [0, 0, 0, 0]
            prefix = {0: _EMPTY}
            last: dict[int, OrderKey] = {}
            for p, e in enumerate(entries, start=1):
                assert e.record.value is not None
                counts[e.record.value - 1] += 1
                prefix[p] = Tally.of_values(counts)
                last[p] = e.key
            found[cell][leaf] = LeafQueue(len(entries), prefix, last)
    return found


def queues_of_points(cuts: Iterable[QueuePoint], marks: Iterable[QueuePoint]) -> CellQueues:
    """The queues as ``storage/tallies.py`` reads them: at the cut, and at earlier marks."""
    prefix: dict[tuple[CellKey, NodeId], dict[int, Tally]] = defaultdict(dict)
    for m in marks:
        prefix[((m.checkpoint, m.item_id), (m.team, m.key_worker))][m.position] = Tally.of_values(
            m.counts
        )
    found: CellQueues = defaultdict(dict)
    for c in cuts:
        cell, leaf = (c.checkpoint, c.item_id), (c.team, c.key_worker)
        at = prefix[(cell, leaf)]
        at[c.position] = Tally.of_values(c.counts)
        last = {c.position: (c.counted_at, "")} if c.counted_at is not None else {}
        found[cell][leaf] = LeafQueue(c.assigned, at, last)
    return found


def _mark(block: ReleasedBlock, queue: LeafQueue | None) -> int:
    """Where an earlier release stopped counting a key worker's queue: its position mark, or
    (older rows) how many were counted no later than the one it names."""
    if block.through_pos is not None or block.through_at is None:
        return block.through_pos or 0
    if queue is None:
        return 0
    keys = [queue.last[p] for p in sorted(queue.last)]
    return bisect_right(keys, (block.through_at, block.through_id or ""))


@dataclass(frozen=True)
class Decision:
    """A cell's figures, and the release to record if they are new (``None``: shown before)."""

    shown: dict[NodeId, Shown]
    release: ReleasedCell | None


def decide_cell(
    cell: CellKey,
    per_leaf: Mapping[NodeId, LeafQueue],
    earlier: Sequence[ReleasedCell],
    since: datetime,
    now: datetime,
    reader: str,
    k: int,
) -> Decision:
    """The figures of one cell, given the earlier releases of the same cell and window start.
    Costs one tally per key worker and release, whatever the number of answers."""
    cut = {leaf: release_count(q.assigned, k) for leaf, q in per_leaf.items()}
    leaves: set[NodeId] = set(per_leaf)
    leaves |= {(b.team, b.key_worker) for r in earlier for b in r.blocks}
    positions: list[dict[NodeId, int]] = []
    slacks: list[dict[NodeId, int]] = []
    for release in earlier:
        pos: dict[NodeId, int] = {}
        slack: dict[NodeId, int] = {}
        for block in release.blocks:
            leaf: NodeId = (block.team, block.key_worker)
            queue = per_leaf.get(leaf)
            found = _mark(block, queue)
            pos[leaf] = found
            present = queue.upto(found).total if queue is not None else 0
            slack[leaf] = abs(block.size - present)
        positions.append(pos)
        slacks.append(slack)
    for release, pos, slack in reversed(list(zip(earlier, positions, slacks, strict=True))):
        same = all(pos.get(leaf, 0) == cut.get(leaf, 0) for leaf in leaves)
        if same and not any(slack.values()):
            return Decision(
                {node_of(f.team, f.key_worker): shown_of(f) for f in release.figures}, None
            )
    segments: dict[NodeId, list[Tally]] = {}
    index: dict[NodeId, dict[int, int]] = {}
    for leaf in sorted(leaves):
        queue = per_leaf.get(leaf, LeafQueue(0, {}))
        bounds = sorted({0, cut.get(leaf, 0), *(p.get(leaf, 0) for p in positions)})
        segments[leaf] = [_minus(queue.upto(b), queue.upto(a)) for a, b in pairwise(bounds)]
        index[leaf] = {b: i for i, b in enumerate(bounds)}
    leaf_cut = {leaf: index[leaf][cut.get(leaf, 0)] for leaf in leaves}
    prior = [
        Earlier({leaf: index[leaf][p.get(leaf, 0)] for leaf in leaves}, _figures(r), s)
        for r, p, s in zip(earlier, positions, slacks, strict=True)
    ]
    shown = decide(segments, leaf_cut, prior, k)
    blocks = []
    for leaf in sorted(per_leaf):
        count = cut[leaf]
        queue = per_leaf[leaf]
        through = queue.last.get(count) if count else None
        blocks.append(
            ReleasedBlock(
                leaf[0],
                leaf[1],
                through[0] if through else None,
                (through[1] or None) if through else None,
                queue.upto(count).total,
                count,
            )
        )
    release = ReleasedCell(
        since,
        "answers",
        cell[0],
        cell[1],
        now,
        reader,
        tuple(blocks),
        tuple(figure_of(node, s) for node, s in sorted(shown.items())),
    )
    return Decision(shown, release)


def _minus(a: Tally, b: Tally) -> Tally:
    assert a.detail is not None
    assert b.detail is not None
    return Tally.of_values([x - y for x, y in zip(a.detail, b.detail, strict=True)])


def _figures(release: ReleasedCell) -> dict[NodeId, Shown]:
    return {node_of(f.team, f.key_worker): shown_of(f) for f in release.figures}


def publish(
    cells: Mapping[CellKey, Mapping[NodeId, LeafQueue]],
    since: datetime,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime,
    reader: str = "",
    k: int = DEFAULT_K,
) -> tuple[Table, list[ReleasedCell]]:
    """Every cell's figures for the window starting at *since*, and the new releases to record.

    *cells* must cover the whole service (:func:`queues_of_records`, or the stored tallies):
    figures are decided for all groups together so that no digest can be combined with another
    to reveal a group.
    """
    k = validate_k(k)
    by_cell: dict[CellKey, list[ReleasedCell]] = defaultdict(list)
    for release in earlier:
        if release.kind == "answers" and release.since == since:
            by_cell[(release.checkpoint, release.item_id)].append(release)
    for releases in by_cell.values():
        releases.sort(key=lambda r: r.released_at)
    table: Table = {}
    new: list[ReleasedCell] = []
    for cell, per_leaf in sorted(cells.items()):
        decision = decide_cell(cell, per_leaf, by_cell.get(cell, []), since, now, reader, k)
        if any(s.total for s in decision.shown.values()):
            table[cell] = decision.shown
        if decision.release is not None and any(b.size for b in decision.release.blocks):
            new.append(decision.release)
    return table, new
