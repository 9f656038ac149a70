"""Shared comments across releases: whatever set of comments a reader of every digest can tell
apart (shown in these digests and not in those) was written by at least k young people.

The check is exact for comments: every comment gets the signature of the digests that showed it;
any set a reader can form from all digests is a union of signature classes, so each non-empty
class must hold comments of at least k different young people (of whom some may have left)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.digest import Scope, build_digest, quarter_windows
from storage.records import CommentRecord, ReleasedCell
from tests.ledger_checker import QUARTER, digest_requests

TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class History:
    k: int
    comments: list[CommentRecord]
    gone: dict[str, datetime]
    requests: list[tuple[datetime, Scope]]


def run(history: History) -> tuple[list[ReleasedCell], list[tuple[str, ...] | None]]:
    """Digests in time order, each given every release before it; forgotten comments vanish."""
    ledger: list[ReleasedCell] = []
    shown: list[tuple[str, ...] | None] = []
    for at, scope in history.requests:
        visible = [
            c
            for c in history.comments
            if c.written_at is not None
            and c.written_at <= at
            and history.gone.get(c.respondent, at + TICK) > at
        ]
        window, _ = quarter_windows(at + TICK)
        digest = build_digest(
            scope, [], [], visible, window=window, k=history.k, earlier=ledger, now=at
        )
        shown.append(digest.comments)
        ledger += digest.releases
    return ledger, shown


def classes(
    comments: Sequence[CommentRecord], shown: Sequence[tuple[str, ...] | None]
) -> dict[tuple[bool, ...], set[str]]:
    """Per signature (which digests showed a comment), the young people who wrote those."""
    author = {c.text: c.respondent for c in comments}
    found: dict[tuple[bool, ...], set[str]] = {}
    for text, who in author.items():
        signature = tuple(text in (s or ()) for s in shown)
        if any(signature):
            found.setdefault(signature, set()).add(who)
    return found


@st.composite
def histories(draw: st.DrawFn) -> History:
    """Two teams of one or two key workers; young people share comments at random hours, some
    write a second one later, some use /forgetme; key workers, managers and the admin ask for
    digests at random hours."""
    k = draw(st.sampled_from([3, 4, 5]))
    leaves = [("North", "a"), ("South", "c")]
    if draw(st.booleans()):
        leaves.append(("North", "b"))
    comments: list[CommentRecord] = []
    gone: dict[str, datetime] = {}
    for team, worker in leaves:
        for person in range(draw(st.integers(0, 3 * k))):
            who = f"{worker}{person}"
            at = QUARTER + timedelta(hours=draw(st.integers(0, 400)))
            comments.append(CommentRecord(who, team, worker, f"{who} first", True, at))
            if draw(st.integers(0, 3)) == 0:
                later = at + timedelta(hours=draw(st.integers(1, 200)))
                comments.append(CommentRecord(who, team, worker, f"{who} again", True, later))
            if draw(st.integers(0, 5)) == 0:
                gone[who] = at + timedelta(hours=draw(st.integers(1, 300)), minutes=15)
    scopes = [
        *(Scope.of_key_worker(*leaf) for leaf in leaves),
        Scope.of_team("North"),
        Scope.of_team("South"),
        Scope.service(),
    ]
    requests = digest_requests(draw, scopes, 500, max_size=12)
    return History(k, comments, gone, requests)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(histories())
def test_no_set_of_comments_a_reader_can_tell_apart_comes_from_fewer_than_k(
    history: History,
) -> None:
    _, shown = run(history)
    for signature, people in classes(history.comments, shown).items():
        assert len(people) >= history.k, (signature, people)


def _history(k: int, extra: list[CommentRecord], gone: dict[str, datetime]) -> History:
    first = [
        CommentRecord(f"p{i}", "North", "a", f"p{i} first", True, QUARTER + timedelta(hours=i))
        for i in range(k)
    ]
    scope = Scope.of_key_worker("North", "a")
    hours = (20, 60, 120)
    requests = [(QUARTER + timedelta(hours=h), scope) for h in hours]
    return History(k, first + extra, gone, requests)


def test_a_new_comment_from_someone_already_shown_waits_for_a_new_block() -> None:
    """Shown naively, the second digest would hold one more comment, from whoever checked in
    since (staff see on /caseload who that was)."""
    k = 3
    again = [CommentRecord("p1", "North", "a", "p1 again", True, QUARTER + timedelta(hours=30))]
    newcomers = [
        CommentRecord(f"n{i}", "North", "a", f"n{i} first", True, QUARTER + timedelta(hours=80))
        for i in range(k - 1)
    ]
    _, shown = run(_history(k, again + newcomers, {}))
    assert shown[0] == shown[1] == ("p0 first", "p1 first", "p2 first")
    assert shown[2] is not None
    assert "p1 again" in shown[2]
    assert len(shown[2]) == 2 * k


def test_a_block_with_a_comment_gone_is_not_shown_again() -> None:
    """Someone of the first block uses /forgetme: showing the rest of the block would say which
    comment was theirs."""
    k = 3
    newcomers = [
        CommentRecord(f"n{i}", "North", "a", f"n{i} first", True, QUARTER + timedelta(hours=30))
        for i in range(k)
    ]
    ledger, shown = run(_history(k, newcomers, {"p0": QUARTER + timedelta(hours=50)}))
    assert shown[0] == ("p0 first", "p1 first", "p2 first")
    assert shown[1] == ("n0 first", "n1 first", "n2 first")  # the first block is gone whole
    assert shown[2] == shown[1]
    assert [r.kind for r in ledger] == ["comments", "comments"]  # nothing new the third time
