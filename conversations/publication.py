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
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Protocol

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
from storage.records import AnswerRecord, ReleasedBlock, ReleasedCell, ReleasedFigure
from storage.records import Latest as Latest
from storage.records import OrderKey as OrderKey
from storage.records import Version as Version
from storage.records import latest_answers as latest_answers

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


def replaced_versions(latest: Iterable[Latest]) -> dict[CellKey, dict[NodeId, list[Version]]]:
    """Per cell and key worker, the answers since replaced, in the order they were counted."""
    found: dict[CellKey, dict[NodeId, list[Version]]] = defaultdict(dict)
    for entry in latest:
        if entry.replaced:
            r = entry.record
            for version in entry.replaced:
                leaf = version.leaf or (r.team, r.key_worker)
                found[(r.checkpoint, r.item_id)].setdefault(leaf, []).append(version)
    for per_leaf in found.values():
        for kept in per_leaf.values():
            kept.sort(key=lambda v: v.key)
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
class Decision:
    """A cell's figures, and the release to record if they are new (``None``: shown before)."""

    shown: dict[NodeId, Shown]
    release: ReleasedCell | None


Flags = tuple[bool, ...]
"""Which releases counted a member: one flag per earlier release, then the new one."""

Counts = tuple[int, int, int, int]
"""How many gave each value 1..4 (people who left, value unknown, count under 1)."""

_NONE: Counts = (0, 0, 0, 0)


class Queue(Protocol):
    """One key worker's answers that count now in one cell, in the order they were counted:
    what the decision needs of it, whether it holds every answer (:class:`ListQueue`) or a few
    points read from the answer tallies (:class:`storage.records.QueuePoints`)."""

    def __len__(self) -> int: ...

    def key(self, index: int) -> OrderKey:
        """Where the answer at *index* (0-based) stands in the queue."""
        ...

    def counts(self, end: int) -> Counts:
        """The values of the first *end* answers."""
        ...

    def cut(self, mark: OrderKey) -> int:
        """How many answers stand at or before *mark* (where a release stopped counting)."""
        ...


class ListQueue:
    """A :class:`Queue` holding every answer."""

    def __init__(self, entries: Sequence[Latest]) -> None:
        self.entries = entries
        self.keys = [e.key for e in entries]

    def __len__(self) -> int:
        return len(self.entries)

    def key(self, index: int) -> OrderKey:
        return self.keys[index]

    def counts(self, end: int) -> Counts:
        found = [0, 0, 0, 0]
        for e in self.entries[:end]:
            assert e.record.value is not None  # queues hold no skips
            found[e.record.value - 1] += 1
        return (found[0], found[1], found[2], found[3])

    def cut(self, mark: OrderKey) -> int:
        return bisect_right(self.keys, mark)


def _minus(a: Counts, b: Counts) -> Counts:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])


def _one(value: int | None) -> Counts:
    v = value or 1
    return (int(v == 1), int(v == 2), int(v == 3), int(v == 4))


def _counted_by(block: ReleasedBlock | None, key: OrderKey) -> bool:
    if block is None or block.through_at is None:
        return False
    return key <= (block.through_at, block.through_id or "")


Row = tuple[OrderKey, Counts, Flags]
"""Members in a row of the queue counted by the same releases: where the row starts, their
values (people who left, value unknown, under 1), and the releases that counted them."""

_EMPTY = ListQueue(())


def members_of(
    leaf: NodeId,
    entries: Queue,
    count: int,
    earlier: Sequence[ReleasedCell],
    replaced: Sequence[Version] = (),
    departed: Sequence[frozenset[datetime]] = (),
) -> list[Row]:
    """Everyone a release of this key worker's cell counted, or the new one (its first *count*
    entries) counts: today's answers, answers since replaced (counted while they stood) and
    people who have left (``departed``: when the releases that counted each were made; value
    unknown), each with the releases that counted them."""
    by_leaf: list[dict[NodeId, ReleasedBlock]] = [
        {(b.team, b.key_worker): b for b in r.blocks} for r in earlier
    ]
    blocks = [found.get(leaf) for found in by_leaf]
    cuts = [0 if b is None or b.through_at is None else entries.cut(_mark(b)) for b in blocks]
    rows: list[Row] = []
    bounds = sorted({0, len(entries), count, *cuts})
    for start, end in pairwise(bounds):  # today's answers: runs between where releases stopped
        flags = (*(start < c for c in cuts), start < count)
        if any(flags):
            values = _minus(entries.counts(end), entries.counts(start))
            rows.append((entries.key(start), values, flags))
    for version in replaced:
        flags = tuple(
            _counted_by(b, version.key) and r.released_at < version.replaced_at
            for b, r in zip(blocks, earlier, strict=True)
        )
        if any(flags):
            rows.append((version.key, _one(version.value), (*flags, False)))
    for times in departed:
        flags = tuple(r.released_at in times for r in earlier)
        if any(flags):
            rows.append(((min(times), ""), _one(None), (*flags, False)))
    return sorted(rows, key=lambda row: row[0])


def _mark(block: ReleasedBlock) -> OrderKey:
    assert block.through_at is not None
    return (block.through_at, block.through_id or "")


