"""Integer bounds propagation with probing, over ``total == sum(parts)`` relations. Pure.

What a reader can deduce from figures shown as ranges, given how groups add up: used by
:mod:`conversations.ledger` on the system of :mod:`conversations.release_system`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

Key = tuple[int, str]


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
