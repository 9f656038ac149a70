"""Disclosure control for staff digests: pure functions, no I/O.

Threat model: a reader of any digest (a key worker, a manager), possibly comparing it with
other digests (their colleagues', their team's, last week's), and knowing who is on their caseload
and who has checked in (``/caseload`` shows that), must not learn how any young person, or any
group of fewer than *k* young people, answered. *k* defaults to 5 and is never below 3
(:func:`validate_k`).

The rules, in the order they are applied:

1. **Blocks (time).** A key worker's answers to one statement at one checkpoint enter the figures
   only in blocks of *k*: with *n* distinct respondents in the window, the first ``n // k * k`` (by
   the time they first answered) count and the rest wait (:func:`release_count`). Windows that
   share their start therefore differ, at every level (key worker, team, service), by whole blocks
   of at least *k* young people, never by one person who has just answered. All respondent counts
   are multiples of *k*, so no count, and no difference of counts, lies between 1 and k - 1.
2. **Minimum group.** A group (key worker, team, service; checkpoint; statement; period) with
   fewer than *k* people shows nothing. Group sizes are shown only where no shown size minus shown
   sub-group sizes leaves 1 to k - 1 people (:func:`visible_groups`; this matters for groups
   whose sizes are not in blocks, such as the people who shared comments).
3. **Bands, never exact counts.** How many people gave an answer (positive, or each of the four
   scale values) is shown as a band of the fixed grid 0..k-1, k..2k-1, ..., the last band running
   up to the group size (:func:`band`): at least *k* possible values, never "all" ("5 to 10 of
   10" when all 10 said No), and a group of fewer than 2k - 1 shows no share. Being one grid for
   all digests, the band of a later digest minus that of an earlier one never narrows what the
   newcomers said below a band.
4. **Audit and complementary suppression.** Figures are related: a team is the sum of its key
   workers, the service of its teams; positive = "Mostly" + "Yes, definitely"; and so on.
   :func:`suppress` decides every group of the service at once: it works out by interval
   propagation (:func:`propagate`) what a reader of *all* digests of the period could deduce about
   *every* group, shown or not (group sizes are treated as known), and while anything is
   disclosive (:func:`small_interval`, on each count and its complement) it withholds more: first
   a four-value distribution, then a whole group's figures, nearest relatives and smallest first.
   Each digest is a view of that single publication.

"Disclosive" (:func:`small_interval`): for a group of N and a count (or its complement) that a
reader can narrow to ``[lo, hi]``: (a) ``1 <= lo`` and ``hi <= k - 1`` (a small group surely
exists), or (b) ``hi < min(k - 1, N)`` (tighter than a band, which includes "nobody"/"everyone").

Across two digests of windows with the same start (tested in ``tests/test_digest.py`` with
random caseloads): people join only in blocks of at least *k*; subtracting any figure shown in
both says nothing about the newcomers that a band would not; and combining *everything* in both
never gives an exact count of 1 to k - 1 positive or negative answers, nor a unanimous group.

Across releases (digests of the same quarter at different times, exports) the release ledger
takes over: :mod:`conversations.ledger` decides each new release given every earlier one, with
the reasoning above extended to runs of young people between releases and the newcomers between
two releases. Known limits are in the README ("Digests and disclosure control").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypeVar

DEFAULT_K = 5
MIN_K = 3

NodeId = tuple[str, ...]
"""A group in the service tree: ``()`` the service, ``(team,)``, ``(team, key_worker)``."""

SERVICE: NodeId = ()

Status = Literal["shown", "too_few", "withheld", "no_answers"]
"""``shown``: figures below; ``too_few``: fewer than k people, or a share would say nothing;
``withheld``: hidden so that other figures cannot be used to work it out; ``no_answers``: none."""

_FINE = ("n1", "n2", "n3", "n4")
_CONTENT = ("P", "Q", *_FINE)


class DisclosureError(ValueError):
    """A disclosure-control setting is invalid (for example *k* below 3)."""


def validate_k(k: object) -> int:
    """Return *k* if it is an integer of at least 3; raise :class:`DisclosureError` otherwise."""
    if isinstance(k, bool) or not isinstance(k, int) or k < MIN_K:
        raise DisclosureError(f"k must be an integer of at least {MIN_K} (got k={k!r})")
    return k


@dataclass(frozen=True, order=True)
class CountRange:
    """A number of people known to lie between ``lo`` and ``hi`` (inclusive)."""

    lo: int
    hi: int

    def __post_init__(self) -> None:
        if not 0 <= self.lo <= self.hi:
            raise ValueError(f"invalid range {self.lo}..{self.hi}")

    @property
    def exact(self) -> bool:
        """Whether the range is a single number."""
        return self.lo == self.hi


def release_count(n: int, k: int) -> int:
    """How many of *n* respondents are released under the block rule: ``n // k * k``."""
    return n // k * k


