"""Taking part as answers: the pure per-young-person rule of response and reach figures.

Response figures ("who answered each checkpoint") and reach figures ("who can no longer be
reached") are decided by the release ledger like answers, over one yes/no answer per young
person (:mod:`conversations.participation`, :mod:`conversations.reach`). This module turns one
young person's population record (and their first answers) into those answers: the one rule
both the digests' full read and the taking-part tallies (``storage/part_tallies.py``, kept at
write time) follow, so that the tallies always equal a full recompute. Pure, no I/O; it lives
in ``storage/`` (like :func:`storage.records.latest_answers`) so the tallies can use it, and the
``conversations`` modules re-export it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise

from storage.records import AnswerRecord, PopulationRecord, ReachChange

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
