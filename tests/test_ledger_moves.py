"""Moves to another key worker, across releases: "who answered" follows the young person to
their new key worker (the answer they had stays with the old one for the releases that counted
it), and the exact enumeration of ``tests/ledger_checker.py`` finds no small group pinned.

The checker's own account, from the story: "not yet" (1) from when the young person was asked,
"answered" (4) from when they answered, each under the key worker of the time, and at every move
the same answer again under the new key worker (a move is a new version, as a changed answer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.checkpoints import THREE_MONTHS
from conversations.digest import Scope, build_digest, quarter_windows
from conversations.participation import ANSWERED, RESPONSE
from storage.records import AnswerRecord, PopulationRecord, ReachChange, ReleasedCell
from tests.ledger_checker import QUARTER, TooLarge, brute_force, digest_requests, scopes_of

TICK = timedelta(microseconds=1)
Leaf = tuple[str, str]


@dataclass(frozen=True)
class Person:
    who: str
    leaf: Leaf
    asked: datetime
    answered: datetime | None
    moves: tuple[tuple[datetime, Leaf], ...] = ()

    def leaf_at(self, at: datetime) -> Leaf:
        found = self.leaf
        for when, leaf in self.moves:
            if when <= at:
                found = leaf
        return found

    def history(self, at: datetime) -> tuple[ReachChange, ...]:
        enrolled = self.asked - timedelta(hours=1)
        states = [(enrolled, self.leaf), *self.moves]
        return tuple(ReachChange(t, True, *leaf) for t, leaf in states if t <= at)


@dataclass(frozen=True)
class Story:
    k: int
    people: list[Person]
    requests: list[tuple[datetime, Scope]]


@st.composite
def stories(draw: st.DrawFn) -> Story:
    """Two or three key workers in up to two teams; young people are asked the 3-month check-in
    at random hours, some answer later, some move to another key worker (before or after
    answering); digests by every role at random hours."""
    k = draw(st.sampled_from([3, 3, 4]))
    leaves: list[Leaf] = [("North", "a"), ("North", "b")]
    if draw(st.booleans()):
        leaves.append(("South", "c"))
    budget = 4 if k == 3 else 3
    people = []
    for leaf in leaves:
        blocks = draw(st.integers(0, min(2, budget)))
        budget -= blocks
        for n in range(blocks * k + draw(st.integers(0, k - 1))):
            asked = QUARTER + timedelta(hours=draw(st.integers(0, 300)))
            later = draw(st.one_of(st.none(), st.integers(1, 200)))
            answered = None if later is None else asked + timedelta(hours=later, minutes=10)
            moves: list[tuple[datetime, Leaf]] = []
            where = leaf
            if draw(st.integers(0, 2)) == 0:
                where = draw(st.sampled_from([x for x in leaves if x != where]))
                moved = asked + timedelta(hours=draw(st.integers(1, 250)), minutes=20)
                moves.append((moved, where))
            people.append(Person(f"{leaf[1]}{n}", leaf, asked, answered, tuple(moves)))
    requests = digest_requests(draw, scopes_of(leaves), 560)
    return Story(k, people, requests)


def run(story: Story) -> list[ReleasedCell]:
    """Digests in time order, as the bot reads the data at each moment."""
    ledger: list[ReleasedCell] = []
    for at, scope in story.requests:
        population = []
        for p in story.people:
            if p.asked <= at:
                team, worker = p.leaf_at(at)
                population.append(
                    PopulationRecord(
                        p.who,
                        team,
                        worker,
                        True,
                        frozenset({THREE_MONTHS}),
                        ((THREE_MONTHS, p.asked),),
                        p.history(at),
                    )
                )
        answers = [
            AnswerRecord(p.who, *p.leaf_at(p.answered), THREE_MONTHS, "cares", 3, p.answered)
            for p in story.people
            if p.answered is not None and p.answered <= at
        ]
        window, _ = quarter_windows(at + TICK)
        digest = build_digest(
            scope, answers, population, [], window=window, k=story.k, earlier=ledger, now=at
        )
        ledger += digest.releases
    return ledger


def taking_part(story: Story) -> list[AnswerRecord]:
    """The checker's own account (see the module's docstring)."""
    out = []
    for p in story.people:
        steps = [(p.asked, 1)] + ([(p.answered, 4)] if p.answered is not None else [])
        steps += [(when, 4 if p.answered and p.answered <= when else 1) for when, _ in p.moves]
        for at, value in steps:
            if at >= p.asked:
                team, worker = p.leaf_at(at)
                out.append(AnswerRecord(p.who, team, worker, THREE_MONTHS, ANSWERED, value, at))
    return out


checked: list[bool] = []


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(stories())
def test_moves_to_another_key_worker_pin_nobody_who_answered(story: Story) -> None:
    ledger = run(story)
    try:
        found = brute_force(
            taking_part(story), ledger, story.k, kinds=(RESPONSE,), binary=True, unions=True
        )
    except TooLarge:
        checked.append(False)
        return
    checked.append(True)
    assert found == []


def test_the_move_sequences_were_mostly_checked() -> None:
    """Not vacuous: most sequences were within the checker's reach (runs after the property
    test, in file order)."""
    if not checked:
        pytest.skip("run together with the property test")
    assert sum(checked) >= 3 * len(checked) // 4
