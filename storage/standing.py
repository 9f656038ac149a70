"""Which answer stands for each young person, statement and window: pure, no I/O.

The one rule both the digests' full read (:mod:`conversations.publication`) and the answer
tallies (:mod:`storage.tallies`, kept as answers are counted) follow, so that the tallies always
equal a full recompute: per (respondent, checkpoint, statement) the latest answer counts; a
changed value joins the back of its key worker's queue when it is counted, and the value it
replaced stays a :class:`Version` for the releases that counted it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.records import AnswerRecord

OrderKey = tuple[datetime, str]
"""When a young person's answer was counted, and their pseudonym (ties)."""


@dataclass(frozen=True)
class Version:
    """An answer someone gave and later replaced (a different value, or a skip): the value, its
    place in the queue, and when the replacement was counted. Releases made while it stood may
    have counted it, so it stays in the reader's system as a member of its own."""

    value: int
    key: OrderKey
    replaced_at: datetime


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
        replaced: list[Version] = []
        for record in records:
            counted = record.counted_at or record.answered_at
            if record.value == value:
                continue
            if value is not None and first is not None:
                replaced.append(Version(value, (first, record.respondent), counted))
            value, first = record.value, counted if record.value is not None else None
        found.append(Latest(records[-1], first, tuple(replaced)))
    return found


def _order(record: AnswerRecord) -> tuple[datetime, int]:
    """Which of two answers to the same statement is the latest (ties: deterministic)."""
    return (record.answered_at, record.value or 0)
