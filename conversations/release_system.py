"""The linear system a reader of every release works with, for one cell. Pure, no I/O.

The **atoms** are, per key worker, the young people (or the answers they have since replaced, or
people who have left) counted by exactly the same releases; every release's group is a sum of atoms
(a key worker's the atoms it counted, a team's the sum of its key workers', the service's the sum of
its teams'), and between two releases of which one counts everyone the other does, the
**difference** (the newcomers) is a group of its own. Each group has ``N = P + Q``, ``P = n3 + n4``
and ``Q = n1 + n2``; what was shown bounds ``P`` and ``n1..n4``. :mod:`conversations.ledger` decides
on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from conversations.disclosure import NodeId, Shown, Tally

Atom = tuple[NodeId, int]
"""A run of one key worker's young people: ``(leaf, segment index)``."""

Cut = Mapping[NodeId, frozenset[int]]
"""Which segments of each key worker a release counted."""


def as_cut(cut: Mapping[NodeId, int | frozenset[int]]) -> dict[NodeId, frozenset[int]]:
    """A cut given per key worker as a set of segments, or as a count (the first ones)."""
    return {
        leaf: frozenset(range(c)) if isinstance(c, int) else frozenset(c) for leaf, c in cut.items()
    }


_CONTENT = ("P", "Q", "n1", "n2", "n3", "n4")
_FINE = ("n1", "n2", "n3", "n4")
_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Earlier:
    """An earlier release of a cell, mapped onto today's data.

    ``cuts``: per key worker, which of today's segments it counted (a count: the first ones);
    ``shown``: what it showed per group; ``slack``: per key worker, how many people it counted
    are not accounted for by the segments (left without a trace), by which its figures are
    widened.
    """

    cuts: Mapping[NodeId, int | frozenset[int]]
    shown: Mapping[NodeId, Shown]
    slack: Mapping[NodeId, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Disclosure:
    """A count a reader can narrow to a disclosive interval, in a group of atoms."""

    atoms: frozenset[Atom]
    figure: str
    lo: int
    hi: int


class System:
    """The linear system a reader of every release works with, for one cell."""

    def __init__(self, segments: Mapping[NodeId, Sequence[Tally]]) -> None:
        self.segments = segments
        self.leaves = sorted(segments)
        self.fine = all(t.detail is not None for ts in segments.values() for t in ts)
        self.names = _CONTENT if self.fine else ("P", "Q")
        nodes = {leaf[:depth] for leaf in self.leaves for depth in range(len(leaf) + 1)}
        self.nodes = sorted(nodes, key=lambda n: (len(n), n))
        self.ids: dict[frozenset[Atom], int] = {}
        self.groups: list[frozenset[Atom]] = []
        self.sizes: list[int] = []
        self.relations: list[tuple[tuple[int, str], list[tuple[int, str]]]] = []
        self.auxiliary: set[int] = set()
        """Groups made only to relate two overlapping releases: propagated, not probed."""
        for leaf in self.leaves:  # prefixes of each key worker, atom by atom
            for end in range(2, len(segments[leaf]) + 1):
                self.relate(
                    self.prefix(leaf, end), [self.prefix(leaf, end - 1), self.atom(leaf, end - 1)]
                )

    def leaves_of(self, node: NodeId) -> list[NodeId]:
        return [leaf for leaf in self.leaves if leaf[: len(node)] == node]

    def kids_of(self, node: NodeId) -> list[NodeId]:
        return [n for n in self.nodes if len(n) == len(node) + 1 and n[: len(node)] == node]

    def group(self, atoms: Iterable[Atom]) -> int | None:
        """The id of the group of these atoms (made on first use); ``None`` when empty."""
        key = frozenset(atoms)
        if not key:
            return None
        if key not in self.ids:
            self.ids[key] = len(self.groups)
            self.groups.append(key)
            size = sum(self.segments[leaf][s].total for leaf, s in key)
            self.sizes.append(size)
            gid = self.ids[key]
            self.relations.append(((gid, "N"), [(gid, "P"), (gid, "Q")]))
            if self.fine:
                self.relations.append(((gid, "P"), [(gid, "n3"), (gid, "n4")]))
                self.relations.append(((gid, "Q"), [(gid, "n1"), (gid, "n2")]))
        return self.ids[key]

    def atom(self, leaf: NodeId, index: int) -> int | None:
        return self.group([(leaf, index)])

    def prefix(self, leaf: NodeId, end: int) -> int | None:
        return self.group((leaf, s) for s in range(end))

    def between(self, node: NodeId, low: Cut, high: Cut) -> int | None:
        """The group of *node*'s atoms counted by the cut *high* but not by *low*."""
        return self.group(
            (leaf, s)
            for leaf in self.leaves_of(node)
            for s in sorted(high.get(leaf, _NONE) - low.get(leaf, _NONE))
        )

    def relate(self, total: int | None, parts: Iterable[int | None]) -> None:
        """``total == sum(parts)`` for every content figure (empty groups left out)."""
        kept = [p for p in parts if p is not None]
        if total is None or kept == [total]:
            return
        for name in self.names:
            self.relations.append(((total, name), [(p, name) for p in kept]))

    def add_cut(self, cut: Cut) -> dict[NodeId, int | None]:
        """Every group of one release (per node), related to its parts."""
        found: dict[NodeId, int | None] = {}
        for node in reversed(self.nodes):  # leaves first
            found[node] = self.between(node, {}, cut)
            if node in self.segments:
                self.relate(found[node], [self.atom(node, s) for s in sorted(cut.get(node, _NONE))])
            else:
                self.relate(found[node], [found[kid] for kid in self.kids_of(node)])
        return found

    def add_difference(self, low: Cut, high: Cut) -> None:
        """The newcomers between two releases, one counting everyone the other does, per node."""
        differences: dict[NodeId, int | None] = {}
        for node in reversed(self.nodes):
            differences[node] = diff = self.between(node, low, high)
            self.relate(self.between(node, {}, high), [self.between(node, {}, low), diff])
            if node in self.segments:
                leaf = node
                fresh = sorted(high.get(leaf, _NONE) - low.get(leaf, _NONE))
                self.relate(diff, [self.atom(leaf, s) for s in fresh])
            else:
                self.relate(diff, [differences[kid] for kid in self.kids_of(node)])

    def add_overlap(self, one: Cut, other: Cut) -> None:
        """Two releases, neither counting everyone the other does: the young people both counted
        are a group of their own (per node), and each release is that group plus the ones only
        it counted, so a reader comparing them sees what differs, not only each in full."""
        common = {leaf: one.get(leaf, _NONE) & other.get(leaf, _NONE) for leaf in self.leaves}
        if not any(common.values()):
            return
        known = len(self.groups)
        self.add_cut(common)
        self.add_difference(common, one)
        self.add_difference(common, other)
        self.auxiliary.update(range(known, len(self.groups)))

    def truth(self) -> dict[tuple[int, str], int]:
        """Every figure of every group as today's data has it (people who left counted as
        their atoms' tallies count them)."""
        values: dict[tuple[int, str], int] = {}
        for gid, atoms in enumerate(self.groups):
            total = Tally.binary(0, 0) if not self.fine else Tally.of_values((0, 0, 0, 0))
            for leaf, s in atoms:
                total = total.plus(self.segments[leaf][s])
            for name in ("N", *self.names):
                values[(gid, name)] = total.figure(name)
        return values

    def bounds(
        self,
        published: Iterable[
            tuple[Mapping[NodeId, int | None], Mapping[NodeId, Shown], Mapping[NodeId, int]]
        ],
    ) -> dict[tuple[int, str], tuple[int, int]]:
        """What the releases say about each figure, before combining relations."""
        bounds: dict[tuple[int, str], tuple[int, int]] = {}
        for gid, n in enumerate(self.sizes):
            bounds[(gid, "N")] = (n, n)
            for name in self.names:
                bounds[(gid, name)] = (0, n)
        for groups, shown, slack in published:
            for node, group in groups.items():
                pub = shown.get(node)
                if group is None or pub is None:
                    continue
                gid = group
                n = self.sizes[gid]
                extra = sum(slack.get(leaf, 0) for leaf in self.leaves_of(node))
                ranges: list[tuple[str, int, int]] = []
                if pub.positive is not None:
                    lo, hi = pub.positive.lo, pub.positive.hi
                    ranges += [("P", lo, hi), ("Q", pub.total - hi, pub.total - lo)]
                if pub.distribution is not None and self.fine:
                    ranges += [
                        (f, r.lo, r.hi) for f, r in zip(_FINE, pub.distribution, strict=True)
                    ]
                for name, lo, hi in ranges:
                    if name == "Q":  # the complement of today's group, from the recorded total
                        lo, hi = lo - (pub.total - n), hi - (pub.total - n)
                    old_lo, old_hi = bounds[(gid, name)]
                    new = (max(old_lo, lo - extra, 0), min(old_hi, hi + extra, n))
                    if new[0] > new[1]:
                        raise AssertionError("a release is inconsistent with today's data")
                    bounds[(gid, name)] = new
        return bounds
