"""An independent checker of the release ledger, and the sequences it checks.

The checker shares nothing with the production reasoning (``conversations/ledger.py`` propagates
bounds over atoms that ``conversations/publication.py`` derives): from the true history (every
answer, every change, who forgot and when) and each release's blocks, it works out which answer
of which young person each release counted, groups those counted by exactly the same releases
(an answer someone later changed, or that was deleted with ``/forgetme``, stays a member of its
own for the releases that counted it), enumerates *every* way those members could have answered
that agrees with every figure ever shown, and reports any group (an atom, a release's group, or
the difference between two releases of which one counts everyone the other does; with
``unions``, every union of atoms of one key worker) whose count of an answer a reader could pin to
between 1 and k - 1, or to "nobody"/"everyone". The enumeration is exact integer reasoning: no
bound is relaxed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import strategies as st

from conversations.checkpoints import THREE_MONTHS
from conversations.departures import departures
from conversations.digest import Scope, build_digest, quarter_windows
from conversations.export import aggregate_rows
from storage.records import AnswerRecord, PopulationRecord, ReleasedCell

QUARTER = datetime(2026, 4, 1, tzinfo=UTC)
ITEMS = ("turn_to", "cares")

Leaf = tuple[str, str]
Member = tuple[str, datetime]
"""One answer version: the young person, and when the value it holds was first counted."""


class TooLarge(Exception):
    """The enumeration would exceed the checker's limit."""


def _compositions(size: int) -> np.ndarray:
    """Every way *size* people can split over the four answers: rows of (n1, n2, n3, n4)."""
    rows = [
        (a, b, c, size - a - b - c)
        for a in range(size + 1)
        for b in range(size + 1 - a)
        for c in range(size + 1 - a - b)
    ]
    return np.array(rows, dtype=np.int16)


def _disclosive(lo: int, hi: int, n: int, k: int) -> bool:
    """Written apart from production: a small group surely exists, or the count is known to be
    smaller than a band that includes "nobody" (which includes a unanimous group)."""
    if n == 0:
        return False
    sure_small = lo >= 1 and hi <= k - 1
    too_narrow = hi < k - 1 and hi < n
    return sure_small or too_narrow


def _next_quarter(since: datetime) -> datetime:
    month = since.month + 3
    return since.replace(year=since.year + (month > 12), month=(month - 1) % 12 + 1)


def _standing(
    records: Sequence[AnswerRecord], at: datetime, gone: Mapping[str, datetime]
) -> dict[str, tuple[int, datetime, Leaf]]:
    """Per young person, the answer standing at *at* (value, when that value was first counted
    with that key worker, and the key worker), from the answers counted by then, unless they had
    forgotten by then. A young person who moved to another key worker starts a new version."""
    mine: dict[str, list[AnswerRecord]] = {}
    for r in records:
        if (r.counted_at or r.answered_at) <= at and gone.get(r.respondent, at + _TICK) > at:
            mine.setdefault(r.respondent, []).append(r)
    found: dict[str, tuple[int, datetime, Leaf]] = {}
    for who, rs in mine.items():
        rs.sort(key=lambda r: (r.answered_at, r.value or 0))
        value, start = rs[0].value, rs[0].counted_at or rs[0].answered_at
        leaf = (rs[0].team, rs[0].key_worker)
        for r in rs[1:]:
            if r.value != value or (r.team, r.key_worker) != leaf:
                value, start = r.value, r.counted_at or r.answered_at
                leaf = (r.team, r.key_worker)
        if value is not None:
            found[who] = (value, start, leaf)
    return found


_TICK = timedelta(microseconds=1)


def _counted(
    records: Sequence[AnswerRecord], release: ReleasedCell, gone: Mapping[str, datetime]
) -> dict[Leaf, dict[Member, int]]:
    """Per key worker, the answer versions a release counted, with their values: standing when
    it was made, and counted no later than the last one its block names."""
    until = _next_quarter(release.since)
    cell = [
        r
        for r in records
        if (r.checkpoint, r.item_id) == (release.checkpoint, release.item_id)
        and release.since <= r.answered_at < until
    ]
    standing = _standing(cell, release.released_at, gone)
    found: dict[Leaf, dict[Member, int]] = {}
    for block in release.blocks:
        if block.through_at is None:
            continue
        leaf = (block.team, block.key_worker)
        mark = (block.through_at, block.through_id or "")
        found[leaf] = {
            (who, start): value
            for who, (value, start, where) in standing.items()
            if where == leaf and (start, who) <= mark
        }
    return found


