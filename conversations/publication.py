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
class Version:
    """An answer someone gave and later replaced (a different value, or a skip, or the same
    value under another key worker): the value, its place in the queue, and when the replacement
    was counted; ``leaf``: its key worker. Releases made while it stood may have counted it, so it
    stays in the reader's system as a member of its own."""

    value: int
    key: OrderKey
    replaced_at: datetime
    leaf: NodeId | None = None


@dataclass(frozen=True)
class Latest:
    """The answer that counts for one (respondent, checkpoint, item), and when its value was
    first counted (a changed answer, or a skip turned into an answer later, joins the back of
    the queue then); ``replaced``: the answers it replaced."""

    record: AnswerRecord
    first_at: datetime | None
    replaced: tuple[Version, ...] = ()

    @property
    def key(self) -> OrderKey:
        return (self.first_at or self.record.answered_at, self.record.respondent)


def latest_answers(
    answers: Iterable[AnswerRecord], since: datetime, until: datetime
) -> list[Latest]:
    """One answer per (respondent, checkpoint, item) answered in ``[since, until)``: the latest;
    skips included."""
    per_key: dict[tuple[str, str, str], list[AnswerRecord]] = defaultdict(list)
    for record in answers:
        if since <= record.answered_at < until:
            per_key[(record.respondent, record.checkpoint, record.item_id)].append(record)
    found = []
    for records in per_key.values():
        records.sort(key=_order)
        value: int | None = None
        first: datetime | None = None
        where: NodeId | None = None
        replaced: list[Version] = []
        for record in records:
            counted = record.counted_at or record.answered_at
            leaf = (record.team, record.key_worker)
            if record.value == value and (where is None or leaf == where):
                continue
            if value is not None and first is not None:
                replaced.append(Version(value, (first, record.respondent), counted, where))
            value, first = record.value, counted if record.value is not None else None
            where = leaf
        found.append(Latest(records[-1], first, tuple(replaced)))
    return found


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


def _counted_by(block: ReleasedBlock | None, key: OrderKey) -> bool:
    if block is None or block.through_at is None:
        return False
    return key <= (block.through_at, block.through_id or "")


Row = tuple[OrderKey, list[int | None], Flags]
"""Members in a row of the queue counted by the same releases: where the row starts, their
values (``None``: unknown, someone who left), and the releases that counted them."""


def members_of(
    leaf: NodeId,
    entries: Sequence[Latest],
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
    keys = [e.key for e in entries]
    cuts = [
        0 if b is None or b.through_at is None else bisect_right(keys, _mark(b)) for b in blocks
    ]
    rows: list[Row] = []
    bounds = sorted({0, len(entries), count, *cuts})
    for start, end in pairwise(bounds):  # today's answers: runs between where releases stopped
        flags = (*(start < c for c in cuts), start < count)
        if any(flags):
            rows.append((keys[start], [e.record.value for e in entries[start:end]], flags))
    for version in replaced:
        flags = tuple(
            _counted_by(b, version.key) and r.released_at < version.replaced_at
            for b, r in zip(blocks, earlier, strict=True)
        )
        if any(flags):
            rows.append((version.key, [version.value], (*flags, False)))
    for times in departed:
        flags = tuple(r.released_at in times for r in earlier)
        if any(flags):
            rows.append(((min(times), ""), [None], (*flags, False)))
    return sorted(rows, key=lambda row: row[0])


def _mark(block: ReleasedBlock) -> OrderKey:
    assert block.through_at is not None
    return (block.through_at, block.through_id or "")


def decide_cell(
    cell: CellKey,
    per_leaf: Mapping[NodeId, Sequence[Latest]],
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
    keys = {leaf: [e.key for e in entries] for leaf, entries in per_leaf.items()}
    cut = {leaf: release_count(len(entries), k) for leaf, entries in per_leaf.items()}
    leaves: set[NodeId] = {*per_leaf, *replaced, *departed}
    leaves |= {(b.team, b.key_worker) for r in earlier for b in r.blocks}
    members = {
        leaf: members_of(
            leaf,
            per_leaf.get(leaf, ()),
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
            found = sum(len(values) for _, values, flags in members[leaf] if flags[i])
            if found != block.size:
                slacks[i][leaf] = abs(block.size - found)
    for i in reversed(range(len(earlier))):
        same = all(flags[i] == flags[-1] for rows in members.values() for _, _, flags in rows)
        if same and not slacks[i]:
            return Decision(_figures(earlier[i]), None)
    segments: dict[NodeId, list[Tally]] = {}
    cuts: list[dict[NodeId, frozenset[int]]] = [{} for _ in range(len(earlier) + 1)]
    for leaf, rows in members.items():
        atoms: dict[Flags, list[int | None]] = {}
        for _, values, flags in rows:  # in queue order: atoms are numbered by their first
            atoms.setdefault(flags, []).extend(values)
        segments[leaf] = [_tally_of(values, kind != "answers") for values in atoms.values()]
        for i in range(len(cuts)):
            cuts[i][leaf] = frozenset(s for s, flags in enumerate(atoms) if flags[i])
    prior = [Earlier(c, _figures(r), s) for r, c, s in zip(earlier, cuts, slacks, strict=False)]
    shown = decide(segments, cuts[-1], prior, k)
    blocks = []
    for leaf in sorted(per_leaf):
        count = cut[leaf]
        through = keys[leaf][count - 1] if count else None
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


def _tally_of(values: Sequence[int | None], binary: bool = False) -> Tally:
    """The tally of an atom (*binary*: yes/no, values 3 and 4 being yes); people who left count
    under "No" (only their number is used: they are never in a new release)."""
    counts = [0, 0, 0, 0]
    for value in values:
        counts[(value or 1) - 1] += 1
    if binary:
        return Tally.binary(sum(counts), counts[2] + counts[3])
    return Tally.of_values(counts)


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
    latest = list(latest)
    replaced = replaced_versions(latest)
    for cell, per_leaf in sorted(queues(latest).items()):
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
