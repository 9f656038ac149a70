"""Disclosure control across releases: what a new release may show, given every earlier one.

Pure functions on tallies, no I/O; ``storage/ledger.py`` records and reads the releases, and
:mod:`conversations.publication` maps them onto today's answers.

Every figure ever shown for a cell (one statement at one checkpoint, in one quarter) is a fact a
reader may hold. The reader is assumed to hold *all* of them, for every group (key workers, teams,
the service), and to know every group's size exactly (a key worker sees on ``/caseload`` who has
checked in). What they can deduce is worked out over one linear system
(:class:`conversations.release_system.System`):

- the **atoms** are, per key worker, the young people counted by exactly the same releases
  (answers enter in time order, so a release counts a first stretch of each key worker's queue;
  answers replaced since, and people who left, are members too);
- every release's group is a sum of atoms: a key worker's the atoms it counted, a team's the
  sum of its key workers', the service's the sum of its teams'; between two releases of which
  one counts everyone the other does, the **difference** (the newcomers) is a group of its own;
  between two that each counted someone the other did not (an answer changed since, filling the
  same place in the queue), what **both** counted is one, and each release is it plus the rest;
- each group has ``N = P + Q``, ``P = n3 + n4`` and ``Q = n1 + n2``; what was shown bounds
  ``P`` and ``n1..n4``.

Bounds are propagated over the system (:class:`conversations.bounds_solver.Solver`, then probing);
a figure is disclosive when a reader can narrow a count, or its complement, in any atom, release
group or difference to a small interval (:func:`conversations.disclosure.small_interval`): between
1 and k - 1 for sure, or "nobody"/"everyone" (a unanimous group). :func:`decide` starts from the
single-release decision (:func:`conversations.disclosure.suppress`) and withholds more of the new
release until it adds no disclosure to what earlier releases already allowed: what was released is
a fact, the new release must be safe given it.

Answers replaced since a release, and people who left (``/forgetme``: their departures in the
ledger), stay members of the system for the releases that counted them
(:func:`conversations.publication.members_of`); a count that is still not accounted for widens
that release's figures by the difference (``slack``), which is sound for what is in the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from conversations.bounds_solver import Solver
from conversations.disclosure import (
    NodeId,
    Shown,
    Tally,
    small_interval,
    suppress,
    validate_k,
)
from conversations.release_system import Cut, Disclosure, Earlier, System, as_cut

__all__ = ["Disclosure", "Earlier", "System", "decide"]


def _contains(low: Cut, high: Cut) -> bool:
    return all(low.get(leaf, frozenset()) <= high.get(leaf, frozenset()) for leaf in low)


def _size(cut: Cut, segments: Mapping[NodeId, Sequence[Tally]]) -> int:
    return sum(segments[leaf][s].total for leaf, ss in cut.items() for s in ss)


def decide(
    segments: Mapping[NodeId, Sequence[Tally]],
    cut: Mapping[NodeId, int | frozenset[int]],
    earlier: Sequence[Earlier],
    k: int,
) -> dict[NodeId, Shown]:
    """What the new release (counting the segments ``cut[leaf]`` of each key worker, or the
    first ``cut[leaf]`` of them) may show.

    *segments* are, per key worker, the tallies of the atoms: people counted by exactly the same
    releases (earlier ones and this one); only their sizes matter outside this release. The
    answer is :func:`suppress`'s, with more withheld until a reader of every release, this one
    included, can deduce nothing disclosive that the earlier releases alone did not already give
    away.
    """
    k = validate_k(k)
    mine_cut = as_cut(cut)
    leaves = {
        leaf: Tally.of_values((0, 0, 0, 0)) if _fine(segments) else Tally.binary(0, 0)
        for leaf in segments
        if mine_cut.get(leaf)
    }
    for leaf in leaves:
        for s in sorted(mine_cut[leaf]):
            leaves[leaf] = leaves[leaf].plus(segments[leaf][s])
    shown = suppress(leaves, k)
    if not earlier or not leaves:
        return shown
    system = System(segments)
    cuts = [as_cut(e.cuts) for e in earlier] + [mine_cut]
    groups = [system.add_cut(c) for c in cuts]
    ordered = sorted(range(len(cuts)), key=lambda i: (_size(cuts[i], segments), i))
    pairs = set(pairwise(ordered))
    pairs |= {(i, len(cuts) - 1) for i in range(len(cuts) - 1)}
    for a, b in sorted(pairs):
        low, high = (cuts[a], cuts[b]) if _contains(cuts[a], cuts[b]) else (cuts[b], cuts[a])
        if _contains(low, high) and low != high:
            system.add_difference(low, high)
        elif b == len(cuts) - 1:  # changed answers: each counted someone the other did not
            system.add_overlap(low, high)
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
            targets = [  # auxiliary groups are checked by propagation only
                (solver.index[(gid, name)], n)
                for gid, n in enumerate(system.sizes)
                if gid not in system.auxiliary
                for name in system.names
            ]
            truth = system.truth()
            solver.probe_all(lo, hi, targets, k, [truth[key] for key in solver.keys])
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
