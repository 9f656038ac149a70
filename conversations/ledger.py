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

Bounds are propagated over the system (:class:`Solver`, then probing); a figure is
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

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from conversations.disclosure import (
    NodeId,
    Shown,
    Tally,
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


Key = tuple[int, str]
Trial = tuple[int, int, tuple[int, int]]


class Solver:
    """Integer bounds propagation over ``total == sum(parts)`` relations, with a work list (only
    relations whose figures changed are looked at again) and undo, so one assumption can be tried
    cheaply (:meth:`probe`)."""

    def __init__(self, relations: Sequence[tuple[Key, Sequence[Key]]], keys: Iterable[Key]):
        self.keys = list(keys)
        self.index = {key: i for i, key in enumerate(self.keys)}
        self.relations = [
            (self.index[total], [self.index[p] for p in parts]) for total, parts in relations
        ]
        self.touching: list[list[int]] = [[] for _ in self.keys]
        for r, (total, parts) in enumerate(self.relations):
            for v in (total, *parts):
                self.touching[v].append(r)

    def arrays(self, bounds: Mapping[Key, tuple[int, int]]) -> tuple[list[int], list[int]]:
        return [bounds[k][0] for k in self.keys], [bounds[k][1] for k in self.keys]

    def run(
        self,
        lo: list[int],
        hi: list[int],
        start: Iterable[int] | None = None,
        trail: list[tuple[int, int, int]] | None = None,
    ) -> bool:
        """Tighten *lo*/*hi* in place until nothing changes; ``False`` on a contradiction.
        *start*: the relations to look at first (default: all); *trail* records changes."""
        queue = deque(range(len(self.relations)) if start is None else start)
        waiting = bytearray(len(self.relations))
        for r in queue:
            waiting[r] = 1
        while queue:
            r = queue.popleft()
            waiting[r] = 0
            total, parts = self.relations[r]
            sum_lo = sum(lo[p] for p in parts)
            sum_hi = sum(hi[p] for p in parts)
            changed: list[int] = []
            new_lo, new_hi = max(lo[total], sum_lo), min(hi[total], sum_hi)
            if new_lo > new_hi:
                return False
            if (new_lo, new_hi) != (lo[total], hi[total]):
                if trail is not None:
                    trail.append((total, lo[total], hi[total]))
                lo[total], hi[total] = new_lo, new_hi
                changed.append(total)
            for p in parts:
                p_lo = max(lo[p], lo[total] - (sum_hi - hi[p]))
                p_hi = min(hi[p], hi[total] - (sum_lo - lo[p]))
                if p_lo > p_hi:
                    return False
                if (p_lo, p_hi) != (lo[p], hi[p]):
                    if trail is not None:
                        trail.append((p, lo[p], hi[p]))
                    sum_lo += p_lo - lo[p]
                    sum_hi += p_hi - hi[p]
                    lo[p], hi[p] = p_lo, p_hi
                    changed.append(p)
            for v in changed:
                for other in self.touching[v]:
                    if not waiting[other]:
                        waiting[other] = 1
                        queue.append(other)
        return True

    def possible(self, lo: list[int], hi: list[int], v: int, low: int, high: int) -> bool:
        """Whether figure *v* can lie in ``[low, high]`` as far as propagation can tell."""
        trail: list[tuple[int, int, int]] = [(v, lo[v], hi[v])]
        lo[v], hi[v] = max(lo[v], low), min(hi[v], high)
        ok = lo[v] <= hi[v] and self.run(lo, hi, self.touching[v], trail)
        for var, old_lo, old_hi in reversed(trail):
            lo[var], hi[var] = old_lo, old_hi
        return ok

    def probe(self, lo: list[int], hi: list[int], v: int, n: int, k: int) -> None:
        """Tighten figure *v* (a count in a group of *n*) by trying each value that would keep it
        from being disclosive: at least k - 1 (or its complement), not nobody, not everyone.

        Propagation alone misses deductions that need several relations at once (assume a count
        is high; then this group, then that one, then a contradiction): if the assumption is
        impossible, a reader can rule it out too."""
        edge = min(k - 1, n)
        for low, high, otherwise in (
            (edge, n, (0, edge - 1)),  # could it be at least k - 1?
            (0, n - edge, (n - edge + 1, n)),  # ... could its complement?
            (0, 0, (1, n)),  # could it be nobody?
            (n, n, (0, n - 1)),  # ... everyone?
        ):
            if lo[v] > high or hi[v] < low or (low <= lo[v] and hi[v] <= high):
                continue  # already decided either way
            if not self.possible(lo, hi, v, low, high):
                lo[v], hi[v] = max(lo[v], otherwise[0]), min(hi[v], otherwise[1])
                self.run(lo, hi, self.touching[v])


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
    mine = groups[-1]
    no_slack: dict[NodeId, int] = {}
    base_bounds = system.bounds(old)
    solver = Solver(system.relations, base_bounds)
    base_lo, base_hi = solver.arrays(base_bounds)
    if not solver.run(base_lo, base_hi):
        raise AssertionError("earlier releases are inconsistent with today's data")
    probed: set[int] = set()
    while True:
        lo, hi = solver.arrays(system.bounds([*old, (mine, shown, no_slack)]))
        if not solver.run(lo, hi):
            raise AssertionError("the release is inconsistent with the data")
        found = _new_disclosures(system, solver, lo, hi, base_lo, base_hi, k)
        if not found:  # nothing by propagation alone: try the deciding values too
            for gid, n in enumerate(system.sizes):
                for name in system.names:
                    solver.probe(lo, hi, solver.index[(gid, name)], n, k)
            found = _new_disclosures(system, solver, lo, hi, base_lo, base_hi, k)
            for gid, d in list(found):
                v = solver.index[(gid, d.figure)]
                if v not in probed:  # were the earlier releases alone as telling?
                    solver.probe(base_lo, base_hi, v, system.sizes[gid], k)
                    probed.add(v)
            found = _new_disclosures(system, solver, lo, hi, base_lo, base_hi, k)
        if not found:
            return shown
        _withhold_near(found[0][1], shown, system)


def _new_disclosures(
    system: System,
    solver: Solver,
    lo: list[int],
    hi: list[int],
    base_lo: list[int],
    base_hi: list[int],
    k: int,
) -> list[tuple[int, Disclosure]]:
    """Disclosures the new release adds: disclosive, and narrower than before it."""
    found = []
    for gid, n in enumerate(system.sizes):
        for name in system.names:
            v = solver.index[(gid, name)]
            a, b = lo[v], hi[v]
            if (a, b) == (base_lo[v], base_hi[v]):
                continue
            if small_interval(a, b, n, k) or small_interval(n - b, n - a, n, k):
                found.append((gid, Disclosure(system.groups[gid], name, a, b)))
    return found


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
