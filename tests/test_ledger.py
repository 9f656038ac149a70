"""Disclosure control across releases: the release ledger, checked by an independent brute force.

The checker below shares nothing with the production reasoning (``conversations/ledger.py``
propagates bounds over atoms it derives from segments): it works out, from the ledger's blocks and
the true answers, which young people each release counted, groups people who were counted by
exactly the same releases, enumerates *every* way those people could have answered that agrees
with every figure ever shown, and reports any group (a release's group, the newcomers between two
releases, or a set of people counted by the same releases) whose count of an answer a reader
could pin to between 1 and k - 1, or to "nobody"/"everyone".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.checkpoints import THREE_MONTHS
from conversations.digest import Scope, Window, build_digest, quarter_windows
from conversations.disclosure import CountRange, Tally
from conversations.export import aggregate_rows
from conversations.ledger import Earlier, decide
from storage.records import AnswerRecord, PopulationRecord, ReleasedCell

QUARTER = datetime(2026, 4, 1, tzinfo=UTC)
ITEMS = ("turn_to", "cares")

Person = tuple[str, str, str]  # team, key worker, pseudonym


# ---------------------------------------------------------------------------------------------
# The independent checker


def _compositions(size: int) -> np.ndarray:
    """Every way *size* people can split over the four answers: rows of (n1, n2, n3, n4)."""
    rows = [
        (a, b, c, size - a - b - c)
        for a in range(size + 1)
        for b in range(size + 1 - a)
        for c in range(size + 1 - a - b)
    ]
    return np.array(rows, dtype=np.int16)


def _counted(
    records: Sequence[AnswerRecord], release: ReleasedCell
) -> dict[tuple[str, str], set[str]]:
    """Per key worker, the young people a release counted: answered in its window and counted
    no later than the last one its block names."""
    per_leaf: dict[tuple[str, str], set[str]] = {}
    for block in release.blocks:
        if block.through_at is None:
            continue
        mark = (block.through_at, block.through_id or "")
        per_leaf[(block.team, block.key_worker)] = {
            r.respondent
            for r in records
            if (r.team, r.key_worker) == (block.team, block.key_worker)
            and (r.checkpoint, r.item_id) == (release.checkpoint, release.item_id)
            and r.value is not None
            and r.answered_at >= release.since
            and (r.counted_at or r.answered_at, r.respondent) <= mark
        }
    return per_leaf


def _disclosive(lo: int, hi: int, n: int, k: int) -> bool:
    """Written apart from production: a small group surely exists, or the count is known to be
    smaller than a band that includes "nobody" (which includes a unanimous group)."""
    if n == 0:
        return False
    sure_small = lo >= 1 and hi <= k - 1
    too_narrow = hi < k - 1 and hi < n
    return sure_small or too_narrow


@dataclass(frozen=True)
class Atom:
    """Young people of one key worker counted by exactly the same releases (``flags``)."""

    leaf: tuple[str, str]
    flags: tuple[bool, ...]
    people: list[str]


def _group_of(
    atoms: Sequence[Atom], node: tuple[str, ...], membership: dict[tuple[str, str], set[str]]
) -> frozenset[int]:
    """The atoms that make up a release's group for *node*."""
    return frozenset(
        a
        for a, atom in enumerate(atoms)
        if atom.leaf[: len(node)] == node and set(atom.people) <= membership.get(atom.leaf, set())
    )


def _sums(counts: Sequence[np.ndarray], total: int, group: Iterable[int]) -> np.ndarray:
    out = np.zeros((total, 4), dtype=np.int32)
    for a in group:
        out += counts[a]
    return out


@dataclass(frozen=True)
class Found:
    cell: tuple[str, str]
    group: str
    figure: str
    lo: int
    hi: int
    size: int


