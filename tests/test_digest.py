"""Digest aggregation and disclosure control: unit tests and property tests."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.checkpoints import EXIT, THREE_MONTHS
from conversations.digest import (
    CellFigures,
    Digest,
    Finding,
    Scope,
    ShareRange,
    Window,
    build_digest,
    chart_bars,
    find_findings,
    leaf_tallies,
    quarter_windows,
    reach_figures,
    release_table,
    released_answers,
    shared_comments,
)
from conversations.digest_text import plain, render_text
from conversations.disclosure import (
    CountRange,
    DisclosureError,
    NodeId,
    Shown,
    Tally,
    audit,
    band,
    first_look,
    propagate,
    published_bounds,
    redact,
    relations_for,
    small_interval,
    suppress,
    tree_of,
    validate_k,
    violations,
    visible_groups,
)
from conversations.publication import Table
from storage.records import AnswerRecord, CommentRecord, PopulationRecord

BASE = datetime(2025, 4, 1, tzinfo=UTC)
WINDOW = Window(BASE, BASE + timedelta(days=80))
PREVIOUS = Window(BASE - timedelta(days=91), BASE)
ITEMS = {"turn_to": "can turn to key worker", "cares": "key worker cares"}


def answer(
    who: str,
    value: int | None,
    *,
    team: str = "t1",
    kw: str = "a",
    checkpoint: str = THREE_MONTHS,
    item: str = "turn_to",
    minutes: int = 0,
) -> AnswerRecord:
    at = BASE + timedelta(minutes=minutes)
    return AnswerRecord(who, team, kw, checkpoint, item, value, at)


def answers_for(values: Sequence[int | None], **kwargs: object) -> list[AnswerRecord]:
    """One answer per value, from distinct young people, one minute apart."""
    prefix = f"{kwargs.get('team', 't1')}-{kwargs.get('kw', 'a')}-{kwargs.get('checkpoint', '')}"
    return [
        answer(f"{prefix}-{i}", v, minutes=i, **kwargs)  # type: ignore[arg-type]
        for i, v in enumerate(values)
    ]


def digest_of(answers: list[AnswerRecord], scope: Scope | None = None, **kw: object) -> Digest:
    return build_digest(
        scope or Scope.of_team("t1"),
        answers,
        [],
        [],
        window=WINDOW,
        previous_window=kw.get("previous_window", PREVIOUS),  # type: ignore[arg-type]
        k=kw.get("k", 5),  # type: ignore[arg-type]
    )


class Echo:
    """A translator that marks every translated string, to prove all text goes through it."""

    def gettext(self, message: str) -> str:
        return f"«{message}»"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"«{singular if n == 1 else plural}»"

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.ngettext(singular, plural, n)

    def isolate(self, value: object) -> str:
        return str(value)

    def date(self, value: date | datetime) -> str:
        return value.isoformat()


class English:
    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        return message

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.ngettext(singular, plural, n)

    def isolate(self, value: object) -> str:
        return str(value)

    def date(self, value: date | datetime) -> str:
        return value.strftime("%d %b %Y")


def words(d: Digest, items: Mapping[str, str] = ITEMS, t: Any = None) -> str:
    """The digest as a reader sees it (Telegram shows the HTML without its tags)."""
    return plain(render_text(d, t or English(), items))


# ---------------------------------------------------------------------------------------------
# k


@pytest.mark.parametrize("bad", [2, 1, 0, -5, True, 2.5, "5", None])
def test_k_below_three_or_not_an_integer_is_refused(bad: object) -> None:
    with pytest.raises(DisclosureError, match="k"):
        validate_k(bad)


def test_k_error_is_a_value_error_and_build_digest_checks_it() -> None:
    assert issubclass(DisclosureError, ValueError)
    with pytest.raises(ValueError, match="k=2"):
        digest_of([], k=2)
    assert validate_k(3) == 3


# ---------------------------------------------------------------------------------------------
# Bands and blocks


@pytest.mark.parametrize("k", [3, 4, 5, 7])
@pytest.mark.parametrize("total", range(0, 40))
def test_bands_cover_at_least_k_values_and_never_say_all(k: int, total: int) -> None:
    for count in range(total + 1):
        b = band(count, total, k)
        assert b.lo <= count <= b.hi <= total
        assert b.hi - b.lo + 1 >= min(k, total + 1)
        assert not small_interval(b.lo, b.hi, total, k)
        assert not small_interval(total - b.hi, total - b.lo, total, k)
        assert band(b.lo, total, k) == band(b.hi, total, k) == b  # a fixed grid


def test_unanimous_group_is_shown_as_a_range_not_all() -> None:
    d = digest_of(answers_for([1] * 10))
    cell = d.cell(THREE_MONTHS, "turn_to")
    assert cell is not None
    assert cell.status == "shown"
    assert cell.positive == CountRange(0, 4)
    assert cell.share == ShareRange(0, 40)
    assert cell.distribution is not None
    assert dict(cell.distribution)[1] == CountRange(5, 10)  # "No": 5 to 10 of 10, not "all 10"
    text = words(d)
    assert "0–40%" in text
    assert "10 of 10" not in text


def test_all_positive_is_a_range_too() -> None:
    cell = digest_of(answers_for([4] * 12 + [3] * 3)).cell(THREE_MONTHS, "turn_to")
    assert cell is not None
    assert cell.positive == CountRange(10, 15)


def test_answers_are_released_only_in_blocks_of_k_in_time_order() -> None:
    records = answers_for([4, 3, 2, 1, 4, 3, 2])
    released = released_answers(records, WINDOW, 5)
    assert sorted(r.respondent for r in released) == sorted(r.respondent for r in records[:5])
    assert released_answers(records[:4], WINDOW, 5) == []


def test_skips_do_not_count_and_the_latest_answer_counts_at_the_first_answer_time() -> None:
    records = answers_for([4, 4, 4, 4, None])
    changed = answer(records[0].respondent, 1, minutes=500)  # changed later: stays in block 1
    late = answer("late", 2, minutes=100)
    released = released_answers([*records, changed, late], WINDOW, 5)
    values = {r.respondent: r.value for r in released}
    assert values[records[0].respondent] == 1
    assert "late" in values
    assert records[4].respondent not in values


def test_answers_outside_the_window_are_ignored() -> None:
    outside = [answer(f"p{i}", 4, minutes=-10 - i) for i in range(10)]
    assert released_answers(outside, WINDOW, 5) == []


# ---------------------------------------------------------------------------------------------
# Minimum group size, fallback


def test_group_smaller_than_k_shows_nothing() -> None:
    d = digest_of(answers_for([4, 4, 1, 1]))
    assert d.cell(THREE_MONTHS, "turn_to") is None  # nothing released at all
    assert "turn_to" not in words(d, {})


def test_group_of_exactly_k_shows_only_its_size() -> None:
    cell = digest_of(answers_for([4, 4, 4, 1, 1])).cell(THREE_MONTHS, "turn_to")
    assert cell is not None
    assert (cell.status, cell.respondents, cell.positive, cell.share) == ("too_few", 5, None, None)


def test_key_worker_with_fewer_than_k_respondents_sees_team_figures() -> None:
    records = answers_for([4] * 3, kw="small") + answers_for([1] * 10, kw="big")
    d = digest_of(records, Scope.of_key_worker("t1", "small"))
    assert d.fallback_to_team
    assert d.group == Scope.of_team("t1")
    cell = d.cell(THREE_MONTHS, "turn_to")
    assert cell is not None
    assert cell.respondents == 10
    assert "your team's figures" in words(d)


def test_key_worker_with_k_respondents_sees_their_own() -> None:
    records = answers_for([4] * 5, kw="mine") + answers_for([1] * 10, kw="other")
    d = digest_of(records, Scope.of_key_worker("t1", "mine"))
    assert not d.fallback_to_team
    assert d.group == Scope.of_key_worker("t1", "mine")


def test_skipped_answers_do_not_make_a_respondent() -> None:
    records = answers_for([4, 4, 4, None, None], kw="mine")
    assert digest_of(records, Scope.of_key_worker("t1", "mine")).fallback_to_team


def test_scope_needs_the_ids_it_names() -> None:
    with pytest.raises(ValueError, match="scope"):
        Scope("team")
    with pytest.raises(ValueError, match="scope"):
        Scope("key_worker", team="t1")


# ---------------------------------------------------------------------------------------------
# Complementary suppression


def _naive(leaves: Mapping[NodeId, Tally], k: int) -> dict[NodeId, Shown]:
    return {node: first_look(t, k) for node, t in tree_of(leaves).items()}


def _find_case_needing_complementary_suppression() -> dict[NodeId, Tally]:
    """A small team where every group alone is fine but together they give someone away."""
    for p_a, p_b in itertools.product(range(11), repeat=2):
        leaves: dict[NodeId, Tally] = {
            ("t", "a"): Tally.binary(10, p_a),
            ("t", "b"): Tally.binary(10, p_b),
            ("t", "c"): Tally.binary(5, 5),
        }
        if audit(tree_of(leaves), _naive(leaves, 5), 5):
            return leaves
    raise AssertionError("no case found")


def test_combining_a_team_with_its_key_workers_is_audited_and_fixed() -> None:
    leaves = _find_case_needing_complementary_suppression()
    tree = tree_of(leaves)
    assert audit(tree, _naive(leaves, 5), 5)  # each group alone passes, together they do not
    shown = suppress(leaves, 5)
    assert audit(tree, shown, 5) == []
    assert any(s.status == "withheld" for s in shown.values())


def test_distribution_is_dropped_when_its_bands_pin_a_small_count() -> None:
    # 5 "No" and 5 "Not really": "No" 5..10 and "Not really" 5..10 force everything else to 0,
    # so "nobody was positive" would be certain.
    shown = first_look(Tally.of_values((5, 5, 0, 0)), 5)
    assert shown.positive == CountRange(0, 4)
    assert shown.distribution is None


def test_a_hidden_key_worker_cannot_be_recovered_by_subtraction() -> None:
    leaves: dict[NodeId, Tally] = {
        ("t", "a"): Tally.of_values((0, 0, 5, 5)),
        ("t", "b"): Tally.of_values((4, 1, 0, 0)),
    }
    shown = suppress(leaves, 5)
    derived = propagate(published_bounds(tree_of(leaves), shown), relations_for(tree_of(leaves)))
    lo, hi = derived[(("t", "b"), "P")]
    assert not small_interval(lo, hi, 5, 5)
    assert violations(tree_of(leaves), derived, 5) == []


def test_comment_groups_whose_difference_is_small_are_hidden() -> None:
    # team t = a (5) + b (2): showing t and a would isolate b's 2 comments.
    visible = visible_groups({("t", "a"): 5, ("t", "b"): 2, ("u", "c"): 6}, 5)
    assert ("t",) in visible
    assert ("t", "a") not in visible
    assert ("t", "b") not in visible
    assert ("u", "c") in visible
    assert ("u",) in visible
    # the service minus team u and key worker... every difference is 0 or >= 5
    assert () in visible


def test_small_group_sizes_cannot_be_had_by_subtracting_shown_sizes() -> None:
    # 10 young people with key worker a and 2 with b: showing the team (12) and a (10) would
    # say b has 2, and their reachability. Reach figures count young people in blocks of k per
    # key worker (the release ledger, conversations/reach.py), so b's two wait for a block of 5:
    # the team's figure counts a's 10 only, and the two figures say nothing about b.
    people = [PopulationRecord(f"a{i}", "t1", "a", i > 0, frozenset()) for i in range(10)]
    people += [PopulationRecord(f"b{i}", "t1", "b", False, frozenset()) for i in range(2)]
    team = build_digest(Scope.of_team("t1"), [], people, [], window=WINDOW).reach
    mine, _ = reach_figures(people, WINDOW, ("t1", "a"), 5)
    assert (team.young_people, team.unreachable) == (10, CountRange(0, 4))
    assert (mine.young_people, mine.unreachable) == (10, CountRange(0, 4))
    # within one release, without blocks, a's own figure would have to be withheld
    shown = suppress({("t1", "a"): Tally.binary(10, 9), ("t1", "b"): Tally.binary(2, 0)}, 5)
    assert shown[("t1", "b")] == Shown("too_few", 0)


# ---------------------------------------------------------------------------------------------
# Free text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me 07700 900123 please", "call me [removed] please"),
        ("ring 07700-900-123", "ring [removed]"),
        ("home (020) 7946 0018.", "home [removed]."),
        ("+44 7700 900123", "[removed]"),
        ("+44 (0)20 7946 0018", "[removed]"),
        ("0044 20 7946 0018", "[removed]"),
        ("+49 30 1234567", "[removed]"),
        ("+1 (555) 123-4567", "[removed]"),
        ("٠٧٧٠٠٩٠٠١٢٣ شكرا", "[removed] شكرا"),
        ("mail me: ali.k+uk@example.co.uk!", "mail me: [removed]!"),
        ("my insta @ali_k.22 and tg @ali", "my insta [removed] and tg [removed]"),
        ("t.me/ali_k or https://t.me/joinchat/abc", "[removed] or [removed]"),
        ("I am 17 and it was 3 times in 2024", "I am 17 and it was 3 times in 2024"),
        ("thanks!!", "thanks!!"),
    ],
)
def test_redact_removes_contact_details(text: str, expected: str) -> None:
    assert redact(text) == expected


def _comments(n: int, *, shared: bool = True, kw: str = "a") -> list[CommentRecord]:
    return [
        CommentRecord(f"{kw}{i}", "t1", kw, f"comment {chr(ord('z') - i)} 07700900{i:03d}", shared)
        for i in range(n)
    ]


def test_comments_need_k_people_who_shared() -> None:
    assert shared_comments(_comments(4), WINDOW, ("t1",), 5) is None
    assert shared_comments(_comments(9, shared=False), WINDOW, ("t1",), 5) is None
    shown = shared_comments(_comments(5) + _comments(3, shared=False, kw="b"), WINDOW, ("t1",), 5)
    assert shown is not None
    assert len(shown) == 5
    assert list(shown) == sorted(shown, key=str.casefold)  # sorted: order says nothing
    assert all("[removed]" in c and "07700" not in c for c in shown)


def test_comments_come_in_blocks_and_respect_the_window() -> None:
    at = [BASE + timedelta(hours=i) for i in range(7)]
    records = [CommentRecord(f"p{i}", "t1", "a", f"c{i}", True, at[i]) for i in range(7)]
    before = CommentRecord("old", "t1", "a", "old", True, BASE - timedelta(days=1))
    shown = shared_comments([*records, before], WINDOW, ("t1", "a"), 5)
    assert shown == ("c0", "c1", "c2", "c3", "c4")


def test_digest_comments_use_the_shown_group() -> None:
    d = build_digest(Scope.of_team("t1"), [], [], _comments(6), window=WINDOW, previous_window=None)
    assert d.comments is not None
    assert len(d.comments) == 5


# ---------------------------------------------------------------------------------------------
# Findings, chart, text


def _contrast(three_months: list[int], exit_values: list[int]) -> list[AnswerRecord]:
    return answers_for(three_months, checkpoint=THREE_MONTHS) + answers_for(
        exit_values, checkpoint=EXIT
    )


def test_finding_fewer_at_exit_than_at_three_months() -> None:
    d = digest_of(_contrast([4] * 15, [1] * 15))
    first = d.findings[0]
    assert (first.kind, first.item_id, first.direction) == ("exit_vs_3_months", "turn_to", "fewer")
    text = words(d)
    sentence = "Fewer young people answered positively about “can turn to key worker” at exit"
    assert sentence in text
    assert text.index(sentence) < text.index("The numbers")  # plain language first


def test_overlapping_ranges_are_no_clear_change() -> None:
    d = digest_of(_contrast([4] * 7 + [1] * 8, [4] * 8 + [1] * 7))
    assert [f.direction for f in d.findings if f.kind == "exit_vs_3_months"] == ["same"]


def test_findings_only_from_shown_cells() -> None:
    d = digest_of(_contrast([4] * 15, [1] * 5))  # exit: 5 people, share not shown
    assert not [f for f in d.findings if f.kind == "exit_vs_3_months"]
    hidden = CellFigures(EXIT, "x", "withheld", 10, None, None)
    shown = CellFigures(THREE_MONTHS, "x", "shown", 10, CountRange(5, 10), None)
    assert find_findings([hidden, shown]) == ()


def test_finding_against_previous_period() -> None:
    previous = [answer(f"old{i}", 4, minutes=-1000 + i, checkpoint=EXIT) for i in range(10)]
    d = digest_of(previous + answers_for([1] * 10, checkpoint=EXIT))
    assert (
        Finding(
            "vs_previous_period", "turn_to", EXIT, "fewer", ShareRange(50, 100), ShareRange(0, 40)
        )
        in d.findings
    )
    assert "than in the previous period" in words(d)


def test_chart_bars_are_none_where_not_shown() -> None:
    d = digest_of(_contrast([4] * 15, [1] * 5))
    bars = {(b.item_id, b.checkpoint): b.share for b in chart_bars(d)}
    assert bars[("turn_to", THREE_MONTHS)] == ShareRange(66, 100)
    assert bars[("turn_to", EXIT)] is None


def test_render_text_goes_through_the_translator() -> None:
    people = [
        PopulationRecord(f"p{i}", "t1", "a", i % 4 != 0, frozenset({THREE_MONTHS}))
        for i in range(12)
    ]
    records = _contrast([4] * 15, [1] * 15)
    d = build_digest(Scope.of_team("t1"), records, people, _comments(5), window=WINDOW)
    text = words(d, ITEMS, Echo())
    for line in text.splitlines():
        if line:
            assert line.lstrip("- ").startswith("«"), line
    assert "{" not in text
    assert "}" not in text


def test_render_text_response_and_reach() -> None:
    people = [
        PopulationRecord(f"p{i}", "t1", "a", i >= 2, frozenset({THREE_MONTHS})) for i in range(12)
    ]
    records = [answer(f"p{i}", 4, minutes=i) for i in range(10)]
    d = build_digest(Scope.of_team("t1"), records, people, [], window=WINDOW)
    # response figures come in blocks of k per key worker (the release ledger): of the 12
    # asked, the last two to be asked or to answer wait for a block of 5
    assert d.response[0].prompted == 10
    assert d.response[0].answered == CountRange(5, 10)
    assert d.reach.unreachable == CountRange(0, 4)
    text = words(d)
    assert "5–10 of the 10 young people asked answered" in text
    # a band that starts at 0 is worded so that it does not alarm (issue 12); reach counts
    # young people in blocks of k too (conversations/reach.py): 10 of the 12
    assert "Can no longer be reached: fewer than 5 of 10 young people, possibly none." in text
    assert "0–4 of 10" not in text
    many = [PopulationRecord(f"q{i}", "t1", "a", i >= 6, frozenset()) for i in range(12)]
    d = build_digest(Scope.of_team("t1"), [], many, [], window=WINDOW)
    assert "5–10 of 10 young people can no longer be reached" in words(d)


def test_a_hidden_who_answered_figure_says_why_it_is_hidden() -> None:
    """Withheld to protect other figures is not the same as too few asked (issue 12)."""
    people = [
        PopulationRecord(f"p{i}", "t1", "a", i >= 2, frozenset({THREE_MONTHS})) for i in range(12)
    ]
    d = build_digest(Scope.of_team("t1"), [], people, [], window=WINDOW)
    asked = d.response[0]
    withheld = replace(d, response=(replace(asked, status="withheld", answered=None),))
    text = words(withheld)
    assert "3 months: not shown, so that no one's answers can be worked out." in text
    assert "too few young people were asked" not in text
    too_few = replace(d, response=(replace(asked, status="too_few", answered=None),))
    assert "At 3 months: too few young people were asked to show this." in words(too_few)


def test_every_message_can_be_extracted_by_babel() -> None:
    path = Path(__file__).parents[1] / "conversations" / "digest_text.py"
    messages = [m for _, m, _, _ in extract_from_file("python", path)]
    flat = {m if isinstance(m, str) else m[0] for m in messages}
    assert "What stands out" in flat
    assert any("at exit than at 3 months" in m for m in flat)
    assert (
        "{item}: {low}–{high}% answered positively ({low_n}–{high_n} of {n} young person)." in flat
    )


def test_quarter_windows_share_their_start() -> None:
    now, prev = quarter_windows(datetime(2025, 5, 20, 12, tzinfo=UTC))
    later, _ = quarter_windows(datetime(2025, 6, 1, tzinfo=UTC))
    assert now.since == later.since == datetime(2025, 4, 1, tzinfo=UTC)
    assert prev == Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert quarter_windows(datetime(2025, 2, 1, tzinfo=UTC))[1].since.year == 2024


def test_window_rejects_naive_or_empty() -> None:
    with pytest.raises(ValueError, match="aware"):
        Window(datetime(2025, 1, 1), datetime(2025, 2, 1))
    with pytest.raises(ValueError, match="end after"):
        Window(BASE, BASE)


# ---------------------------------------------------------------------------------------------
# Property tests: random caseloads


@dataclass(frozen=True)
class Caseload:
    k: int
    answers: list[AnswerRecord]
    first: Window
    second: Window  # same start, later end: the first plus a few more answers


@st.composite
def caseloads(draw: st.DrawFn) -> Caseload:
    """Several teams and key workers with up to 24 young people each; each young person takes
    part in each checkpoint or not, at a random time, answering both statements from a per-example
    palette of answers (so unanimous groups and skips are common)."""
    k = draw(st.sampled_from([3, 4, 5]))
    palette = draw(st.lists(st.sampled_from([None, 1, 2, 3, 4]), min_size=1, max_size=4))
    records: list[AnswerRecord] = []
    for team in range(draw(st.integers(1, 3))):
        for kw in range(draw(st.integers(1, 3))):
            people = draw(st.integers(0, 24))
            for person, checkpoint in itertools.product(range(people), (THREE_MONTHS, EXIT)):
                minutes = draw(st.one_of(st.none(), st.integers(0, 10_000)))
                if minutes is None:  # did not take part
                    continue
                for item in ("turn_to", "cares"):
                    value = draw(st.sampled_from(palette))
                    at = BASE + timedelta(minutes=minutes)
                    who = f"{team}-{kw}-{person}"
                    records.append(
                        AnswerRecord(who, f"t{team}", f"k{kw}", checkpoint, item, value, at)
                    )
    first_end = BASE + timedelta(minutes=draw(st.integers(3_000, 10_000)))
    second_end = first_end + timedelta(minutes=draw(st.integers(1, 3_000)))
    return Caseload(k, records, Window(BASE, first_end), Window(BASE, second_end))


PROPERTY = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _scopes(answers: list[AnswerRecord]) -> list[Scope]:
    pairs = {(a.team, a.key_worker) for a in answers}
    return [
        Scope.service(),
        *(Scope.of_team(t) for t in sorted({t for t, _ in pairs})),
        *(Scope.of_key_worker(t, kw) for t, kw in sorted(pairs)),
    ]


def _check_shown(shown: Shown, k: int) -> None:
    """(a) what is shown describes at least k people, in bands of at least k values."""
    if shown.status in ("no_answers", "too_few") and shown.positive is None:
        assert shown.total == 0 or shown.total >= k
        return
    assert shown.total >= k
    for rng in (shown.positive, *(shown.distribution or ())):
        if rng is not None:
            assert rng.hi - rng.lo + 1 >= k
            assert not small_interval(rng.lo, rng.hi, shown.total, k)


@PROPERTY
@given(caseloads())
def test_every_shown_figure_describes_at_least_k_people(case: Caseload) -> None:
    table = release_table(case.answers, case.first, case.k)
    for per_node in table.values():
        for shown in per_node.values():
            _check_shown(shown, case.k)
            assert shown.total % case.k == 0  # whole blocks only
    for scope in _scopes(case.answers):
        d = build_digest(scope, case.answers, [], [], window=case.first, k=case.k)
        for cell in d.cells:
            assert cell.respondents == 0 or cell.respondents >= case.k
            if cell.share is not None:
                assert cell.status == "shown"
                assert cell.respondents >= 2 * case.k - 1
        assert all(f.before and f.after for f in d.findings)


@PROPERTY
@given(caseloads())
def test_no_hidden_figure_can_be_worked_out_within_a_digest(case: Caseload) -> None:
    tallies = leaf_tallies(released_answers(case.answers, case.first, case.k))
    table = release_table(case.answers, case.first, case.k)
    for cell, leaves in tallies.items():
        tree = tree_of(leaves)
        shown = table[cell]
        assert audit(tree, shown, case.k) == []
        # respondent counts: a total minus any of its shown parts is 0 or at least k
        for node, tally in tree.items():
            kids = [m for m in tree if m[:-1] == node and len(m) == len(node) + 1]
            for r in range(len(kids) + 1):
                for subset in itertools.combinations(kids, r):
                    rest = tally.total - sum(tree[m].total for m in subset)
                    assert rest == 0 or rest >= case.k


def _certain(lo: int, hi: int, n: int, k: int) -> bool:
    """An exact count of 1 to k - 1 (or all but 1 to k - 1), or a unanimous group."""
    if n == 0:
        return False
    return (lo == hi and (1 <= lo <= k - 1 or 1 <= n - lo <= k - 1)) or hi == 0 or lo == n


def _joint_disclosures(
    k: int, first: Table, second: Table, firsts: dict[Any, Any], seconds: dict[Any, Any]
) -> list[Any]:
    """What a reader of both digests can be certain of, by interval propagation over both and the
    people added in between (``d``): exact small positive/negative counts or unanimity."""
    found = []
    zero = Tally.of_values((0, 0, 0, 0))
    for cell in set(first) | set(second):
        leaves = set(firsts.get(cell, {})) | set(seconds.get(cell, {}))
        full1 = {leaf: firsts.get(cell, {}).get(leaf, zero) for leaf in leaves}
        full2 = {leaf: seconds.get(cell, {}).get(leaf, zero) for leaf in leaves}
        delta = {}
        for leaf in leaves:
            a, b = full1[leaf].detail, full2[leaf].detail
            assert a is not None
            assert b is not None
            delta[leaf] = Tally.of_values([y - x for x, y in zip(a, b, strict=True)])
        trees = {"1": tree_of(full1), "2": tree_of(full2), "d": tree_of(delta)}
        shown = {"1": first.get(cell, {}), "2": second.get(cell, {}), "d": {}}
        bounds = {}
        relations = []
        for tag, tree in trees.items():
            for (node, fig), value in published_bounds(tree, shown[tag]).items():
                bounds[(tag, node, fig)] = value
            for total, parts in relations_for(tree):
                relations.append(((tag, *total), [(tag, *p) for p in parts]))
        for node in trees["1"]:
            for fig in ("N", "P", "Q", "n1", "n2", "n3", "n4"):
                relations.append((("2", node, fig), [("1", node, fig), ("d", node, fig)]))
        derived = propagate(bounds, relations)
        for (tag, node, fig), (lo, hi) in derived.items():
            if fig in ("P", "Q") and _certain(lo, hi, trees[tag][node].total, k):
                found.append((cell, tag, node, fig, lo, hi))
    return found


def _differences(k: int, first: Table, second: Table) -> list[Any]:
    """Each figure shown in both digests, subtracted: what it says about the people added."""
    found = []
    for cell, now in second.items():
        for node, b in now.items():
            a = first.get(cell, {}).get(node)
            if a is None:
                continue
            added = b.total - a.total
            fine = zip(a.distribution or (), b.distribution or (), strict=False)
            pairs = [(a.positive, b.positive), *fine]
            for x, y in pairs:
                if x is None or y is None:
                    continue
                lo, hi = max(0, y.lo - x.hi), min(added, y.hi - x.lo)
                if small_interval(lo, hi, added, k) or small_interval(
                    added - hi, added - lo, added, k
                ):
                    found.append((cell, node, x, y))
    return found


@PROPERTY
@given(caseloads())
def test_two_consecutive_digests_reveal_no_small_group(case: Caseload) -> None:
    """(c) The second window is the first plus a few more answers. People join only in blocks of
    at least k per key worker; subtracting any figure shown in both narrows nothing about the
    newcomers below a band; and combining everything in both digests never yields an exact small
    count of positive or negative answers, or a unanimous group."""
    released1 = released_answers(case.answers, case.first, case.k)
    released2 = released_answers(case.answers, case.second, case.k)
    assert set(released1) <= set(released2)  # people only ever join, in blocks
    t1 = leaf_tallies(released1)
    t2 = leaf_tallies(released2)
    for cell, leaves in t2.items():
        for leaf, tally in leaves.items():
            before = t1.get(cell, {}).get(leaf)
            grown = tally.total - (before.total if before else 0)
            assert grown == 0 or grown >= case.k
    first = release_table(case.answers, case.first, case.k)
    second = release_table(case.answers, case.second, case.k)
    assert _differences(case.k, first, second) == []
    assert _joint_disclosures(case.k, first, second, t1, t2) == []


@st.composite
def binary_trees(draw: st.DrawFn) -> tuple[int, dict[NodeId, Tally]]:
    k = draw(st.sampled_from([3, 4, 5]))
    leaves: dict[NodeId, Tally] = {}
    for i in range(draw(st.integers(1, 4))):
        total = draw(st.integers(0, 9))
        leaves[(f"t{i % 2}", f"k{i}")] = Tally.binary(total, draw(st.integers(0, total)))
    return k, leaves


@PROPERTY
@given(binary_trees())
def test_brute_force_agrees_that_nothing_hidden_is_narrowed(
    case: tuple[int, dict[NodeId, Tally]],
) -> None:
    """Independent of interval propagation: enumerate every possible set of true answers that is
    consistent with what is shown, and check what a reader could be sure of for every group."""
    k, leaves = case
    shown = suppress(leaves, k)
    tree = tree_of(leaves)
    names = sorted(leaves)

    def allowed(node: NodeId, p: int) -> bool:
        pub = shown[node].positive
        return pub is None or pub.lo <= p <= pub.hi

    possible: dict[NodeId, set[int]] = {node: set() for node in tree}
    for values in itertools.product(*(range(leaves[n].total + 1) for n in names)):
        sums = {node: 0 for node in tree}
        for name, p in zip(names, values, strict=True):
            for depth in range(len(name) + 1):
                sums[name[:depth]] += p
        if all(allowed(node, p) for node, p in sums.items()):
            for node, p in sums.items():
                possible[node].add(p)
    derived = propagate(published_bounds(tree, shown), relations_for(tree))
    for node, counts in possible.items():
        n = tree[node].total
        lo, hi = min(counts), max(counts)
        assert tree[node].positive in counts
        assert not small_interval(lo, hi, n, k), (node, lo, hi)
        assert not small_interval(n - hi, n - lo, n, k), (node, lo, hi)
        assert derived[(node, "P")] == (lo, hi)  # propagation is exact here
