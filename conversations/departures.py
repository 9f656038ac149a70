"""Someone's answers leave the data (``/forgetme`` without keeping them): what the release ledger
keeps of their place in earlier releases. Pure, no I/O.

Earlier releases counted their answers, and a reader still holds those figures. So that later
releases stay safe given them, the ledger keeps, per answer version that some release counted, a
*departure*: the cell (quarter, checkpoint, statement), the key worker, and when each release that
counted it was made. No pseudonym, no value: only the place, so the disclosure control can keep
the person in the reader's system as a member of unknown answer
(:func:`conversations.publication.members_of`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from conversations.participation import RESPONSE, response_events
from conversations.publication import latest_answers
from conversations.windows import Window, quarter_windows
from storage.records import AnswerRecord, PopulationRecord, ReleasedBlock, ReleasedCell

KIND = "departed"
"""The ledger's kind for departures, of answers and of "who answered" alike (the cell tells
them apart: a response cell's item is ``answered``)."""


def departures(
    records: Sequence[AnswerRecord],
    releases: Iterable[ReleasedCell],
    now: datetime,
    kind: str = "answers",
) -> list[ReleasedCell]:
    """The departures to record for one person whose *records* (every answer of theirs, or
    their "who answered" events for ``kind="response"``) are about to be deleted, given the
    *releases* of the quarters they answered in.

    Each is a ledger entry of kind ``departed``: one block per release that counted that version
    of the answer, its ``through_at`` the release's time."""
    by_cell: dict[tuple[datetime, str, str], list[ReleasedCell]] = defaultdict(list)
    for release in releases:
        if release.kind == kind:
            by_cell[(release.since, release.checkpoint, release.item_id)].append(release)
    counted_by: dict[tuple[datetime, str, str, str, str, datetime], list[datetime]] = {}
    for (since, checkpoint, item), cells in sorted(by_cell.items()):
        until = _next_quarter(since)
        mine = [
            r
            for r in records
            if (r.checkpoint, r.item_id) == (checkpoint, item) and since <= r.answered_at < until
        ]
        if not mine:
            continue
        for release in cells:
            seen = [r for r in mine if (r.counted_at or r.answered_at) <= release.released_at]
            for entry in latest_answers(seen, since, until):
                if entry.record.value is None:
                    continue
                leaf = (entry.record.team, entry.record.key_worker)
                block = next((b for b in release.blocks if (b.team, b.key_worker) == leaf), None)
                if block is None or block.through_at is None:
                    continue
                if entry.key <= (block.through_at, block.through_id or ""):
                    version = (since, checkpoint, item, *leaf, entry.key[0])
                    counted_by.setdefault(version, []).append(release.released_at)
    return [
        ReleasedCell(
            since,
            KIND,
            checkpoint,
            item,
            now,
            "forgetme",
            tuple(ReleasedBlock(team, worker, at, None, 1) for at in sorted(times)),
            (),
        )
        for (since, checkpoint, item, team, worker, _), times in sorted(counted_by.items())
    ]


def response_departures(
    person: PopulationRecord,
    records: Sequence[AnswerRecord],
    releases: Iterable[ReleasedCell],
    now: datetime,
) -> list[ReleasedCell]:
    """The departures from "who answered" of one person who leaves without keeping their
    answers (*records*): they leave the response figures too (``/forgetme`` deletes when they
    were sent each check-in), so each version of theirs ("not yet", "answered", under each key
    worker) that a response release counted stays in the reader's system as a member of unknown
    answer, exactly as their answers do (:func:`departures`)."""
    releases = [r for r in releases if r.kind == RESPONSE]
    events: list[AnswerRecord] = []
    for since in sorted({r.since for r in releases}):
        until = min(_next_quarter(since), now + timedelta(microseconds=1))
        if since < until:
            events += response_events([person], records, Window(since, until))
    return departures(events, releases, now, RESPONSE)


def quarters_of(
    person: PopulationRecord | None, records: Iterable[AnswerRecord], now: datetime
) -> list[datetime]:
    """The starts of the quarters whose releases may have counted the person: those they were
    sent a check-in or answered in, and the quarter now and the one before (someone asked
    earlier counts as "not yet" in every later quarter)."""
    current, previous = quarter_windows(now)
    times = [r.answered_at for r in records]
    if person is not None:
        times += [at for _, at in person.prompted_at]
    return sorted({previous.since, current.since, *(quarter_windows(t)[0].since for t in times)})


def _next_quarter(since: datetime) -> datetime:
    """The end of the quarter starting at *since*."""
    month = since.month + 3
    return since.replace(year=since.year + (month > 12), month=(month - 1) % 12 + 1)
