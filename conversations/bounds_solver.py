"""Integer bounds propagation with probing, over ``total == sum(parts)`` relations. Pure.

What a reader can deduce from figures shown as ranges, given how groups add up: used by
:mod:`conversations.ledger` on the system of :mod:`conversations.release_system`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence

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
        *start*: the relations to look at first (default: all); *trail* records changes.

        The propagation of one relation, written out for the common case of two parts (most
        relations: ``N = P + Q``, a prefix and the next atom, ...): the same steps in the same
        order as the general case, without building a list or a generator per step."""
        relations = self.relations
        touching = self.touching
        queue = deque(range(len(relations)) if start is None else start)
        waiting = bytearray(len(relations))
        for r in queue:
            waiting[r] = 1
        pop, push = queue.popleft, queue.append
        while queue:
            r = pop()
            waiting[r] = 0
            total, parts = relations[r]
            if len(parts) == 2:
                a, b = parts
                lo_a, hi_a, lo_b, hi_b = lo[a], hi[a], lo[b], hi[b]
                sum_lo, sum_hi = lo_a + lo_b, hi_a + hi_b
                lo_t, hi_t = lo[total], hi[total]
                new_lo = sum_lo if sum_lo > lo_t else lo_t
                new_hi = sum_hi if sum_hi < hi_t else hi_t
                if new_lo > new_hi:
                    return False
                if new_lo != lo_t or new_hi != hi_t:
                    if trail is not None:
                        trail.append((total, lo_t, hi_t))
                    lo[total], hi[total] = lo_t, hi_t = new_lo, new_hi
                    for other in touching[total]:
                        if not waiting[other]:
                            waiting[other] = 1
                            push(other)
                p_lo = lo_t - (sum_hi - hi_a)
                p_lo = p_lo if p_lo > lo_a else lo_a
                p_hi = hi_t - (sum_lo - lo_a)
                p_hi = p_hi if p_hi < hi_a else hi_a
                if p_lo > p_hi:
                    return False
                if p_lo != lo_a or p_hi != hi_a:
                    if trail is not None:
                        trail.append((a, lo_a, hi_a))
                    sum_lo += p_lo - lo_a
                    sum_hi += p_hi - hi_a
                    lo[a], hi[a] = p_lo, p_hi
                    for other in touching[a]:
                        if not waiting[other]:
                            waiting[other] = 1
                            push(other)
                lo_b, hi_b = lo[b], hi[b]  # read again: b may be a too
                p_lo = lo_t - (sum_hi - hi_b)
                p_lo = p_lo if p_lo > lo_b else lo_b
                p_hi = hi_t - (sum_lo - lo_b)
                p_hi = p_hi if p_hi < hi_b else hi_b
                if p_lo > p_hi:
                    return False
                if p_lo != lo_b or p_hi != hi_b:
                    if trail is not None:
                        trail.append((b, lo_b, hi_b))
                    lo[b], hi[b] = p_lo, p_hi
                    for other in touching[b]:
                        if not waiting[other]:
                            waiting[other] = 1
                            push(other)
                continue
            sum_lo = sum_hi = 0
            for p in parts:
                sum_lo += lo[p]
                sum_hi += hi[p]
            lo_t, hi_t = lo[total], hi[total]
            new_lo = sum_lo if sum_lo > lo_t else lo_t
            new_hi = sum_hi if sum_hi < hi_t else hi_t
            if new_lo > new_hi:
                return False
            changed: list[int] = []
            if new_lo != lo_t or new_hi != hi_t:
                if trail is not None:
                    trail.append((total, lo_t, hi_t))
                lo[total], hi[total] = lo_t, hi_t = new_lo, new_hi
                changed.append(total)
            for p in parts:
                lo_p, hi_p = lo[p], hi[p]
                p_lo = lo_t - (sum_hi - hi_p)
                p_lo = p_lo if p_lo > lo_p else lo_p
                p_hi = hi_t - (sum_lo - lo_p)
                p_hi = p_hi if p_hi < hi_p else hi_p
                if p_lo > p_hi:
                    return False
                if p_lo != lo_p or p_hi != hi_p:
                    if trail is not None:
                        trail.append((p, lo_p, hi_p))
                    sum_lo += p_lo - lo_p
                    sum_hi += p_hi - hi_p
                    lo[p], hi[p] = p_lo, p_hi
                    changed.append(p)
            for v in changed:
                for other in touching[v]:
                    if not waiting[other]:
                        waiting[other] = 1
                        push(other)
        return True

    def possible(
        self,
        lo: list[int],
        hi: list[int],
        v: int,
        low: int,
        high: int,
        seen: dict[int, tuple[int, int]] | None = None,
    ) -> bool:
        """Whether figure *v* can lie in ``[low, high]`` as far as propagation can tell.
        *seen*, when it can: filled with where the figures propagation moved ended up."""
        trail: list[tuple[int, int, int]] = [(v, lo[v], hi[v])]
        lo[v], hi[v] = max(lo[v], low), min(hi[v], high)
        ok = lo[v] <= hi[v] and self.run(lo, hi, self.touching[v], trail)
        if ok and seen is not None:
            for var, _, _ in trail:
                seen[var] = (lo[var], hi[var])
        for var, old_lo, old_hi in reversed(trail):
            lo[var], hi[var] = old_lo, old_hi
        return ok

    def probe(self, lo: list[int], hi: list[int], v: int, n: int, k: int) -> None:
        """Tighten figure *v* (a count in a group of *n*) by trying each value that would keep it
        from being disclosive: at least k - 1 (or its complement), not nobody, not everyone.

        Propagation alone misses deductions that need several relations at once (assume a count
        is high; then this group, then that one, then a contradiction): if the assumption is
        impossible, a reader can rule it out too."""
        for (low, high), otherwise in _questions(n, k):
            if _decided(lo[v], hi[v], low, high):
                continue  # already decided either way
            if not self.possible(lo, hi, v, low, high):
                lo[v], hi[v] = max(lo[v], otherwise[0]), min(hi[v], otherwise[1])
                self.run(lo, hi, self.touching[v])

    def probe_all(
        self,
        lo: list[int],
        hi: list[int],
        targets: Sequence[tuple[int, int]],
        k: int,
        witness: Sequence[int] | None = None,
    ) -> None:
        """:meth:`probe` each ``(figure, group size)`` of *targets* in turn: the same steps, the
        same result, with fewer propagations.

        Trying an assumption that turns out possible ends in a box of bounds *G* that every
        relation leaves as it is (a fixpoint), inside the current bounds *B*. Propagation only
        narrows and is monotone, so from *B* narrowed to any other assumption that *G* satisfies
        it can never narrow below *G*: that assumption is possible too, and is answered without
        propagating. This holds while *B* is itself a fixpoint and does not change: a figure
        tightened (an assumption ruled out) forgets every *G*; bounds that are not a fixpoint
        (checked first, on a copy) use none.

        *witness*: a value for every figure (the true counts, say). If it satisfies every
        relation and lies within the bounds, it is such a *G* too (a single point), checked again
        after every tightening; if not, it is not used."""
        copy_lo, copy_hi = list(lo), list(hi)
        reuse = self.run(copy_lo, copy_hi) and copy_lo == lo and copy_hi == hi
        questions: dict[int, list[tuple[int, int]]] = {}
        for v, n in targets:
            questions.setdefault(v, []).extend(low_high for low_high, _ in _questions(n, k))
        point = witness is not None and self._solution(witness)
        begin = (0, 0)
        while True:
            asked = [  # what probing from *begin* asks while nothing is ruled out, in order
                (position, v, low_high, otherwise)
                for position, v, low_high, otherwise in self._asked(targets, k, begin)
                if not _decided(lo[v], hi[v], *low_high)
            ]
            answered: set[tuple[int, int, int]] = set()  # (figure, low, high) known possible
            if reuse and point and witness is not None:
                self._answered_by(witness, lo, hi, questions, answered)
            ruled_out: tuple[tuple[int, int], int, tuple[int, int]] | None = None
            # Any order gives the same answers while the bounds stay as they are: assumptions
            # about everyone or no one in the largest groups first, as they settle the most.
            order = sorted(asked, key=_first) if reuse else asked
            for position, v, (low, high), otherwise in order:
                if ruled_out is not None and position > ruled_out[0]:
                    continue  # after the first assumption ruled out: asked again after it
                if reuse and (v, low, high) in answered:
                    continue
                seen: dict[int, tuple[int, int]] = {}
                if self.possible(lo, hi, v, low, high, seen if reuse else None):
                    for var, (a, b) in seen.items():
                        for q_low, q_high in questions.get(var, ()):
                            if q_low <= a and b <= q_high:
                                answered.add((var, q_low, q_high))
                elif ruled_out is None or position < ruled_out[0]:
                    ruled_out = (position, v, otherwise)
            if ruled_out is None:
                return
            (target, question), v, otherwise = ruled_out
            lo[v], hi[v] = max(lo[v], otherwise[0]), min(hi[v], otherwise[1])
            reuse = self.run(lo, hi, self.touching[v]) and reuse
            begin = (target, question + 1)

    @staticmethod
    def _asked(
        targets: Sequence[tuple[int, int]], k: int, begin: tuple[int, int]
    ) -> Iterator[tuple[tuple[int, int], int, tuple[int, int], tuple[int, int]]]:
        """Every assumption :meth:`probe` may try for *targets*, from *begin* on: (position,
        figure, range, what is left if it is impossible)."""
        for t in range(begin[0], len(targets)):
            v, n = targets[t]
            for q, (low_high, otherwise) in enumerate(_questions(n, k)):
                if (t, q) >= begin:
                    yield (t, q), v, low_high, otherwise

    def _solution(self, values: Sequence[int]) -> bool:
        """Whether *values* (one per figure) satisfy every relation."""
        return len(values) == len(self.keys) and all(
            values[total] == sum(values[p] for p in parts) for total, parts in self.relations
        )

    @staticmethod
    def _answered_by(
        witness: Sequence[int],
        lo: list[int],
        hi: list[int],
        questions: Mapping[int, Sequence[tuple[int, int]]],
        answered: set[tuple[int, int, int]],
    ) -> None:
        """The assumptions a solution within the bounds shows possible (none if outside)."""
        if any(not lo[v] <= w <= hi[v] for v, w in enumerate(witness)):
            return
        for v, asked in questions.items():
            w = witness[v]
            answered.update((v, low, high) for low, high in asked if low <= w <= high)


def _decided(lo: int, hi: int, low: int, high: int) -> bool:
    """Whether a figure within ``[lo, hi]`` surely is, or surely is not, within ``[low, high]``."""
    return lo > high or hi < low or (low <= lo and hi <= high)


def _first(
    asked: tuple[tuple[int, int], int, tuple[int, int], tuple[int, int]],
) -> tuple[int, int, tuple[int, int]]:
    """Assumptions of a single value (everyone, no one) first, largest ranges first."""
    position, _, (low, high), _ = asked
    return (0 if low == high else 1, -high, position)


def _questions(n: int, k: int) -> tuple[tuple[tuple[int, int], tuple[int, int]], ...]:
    """What :meth:`Solver.probe` tries for a count in a group of *n*, in order: each range of
    values that would keep it from being disclosive, and what is left if it is impossible."""
    edge = min(k - 1, n)
    return (
        ((edge, n), (0, edge - 1)),  # could it be at least k - 1?
        ((0, n - edge), (n - edge + 1, n)),  # ... could its complement?
        ((0, 0), (1, n)),  # could it be nobody?
        ((n, n), (0, n - 1)),  # ... everyone?
    )