@dataclass(frozen=True)
class Atom:
    """Answer versions of one key worker counted by exactly the same releases (``flags``)."""

    leaf: Leaf
    flags: tuple[bool, ...]
    members: list[Member] = field(default_factory=list)


@dataclass(frozen=True)
class Found:
    cell: tuple[str, str]
    group: str
    figure: str
    lo: int
    hi: int
    size: int


def _sums(counts: Sequence[np.ndarray], total: int, group: Iterable[int]) -> np.ndarray:
    out = np.zeros((total, 4), dtype=np.int32)
    for a in group:
        out += counts[a]
    return out


def brute_force(
    records: Sequence[AnswerRecord],
    ledger: Sequence[ReleasedCell],
    k: int,
    gone: Mapping[str, datetime] | None = None,
    *,
    limit: int = 400_000,
    unions: bool = False,
    kinds: Sequence[str] = ("answers",),
    skipped: list[tuple[str, str]] | None = None,
    binary: bool = False,
) -> list[Found]:
    """Everything a reader of every release could be sure of that discloses a small group.

    *gone*: when young people forgot (their answers left the data then); *kinds*: which ledger
    entries are figures to take into account. A cell past *limit* cases raises
    :class:`TooLarge`, or is appended to *skipped* and left out when that is given."""
    gone = gone or {}
    found: list[Found] = []
    cells = {(r.since, r.checkpoint, r.item_id) for r in ledger if r.kind in kinds}
    for since, checkpoint, item in sorted(cells):
        releases = [
            r
            for r in ledger
            if r.kind in kinds and (r.since, r.checkpoint, r.item_id) == (since, checkpoint, item)
        ]
        members = [_counted(records, r, gone) for r in releases]
        values: dict[tuple[Leaf, Member], int] = {}
        for m in members:
            for leaf, versions in m.items():
                for member, value in versions.items():
                    values[(leaf, member)] = value
        classes: dict[tuple[Leaf, tuple[bool, ...]], list[Member]] = {}
        for leaf, member in sorted(values):
            flags = tuple(member in m.get(leaf, {}) for m in members)
            classes.setdefault((leaf, flags), []).append(member)
        atoms = [Atom(leaf, flags, ms) for (leaf, flags), ms in classes.items()]
        comps = [_compositions(len(atom.members)) for atom in atoms]
        if binary:
            comps = [c[(c[:, 1] == 0) & (c[:, 2] == 0)] for c in comps]
        total = int(np.prod([len(c) for c in comps])) if comps else 1
        if total > limit:
            if skipped is None:
                raise TooLarge(total)
            skipped.append((checkpoint, item))
            continue
        index = np.arange(total)
        counts = []
        stride = 1
        for comp in comps:
            counts.append(comp[(index // stride) % len(comp)])
            stride *= len(comp)
        truth = []
        for atom, comp in zip(atoms, comps, strict=True):
            real = np.bincount([values[(atom.leaf, m)] - 1 for m in atom.members], minlength=4)
            truth.append(real)
            assert any((row == real).all() for row in comp)  # the truth is one of them

        ok = np.ones(total, dtype=bool)
        published: list[tuple[str, frozenset[int]]] = []
        for r, membership in zip(releases, members, strict=True):
            for f in r.figures:
                node = tuple(x for x in (f.team, f.key_worker) if x is not None)
                group = frozenset(
                    a
                    for a, atom in enumerate(atoms)
                    if atom.leaf[: len(node)] == node
                    and set(atom.members) <= set(membership.get(atom.leaf, {}))
                )
                size = sum(len(atoms[a].members) for a in group)
                published.append((f"{r.kind} {r.released_at:%d %H:%M} {node}", group))
                c = _sums(counts, total, group)
                if f.positive is not None:
                    positive = c[:, 2] + c[:, 3]
                    assert f.size == size, (f, size)  # the ledger counted what the checker does
                    ok &= (positive >= f.positive[0]) & (positive <= f.positive[1])
                for v, band in enumerate(f.distribution or ()):
                    ok &= (c[:, v] >= band[0]) & (c[:, v] <= band[1])
        real_index = sum(
            int(np.flatnonzero((comp == real).all(axis=1))[0]) * step
            for comp, real, step in zip(
                comps, truth, np.cumprod([1, *[len(c) for c in comps]])[:-1], strict=True
            )
        )
        assert ok[real_index]  # the truth agrees with every figure shown
        checks: dict[frozenset[int], str] = {}
        for a, atom in enumerate(atoms):
            checks[frozenset({a})] = f"atom {atom.leaf} {atom.flags} ({len(atom.members)})"
        for name, group in published:
            checks.setdefault(group, name)
        for (n1, g1), (n2, g2) in itertools.permutations(published, 2):
            if g1 < g2:
                checks.setdefault(g2 - g1, f"{n2} minus {n1}")
        if unions:
            for leaf in {atom.leaf for atom in atoms}:
                mine = [a for a, atom in enumerate(atoms) if atom.leaf == leaf]
                for size in range(2, len(mine) + 1):
                    for chosen in itertools.combinations(mine, size):
                        checks.setdefault(frozenset(chosen), f"union {leaf} {chosen}")
        for group, name in checks.items():
            if not group:
                continue
            c = _sums(counts, total, group)[ok]
            n = sum(len(atoms[a].members) for a in group)
            figures = {
                "No": c[:, 0],
                "Not really": c[:, 1],
                "Mostly": c[:, 2],
                "Yes, definitely": c[:, 3],
                "positive": c[:, 2] + c[:, 3],
            }
            if binary:  # only yes and no exist
                figures = {"No": c[:, 0], "positive": c[:, 2] + c[:, 3]}
            for figure, seen in figures.items():
                lo, hi = int(seen.min()), int(seen.max())
                for what, a, b in ((figure, lo, hi), ("not " + figure, n - hi, n - lo)):
                    if _disclosive(a, b, n, k):
                        found.append(Found((checkpoint, item), name, what, a, b, n))
    return found


# ---------------------------------------------------------------------------------------------
# Running a sequence of requests as the bot does


def answers(
    leaf: Leaf, values: Sequence[int], start: int, item: str = "turn_to"
) -> list[AnswerRecord]:
    """One young person per value, checking in an hour apart from hour *start* of the quarter."""
    out = []
    for i, value in enumerate(values):
        at = QUARTER + timedelta(hours=start + i)
        who = f"{leaf[1]}-{start + i}"
        out.append(AnswerRecord(who, leaf[0], leaf[1], THREE_MONTHS, item, value, at, at))
    return out


def digest_sequence(
    records: Sequence[AnswerRecord],
    requests: Iterable[tuple[datetime, Scope | None]],
    k: int,
    people: Sequence[PopulationRecord] = (),
    gone: Mapping[str, datetime] | None = None,
    *,
    remember: bool = True,
) -> tuple[list[ReleasedCell], list[object]]:
    """Run requests in time order (a scope's digest, or ``None`` for an export), each given
    every release recorded before it, with ``/forgetme`` (*gone*) recording its departures as
    the bot does; return the ledger and what each request showed. ``remember=False`` decides
    each request on its own (as before the ledger), for contrast."""
    gone = dict(gone or {})
    ledger: list[ReleasedCell] = []
    shown: list[object] = []
    pending = sorted((at, who) for who, at in gone.items())
    for at, scope in requests:
        while pending and pending[0][0] <= at:
            when, who = pending.pop(0)
            mine = [
                r
                for r in records
                if r.respondent == who and (r.counted_at or r.answered_at) <= when
            ]
            ledger += departures(mine, ledger, when)
        earlier = ledger if remember else []
        visible = [
            r
            for r in records
            if (r.counted_at or r.answered_at) <= at and gone.get(r.respondent, at + _TICK) > at
        ]
        if scope is None:
            teams = {r.team for r in visible}
            _, rows, new = aggregate_rows(visible, people, teams, at, k, earlier)
            shown.append(rows)
            ledger += new
            continue
        window, previous = quarter_windows(at + _TICK)
        digest = build_digest(
            scope,
            visible,
            people,
            [],
            window=window,
            previous_window=previous,
            k=k,
            earlier=earlier,
            now=at,
            reader="test",
        )
        shown.append(digest.cells)
        ledger += digest.releases
    return ledger, shown


# ---------------------------------------------------------------------------------------------
# Random stories: services, answers (changed, deleted) over time, requests at random moments


@dataclass(frozen=True)
class Story:
    k: int
    records: list[AnswerRecord]
    requests: list[tuple[datetime, Scope | None]]
    gone: dict[str, datetime] = field(default_factory=dict)


def scopes_of(leaves: Sequence[Leaf]) -> list[Scope]:
    """Every scope a digest can be asked for over *leaves*: each key worker, team, the service."""
    return [
        *(Scope.of_key_worker(*leaf) for leaf in leaves),
        *(Scope.of_team(t) for t in sorted({t for t, _ in leaves})),
        Scope.service(),
    ]


def digest_requests(
    draw: st.DrawFn, scopes: Sequence[Scope], hours: int, max_size: int = 10
) -> list[tuple[datetime, Scope]]:
    """Digests asked at random moments of the quarter's first *hours*, each by a random scope."""
    times = sorted(draw(st.lists(st.integers(0, hours), min_size=2, max_size=max_size)))
    return [
        (QUARTER + timedelta(hours=h, minutes=30), draw(st.sampled_from(scopes))) for h in times
    ]


def _leaves(draw: st.DrawFn, large: bool) -> list[Leaf]:
    if not large:
        leaves = [("North", "a")]
        if draw(st.booleans()):
            leaves.append(("North", "b"))
        if draw(st.booleans()):
            leaves.append(("South", "c"))
        return leaves
    teams = draw(st.integers(2, 3))
    return [
        (team, f"{team[0]}{w}")
        for team in ("North", "South", "East")[:teams]
        for w in range(draw(st.integers(1, 3)))
    ]


@st.composite
def stories(draw: st.DrawFn, large: bool = False, changes: bool = True) -> Story:
    """Young people check in at random hours of the quarter, answering from a per-story palette
    (so unanimous groups are common); some later change an answer (a second check-in of the
    same checkpoint, or a skip) and some use ``/forgetme``; digests are asked by key workers,
    managers and the admin, and exports made, at random hours. Small stories keep at most four
    blocks of k young people per statement (so the brute force stays small); *large* ones have
    up to three teams of up to three key workers and more blocks."""
    k = draw(st.sampled_from([3, 3, 4]))
    palette = draw(st.lists(st.sampled_from([1, 2, 3, 4]), min_size=1, max_size=4))
    leaves = _leaves(draw, large)
    budget = (6 if k == 3 else 4) if large else (4 if k == 3 else 2)
    records: list[AnswerRecord] = []
    gone: dict[str, datetime] = {}
    for leaf in leaves:
        blocks = draw(st.integers(min(1, budget), min(2, budget))) if budget else 0
        budget -= blocks
        people = blocks * k + draw(st.integers(0, k - 1))
        for person in range(people):
            hour = draw(st.integers(0, 400))
            at = QUARTER + timedelta(hours=hour)
            who = f"{leaf[1]}{person}"
            for item in ITEMS:
                value = draw(st.sampled_from(palette))
                records.append(
                    AnswerRecord(who, leaf[0], leaf[1], THREE_MONTHS, item, value, at, at)
                )
            if changes and draw(st.integers(0, 5)) == 0:  # a later answer to one statement
                later = at + timedelta(hours=draw(st.integers(1, 200)))
                item = draw(st.sampled_from(ITEMS))
                value2 = draw(st.sampled_from([None, 1, 2, 3, 4]))
                records.append(
                    AnswerRecord(who, leaf[0], leaf[1], THREE_MONTHS, item, value2, later, later)
                )
            if changes and draw(st.integers(0, 7)) == 0:
                gone[who] = at + timedelta(hours=draw(st.integers(1, 300)), minutes=15)
    scopes: list[Scope | None] = [
        *(Scope.of_key_worker(*leaf) for leaf in leaves),
        *(Scope.of_team(t) for t in sorted({leaf[0] for leaf in leaves})),
        Scope.service(),
        None,
    ]
    times = draw(st.lists(st.integers(0, 420), min_size=3, max_size=10))
    requests = [
        (QUARTER + timedelta(hours=h, minutes=30), draw(st.sampled_from(scopes)))
        for h in sorted(times)
    ]
    return Story(k, records, requests, gone)
