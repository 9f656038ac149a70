"""Disclosure control across releases: what a new release may show, given every earlier one.

Pure functions on tallies, no I/O; ``storage/ledger.py`` records and reads the releases, and
:mod:`conversations.publication` maps them onto today's answers.

Every figure ever shown for a cell (one statement at one checkpoint, in one quarter) is a fact a
reader may hold. The reader is assumed to hold *all* of them, for every group (key workers, teams,
the service), and to know every group's size exactly (a key worker sees on ``/caseload`` who has
checked in). What they can deduce is worked out over one linear system:

- the **atoms** are, per key worker, the runs of young people between two consecutive points
  where some release stopped counting (answers enter in time order, so every release counts a
  first stretch of each key worker's young people: a prefix);
- every release's group is a sum of atoms: a key worker's is a prefix, a team's the sum of its key
  workers', the service's the sum of its teams'; between two releases of which one counts
  everyone the other does, the **difference** (the newcomers) is a group of its own;
- each group has ``N = P + Q``, ``P = n3 + n4`` and ``Q = n1 + n2``; what was shown bounds
  ``P`` and ``n1..n4``.

Bounds are propagated over the system (:func:`conversations.disclosure.propagate`); a figure is
disclosive when a reader can narrow a count, or its complement, in any atom, release group or
difference to a small interval (:func:`conversations.disclosure.small_interval`): between 1 and
k - 1 for sure, or "nobody"/"everyone" (a unanimous group). :func:`decide` starts from the
single-release decision (:func:`conversations.disclosure.suppress`) and withholds more of the new
release until it adds no disclosure to what earlier releases already allowed: what was released
is a fact, the new release must be safe given it.

People who left the data after a release (``/forgetme``, retention) widen that release's figures
by the number who left (``slack``), which is always sound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from conversations.disclosure import (
    NodeId,
    Shown,
    Tally,
    propagate,
    small_interval,
    suppress,
    validate_k,
)

Atom = tuple[NodeId, int]
"""A run of one key worker's young people: ``(leaf, segment index)``."""

_CONTENT = ("P", "Q", "n1", "n2", "n3", "n4")
_FINE = ("n1", "n2", "n3", "n4")


@dataclass(frozen=True)
class Earlier:
    """An earlier release of a cell, mapped onto today's data.

    ``cuts``: per key worker, how many of today's segments it counted (a prefix); ``shown``: what
    it showed per group; ``slack``: per key worker, how many people it counted differ from today's
    (people who have left the data since), by which its figures are widened.
    """

    cuts: Mapping[NodeId, int]
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

    def between(
        self, node: NodeId, low: Mapping[NodeId, int], high: Mapping[NodeId, int]
    ) -> int | None:
        """The group of *node*'s atoms counted by the cut *high* but not by *low*."""
        return self.group(
            (leaf, s)
            for leaf in self.leaves_of(node)
            for s in range(low.get(leaf, 0), high.get(leaf, 0))
        )

    def relate(self, total: int | None, parts: Iterable[int | None]) -> None:
        """``total == sum(parts)`` for every content figure (empty groups left out)."""
        kept = [p for p in parts if p is not None]
        if total is None or kept == [total]:
            return
        for name in self.names:
            self.relations.append(((total, name), [(p, name) for p in kept]))

    def add_cut(self, cut: Mapping[NodeId, int]) -> dict[NodeId, int | None]:
        """Every group of one release (per node), related to its parts."""
        found: dict[NodeId, int | None] = {}
        zero: dict[NodeId, int] = {}
        for node in reversed(self.nodes):  # leaves first
            found[node] = self.between(node, zero, cut)
            if node not in self.segments:
                self.relate(found[node], [found[kid] for kid in self.kids_of(node)])
        return found

    def add_difference(self, low: Mapping[NodeId, int], high: Mapping[NodeId, int]) -> None:
        """The newcomers between two releases, one counting everyone the other does, per node."""
        differences: dict[NodeId, int | None] = {}
        zero: dict[NodeId, int] = {}
        for node in reversed(self.nodes):
            differences[node] = diff = self.between(node, low, high)
            self.relate(self.between(node, zero, high), [self.between(node, zero, low), diff])
            if node in self.segments:
                leaf = node
                self.relate(
                    diff, [self.atom(leaf, s) for s in range(low.get(leaf, 0), high.get(leaf, 0))]
                )
            else:
                self.relate(diff, [differences[kid] for kid in self.kids_of(node)])

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

    def disclosures(
        self, derived: Mapping[tuple[int, str], tuple[int, int]], k: int
    ) -> list[tuple[int, Disclosure]]:
        """Every count (and complement) that *derived* narrows to a disclosive interval."""
        found: list[tuple[int, Disclosure]] = []
        for gid, n in enumerate(self.sizes):
            for name in self.names:
                lo, hi = derived[(gid, name)]
                if small_interval(lo, hi, n, k) or small_interval(n - hi, n - lo, n, k):
                    found.append((gid, Disclosure(self.groups[gid], name, lo, hi)))
        return found


