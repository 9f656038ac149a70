"""Sequences that need the reader's system to hold what is no longer in the data: answers replaced
since a release counted them, people who left (``/forgetme``), and two releases that each counted
someone the other did not.

Each test below is a sequence where leaving that modelling out of the decision lets the exact
checker (``tests/ledger_checker.py``) find a disclosure (checked by removing it locally: see the
notes on each); with it, the checker finds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.checkpoints import THREE_MONTHS
from conversations.digest import Scope
from storage.records import AnswerRecord
from tests.ledger_checker import QUARTER, answers, brute_force, digest_sequence
from tests.test_ledger_taking_part import Person, run, taking_part
from tests.test_ledger_taking_part import Story as TakingPartStory


def _at(hours: float) -> datetime:
    return QUARTER + timedelta(minutes=round(hours * 60))


def test_an_answer_replaced_by_a_skip_stays_a_member_of_the_release_that_counted_it() -> None:
    """Six young people of one key worker; a digest counts them; then one of them skips the
    statement when answering the checkpoint again, and a seventh arrives; two more digests.

    Without the replaced answer in the reader's system (``replaced_versions`` returning
    nothing), the first release's count at this key worker is only widened, and the third
    digest pins what the one who skipped had first answered ("not Mostly", a group of one)."""
    k = 3
    leaf = ("North", "a")
    records = answers(leaf, [1, 3, 2, 1, 2, 3], 0) + answers(leaf, [3], 100)
    records.append(AnswerRecord("a-0", *leaf, THREE_MONTHS, "turn_to", None, _at(60), _at(60)))
    records.append(AnswerRecord("a-3", *leaf, THREE_MONTHS, "turn_to", 1, _at(63), _at(63)))
    scope = Scope.of_key_worker(*leaf)
    requests = [(_at(h + 0.5), scope) for h in (50, 80, 150)]
    ledger, _ = digest_sequence(records, requests, k)
    assert len([r for r in ledger if r.kind == "answers"]) >= 2
    assert brute_force(records, ledger, k) == []


def test_someone_who_forgot_stays_a_member_of_the_release_that_counted_them() -> None:
    """A team of two key workers with six young people each; the team's digest counts them.
    Then one of the first key worker's young people deletes everything (``/forgetme``), and
    three more arrive; that key worker asks for their digest.

    Without the departure in the reader's system (the ``departed`` entries left out of the
    earlier releases), the team's release is only widened at that key worker by the one who
    left, and the key worker's digest narrows three young people counted by both digests (at
    most one of them answered "No", at most one "Mostly"); with it, the checker finds nothing."""
    k = 3
    a, b = ("North", "a"), ("North", "b")
    records = answers(a, [2, 2, 2, 4, 4, 2], 0) + answers(a, [2, 4, 2], 100)
    records += answers(b, [2, 4, 4, 4, 4, 2], 10)
    gone = {"a-2": _at(62)}
    requests = [(_at(50.5), Scope.of_team("North")), (_at(80.5), Scope.of_key_worker(*a))]
    ledger, _ = digest_sequence(records, requests, k, gone=gone)
    assert [r.kind for r in ledger if r.kind == "departed"]  # the ledger kept where they were
    assert brute_force(records, ledger, k, gone) == []


def test_two_releases_that_each_counted_someone_the_other_did_not_are_compared() -> None:
    """A young person is asked at the very moment a release counts their key worker's queue to
    the full, and answers just after: the next release counts their answer in the same place
    (the queue is as long as before). Neither release counts everyone the other does, so they
    were not compared as "newcomers"; the service's "4-7 of 12 answered", then "8-12 of 12", said
    that this one young person had answered (found by the taking-part property test).

    Without :meth:`conversations.release_system.System.add_overlap` (what both counted, as a
    group of its own) the third digest shows "8-12 of 12" and the checker pins them."""
    k = 4
    people = [Person(f"a{i}", "North", "a", _at(0), None) for i in range(1, 4)]
    people += [
        Person("a0", "North", "a", _at(206), None),
        Person("a4", "North", "a", _at(0), _at(70 / 60)),
        Person("a5", "North", "a", _at(172), None),
        Person("a6", "North", "a", _at(232), None),
        Person("c0", "South", "c", _at(0), None),
    ]
    people += [Person(f"c{i}", "South", "c", _at(0), _at(70 / 60)) for i in range(1, 7)]
    people += [
        Person("c7", "South", "c", _at(216), _at(217 + 10 / 60)),
        Person("c8", "South", "c", _at(217), _at(218 + 10 / 60)),
    ]
    scope = Scope.of_key_worker("North", "a")
    story = TakingPartStory(k, people, [(_at(h), scope) for h in (0.5, 216.5, 407.5)])
    ledger = run(story)
    assert len([r for r in ledger if r.kind == "response"]) == 3
    found = brute_force(taking_part(story), ledger, k, kinds=("response",), binary=True)
    assert found == []
