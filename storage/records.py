"""Plain records the storage layer returns: what the rest of the product sees of a row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

# The checkpoint names the code relies on, stored in ``prompts`` and ``checkins`` (the schedule,
# conversations/checkpoints.py, explains them; it re-exports these). Defined here, the lowest layer
# that queries them; other numbered checkpoints are ``N_months`` or named by the schedule file.
START = "start"
THREE_MONTHS = "3_months"
EXIT = "exit"


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    name: str
    role: str
    team_id: int | None
    team_name: str | None
    chat_id: int | None
    language: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    kind: str
    created_by: int | None
    staff_id: int | None
    label: str | None
    planned_end: date | None
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Enrolment:
    id: int
    pseudonym: str
    invite_id: int | None
    team_id: int | None
    key_worker_id: int | None
    label: str | None
    chat_id: int | None
    language: str | None
    timezone: str | None
    status: str
    reachable: bool
    enrolled_at: datetime | None
    planned_end: date | None
    exit_at: datetime | None


@dataclass(frozen=True, slots=True)
class Checkin:
    id: int
    enrolment_id: int
    checkpoint: str
    questionnaire_id: str
    questionnaire_version: int
    language: str
    step: str
    status: str
    comment: str | None
    shared: bool
    created_at: datetime
    finished_at: datetime | None
    message_id: int | None = None
    """The one message that carries the check-in's live buttons (None: not recorded yet)."""


# What digests are built from (conversations/digest.py aggregates them; storage/digests.py reads
# them): pseudonymous, never a Telegram id or a label.


@dataclass(frozen=True)
class AnswerRecord:
    """One answer as stored. ``value`` is 1..4, or ``None`` for a skipped statement."""

    respondent: str  # pseudonymous id, never a Telegram id
    team: str
    key_worker: str  # key worker at the time of the check-in
    checkpoint: str
    item_id: str
    value: int | None
    answered_at: datetime  # aware, UTC
    counted_at: datetime | None = (
        None  # when its check-in was finished or closed (None: answered_at)
    )

    def __post_init__(self) -> None:
        if self.value is not None and self.value not in (1, 2, 3, 4):
            raise ValueError(f"answer value must be 1..4 or None, got {self.value!r}")


@dataclass(frozen=True)
class PopulationRecord:
    """A young person enrolled during the window, for response rates and reachability."""

    respondent: str
    team: str
    key_worker: str
    reachable: bool
    prompted_checkpoints: frozenset[str]
    prompted_at: tuple[tuple[str, datetime], ...] = ()
    """When each checkpoint was first sent (``(checkpoint, sent_at)``); absent: unknown."""
    reach: tuple[ReachChange, ...] = ()
    """Whether they could be reached, and under which key worker, from when (oldest first, up
    to the window's end; ``reach_events``); empty: ``reachable`` since the window's start."""


@dataclass(frozen=True)
class ReachChange:
    """From ``at`` on, the young person could (``reachable``) or could no longer be reached
    (blocked the bot, ``/stop``, left), with this key worker."""

    at: datetime
    reachable: bool
    team: str
    key_worker: str


@dataclass(frozen=True)
class CommentRecord:
    """A free-text comment; ``shared`` is the young person's choice to share the check-in."""

    respondent: str
    team: str
    key_worker: str
    text: str
    shared: bool
    written_at: datetime | None = None  # when given: window filter and block order


# The release ledger (storage/ledger.py): every figure shown to anyone, with its group and window.


@dataclass(frozen=True)
class ReleasedBlock:
    """Where one release stopped counting one key worker's young people: the last one counted
    (``through_at``, ``through_id``: when their check-in was counted, and their pseudonym), and
    how many were counted."""

    team: str
    key_worker: str
    through_at: datetime | None
    through_id: str | None
    size: int


@dataclass(frozen=True)
class ReleasedFigure:
    """What one release showed for one group (``team``/``key_worker`` ``None`` above them):
    its size, and bands (``None``: not shown) for positive answers and each scale value."""

    team: str | None
    key_worker: str | None
    status: str
    size: int
    positive: tuple[int, int] | None
    distribution: tuple[tuple[int, int], ...] | None  # values 1..4


