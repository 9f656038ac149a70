"""The bounds solver's fast paths give exactly what the plain algorithm gives.

:meth:`conversations.bounds_solver.Solver.probe_all` answers assumptions from fixpoints already
found (and from a witness), in its own order, and :meth:`~Solver.run` propagates two-part
relations in a written-out step; here both are compared with the plain algorithm they replace
(kept below as the reference: propagation relation by relation, probing figure by figure in
order), on random systems of sums, and whole digest sequences are decided both ways.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import bounds_solver
from conversations.bounds_solver import Key, Solver
from tests.ledger_checker import Story, digest_sequence, stories

Relation = tuple[int, list[int]]


def reference_run(
    relations: Sequence[Relation],
    touching: Sequence[Sequence[int]],
    lo: list[int],
    hi: list[int],
    start: Iterable[int] | None = None,
    trail: list[tuple[int, int, int]] | None = None,
) -> bool:
    """Propagation as it was first written: one relation at a time, sums recomputed."""
    queue = deque(range(len(relations)) if start is None else start)
    waiting = bytearray(len(relations))
    for r in queue:
        waiting[r] = 1
    while queue:
        r = queue.popleft()
        waiting[r] = 0
        total, parts = relations[r]
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
            for other in touching[v]:
                if not waiting[other]:
                    waiting[other] = 1
                    queue.append(other)
    return True


def reference_probe_all(
    solver: Solver, lo: list[int], hi: list[int], targets: Sequence[tuple[int, int]], k: int
) -> None:
    """Probing as it was first written: each figure in turn, each assumption propagated."""
    relations = [(t, list(ps)) for t, ps in solver.relations]

    def possible(v: int, low: int, high: int) -> bool:
        trail: list[tuple[int, int, int]] = [(v, lo[v], hi[v])]
        lo[v], hi[v] = max(lo[v], low), min(hi[v], high)
        ok = lo[v] <= hi[v] and reference_run(
            relations, solver.touching, lo, hi, solver.touching[v], trail
        )
        for var, old_lo, old_hi in reversed(trail):
            lo[var], hi[var] = old_lo, old_hi
        return ok

    for v, n in targets:
        edge = min(k - 1, n)
        for low, high, otherwise in (
            (edge, n, (0, edge - 1)),
            (0, n - edge, (n - edge + 1, n)),
            (0, 0, (1, n)),
            (n, n, (0, n - 1)),
        ):
            if lo[v] > high or hi[v] < low or (low <= lo[v] and hi[v] <= high):
                continue
            if not possible(v, low, high):
                lo[v], hi[v] = max(lo[v], otherwise[0]), min(hi[v], otherwise[1])
                reference_run(relations, solver.touching, lo, hi, solver.touching[v])


@st.composite
def systems(draw: st.DrawFn) -> tuple[list[tuple[Key, list[Key]]], list[int], list[int], list[int]]:
    """Random sums over a few atoms (groups of atoms, related to their parts), true values, and
    bounds around them: tight, loose, sometimes excluding the truth (a contradiction or a
    deduction that needs probing)."""
    atoms = draw(st.lists(st.integers(0, 6), min_size=2, max_size=7))
    count = len(atoms)
    groups: list[frozenset[int]] = [frozenset({a}) for a in range(count)]
    for _ in range(draw(st.integers(1, 8))):
        members = draw(st.frozensets(st.integers(0, count - 1), min_size=2, max_size=count))
        if members not in groups:
            groups.append(members)
    relations: list[tuple[Key, list[Key]]] = []
    for g, members in enumerate(groups):
        if len(members) > 1:  # a group is the sum of its atoms, or of a split into two groups
            smaller = [h for h, m in enumerate(groups) if m < members and (members - m) in groups]
            split = draw(st.booleans())
            if smaller and split:
                h = draw(st.sampled_from(smaller))
                relations.append(((g, "P"), [(h, "P"), (groups.index(members - groups[h]), "P")]))
            else:
                relations.append(((g, "P"), [(a, "P") for a in sorted(members)]))
    truth = [sum(atoms[a] for a in members) for members in groups]
    lo, hi = [], []
    for value in truth:
        shift = draw(st.integers(-1, 2))  # now and then the truth itself is ruled out
        width = draw(st.integers(0, 6))
        lo.append(max(0, value - draw(st.integers(0, 3)) + (shift if shift < 0 else 0)))
        hi.append(max(lo[-1], value + width - (1 if shift < 0 and width == 0 else 0)))
    return relations, truth, lo, hi


@settings(max_examples=400, deadline=None, derandomize=True)
@given(systems(), st.integers(3, 6), st.booleans(), st.booleans())
def test_probing_all_at_once_equals_probing_one_by_one(
    system: tuple[list[tuple[Key, list[Key]]], list[int], list[int], list[int]],
    k: int,
    propagated: bool,
    with_truth: bool,
) -> None:
    relations, truth, lo, hi = system
    keys = [(g, "P") for g in range(len(truth))]
    solver = Solver(relations, keys)
    plain = [(t, list(ps)) for t, ps in solver.relations]
    if propagated:  # as decide calls it; otherwise from bounds that are not a fixpoint
        reference_run(plain, solver.touching, lo, hi)
    targets = [(v, hi[v]) for v in range(len(keys))][::-1]
    ref_lo, ref_hi = list(lo), list(hi)
    reference_probe_all(solver, ref_lo, ref_hi, targets, k)
    fast_lo, fast_hi = list(lo), list(hi)
    solver.probe_all(fast_lo, fast_hi, targets, k, truth if with_truth else None)
    assert (fast_lo, fast_hi) == (ref_lo, ref_hi)
    one_lo, one_hi = list(lo), list(hi)
    for v, n in targets:
        solver.probe(one_lo, one_hi, v, n, k)
    assert (one_lo, one_hi) == (ref_lo, ref_hi)
    run_lo, run_hi = list(lo), list(hi)
    ref_run_lo, ref_run_hi = list(lo), list(hi)
    assert solver.run(run_lo, run_hi) == reference_run(
        plain, solver.touching, ref_run_lo, ref_run_hi
    )
    assert (run_lo, run_hi) == (ref_run_lo, ref_run_hi)


def test_the_random_systems_include_deductions_only_probing_finds() -> None:
    """Not vacuous: among the random systems, probing rules values out that propagation left."""
    found = 0

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(systems())
    def count(system: tuple[list[tuple[Key, list[Key]]], list[int], list[int], list[int]]) -> None:
        nonlocal found
        relations, truth, lo, hi = system
        keys = [(g, "P") for g in range(len(truth))]
        solver = Solver(relations, keys)
        if not solver.run(lo, hi):
            return
        before = (list(lo), list(hi))
        solver.probe_all(lo, hi, [(v, hi[v]) for v in range(len(keys))], 3)
        found += (lo, hi) != before

    count()
    assert found >= 5


def _one_by_one(
    self: Solver,
    lo: list[int],
    hi: list[int],
    targets: Sequence[tuple[int, int]],
    k: int,
    witness: Sequence[int] | None = None,
) -> None:
    reference_probe_all(self, lo, hi, targets, k)


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(stories())
def test_digest_sequences_decide_the_same_as_probing_one_by_one(story: Story) -> None:
    """Random services and digest sequences (changed answers, /forgetme, every role, exports):
    the ledger recorded and every figure shown are the same with the plain probing."""
    fast = digest_sequence(story.records, story.requests, story.k, gone=story.gone)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds_solver.Solver, "probe_all", _one_by_one)
        plain = digest_sequence(story.records, story.requests, story.k, gone=story.gone)
    assert fast == plain