def feasible(
    bounds: Mapping[tuple[int, str], tuple[int, int]],
    relations: Sequence[tuple[tuple[int, str], Sequence[tuple[int, str]]]],
) -> dict[tuple[int, str], tuple[int, int]] | None:
    """Bounds tightened under the relations until nothing changes, or ``None`` as soon as some
    figure has no possible value left (the bounds contradict each other)."""
    keys = list(bounds)
    index = {key: i for i, key in enumerate(keys)}
    lo = [bounds[key][0] for key in keys]
    hi = [bounds[key][1] for key in keys]
    if any(a > b for a, b in zip(lo, hi, strict=True)):
        return None
    compiled = [(index[total], [index[p] for p in parts]) for total, parts in relations]
    changed = True
    while changed:
        changed = False
        for total, parts in compiled:
            sum_lo = sum(lo[p] for p in parts)
            sum_hi = sum(hi[p] for p in parts)
            new_lo, new_hi = max(lo[total], sum_lo), min(hi[total], sum_hi)
            if new_lo > new_hi:
                return None
            if (new_lo, new_hi) != (lo[total], hi[total]):
                lo[total], hi[total] = new_lo, new_hi
                changed = True
            for p in parts:
                p_lo = max(lo[p], lo[total] - (sum_hi - hi[p]))
                p_hi = min(hi[p], hi[total] - (sum_lo - lo[p]))
                if p_lo > p_hi:
                    return None
                if (p_lo, p_hi) != (lo[p], hi[p]):
                    sum_lo += p_lo - lo[p]
                    sum_hi += p_hi - hi[p]
                    lo[p], hi[p] = p_lo, p_hi
                    changed = True
    return {key: (lo[i], hi[i]) for i, key in enumerate(keys)}


def probe(
    system: System,
    derived: Mapping[tuple[int, str], tuple[int, int]],
    k: int,
) -> dict[tuple[int, str], tuple[int, int]]:
    """Tighten *derived* further by trying each value that would decide disclosure.

    Interval propagation alone misses deductions that need several relations at once (assume a
    count is high; then this group, then that one, then a contradiction). For each count (and
    its complement) this tries the value that keeps it from being disclosive (at least k - 1;
    or at least 1): if propagation finds that impossible, the reader can rule it out too.
    """
    tight = dict(derived)
    for gid, n in enumerate(system.sizes):
        for name in system.names:
            lo, hi = tight[(gid, name)]
            low_end = min(k - 1, n)
            trials = []
            if hi >= low_end > lo:
                trials.append((low_end, hi, (lo, low_end - 1)))  # could it be at least k - 1?
            if n - lo >= low_end > n - hi:
                trials.append((lo, n - low_end, (n - low_end + 1, hi)))  # ... its complement?
            if lo == 0 < hi:
                trials.append((0, 0, (1, hi)))  # could it be nobody?
            if hi == n > lo:
                trials.append((n, n, (lo, n - 1)))  # ... everyone?
            for t_lo, t_hi, otherwise in trials:
                lo, hi = tight[(gid, name)]
                t_lo, t_hi = max(t_lo, lo), min(t_hi, hi)
                if t_lo > t_hi:
                    continue
                trial = dict(tight)
                trial[(gid, name)] = (t_lo, t_hi)
                if feasible(trial, system.relations) is None:
                    o_lo, o_hi = max(otherwise[0], lo), min(otherwise[1], hi)
                    tight[(gid, name)] = (o_lo, o_hi)
    return tight


