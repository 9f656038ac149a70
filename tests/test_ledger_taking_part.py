"""Taking part across releases: response figures ("who answered" per checkpoint) go through the
release ledger like answers, and the exact enumeration of ``tests/ledger_checker.py`` finds no
group of fewer than k whose taking part a reader of every digest could pin down.

The checker is given its own account of taking part, written from the story (who was asked when,
who answered when): a yes/no answer per young person and checkpoint, "not yet" from when they
were asked, "answered" from when they first answered; the reader knows it is yes/no."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.checkpoints import THREE_MONTHS
from conversations.digest import Scope, build_digest, quarter_windows
from storage.records import (
    AnswerRecord,
    PopulationRecord,
    ReleasedBlock,
    ReleasedCell,
    ReleasedFigure,
)
from tests.ledger_checker import QUARTER, TooLarge, brute_force, digest_requests, scopes_of

TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Person:
    who: str
    team: str
    worker: str
    asked: datetime
    answered: datetime | None


@dataclass(frozen=True)
class Story:
    k: int
    people: list[Person]
    requests: list[tuple[datetime, Scope]]


@st.composite
def stories(draw: st.DrawFn) -> Story:
    """Up to three key workers in two teams; young people are asked the 3-month check-in at
    random hours and some answer it later; digests by every role at random hours."""
    k = draw(st.sampled_from([3, 3, 4]))
    leaves = [("North", "a")]
    if draw(st.booleans()):
        leaves.append(("North", "b"))
    if draw(st.booleans()):
        leaves.append(("South", "c"))
    people = []
    budget = 4 if k == 3 else 3
    for team, worker in leaves:
        blocks = draw(st.integers(min(1, budget), min(2, budget))) if budget else 0
        budget -= blocks
        for n in range(blocks * k + draw(st.integers(0, k - 1))):
            asked = QUARTER + timedelta(hours=draw(st.integers(0, 300)))
            later = draw(st.one_of(st.none(), st.integers(1, 200)))
            answered = None if later is None else asked + timedelta(hours=later, minutes=10)
            people.append(Person(f"{worker}{n}", team, worker, asked, answered))
    requests = digest_requests(draw, scopes_of(leaves), 520)
    return Story(k, people, requests)


def run(story: Story) -> list[ReleasedCell]:
    """Digests in time order, as the bot reads the data at each moment."""
    ledger: list[ReleasedCell] = []
    for at, scope in story.requests:
        population = [
            PopulationRecord(
                p.who, p.team, p.worker, True, frozenset({THREE_MONTHS}), ((THREE_MONTHS, p.asked),)
            )
            for p in story.people
            if p.asked <= at
        ]
        answers = [
            AnswerRecord(p.who, p.team, p.worker, THREE_MONTHS, "cares", 3, p.answered, p.answered)
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
    """The checker's own account: "not yet" (1) when asked, "answered" (4) when answered."""
    out = []
    for p in story.people:
        out.append(AnswerRecord(p.who, p.team, p.worker, THREE_MONTHS, "answered", 1, p.asked))
        if p.answered is not None:
            out.append(
                AnswerRecord(p.who, p.team, p.worker, THREE_MONTHS, "answered", 4, p.answered)
            )
    return out


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(stories())
def test_no_sequence_of_digests_pins_who_answered_in_a_small_group(story: Story) -> None:
    ledger = run(story)
    assert all(r.checkpoint == THREE_MONTHS for r in ledger if r.kind == "response")
    try:
        found = brute_force(taking_part(story), ledger, story.k, kinds=("response",), binary=True)
    except TooLarge:
        return
    assert found == []


def test_the_checker_finds_who_answered_when_exact_counts_are_shown() -> None:
    """The checker is not blind in yes/no mode: exact counts before and after one more young
    person is asked and answers say that they answered."""
    k = 3
    people = [Person(f"a{i}", "North", "a", QUARTER + timedelta(hours=i), None) for i in range(6)]
    late = QUARTER + timedelta(hours=40)
    people.append(Person("a6", "North", "a", late, late + timedelta(hours=1)))
    naive: list[ReleasedCell] = []
    for at, last, size, answered in (
        (QUARTER + timedelta(hours=20), (people[5].asked, "a5"), 6, 0),
        (QUARTER + timedelta(hours=60), (late + timedelta(hours=1), "a6"), 7, 1),
    ):
        block = ReleasedBlock("North", "a", last[0], last[1], size)
        figure = ReleasedFigure("North", "a", "shown", size, (answered, answered), None)
        naive.append(
            ReleasedCell(QUARTER, "response", THREE_MONTHS, "answered", at, "", (block,), (figure,))
        )
    story = Story(k, people, [])
    found = brute_force(taking_part(story), naive, k, kinds=("response",), binary=True)
    assert any(f.size == 1 and f.figure == "positive" and f.lo == 1 for f in found), found