def band(count: int, total: int, k: int) -> CountRange:
    """The band of the fixed grid (width *k*, last band up to *total*) that holds *count*.

    Every band has at least *k* values, or is the whole of ``0..total`` when *total* < 2k - 1.

    >>> band(0, 10, 5), band(7, 10, 5), band(10, 10, 5)
    (CountRange(lo=0, hi=4), CountRange(lo=5, hi=10), CountRange(lo=5, hi=10))
    """
    if not 0 <= count <= total:
        raise ValueError(f"count {count} outside 0..{total}")
    bands = max(1, (total + 1) // k)
    index = min(count // k, bands - 1)
    return CountRange(index * k, total if index == bands - 1 else index * k + k - 1)


def small_interval(lo: int, hi: int, total: int, k: int) -> bool:
    """Whether knowing ``lo <= count <= hi`` (in a group of *total*) discloses a small group."""
    if total == 0:
        return False
    return (lo >= 1 and hi <= k - 1) or hi < min(k - 1, total)


@dataclass(frozen=True)
class Tally:
    """True counts for one group in one cell: a total, how many were positive, and (for answers)
    the counts of the scale values 1..4 (``detail[0]`` is "No", ``detail[3]`` "Yes, definitely")."""

    total: int
    positive: int
    detail: tuple[int, int, int, int] | None = None

    @classmethod
    def of_values(cls, counts: Sequence[int]) -> Tally:
        """A tally of scale answers from the counts of values 1, 2, 3 and 4."""
        n1, n2, n3, n4 = counts
        return cls(n1 + n2 + n3 + n4, n3 + n4, (n1, n2, n3, n4))

    @classmethod
    def binary(cls, total: int, positive: int) -> Tally:
        """A yes/no tally (answered or not, reachable or not)."""
        return cls(total, positive, None)

    def plus(self, other: Tally) -> Tally:
        """The tally of two disjoint groups together."""
        detail = None
        if self.detail is not None and other.detail is not None:
            a, b = self.detail, other.detail
            detail = (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])
        return Tally(self.total + other.total, self.positive + other.positive, detail)

    def figure(self, name: str) -> int:
        """One named count: ``N``, ``P`` (positive), ``Q`` (not positive), ``n1``..``n4``."""
        if name == "N":
            return self.total
        if name == "P":
            return self.positive
        if name == "Q":
            return self.total - self.positive
        if self.detail is None:
            raise KeyError(name)
        return self.detail[int(name[1]) - 1]


@dataclass(frozen=True)
class Shown:
    """What one group's digest may show for one cell."""

    status: Status
    total: int
    positive: CountRange | None = None
    distribution: tuple[CountRange, CountRange, CountRange, CountRange] | None = None


@dataclass(frozen=True)
class Violation:
    """A count a reader could narrow to a disclosive interval."""

    node: NodeId
    figure: str
    lo: int
    hi: int


def tree_of(leaves: Mapping[NodeId, Tally]) -> dict[NodeId, Tally]:
    """Every group of the tree (leaves and all their ancestors) with its summed tally."""
    tree: dict[NodeId, Tally] = {}
    for leaf, tally in leaves.items():
        for depth in range(len(leaf) + 1):
            node = leaf[:depth]
            tree[node] = tree[node].plus(tally) if node in tree else tally
    return tree


def children_of(nodes: Iterable[NodeId]) -> dict[NodeId, list[NodeId]]:
    """Each group's direct sub-groups, sorted."""
    children: dict[NodeId, list[NodeId]] = {}
    for node in sorted(nodes):
        if node:
            children.setdefault(node[:-1], []).append(node)
    return children


# ---------------------------------------------------------------------------------------------
# Interval propagation


Bounds = dict[tuple[NodeId, str], tuple[int, int]]
Relation = tuple[tuple[NodeId, str], Sequence[tuple[NodeId, str]]]
Key = TypeVar("Key")


def propagate(
    bounds: Mapping[Key, tuple[int, int]], relations: Sequence[tuple[Key, Sequence[Key]]]
) -> dict[Key, tuple[int, int]]:
    """Tighten integer bounds under ``total == sum(parts)`` relations until nothing changes.

    This is what a reader can deduce from published intervals; it is exact on the tree-shaped
    systems used here and never tighter than the truth.
    """
    keys = list(bounds)
    index = {key: i for i, key in enumerate(keys)}
    lo = [bounds[key][0] for key in keys]
    hi = [bounds[key][1] for key in keys]
    compiled = [(index[total], [index[p] for p in parts]) for total, parts in relations]
    changed = True
    while changed:
        changed = False
        for total, parts in compiled:
            changed |= _tighten(lo, hi, total, parts)
    return {key: (lo[i], hi[i]) for i, key in enumerate(keys)}


def _tighten(lo: list[int], hi: list[int], total: int, parts: list[int]) -> bool:
    """One pass of bound tightening on one relation; whether anything changed."""
    changed = False
    sum_lo = sum(lo[p] for p in parts)
    sum_hi = sum(hi[p] for p in parts)
    if sum_lo > lo[total] or sum_hi < hi[total]:
        lo[total], hi[total] = max(lo[total], sum_lo), min(hi[total], sum_hi)
        changed = True
    for p in parts:
        new_lo = max(lo[p], lo[total] - (sum_hi - hi[p]))
        new_hi = min(hi[p], hi[total] - (sum_lo - lo[p]))
        if (new_lo, new_hi) != (lo[p], hi[p]):
            sum_lo += new_lo - lo[p]
            sum_hi += new_hi - hi[p]
            lo[p], hi[p] = new_lo, new_hi
            changed = True
    if lo[total] > hi[total]:
        raise AssertionError("published figures are inconsistent with the data")
    return changed


def relations_for(tree: Mapping[NodeId, Tally]) -> list[Relation]:
    """The linear relations between the figures of every group of the tree."""
    relations: list[Relation] = []
    fine = all(t.detail is not None for t in tree.values())
    for node in tree:
        relations.append(((node, "N"), [(node, "P"), (node, "Q")]))
        if fine:
            relations.append(((node, "P"), [(node, "n3"), (node, "n4")]))
            relations.append(((node, "Q"), [(node, "n1"), (node, "n2")]))
    names = ("P", "Q", *_FINE) if fine else ("P", "Q")
    for parent, kids in children_of(tree).items():
        relations.extend(((parent, f), [(kid, f) for kid in kids]) for f in names)
    return relations


def published_bounds(tree: Mapping[NodeId, Tally], shown: Mapping[NodeId, Shown]) -> Bounds:
    """What the publication says about each figure, before combining relations.

    Group sizes are treated as public (staff know who was prompted and who checked in).
    """
    bounds: Bounds = {}
    for node, tally in tree.items():
        n = tally.total
        bounds[(node, "N")] = (n, n)
        names = _CONTENT if tally.detail is not None else ("P", "Q")
        for name in names:
            bounds[(node, name)] = (0, n)
        pub = shown.get(node)
        if pub is not None and pub.positive is not None:
            bounds[(node, "P")] = (pub.positive.lo, pub.positive.hi)
            bounds[(node, "Q")] = (n - pub.positive.hi, n - pub.positive.lo)
        if pub is not None and pub.distribution is not None:
            for name, rng in zip(_FINE, pub.distribution, strict=True):
                bounds[(node, name)] = (rng.lo, rng.hi)
    return bounds


def violations(tree: Mapping[NodeId, Tally], derived: Bounds, k: int) -> list[Violation]:
    """Every count (and complement) that *derived* narrows to a disclosive interval."""
    found: list[Violation] = []
    for node in sorted(tree, key=lambda n: (-len(n), n)):
        n = tree[node].total
        for name in _CONTENT:
            if (node, name) not in derived:
                continue
            lo, hi = derived[(node, name)]
            if small_interval(lo, hi, n, k):
                found.append(Violation(node, name, lo, hi))
            elif small_interval(n - hi, n - lo, n, k):
                found.append(Violation(node, "not " + name, n - hi, n - lo))
    return found


def audit(tree: Mapping[NodeId, Tally], shown: Mapping[NodeId, Shown], k: int) -> list[Violation]:
    """Everything a reader of all digests could deduce that breaks the rules (empty when safe)."""
    return violations(tree, propagate(published_bounds(tree, shown), relations_for(tree)), k)


# ---------------------------------------------------------------------------------------------
# Deciding what to show


@lru_cache(maxsize=65536)
def first_look(tally: Tally, k: int) -> Shown:
    """What a group may show on its own: nothing below k, else bands (rules 2 and 3)."""
    n = tally.total
    if n == 0:
        return Shown("no_answers", 0)
    if n < k:
        return Shown("too_few", 0)
    positive = band(tally.positive, n, k)
    if positive == CountRange(0, n):
        return Shown("too_few", n)
    if tally.detail is None:
        return Shown("shown", n, positive)
    a, b, c, d = (band(count, n, k) for count in tally.detail)
    candidate = Shown("shown", n, positive, (a, b, c, d))
    alone: dict[NodeId, Tally] = {SERVICE: tally}
    if audit(alone, {SERVICE: candidate}, k):
        return Shown("shown", n, positive)
    return candidate


def suppress(leaves: Mapping[NodeId, Tally], k: int = DEFAULT_K) -> dict[NodeId, Shown]:
    """Decide what every group of the tree may show for one cell (rules 2 to 4).

    *leaves* are the finest groups (``(team, key_worker)``), already cut to whole blocks for
    answers (rule 1); their ancestors are summed here, so the publication is consistent. Group
    sizes are shown only for :func:`visible_groups` (so no size between 1 and k - 1 can be had by
    subtracting shown sizes); each shown group starts from :func:`first_look`; then more is
    withheld until :func:`audit` is clean.
    """
    k = validate_k(k)
    tree = tree_of(leaves)
    sizes = visible_groups({leaf: tally.total for leaf, tally in leaves.items()}, k)
    shown = {
        node: first_look(tally, k) if node in sizes or not tally.total else Shown("too_few", 0)
        for node, tally in tree.items()
    }
    relations = relations_for(tree)
    kids = children_of(tree)
    while True:
        derived = propagate(published_bounds(tree, shown), relations)
        found = violations(tree, derived, k)
        if not found:
            return shown
        _withhold_more(found[0], tree, shown, kids)


def _withhold_more(
    violation: Violation,
    tree: Mapping[NodeId, Tally],
    shown: dict[NodeId, Shown],
    kids: Mapping[NodeId, list[NodeId]],
) -> None:
    """Withhold one more thing near *violation*: a distribution if that can help, else a group."""
    node = violation.node

    def by_size(nodes: Iterable[NodeId]) -> list[NodeId]:
        return sorted(nodes, key=lambda m: (tree[m].total, m))

    siblings = [m for m in kids.get(node[:-1], []) if m != node] if node else []
    family = by_size(siblings) + by_size(kids.get(node, []))
    family += ([node[:-1]] if node else []) + [node]
    everyone = by_size(tree)
    if violation.figure.removeprefix("not ") in _FINE:
        for member in family + everyone:
            current = shown[member]
            if current.distribution is not None:
                shown[member] = Shown(current.status, current.total, current.positive)
                return
    for member in family + everyone:
        current = shown[member]
        if current.positive is not None:
            shown[member] = Shown("withheld", current.total)
            return
    raise AssertionError("nothing left to withhold, yet the audit failed")


def visible_groups(leaf_counts: Mapping[NodeId, int], k: int = DEFAULT_K) -> set[NodeId]:
    """Groups whose set-valued content (e.g. shared comments) may be shown.

    A group is shown only with at least *k* people, and for every shown group, the people in it
    but in none of its largest shown sub-groups (what subtracting the shown sub-groups leaves) are
    0 or at least *k*; otherwise the smallest such sub-group is hidden too.
    """
    k = validate_k(k)
    counts: dict[NodeId, int] = {}
    for leaf, count in leaf_counts.items():
        for depth in range(len(leaf) + 1):
            counts[leaf[:depth]] = counts.get(leaf[:depth], 0) + count
    kids = children_of(counts)
    visible = {node for node, count in counts.items() if count >= k}
    changed = True
    while changed:
        changed = False
        for node in sorted(visible):
            below = _shown_below(node, visible, kids)
            rest = counts[node] - sum(counts[m] for m in below)
            if 0 < rest < k:
                visible.discard(min(below, key=lambda m: (counts[m], m)))
                changed = True
                break
    return visible


def _shown_below(
    node: NodeId, visible: set[NodeId], kids: Mapping[NodeId, list[NodeId]]
) -> list[NodeId]:
    """The largest shown sub-groups of *node* (shown, with no shown group in between)."""
    found: list[NodeId] = []
    for kid in kids.get(node, []):
        found.extend([kid] if kid in visible else _shown_below(kid, visible, kids))
    return found


# ---------------------------------------------------------------------------------------------
# Free text

REMOVED = "[removed]"
_LINK = re.compile(r"(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|wa\.me)/\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@\w(?:[\w.]*\w)?")
_PHONE = re.compile(r"(?<![\w+])(?:\+|\(\+?)?\d(?:[\s().\-/]{0,3}\d){6,}")


def redact(text: str) -> str:
    """Replace links to chats, e-mail addresses, @handles and phone numbers with "[removed]".

    A phone number is any run of at least 7 digits (any script) that may start with ``+`` or a
    bracket and may be split by spaces, dots, dashes, slashes or brackets: UK numbers such as
    ``07700 900123`` or ``(020) 7946-0018`` and international ones such as ``+44 7700 900 123``.
    Long dates or reference numbers are removed too: better too much than too little.
    """
    for pattern in (_LINK, _EMAIL, _HANDLE, _PHONE):
        text = pattern.sub(REMOVED, text)
    return text
