"""Staff digests: pure aggregation of check-in answers, under disclosure control. No I/O.

:func:`build_digest` turns answer, population and comment records (from ``storage/``, for the
whole service) into a :class:`Digest` for one scope (a key worker, a team, the service);
:func:`render_text` writes it in plain language (findings first, numbers after) through a
translator; :func:`chart_bars` gives the bars for an image; :func:`find_findings` the findings as
data. How figures are protected is described, and decided, in :mod:`conversations.disclosure`:

- answers enter the figures in blocks of *k* per key worker, statement and checkpoint, so a digest
  never changes because one young person has just answered (never "live");
- a group of fewer than *k* shows nothing; a key worker with fewer than *k* respondents in the
  window sees their team's figures (``fallback_to_team``);
- counts of answers are bands of at least *k* possible values ("5 to 10 of 10"), never "all";
- figures are decided for the whole service at once, withholding more wherever digests could be
  combined (a team with its key workers, the service with its teams) to narrow anything down;
- shared comments only, in blocks of at least *k* people who shared, with contact details
  removed (:func:`~conversations.disclosure.redact`), without dates, sorted alphabetically.

Across digests, every figure shown is recorded in the release ledger and each new release is
decided given every earlier one (:mod:`conversations.publication`, :mod:`conversations.ledger`);
windows are calendar quarters (:func:`quarter_windows`), so releases of one quarter count a first
stretch of each key worker's young people and releases of different quarters do not overlap.

Response figures (who answered each checkpoint) go through the ledger too, as a yes/no answer
in blocks (:func:`conversations.participation.response_figures`); shared comments in blocks of k
people shown whole (:mod:`conversations.comments`); reach figures (who can no longer be reached)
as a yes/no answer that re-enters the queue whenever it changes (:mod:`conversations.reach`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Literal

from conversations.checkpoints import EXIT, THREE_MONTHS
from conversations.comments import shared_comments_released
from conversations.disclosure import (
    DEFAULT_K,
    CountRange,
    NodeId,
    Shown,
    Status,
    Tally,
    validate_k,
)
from conversations.participation import ResponseFigures as ResponseFigures
from conversations.participation import response_figures as response_figures
from conversations.participation import response_figures_counted
from conversations.participation import shared_comments as shared_comments
from conversations.publication import (
    CellKey,
    Latest,
    ListQueue,
    Queue,
    Table,
    Version,
    latest_answers,
    publish,
    publish_queues,
    queues,
    released,
    replaced_versions,
)
from conversations.reach import ReachFigures as ReachFigures
from conversations.reach import reach_figures as reach_figures
from conversations.reach import reach_figures_counted
from conversations.windows import Scope as Scope
from conversations.windows import Window as Window
from conversations.windows import checkpoint_order as checkpoint_order
from conversations.windows import quarter_windows as quarter_windows
from storage.records import (
    AnswerRecord,
    CommentRecord,
    PopulationRecord,
    ReleasedCell,
)

SCALE = (1, 2, 3, 4)
"""Scale values: 4 "Yes, definitely", 3 "Mostly", 2 "Not really", 1 "No"; 3 and 4 are positive."""

# ---------------------------------------------------------------------------------------------
# Aggregation (the publication itself: conversations/publication.py)


def released_answers(
    answers: Iterable[AnswerRecord], window: Window, k: int = DEFAULT_K
) -> list[AnswerRecord]:
    """The answers that may enter figures: one per person and statement, in blocks of *k*.

    For each key worker, checkpoint and statement, the non-skipped answers are ordered by when
    their check-in was counted, and only the first ``n // k * k`` are released.
    """
    return released(latest_answers(answers, window.since, window.until), validate_k(k))


def leaf_tallies(released: Iterable[AnswerRecord]) -> dict[CellKey, dict[NodeId, Tally]]:
    """Per cell, per key worker ``(team, key_worker)``: the counts of each scale value."""
    counts: dict[CellKey, dict[NodeId, list[int]]] = defaultdict(dict)
    for r in released:
        assert r.value is not None  # released answers are never skips
        per_leaf = counts[(r.checkpoint, r.item_id)]
        per_leaf.setdefault((r.team, r.key_worker), [0, 0, 0, 0])[r.value - 1] += 1
    return {
        cell: {leaf: Tally.of_values(values) for leaf, values in per_leaf.items()}
        for cell, per_leaf in counts.items()
    }


def release_table(
    answers: Iterable[AnswerRecord],
    window: Window,
    k: int = DEFAULT_K,
    earlier: Iterable[ReleasedCell] = (),
) -> Table:
    """The whole service's publication for *window*, given the *earlier* releases.

    *answers* must cover the whole service (not only the caller's scope): figures are decided
    for all groups together so that no digest can be combined with another to reveal a group.
    """
    latest = latest_answers(answers, window.since, window.until)
    return publish(latest, window.since, earlier, now=window.until, k=validate_k(k))[0]


# ---------------------------------------------------------------------------------------------
# What a digest shows


@dataclass(frozen=True)
class ShareRange:
    """A share of a group as whole percentages, rounded outwards: ``low``% to ``high``%."""

    low: int
    high: int

    @classmethod
    def of(cls, count: CountRange, total: int) -> ShareRange:
        return cls(count.lo * 100 // total, -(-count.hi * 100 // total))


@dataclass(frozen=True)
class CellFigures:
    """One statement at one checkpoint for the digest's group.

    ``respondents`` is the released group size (0 when too few); ``positive`` how many answered
    "Mostly" or "Yes, definitely"; ``distribution`` how many gave each value, keyed 1..4.
    """

    checkpoint: str
    item_id: str
    status: Status
    respondents: int
    positive: CountRange | None
    distribution: tuple[tuple[int, CountRange], ...] | None

    @property
    def share(self) -> ShareRange | None:
        """The positive share, or ``None`` when it is not shown."""
        if self.positive is None:
            return None
        return ShareRange.of(self.positive, self.respondents)


Direction = Literal["fewer", "more", "same"]
"""``same``: the two ranges overlap, so there is no clear change."""


@dataclass(frozen=True)
class Finding:
    """A plain-language finding, built only from shown figures; words are added by the renderer.

    ``kind`` ``exit_vs_3_months``: ``before`` is the 3-month share, ``after`` the exit share.
    ``kind`` ``vs_previous_period``: the same checkpoint in the previous and current windows.
    """

    kind: Literal["exit_vs_3_months", "vs_previous_period"]
    item_id: str
    checkpoint: str
    direction: Direction
    before: ShareRange
    after: ShareRange


@dataclass(frozen=True)
class Digest:
    """Everything one ``/digest`` shows, already protected; ``group`` is whose figures these are."""

    scope: Scope
    group: Scope
    fallback_to_team: bool
    k: int
    window: Window
    previous_window: Window | None
    cells: tuple[CellFigures, ...]
    previous_cells: tuple[CellFigures, ...]
    response: tuple[ResponseFigures, ...]
    reach: ReachFigures
    comments: tuple[str, ...] | None  # None: fewer than k people shared one
    findings: tuple[Finding, ...]
    releases: tuple[ReleasedCell, ...] = ()
    """What the release ledger must record before this digest is shown (new figures only)."""

    def cell(self, checkpoint: str, item_id: str, *, previous: bool = False) -> CellFigures | None:
        """The figures for one checkpoint and statement, if there were any answers."""
        cells = self.previous_cells if previous else self.cells
        return next((c for c in cells if (c.checkpoint, c.item_id) == (checkpoint, item_id)), None)


def _cell_figures(cell: CellKey, shown: Shown) -> CellFigures:
    distribution = None
    if shown.distribution is not None:
        distribution = tuple(zip(SCALE, shown.distribution, strict=True))
    return CellFigures(cell[0], cell[1], shown.status, shown.total, shown.positive, distribution)


def cells_for(table: Table, node: NodeId) -> tuple[CellFigures, ...]:
    """The digest cells of one group, sorted by checkpoint then statement."""
    found = [
        _cell_figures(cell, per_node[node]) for cell, per_node in table.items() if node in per_node
    ]
    return tuple(sorted(found, key=lambda c: (checkpoint_order(c.checkpoint), c.item_id)))


def _respondents_of(latest: Iterable[Latest], node: NodeId) -> int:
    """Distinct young people in *node* with at least one non-skipped answer."""
    return len(
        {
            e.record.respondent
            for e in latest
            if e.record.value is not None
            and (e.record.team, e.record.key_worker)[: len(node)] == node
        }
    )


# ---------------------------------------------------------------------------------------------
# Findings and chart


def direction_of(before: CellFigures, after: CellFigures) -> Direction | None:
    """``fewer``/``more`` when the shown ranges of positive shares do not overlap, else ``same``;
    ``None`` when either share is not shown."""
    if before.positive is None or after.positive is None:
        return None
    b_lo = Fraction(before.positive.lo, before.respondents)
    b_hi = Fraction(before.positive.hi, before.respondents)
    if Fraction(after.positive.hi, after.respondents) < b_lo:
        return "fewer"
    if Fraction(after.positive.lo, after.respondents) > b_hi:
        return "more"
    return "same"


def find_findings(
    cells: Iterable[CellFigures], previous_cells: Iterable[CellFigures] = ()
) -> tuple[Finding, ...]:
    """Findings from shown figures only: exit against 3 months, and against the last period.

    Clear changes (``fewer`` before ``more``) come before ``same``.
    """
    current = {(c.checkpoint, c.item_id): c for c in cells}
    before = {(c.checkpoint, c.item_id): c for c in previous_cells}
    found: list[Finding] = []
    for (checkpoint, item), cell in current.items():
        if checkpoint == EXIT:
            earlier = current.get((THREE_MONTHS, item))
            found.extend(_compare("exit_vs_3_months", earlier, cell))
        found.extend(_compare("vs_previous_period", before.get((checkpoint, item)), cell))
    rank = {"fewer": 0, "more": 1, "same": 2}
    found.sort(key=lambda f: (rank[f.direction], f.kind, checkpoint_order(f.checkpoint), f.item_id))
    return tuple(found)


def _compare(
    kind: Literal["exit_vs_3_months", "vs_previous_period"],
    earlier: CellFigures | None,
    later: CellFigures,
) -> list[Finding]:
    """A finding comparing two cells, if both shares are shown."""
    if earlier is None or earlier.share is None or later.share is None:
        return []
    way = direction_of(earlier, later)
    assert way is not None
    return [Finding(kind, later.item_id, later.checkpoint, way, earlier.share, later.share)]


@dataclass(frozen=True)
class Bar:
    """One bar of the digest chart; ``share`` is ``None`` where nothing may be shown."""

    item_id: str
    checkpoint: str
    share: ShareRange | None
    withheld: bool = False  # hidden to protect answers (else: too few answers yet)


def chart_bars(digest: Digest) -> tuple[Bar, ...]:
    """The bars for a chart of positive shares, per statement and checkpoint."""
    cells = sorted(digest.cells, key=lambda c: (c.item_id, checkpoint_order(c.checkpoint)))
    return tuple(Bar(c.item_id, c.checkpoint, c.share, c.status == "withheld") for c in cells)


# ---------------------------------------------------------------------------------------------
# Building


def build_digest(
    scope: Scope,
    answers: Iterable[AnswerRecord],
    population: Iterable[PopulationRecord],
    comments: Iterable[CommentRecord],
    *,
    window: Window,
    previous_window: Window | None = None,
    k: int = DEFAULT_K,
    earlier: Iterable[ReleasedCell] = (),
    now: datetime | None = None,
    reader: str = "",
) -> Digest:
    """The digest *scope* may see. All records must cover the whole service (see
    :func:`release_table`); *population* is everyone enrolled during *window*; *earlier* are
    the releases the ledger holds for the windows' starts (figures already shown stay facts).
    """
    answers = list(answers)
    latest = latest_answers(answers, window.since, window.until)
    before = None
    if previous_window is not None:
        before = Counted.of(latest_answers(answers, previous_window.since, previous_window.until))
    current = Counted.of(latest)
    node = scope.node
    mine = _respondents_of(latest, node) if scope.kind == "key_worker" else None
    return build_digest_counted(
        scope,
        current,
        before,
        mine,
        answers,
        population,
        comments,
        window=window,
        previous_window=previous_window,
        k=k,
        earlier=earlier,
        now=now,
        reader=reader,
    )


@dataclass(frozen=True)
class Counted:
    """One window's answers as the publication needs them, however they were read: per cell
    and key worker the queue of answers that count (:class:`conversations.publication.Queue`),
    and the answers since replaced."""

    queues: Mapping[CellKey, Mapping[NodeId, Queue]]
    replaced: Mapping[CellKey, Mapping[NodeId, Sequence[Version]]]

    @classmethod
    def of(cls, latest: Iterable[Latest]) -> Counted:
        latest = list(latest)
        per_cell = {
            cell: {leaf: ListQueue(entries) for leaf, entries in per_leaf.items()}
            for cell, per_leaf in queues(latest).items()
        }
        return cls(per_cell, replaced_versions(latest))


@dataclass(frozen=True)
class TakingPart:
    """The window's response and reach queues as the taking-part tallies hold them
    (``storage/part_tallies.py``), instead of the population and first answers."""

    response: Counted
    reach: Counted


def build_digest_counted(
    scope: Scope,
    current: Counted,
    previous_counted: Counted | None,
    respondents: int | None,
    firsts: Iterable[AnswerRecord],
    population: Iterable[PopulationRecord],
    comments: Iterable[CommentRecord],
    *,
    window: Window,
    previous_window: Window | None = None,
    k: int = DEFAULT_K,
    earlier: Iterable[ReleasedCell] = (),
    now: datetime | None = None,
    reader: str = "",
    taking_part: TakingPart | None = None,
) -> Digest:
    """:func:`build_digest` given the windows' answers already counted (*respondents*: how many
    young people answered under the scope's key worker, for a key worker's digest; *firsts*:
    at least each young person's first answer per checkpoint in *window*, for who answered).
    With *taking_part* (the response and reach queues already counted), *firsts* and
    *population* are not used."""
    k = validate_k(k)
    people = list(population)
    earlier = list(earlier)
    now = now or window.until
    group, fallback = scope, False
    if scope.kind == "key_worker" and (respondents or 0) < k:
        assert scope.team is not None
        group, fallback = Scope.of_team(scope.team), True
    node = group.node
    table, new = publish_queues(
        current.queues, current.replaced, window.since, earlier, now=now, reader=reader, k=k
    )
    cells = cells_for(table, node)
    previous: tuple[CellFigures, ...] = ()
    if previous_window is not None and previous_counted is not None:
        old_table, old_new = publish_queues(
            previous_counted.queues,
            previous_counted.replaced,
            previous_window.since,
            earlier,
            now=now,
            reader=reader,
            k=k,
        )
        previous = cells_for(old_table, node)
        new += old_new
    if taking_part is None:
        response, answered = response_figures(
            people, firsts, window, node, k, earlier, now=now, reader=reader
        )
        reach, reached = reach_figures(people, window, node, k, earlier, now=now, reader=reader)
    else:
        response, answered = response_figures_counted(
            taking_part.response.queues,
            taking_part.response.replaced,
            window.since,
            node,
            k,
            earlier,
            now=now,
            reader=reader,
        )
        reach, reached = reach_figures_counted(
            taking_part.reach.queues,
            taking_part.reach.replaced,
            window.since,
            node,
            k,
            earlier,
            now=now,
            reader=reader,
        )
    new += answered
    new += reached
    shared = shared_comments_released(comments, window, node, k, earlier, now=now, reader=reader)
    new += [shared.release] if shared.release is not None else []
    return Digest(
        scope=scope,
        group=group,
        fallback_to_team=fallback,
        k=k,
        window=window,
        previous_window=previous_window,
        cells=cells,
        previous_cells=previous,
        response=response,
        reach=reach,
        comments=shared.texts,
        findings=find_findings(cells, previous),
        releases=tuple(new),
    )