def decide_cell(
    cell: CellKey,
    per_leaf: Mapping[NodeId, Queue],
    earlier: Sequence[ReleasedCell],
    since: datetime,
    now: datetime,
    reader: str,
    k: int,
    replaced: Mapping[NodeId, Sequence[Version]] | None = None,
    departed: Mapping[NodeId, Sequence[frozenset[datetime]]] | None = None,
    kind: str = "answers",
) -> Decision:
    """The figures of one cell, given the earlier releases of the same cell and window start.

    The reader's atoms are the members counted by exactly the same releases (:func:`members_of`);
    a release whose count at a key worker is not accounted for by them is widened by the
    difference (``slack``)."""
    replaced = replaced or {}
    departed = departed or {}
    cut = {leaf: release_count(len(entries), k) for leaf, entries in per_leaf.items()}
    leaves: set[NodeId] = {*per_leaf, *replaced, *departed}
    leaves |= {(b.team, b.key_worker) for r in earlier for b in r.blocks}
    members = {
        leaf: members_of(
            leaf,
            per_leaf.get(leaf, _EMPTY),
            cut.get(leaf, 0),
            earlier,
            replaced.get(leaf, ()),
            departed.get(leaf, ()),
        )
        for leaf in sorted(leaves)
    }
    slacks: list[dict[NodeId, int]] = [{} for _ in earlier]
    for i, release in enumerate(earlier):
        for block in release.blocks:
            leaf: NodeId = (block.team, block.key_worker)
            found = sum(sum(values) for _, values, flags in members[leaf] if flags[i])
            if found != block.size:
                slacks[i][leaf] = abs(block.size - found)
    for i in reversed(range(len(earlier))):
        same = all(flags[i] == flags[-1] for rows in members.values() for _, _, flags in rows)
        if same and not slacks[i]:
            return Decision(_figures(earlier[i]), None)
    segments: dict[NodeId, list[Tally]] = {}
    cuts: list[dict[NodeId, frozenset[int]]] = [{} for _ in range(len(earlier) + 1)]
    for leaf, rows in members.items():
        atoms: dict[Flags, Counts] = {}
        for _, values, flags in rows:  # in queue order: atoms are numbered by their first
            atoms[flags] = _plus(atoms.get(flags, _NONE), values)
        segments[leaf] = [_tally_of(values, kind != "answers") for values in atoms.values()]
        for i in range(len(cuts)):
            cuts[i][leaf] = frozenset(s for s, flags in enumerate(atoms) if flags[i])
    prior = [Earlier(c, _figures(r), s) for r, c, s in zip(earlier, cuts, slacks, strict=False)]
    shown = decide(segments, cuts[-1], prior, k)
    blocks = []
    for leaf in sorted(per_leaf):
        count = cut[leaf]
        through = per_leaf[leaf].key(count - 1) if count else None
        blocks.append(
            ReleasedBlock(
                leaf[0],
                leaf[1],
                through[0] if through else None,
                through[1] if through else None,
                count,
            )
        )
    release = ReleasedCell(
        since,
        kind,
        cell[0],
        cell[1],
        now,
        reader,
        tuple(blocks),
        tuple(figure_of(node, s) for node, s in sorted(shown.items())),
    )
    return Decision(shown, release)


def _plus(a: Counts, b: Counts) -> Counts:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


def _tally_of(counts: Counts, binary: bool = False) -> Tally:
    """The tally of an atom (*binary*: yes/no, values 3 and 4 being yes); people who left count
    under "No" (only their number is used: they are never in a new release)."""
    if binary:
        return Tally.binary(sum(counts), counts[2] + counts[3])
    return Tally.of_values(list(counts))


def _figures(release: ReleasedCell) -> dict[NodeId, Shown]:
    return {node_of(f.team, f.key_worker): shown_of(f) for f in release.figures}


def publish(
    latest: Iterable[Latest],
    since: datetime,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime,
    reader: str = "",
    k: int = DEFAULT_K,
    kind: str = "answers",
) -> tuple[Table, list[ReleasedCell]]:
    """Every cell's figures for the window starting at *since*, and the new releases to record.

    *latest* must cover the whole service: figures are decided for all groups together so that
    no digest can be combined with another to reveal a group.
    """
    latest = list(latest)
    per_cell = {
        cell: {leaf: ListQueue(entries) for leaf, entries in per_leaf.items()}
        for cell, per_leaf in queues(latest).items()
    }
    return publish_queues(
        per_cell,
        replaced_versions(latest),
        since,
        earlier,
        now=now,
        reader=reader,
        k=k,
        kind=kind,
    )


def publish_queues(
    per_cell: Mapping[CellKey, Mapping[NodeId, Queue]],
    replaced: Mapping[CellKey, Mapping[NodeId, Sequence[Version]]],
    since: datetime,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime,
    reader: str = "",
    k: int = DEFAULT_K,
    kind: str = "answers",
) -> tuple[Table, list[ReleasedCell]]:
    """:func:`publish` given, per cell and key worker, the queue of answers that count (each
    with at least one) and the answers since replaced, however they were read."""
    k = validate_k(k)
    by_cell: dict[CellKey, list[ReleasedCell]] = defaultdict(list)
    departed: dict[CellKey, dict[NodeId, list[frozenset[datetime]]]] = defaultdict(dict)
    for release in earlier:
        if release.since != since:
            continue
        cell = (release.checkpoint, release.item_id)
        if release.kind == kind:
            by_cell[cell].append(release)
        elif release.kind == "departed" and release.blocks:
            first = release.blocks[0]
            times = frozenset(b.through_at for b in release.blocks if b.through_at is not None)
            departed[cell].setdefault((first.team, first.key_worker), []).append(times)
    for releases in by_cell.values():
        releases.sort(key=lambda r: r.released_at)
    table: Table = {}
    new: list[ReleasedCell] = []
    for cell, per_leaf in sorted(per_cell.items()):
        decision = decide_cell(
            cell,
            per_leaf,
            by_cell.get(cell, []),
            since,
            now,
            reader,
            k,
            replaced.get(cell),
            departed.get(cell),
            kind,
        )
        if any(s.total for s in decision.shown.values()):
            table[cell] = decision.shown
        if decision.release is not None and any(b.size for b in decision.release.blocks):
            new.append(decision.release)
    return table, new
