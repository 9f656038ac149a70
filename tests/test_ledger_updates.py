""" "You said, we did" sentences only use figures already released: a sentence never narrows a
group beyond what the release ledger holds.

Over random sequences of digests and exports (``tests/ledger_checker.py``), the facts an update
would use for each team and the service are turned into the ledger entries the bot records when
it is sent; each must be a consequence of a released figure of the same group (the range its
words allow holds the released band), and the exact enumeration over every release, the
sentences included as figures, finds no small group narrowed."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings

from conversations.questionnaire import DEFAULT_DIR, load_questionnaire
from conversations.yousaid import facts_from, level_of, said_range, said_releases
from storage.records import ReleasedCell, ReleasedFigure
from tests.ledger_checker import Story, TooLarge, brute_force, digest_sequence, stories

QUESTIONNAIRE = load_questionnaire(DEFAULT_DIR / "quality_experience.yaml")


def _source(ledger: list[ReleasedCell], said: ReleasedCell) -> tuple[ReleasedCell, ReleasedFigure]:
    """The release a sentence came from: the latest of its cell with a figure of its group that
    allows the same words."""
    (figure,) = said.figures
    found = [
        (cell, f)
        for cell in ledger
        if cell.kind == "answers"
        and (cell.since, cell.checkpoint, cell.item_id)
        == (said.since, said.checkpoint, said.item_id)
        for f in cell.figures
        if (f.team, f.key_worker) == (figure.team, None)
        and f.status == "shown"
        and f.positive is not None
        and f.size == figure.size
        and said_range(f.size, level_of(f.size, f.positive) or "") == figure.positive
    ]
    assert found, said  # every sentence comes from a released figure of the same group
    return found[-1]


def test_the_words_allow_a_range_that_holds_every_band_they_are_said_of() -> None:
    for size in range(1, 60):
        for lo in range(size + 1):
            for hi in range(lo, size + 1):
                level = level_of(size, (lo, hi))
                if level is None:
                    continue
                low, high = said_range(size, level)
                assert low <= lo <= hi <= high
                assert 0 <= low <= high <= size


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(stories(changes=False))
def test_a_you_said_sentence_never_narrows_a_group_beyond_the_ledger(story: Story) -> None:
    ledger, _ = digest_sequence(story.records, story.requests, story.k)
    now = max(at for at, _ in story.requests)
    teams = sorted({r.team for r in story.records})
    said: list[ReleasedCell] = []
    for team in [None, *teams]:
        facts = facts_from(ledger, team, QUESTIONNAIRE)
        said += said_releases(facts, team, now, "update:1")
    checked = list(ledger)
    for cell in said:
        source, figure = _source(ledger, cell)
        (words,) = cell.figures
        assert words.positive is not None
        assert figure.positive is not None
        assert words.positive[0] <= figure.positive[0] <= figure.positive[1] <= words.positive[1]
        # as a figure of the same group (the source's blocks), for the exact enumeration
        checked.append(replace(source, kind="yousaid", released_at=now, figures=(words,)))
    try:
        found = brute_force(story.records, checked, story.k, kinds=("answers", "yousaid"))
    except TooLarge:
        return
    assert found == []
