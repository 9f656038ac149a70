"""Unions of atoms: the production reasoning checks release groups, atoms and the newcomers
between two releases; the exact checker (``tests/ledger_checker.py``, ``unions=True``) also
enumerates every union of one key worker's atoms (people counted by the same releases), so that
a set of, say, two small atoms whose total a reader could pin is caught. Seeded subsets of the
answer and taking-part sequences (the reach and moves sequences check unions in full)."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

from tests.ledger_checker import Story, TooLarge, brute_force, digest_sequence, stories
from tests.test_ledger_taking_part import Story as TakingPartStory
from tests.test_ledger_taking_part import run, taking_part
from tests.test_ledger_taking_part import stories as taking_part_stories

UNIONS = settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@UNIONS
@given(stories())
def test_no_union_of_a_key_workers_atoms_is_pinned_by_answers(story: Story) -> None:
    """Answers over time (some changed, some deleted with /forgetme), digests and exports by
    every role: no union of one key worker's atoms narrowed below k, nor unanimous."""
    ledger, _ = digest_sequence(story.records, story.requests, story.k, gone=story.gone)
    try:
        found = brute_force(story.records, ledger, story.k, story.gone, unions=True)
    except TooLarge:
        assume(False)
        raise
    assert found == []


@UNIONS
@given(taking_part_stories())
def test_no_union_of_a_key_workers_atoms_is_pinned_by_who_answered(
    story: TakingPartStory,
) -> None:
    ledger = run(story)
    try:
        found = brute_force(
            taking_part(story), ledger, story.k, kinds=("response",), binary=True, unions=True
        )
    except TooLarge:
        assume(False)
        raise
    assert found == []
