"""A key worker as a reader: ``/caseload`` shows them, for each of their own young people, which
check-ins are done and who can no longer be reached. So for "who answered" and reach, each key
worker knows their own young people's answers exactly, and the disclosure control must keep
everyone else safe from a reader who adds that to every release (the checker's ``insiders``).

Each test below fails without that modelling (``known`` left out of
:func:`conversations.ledger.decide`; checked by removing it locally): a team's figure minus what
one key worker knows pins their colleague's young people."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from conversations.digest import Scope
from conversations.reach import REACH
from storage.records import ReleasedFigure
from tests.ledger_checker import QUARTER, brute_force
from tests.test_ledger_reach import Person as ReachPerson
from tests.test_ledger_reach import Story as ReachStory
from tests.test_ledger_reach import check as reach_check
from tests.test_ledger_reach import run as reach_run
from tests.test_ledger_taking_part import Person, Story, run, taking_part


def _two_key_workers(k: int) -> Story:
    """Key worker a: k young people, none has answered; key worker b: k, all have; the
    manager asks for the team's digest."""
    asked = QUARTER + timedelta(hours=1)
    people = [Person(f"a{i}", "North", "a", asked + timedelta(minutes=i), None) for i in range(k)]
    people += [
        Person(f"b{i}", "North", "b", asked, asked + timedelta(hours=2, minutes=i))
        for i in range(k)
    ]
    return Story(k, people, [(QUARTER + timedelta(hours=10), Scope.of_team("North"))])


def test_a_team_figure_less_what_a_key_worker_knows_pins_nobody_who_answered() -> None:
    """Key worker a: three young people, none has answered; key worker b: three, all have.
    The team's "3-6 of 6 answered" is safe for a manager, but a, who knows from /caseload that
    none of theirs answered, would learn that all of b's did (a unanimous group)."""
    k = 3
    story = _two_key_workers(k)
    ledger = run(story)
    assert [r.kind for r in ledger if r.kind == "response"] == ["response"]
    found = brute_force(
        taking_part(story), ledger, k, kinds=("response",), binary=True, insiders=True
    )
    assert found == []
    # a manager alone learns nothing either way: what the control withheld was for key worker a
    assert brute_force(taking_part(story), ledger, k, kinds=("response",), binary=True) == []


def test_a_team_figure_less_what_a_key_worker_knows_pins_nobody_unreachable() -> None:
    """The same for reach: a's three can all be reached, b's three can no longer be."""
    k = 3
    enrolled = QUARTER + timedelta(hours=1)
    people = [
        ReachPerson(f"a{i}", ("North", "a"), enrolled + timedelta(minutes=i)) for i in range(3)
    ]
    people += [
        ReachPerson(
            f"b{i}",
            ("North", "b"),
            enrolled + timedelta(minutes=10 + i),
            ((enrolled + timedelta(hours=2, minutes=i), False, ("North", "b")),),
        )
        for i in range(3)
    ]
    at = QUARTER + timedelta(hours=10)
    story = ReachStory(k, people, [(at, Scope.of_team("North"))])
    ledger, _ = reach_run(story)
    assert [r.kind for r in ledger if r.kind == REACH] == [REACH]
    assert reach_check(story, ledger, unions=True) == []


def test_the_checker_sees_what_a_key_worker_knows() -> None:
    """The checker is not blind with insiders: the same team shown as "3-6 of 6 answered" (as
    the control decided before it knew about /caseload) is found through key worker a, and
    only through them."""
    k = 3
    story = _two_key_workers(k)
    shown = ReleasedFigure("North", None, "shown", 6, (3, 6), None)
    naive = [
        replace(r, figures=(*(f for f in r.figures if f.team is None), shown)) for r in run(story)
    ]
    found = brute_force(
        taking_part(story), naive, k, kinds=("response",), binary=True, insiders=True
    )
    assert any("as a knows" in f.group and f.figure.endswith("positive") for f in found), found
    assert brute_force(taking_part(story), naive, k, kinds=("response",), binary=True) == []