@dataclass(frozen=True)
class ReleasedCell:
    """One release of one cell: a statement at a checkpoint (``kind`` ``answers``), or a
    taking-part figure (``response``: checkpoint; ``reach``), for the window starting at
    ``since``."""

    since: datetime
    kind: str
    checkpoint: str
    item_id: str
    released_at: datetime
    reader: str
    blocks: tuple[ReleasedBlock, ...]
    figures: tuple[ReleasedFigure, ...]


Counts = tuple[int, int, int, int]
"""How many gave each value 1..4."""


@dataclass(frozen=True)
class QueuePoints:
    """One key worker's answers that count now in one cell, read from the answer tallies
    (``storage/tally_reads.py``) at the few places the release ledger looks: its length and
    counts, the answers at the block cut and where earlier releases stopped (``keys`` and
    ``running``: per index, the answer's place in the queue and the values before it; ``marks``:
    per release mark, how many answers stand at or before it). A
    :class:`conversations.publication.Queue`."""

    size: int
    total: Counts
    keys: dict[int, tuple[datetime, str]]
    running: dict[int, Counts]
    marks: dict[tuple[datetime, str], int]

    def __len__(self) -> int:
        return self.size

    def key(self, index: int) -> tuple[datetime, str]:
        return self.keys[index]

    def counts(self, end: int) -> Counts:
        if end == 0:
            return (0, 0, 0, 0)
        return self.total if end == self.size else self.running[end]

    def cut(self, mark: tuple[datetime, str]) -> int:
        return self.marks.get(mark, self.size)


# ---------------------------------------------------------------------------------------------
# Which answer stands for each young person, statement and window (pure): the one rule both the
# digests' full read (conversations/publication.py) and the answer tallies (storage/tallies.py,
# kept as answers are counted) follow, so that the tallies always equal a full recompute. Per
# (respondent, checkpoint, statement) the latest answer counts; a changed value joins the back of
# its key worker's queue when it is counted, and the value it replaced stays a Version for the
# releases that counted it.

OrderKey = tuple[datetime, str]
"""When a young person's answer was counted, and their pseudonym (ties)."""


@dataclass(frozen=True)
class Version:
    """An answer someone gave and later replaced (a different value, or a skip, or the same
    value under another key worker): the value, its place in the queue, and when the replacement
    was counted; ``leaf``: its (team, key worker) when not the standing answer's. Releases made
    while it stood may have counted it, so it stays in the reader's system as a member of its
    own."""

    value: int
    key: OrderKey
    replaced_at: datetime
    leaf: tuple[str, str] | None = None


@dataclass(frozen=True)
class Latest:
    """The answer that counts for one (respondent, checkpoint, item), and when its value was
    first counted (a changed answer, or a skip turned into an answer later, joins the back of
    the queue then); ``replaced``: the answers it replaced."""

    record: AnswerRecord
    first_at: datetime | None
    replaced: tuple[Version, ...] = ()

    @property
    def key(self) -> OrderKey:
        return (self.first_at or self.record.answered_at, self.record.respondent)


def latest_answers(
    answers: Iterable[AnswerRecord], since: datetime, until: datetime
) -> list[Latest]:
    """One answer per (respondent, checkpoint, item) answered in ``[since, until)``: the latest;
    skips included."""
    per_key: dict[tuple[str, str, str], list[AnswerRecord]] = defaultdict(list)
    for record in answers:
        if since <= record.answered_at < until:
            per_key[(record.respondent, record.checkpoint, record.item_id)].append(record)
    found = []
    for records in per_key.values():
        records.sort(key=_order)
        value: int | None = None
        first: datetime | None = None
        where: tuple[str, str] | None = None
        replaced: list[Version] = []
        for record in records:
            counted = record.counted_at or record.answered_at
            leaf = (record.team, record.key_worker)
            if record.value == value and (where is None or leaf == where):
                continue
            if value is not None and first is not None:
                replaced.append(Version(value, (first, record.respondent), counted, where))
            value, first = record.value, counted if record.value is not None else None
            where = leaf
        found.append(Latest(records[-1], first, tuple(replaced)))
    return found


def _order(record: AnswerRecord) -> tuple[datetime, int]:
    """Which of two answers to the same statement is the latest (ties: deterministic)."""
    return (record.answered_at, record.value or 0)