def _contains(low: Mapping[NodeId, int], high: Mapping[NodeId, int]) -> bool:
    return all(low.get(leaf, 0) <= high.get(leaf, 0) for leaf in set(low) | set(high))


def decide(
    segments: Mapping[NodeId, Sequence[Tally]],
    cut: Mapping[NodeId, int],
    earlier: Sequence[Earlier],
    k: int,
) -> dict[NodeId, Shown]:
    """What the new release (counting ``cut[leaf]`` segments of each key worker) may show.

    *segments* are, per key worker, the tallies of the runs between consecutive cuts of all
    releases (earlier ones and this one). The answer is :func:`suppress`'s, with more withheld
    until a reader of every release, this one included, can deduce nothing disclosive that the
    earlier releases alone did not already give away.
    """
    k = validate_k(k)
    leaves = {
        leaf: Tally.of_values((0, 0, 0, 0)) if _fine(segments) else Tally.binary(0, 0)
        for leaf in segments
        if cut.get(leaf, 0)
    }
    for leaf in leaves:
        for tally in segments[leaf][: cut[leaf]]:
            leaves[leaf] = leaves[leaf].plus(tally)
    shown = suppress(leaves, k)
    if not earlier or not leaves:
        return shown
    system = System(segments)
    cuts = [dict(e.cuts) for e in earlier] + [dict(cut)]
    groups = [system.add_cut(c) for c in cuts]
    ordered = sorted(range(len(cuts)), key=lambda i: (sum(cuts[i].values()), i))
    pairs = set(pairwise(ordered))
    pairs |= {(i, len(cuts) - 1) for i in range(len(cuts) - 1)}
    for a, b in sorted(pairs):
        low, high = (cuts[a], cuts[b]) if _contains(cuts[a], cuts[b]) else (cuts[b], cuts[a])
        if _contains(low, high) and low != high:
            system.add_difference(low, high)
    old = [(g, e.shown, e.slack) for g, e in zip(groups, earlier, strict=False)]
    baseline = probe(system, propagate(system.bounds(old), system.relations), k)
    mine = groups[-1]
    no_slack: dict[NodeId, int] = {}
    while True:
        derived = propagate(system.bounds([*old, (mine, shown, no_slack)]), system.relations)
        derived = probe(system, derived, k)
        new = [
            (gid, d)
            for gid, d in system.disclosures(derived, k)
            if derived[(gid, d.figure)] != baseline[(gid, d.figure)]
        ]
        if not new:
            return shown
        _withhold_near(new[0][1], shown, system)


def _fine(segments: Mapping[NodeId, Sequence[Tally]]) -> bool:
    return all(t.detail is not None for ts in segments.values() for t in ts)


def _withhold_near(found: Disclosure, shown: dict[NodeId, Shown], system: System) -> None:
    """Withhold one more figure of the new release, nearest the disclosure first: four-value
    distributions before a group's figures (a distribution pins more than a share); smallest
    groups first."""
    touched = {leaf for leaf, _ in found.atoms}

    def rank(node: NodeId) -> tuple[int, int, NodeId]:
        leaves = set(system.leaves_of(node))
        near = 0 if leaves == touched else 1 if leaves & touched else 2
        return (near, shown[node].total, node)

    order = sorted(shown, key=rank)
    near = [node for node in order if rank(node)[0] < 2]
    for nodes, what in ((near, "distribution"), (near, "positive"), (order, "distribution")):
        for node in nodes:
            current = shown[node]
            if what == "distribution" and current.distribution is not None:
                shown[node] = Shown(current.status, current.total, current.positive)
                return
            if what == "positive" and current.positive is not None:
                shown[node] = Shown("withheld", current.total)
                return
    for node in order:
        current = shown[node]
        if current.positive is not None:
            shown[node] = Shown("withheld", current.total)
            return
    raise AssertionError("nothing left to withhold, yet the release adds a disclosure")