def brute_force(
    records: Sequence[AnswerRecord], ledger: Sequence[ReleasedCell], k: int, limit: int = 400_000
) -> list[Found]:
    """Everything a reader of every release could be sure of that discloses a small group."""
    found: list[Found] = []
    cells = {(r.since, r.checkpoint, r.item_id) for r in ledger if r.kind == "answers"}
    truth = {(r.respondent, r.checkpoint, r.item_id): r.value for r in records}
    for since, checkpoint, item in sorted(cells):
        releases = [
            r
            for r in ledger
            if r.kind == "answers"
            and (r.since, r.checkpoint, r.item_id) == (since, checkpoint, item)
        ]
        members = [_counted(records, r) for r in releases]
        people = sorted({(leaf, p) for m in members for leaf, ps in m.items() for p in ps})
        # people counted by exactly the same releases, at one key worker, are interchangeable
        classes: dict[tuple[tuple[str, str], tuple[bool, ...]], list[str]] = {}
        for leaf, p in people:
            signature = (leaf, tuple(p in m.get(leaf, set()) for m in members))
            classes.setdefault(signature, []).append(p)
        atoms = [Atom(leaf, flags, ps) for (leaf, flags), ps in classes.items()]
        comps = [_compositions(len(atom.people)) for atom in atoms]
        total = int(np.prod([len(c) for c in comps])) if comps else 1
        assert total <= limit, f"checker too large: {total}"
        index = np.arange(total)
        counts = []
        stride = 1
        for comp in comps:
            counts.append(comp[(index // stride) % len(comp)])
            stride *= len(comp)
        for atom, comp in zip(atoms, comps, strict=True):
            values = [truth[(p, checkpoint, item)] for p in atom.people]
            real = np.bincount([v - 1 for v in values if v is not None], minlength=4)
            assert any((row == real).all() for row in comp)  # the truth is one of them

        ok = np.ones(total, dtype=bool)
        published: list[tuple[str, frozenset[int]]] = []
        for r, membership in zip(releases, members, strict=True):
            for f in r.figures:
                node = tuple(x for x in (f.team, f.key_worker) if x is not None)
                group = _group_of(atoms, node, membership)
                size = sum(len(atoms[a].people) for a in group)
                published.append((f"{r.released_at:%d %H:%M} {node}", group))
                c = _sums(counts, total, group)
                if f.positive is not None:
                    positive = c[:, 2] + c[:, 3]
                    # the size shown may include people who left since; not in this simulation
                    assert f.size == size
                    ok &= (positive >= f.positive[0]) & (positive <= f.positive[1])
                for v, band in enumerate(f.distribution or ()):
                    ok &= (c[:, v] >= band[0]) & (c[:, v] <= band[1])
        assert ok.any()  # the truth is always possible
        checks: dict[frozenset[int], str] = {}
        for a, atom in enumerate(atoms):
            checks[frozenset({a})] = f"atom {atom.leaf} {atom.flags} ({len(atom.people)})"
        for name, group in published:
            checks.setdefault(group, name)
        for (n1, g1), (n2, g2) in itertools.permutations(published, 2):
            if g1 < g2:
                checks.setdefault(g2 - g1, f"{n2} minus {n1}")
        for group, name in checks.items():
            if not group:
                continue
            c = _sums(counts, total, group)[ok]
            n = sum(len(atoms[a].people) for a in group)
            figures = {
                "No": c[:, 0],
                "Not really": c[:, 1],
                "Mostly": c[:, 2],
                "Yes, definitely": c[:, 3],
                "positive": c[:, 2] + c[:, 3],
            }
            for figure, values in figures.items():
                lo, hi = int(values.min()), int(values.max())
                for what, a, b in ((figure, lo, hi), ("not " + figure, n - hi, n - lo)):
                    if _disclosive(a, b, n, k):
                        found.append(Found((checkpoint, item), name, what, a, b, n))
    return found


# ---------------------------------------------------------------------------------------------
# The case of the issue, in its general form


def _answers(
    leaf: tuple[str, str], values: Sequence[int], start: int, item: str = "turn_to"
) -> list[AnswerRecord]:
    out = []
    for i, value in enumerate(values):
        at = QUARTER + timedelta(hours=start + i)
        who = f"{leaf[1]}-{start + i}"
        out.append(AnswerRecord(who, leaf[0], leaf[1], THREE_MONTHS, item, value, at, at))
    return out


def _digest_sequence(
    records: Sequence[AnswerRecord],
    requests: Iterable[tuple[datetime, Scope | None]],
    k: int,
    people: Sequence[PopulationRecord] = (),
    *,
    remember: bool = True,
) -> tuple[list[ReleasedCell], list[object]]:
    """Run requests in time order (a scope's digest, or ``None`` for an export), each given
    every release recorded before it; return the ledger and what each request showed.
    ``remember=False`` decides each request on its own (as before the ledger), for contrast."""
    ledger: list[ReleasedCell] = []
    shown: list[object] = []
    for at, scope in requests:
        earlier = ledger if remember else []
        visible = [r for r in records if (r.counted_at or r.answered_at) <= at]
        if scope is None:
            teams = {r.team for r in visible}
            _, rows, new = aggregate_rows(visible, people, teams, at, k, earlier)
            shown.append(rows)
            ledger += new
            continue
        window, previous = quarter_windows(at + timedelta(microseconds=1))
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


@pytest.mark.parametrize("k", [3, 4, 5])
@pytest.mark.parametrize("value", [1, 2, 3, 4])
def test_pinned_distribution_then_unanimous_newcomers_are_not_revealed(k: int, value: int) -> None:
    """Two digests of one quarter. The first shows a group of 4k where each answer was given by
    exactly k people: four bands "k to 2k-1" whose lower ends add up to the group, so every count
    is pinned. Then k newcomers all give the same answer. Shown naively, the second digest minus
    the first says what every newcomer answered."""
    leaf = ("North", "kw1")
    first = _answers(leaf, [1] * k + [2] * k + [3] * k + [4] * k, 0)
    newcomers = _answers(leaf, [value] * k, 100)
    records = first + newcomers
    t1 = QUARTER + timedelta(hours=50)
    t2 = QUARTER + timedelta(hours=200)
    scope = Scope.of_key_worker(*leaf)
    ledger, shown = _digest_sequence(records, [(t1, scope), (t2, scope)], k)
    cell = shown[0][0]  # type: ignore[index]
    assert cell.distribution is not None  # the first digest did pin every count
    assert [r.lo for _, r in cell.distribution] == [k] * 4
    assert brute_force(records, ledger, k) == []
    later = shown[1][0]  # type: ignore[index]
    assert later.respondents == 5 * k
    assert later.distribution is None  # the spread is what would give the newcomers away


def test_a_figure_withheld_later_but_shown_earlier_still_counts() -> None:
    """The team's figures shown in the first digest are a fact: when a second key worker's
    block arrives, the team's new figures minus the old ones must not pin the newcomers, even
    though the first digest's figure is no longer on show."""
    k = 3
    a, b = ("North", "a"), ("North", "b")
    records = _answers(a, [4, 4, 4, 1, 1, 1], 0) + _answers(b, [1, 1, 1], 50)
    t1 = QUARTER + timedelta(hours=20)
    t2 = QUARTER + timedelta(hours=80)
    team = Scope.of_team("North")
    ledger, shown = _digest_sequence(records, [(t1, team), (t2, team), (t2, Scope.service())], k)
    assert shown[0][0].positive is not None  # type: ignore[index]
    assert brute_force(records, ledger, k) == []
    naive = [r for r in ledger]
    assert len(naive) >= 2


def test_a_digest_asked_again_shows_the_same_release_and_records_nothing_new() -> None:
    leaf = ("North", "kw1")
    records = _answers(leaf, [1, 2, 3, 4, 4, 3, 2, 1, 4, 4], 0)
    at = QUARTER + timedelta(hours=30)
    scope = Scope.of_team("North")
    ledger, shown = _digest_sequence(
        records, [(at, scope), (at + timedelta(hours=1), scope), (at, Scope.service())], 5
    )
    assert shown[0] == shown[1]
    assert len([r for r in ledger if r.kind == "answers"]) == 1


def test_decide_without_earlier_releases_is_the_single_release_decision() -> None:
    leaf = ("t", "a")
    seg = [Tally.of_values((5, 5, 5, 5))]
    first = decide({leaf: seg}, {leaf: 1}, [], 5)
    assert first[leaf].distribution == (CountRange(5, 9),) * 4
    again = decide({leaf: seg}, {leaf: 1}, [Earlier({leaf: 1}, first)], 5)
    assert again == first  # showing the same again adds nothing


def test_people_who_left_widen_an_earlier_release_instead_of_breaking_it() -> None:
    leaf = ("t", "a")
    first = decide({leaf: [Tally.of_values((5, 5, 5, 5))]}, {leaf: 1}, [], 5)
    # two people of the first release have gone (forgetme): today's first run has 18
    segments = [Tally.of_values((5, 5, 4, 4)), Tally.of_values((5, 0, 0, 0))]
    earlier = [Earlier({leaf: 1}, first, {leaf: 2})]
    shown = decide({leaf: segments}, {leaf: 2}, earlier, 5)  # no "inconsistent" error
    assert shown[leaf].total == 23
    assert shown[leaf].distribution is None  # the five newcomers all said No: not shown


# ---------------------------------------------------------------------------------------------
# Sequences: random services, answers over time, every role asking at random moments


@dataclass(frozen=True)
class Story:
    k: int
    records: list[AnswerRecord]
    requests: list[tuple[datetime, Scope | None]]


@st.composite
def stories(draw: st.DrawFn) -> Story:
    """One or two teams, one or two key workers each, at most four blocks of k young people in
    all per statement (so the brute force stays small); young people check in at random hours of
    the quarter, answering from a per-story palette (so unanimous groups are common); digests are
    asked by key workers, managers and the admin, and exports made, at random hours."""
    k = draw(st.sampled_from([3, 3, 4]))
    palette = draw(st.lists(st.sampled_from([1, 2, 3, 4]), min_size=1, max_size=4))
    leaves = [("North", "a")]
    if draw(st.booleans()):
        leaves.append(("North", "b"))
    if draw(st.booleans()):
        leaves.append(("South", "c"))
    budget = 4 if k == 3 else 2
    records: list[AnswerRecord] = []
    for leaf in leaves:
        blocks = draw(st.integers(min(1, budget), min(2, budget)))
        budget -= blocks
        people = blocks * k + draw(st.integers(0, k - 1))
        for person in range(people):
            hour = draw(st.integers(0, 400))
            at = QUARTER + timedelta(hours=hour)
            for item in ITEMS:
                value = draw(st.sampled_from(palette))
                who = f"{leaf[1]}{person}"
                records.append(
                    AnswerRecord(who, leaf[0], leaf[1], THREE_MONTHS, item, value, at, at)
                )
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
    return Story(k, records, requests)


SEQUENCES = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@SEQUENCES
@given(stories())
def test_no_sequence_of_digests_and_exports_reveals_a_small_group(story: Story) -> None:
    ledger, _ = _digest_sequence(story.records, story.requests, story.k)
    assert brute_force(story.records, ledger, story.k) == []


def test_the_checker_finds_what_showing_everything_would_give_away() -> None:
    """The brute force is not blind: a naive ledger (every band shown each time, as before the
    ledger existed) of the issue's case is caught."""
    k = 3
    leaf = ("North", "kw1")
    records = _answers(leaf, [1] * k + [2] * k + [3] * k + [4] * k, 0) + _answers(
        leaf, [1] * k, 100
    )
    window = Window(QUARTER, QUARTER + timedelta(days=80))
    naive: list[ReleasedCell] = []
    for at in (QUARTER + timedelta(hours=50), QUARTER + timedelta(hours=200)):
        visible = [r for r in records if r.answered_at <= at]
        digest = build_digest(
            Scope.of_key_worker(*leaf), visible, [], [], window=window, k=k, now=at
        )  # no earlier releases given: each decided on its own
        naive += [r for r in digest.releases if r.kind == "answers"]
    found = brute_force(records, naive, k)
    # the k newcomers (a set of people counted by the second release only) all said No
    assert any(f.size == k and f.figure == "not No" and f.hi == 0 for f in found), found