# ---------------------------------------------------------------------------------------------
# Taking part as answers (pure): one young person's population record (and first answers) as the
# yes/no answers the release ledger decides response figures ("who answered each checkpoint",
# conversations/participation.py) and reach figures ("who can no longer be reached",
# conversations/reach.py) on. The one rule both the digests' full read and the taking-part
# tallies (storage/part_tallies.py, kept at write time) follow, so that the tallies always equal a
# full recompute.

ANSWERED = "answered"
"""The one yes/no question of a response cell: has the young person answered the checkpoint?"""
REACH_CELL = ("", "unreachable")
"""The one cell of reach figures: ``(checkpoint, item)``."""
REACHABLE, UNREACHABLE = 1, 4
"""The yes/no answer: 4 ("positive") when the young person can no longer be reached."""


def history_of(person: PopulationRecord, since: datetime) -> Sequence[ReachChange]:
    """The person's reach history; without one, ``reachable`` from *since*."""
    if person.reach:
        return person.reach
    return (ReachChange(since, person.reachable, person.team, person.key_worker),)


def leaf_at(person: PopulationRecord, at: datetime) -> tuple[str, str]:
    """The person's key worker at *at* (their first one before their history starts)."""
    history = history_of(person, at)
    found = history[0]
    for change in history:
        if change.at <= at:
            found = change
    return (found.team, found.key_worker)


def moves_of(person: PopulationRecord, since: datetime, until: datetime) -> list[datetime]:
    """When, in ``(since, until)``, the person moved to another key worker."""
    history = history_of(person, since)
    return [
        b.at
        for a, b in pairwise(history)
        if since < b.at < until and (a.team, a.key_worker) != (b.team, b.key_worker)
    ]


def reach_events(
    population: Iterable[PopulationRecord], since: datetime, until: datetime
) -> list[AnswerRecord]:
    """Reach as answers to one yes/no question: the state at the window's start (or when they
    enrolled, if later), then every change in the window, each under the key worker then."""
    events = []
    for p in population:
        history = history_of(p, since)
        before = [c for c in history if c.at <= since]
        changes = [c for c in history if since < c.at < until]
        if before:
            changes.insert(0, before[-1])
        for c in changes:
            at = max(c.at, since)
            value = REACHABLE if c.reachable else UNREACHABLE
            events.append(
                AnswerRecord(
                    p.respondent, c.team, c.key_worker, REACH_CELL[0], REACH_CELL[1], value, at, at
                )
            )
    return events


def response_events(
    population: Iterable[PopulationRecord],
    answers: Iterable[AnswerRecord],
    since: datetime,
    until: datetime,
) -> list[AnswerRecord]:
    """Taking part as answers to one yes/no question per checkpoint, so that response figures
    go through the release ledger like answers: "not yet" (value 1) when the checkpoint was sent
    (from the window's start if before it), "answered" (value 4) when they first answered in the
    window (skips count). The change re-enters the queue, so it shows only in a block of k; so
    does a move to another key worker (:func:`moves_of`), and each event is under the key
    worker of its time."""
    first: dict[tuple[str, str], AnswerRecord] = {}
    for r in answers:
        if since <= r.answered_at < until:
            seen = first.get((r.respondent, r.checkpoint))
            if seen is None or r.answered_at < seen.answered_at:
                first[(r.respondent, r.checkpoint)] = r
    events = []
    for p in population:
        sent = dict(p.prompted_at)
        for checkpoint in sorted(p.prompted_checkpoints):
            at = max(sent.get(checkpoint, since), since)
            events.append(
                AnswerRecord(p.respondent, *leaf_at(p, at), checkpoint, ANSWERED, 1, at, at)
            )
            done = first.get((p.respondent, checkpoint))
            when = None
            if done is not None:
                when = max(done.answered_at, at)
                counted = max(done.counted_at or done.answered_at, when)
                events.append(
                    AnswerRecord(
                        p.respondent, *leaf_at(p, when), checkpoint, ANSWERED, 4, when, counted
                    )
                )
            for moved in moves_of(p, at, until):  # re-enters with the new key worker
                value = 4 if when is not None and when <= moved else 1
                events.append(
                    AnswerRecord(
                        p.respondent, *leaf_at(p, moved), checkpoint, ANSWERED, value, moved, moved
                    )
                )
    return events
