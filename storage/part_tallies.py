"""Taking-part tallies: the response ("who answered") and reach queues, kept at write time.

Response and reach figures are decided by the release ledger over one yes/no answer per young
person (``storage/records.py``: "not yet" or "answered" per checkpoint prompted; reachable or
not). Per quarter, key worker (with the team) and checkpoint (reach: one cell, ``("",
"unreachable")``) they are kept exactly like the answer tallies (``storage/tallies.py``), in the
same shape and order, in ``part_queue`` (with running counts), ``part_heads`` and
``part_versions``, so a digest reads a few rows per cell, key worker and release
(``storage/tally_reads.py``), never every young person.

A quarter's rows start when the first digest of that quarter is made (:func:`ensure_quarter`,
under the release ledger's lock: a new quarter starts with everyone prompted before it "not yet"
and everyone's reach at its start, which no write makes), and ``part_quarters`` records it. After
that, every write that changes a young person's taking part calls :func:`refresh` in the same
transaction: a prompt sent (``storage/prompts.py``), a check-in counted (``storage/checkins.py``),
``/forgetme`` and retention, enrolment, stop, resume, exit, blocking (``storage/enrolments.py``), a
move to another key worker (``storage/admin.py``) and the reach catch-up (``storage/reach.py``).
:func:`refresh` recomputes that young person's rows, in every kept quarter, with the same pure
function the full read uses (:func:`person_rows`), so the rows always equal a full recompute
(:func:`rebuild`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import (
    AnswerRecord,
    PopulationRecord,
    ReachChange,
    latest_answers,
    response_events,
)
from storage.records import reach_events as reach_rule
from storage.schema import (
    answer_firsts,
    answer_queue,
    checkins,
    enrolments,
    part_heads,
    part_quarters,
    part_queue,
    part_versions,
    prompts,
    reach_events,
)
from storage.tallies import (
    Leaf,
    QueueTables,
    apply_changes,
    leaf_of,
    next_quarter,
    queue_rows,
    version_leaf,
    version_row,
)

PARTS = QueueTables(part_queue, part_heads, part_versions)
RESPONDENT = ("", "respondent")
"""The cell that counts, per key worker, the young people with an answer that counts in the
quarter (value 4, never released: a key worker's digest falls back to the team's below k)."""
_CHUNK = 5000


@dataclass
class Person:
    """What one young person's taking part is computed from (team and key worker as ids)."""

    enrolment_id: int
    pseudonym: str
    team_id: int | None
    key_worker_id: int | None
    reachable: bool
    status: str
    enrolled_at: datetime | None
    exit_at: datetime | None
    sent: list[tuple[str, datetime]] = field(default_factory=list)
    reach: list[tuple[datetime, int, bool, int | None, int | None]] = field(default_factory=list)
    """``(at, event id, reachable, team id, key worker id)``."""
    firsts: list[tuple[datetime, str, datetime, datetime]] = field(default_factory=list)
    """``(quarter, checkpoint, answered_at, counted_at)``: their first answers."""
    answered: set[tuple[datetime, int, int]] = field(default_factory=set)
    """``(quarter, team id, key worker id)`` of their answers that count (``answer_queue``)."""


Entry = tuple[Leaf, int, datetime, str]
"""A queue row: its queue, value, place (first counted) and pseudonym."""


def population_record(person: Person, quarter: datetime) -> PopulationRecord | None:
    """The person as the quarter's population holds them (``storage.digests.population_records``,
    with ids for team and key worker), or ``None`` when not enrolled during the quarter."""
    until = next_quarter(quarter)
    if (
        person.status == "pending"
        or person.enrolled_at is None
        or person.enrolled_at >= until
        or (person.exit_at is not None and person.exit_at < quarter)
    ):
        return None
    first: dict[str, datetime] = {}
    for checkpoint, at in person.sent:
        if at < until and (checkpoint not in first or at < first[checkpoint]):
            first[checkpoint] = at
    history = tuple(
        ReachChange(at, reachable, str(team or 0), str(worker or 0))
        for at, _, reachable, team, worker in sorted(person.reach, key=lambda e: (e[0], e[1]))
        if at < until
    )
    return PopulationRecord(
        person.pseudonym,
        str(person.team_id or 0),
        str(person.key_worker_id or 0),
        person.reachable and person.status == "active",
        frozenset(first),
        tuple(sorted(first.items())),
        history,
    )


def person_rows(person: Person, quarter: datetime) -> tuple[list[Entry], list[dict[str, Any]]]:
    """One young person's queue rows and replaced versions in one quarter: the events of the
    full read's rule (:mod:`storage.records`), standing as :func:`latest_answers` says."""
    respondent: list[Entry] = [
        ((quarter, team, worker, *RESPONDENT), 4, quarter, person.pseudonym)
        for q, team, worker in sorted(person.answered)
        if q == quarter
    ]
    record = population_record(person, quarter)
    if record is None:
        return respondent, []
    until = next_quarter(quarter)
    firsts = [
        AnswerRecord(person.pseudonym, "", "", checkpoint, "", None, at, counted)
        for q, checkpoint, at, counted in person.firsts
        if q == quarter
    ]
    events = response_events([record], firsts, quarter, until)
    events += reach_rule([record], quarter, until)
    entries: list[Entry] = respondent
    versions: list[dict[str, Any]] = []
    for latest in latest_answers(events, quarter, until):
        leaf = leaf_of(latest, quarter)
        r = latest.record
        if r.value is not None and latest.first_at is not None:
            entries.append((leaf, r.value, latest.first_at, r.respondent))
        versions += [
            version_row(version_leaf(leaf, v), person.enrolment_id, v.value, v.key, v.replaced_at)
            for v in latest.replaced
        ]
    return entries, versions


# --- reading what the rule needs -------------------------------------------------------------


async def read_people(conn: AsyncConnection, enrolment_id: int | None) -> dict[int, Person]:
    e = enrolments.c
    query = select(
        e.id,
        e.pseudonym,
        e.team_id,
        e.key_worker_id,
        e.reachable,
        e.status,
        e.enrolled_at,
        e.exit_at,
    ).where(e.status != "pending")
    sent = select(prompts.c.enrolment_id, prompts.c.checkpoint, prompts.c.sent_at).where(
        prompts.c.sent_at.is_not(None)
    )
    r = reach_events.c
    history = select(r.enrolment_id, r.at, r.id, r.reachable, r.team_id, r.key_worker_id)
    f = answer_firsts.c
    firsts = select(f.enrolment_id, f.quarter, f.checkpoint, f.answered_at, f.counted_at)
    a = answer_queue.c
    answered = select(a.enrolment_id, a.quarter, a.team_id, a.key_worker_id).distinct()
    if enrolment_id is not None:
        query = query.where(e.id == enrolment_id)
        sent = sent.where(prompts.c.enrolment_id == enrolment_id)
        history = history.where(r.enrolment_id == enrolment_id)
        firsts = firsts.where(f.enrolment_id == enrolment_id)
        answered = answered.where(a.enrolment_id == enrolment_id)
    people = {
        int(i): Person(int(i), p, team, worker, bool(reachable), status, enrolled, exit_at)
        for i, p, team, worker, reachable, status, enrolled, exit_at in await conn.execute(query)
    }
    for eid, checkpoint, at in await conn.execute(sent):
        if eid in people:
            people[eid].sent.append((checkpoint, at))
    for eid, at, rid, reachable, team, worker in await conn.execute(history):
        if eid in people:
            people[eid].reach.append((at, int(rid), bool(reachable), team, worker))
    for eid, quarter, checkpoint, at, counted in await conn.execute(firsts):
        if eid in people:
            people[eid].firsts.append((quarter, checkpoint, at, counted))
    for eid, quarter, team, worker in await conn.execute(answered):
        if eid in people:
            people[eid].answered.add((quarter, int(team), int(worker)))
    return people


async def kept_quarters(conn: AsyncConnection) -> list[datetime]:
    return list((await conn.scalars(select(part_quarters.c.quarter))).all())


# --- keeping them up to date -----------------------------------------------------------------


def _slot(leaf: Leaf) -> tuple[Any, ...]:
    """Where one young person has at most one row: per quarter and cell (one state), or for the
    respondent cell per key worker too (answers under two key workers count for both)."""
    quarter, _, _, checkpoint, item = leaf
    if (checkpoint, item) == RESPONDENT:
        return leaf
    return (quarter, checkpoint, item)


async def refresh(
    conn: AsyncConnection, enrolment_id: int, quarters: Sequence[datetime] | None = None
) -> None:
    """Bring every kept quarter's queues (*quarters*, if already read) in line with one young
    person: rows whose state changed leave their queue and the new ones join theirs (the running
    counts after them moving by one); replaced versions are written again."""
    if quarters is None:
        quarters = await kept_quarters(conn)
    if not quarters:
        return
    person = (await read_people(conn, enrolment_id)).get(enrolment_id)
    wanted: dict[tuple[Any, ...], Entry] = {}
    versions: list[dict[str, Any]] = []
    if person is not None:
        for quarter in quarters:
            entries, found = person_rows(person, quarter)
            for entry in entries:
                leaf = entry[0]
                wanted[_slot(leaf)] = entry
            versions += found
    q = part_queue.c
    leaving: list[tuple[Leaf, Any]] = []
    for row in (await conn.execute(select(part_queue).where(q.enrolment_id == enrolment_id))).all():
        held: Leaf = (row.quarter, row.team_id, row.key_worker_id, row.checkpoint, row.item_id)
        where = _slot(held)
        if wanted.get(where) == (held, row.value, row.first_at, row.pseudonym):
            del wanted[where]
            continue
        leaving.append((held, row))
    await apply_changes(conn, enrolment_id, leaving, list(wanted.values()), PARTS)
    v = part_versions.c
    old = [
        (
            r.quarter,
            r.team_id,
            r.key_worker_id,
            r.checkpoint,
            r.item_id,
            r.pseudonym,
            r.value,
            r.first_at,
            r.replaced_at,
        )
        for r in (await conn.execute(select(part_versions).where(v.enrolment_id == enrolment_id)))
    ]
    new = [
        (
            r["quarter"],
            r["team_id"],
            r["key_worker_id"],
            r["checkpoint"],
            r["item_id"],
            r["pseudonym"],
            r["value"],
            r["first_at"],
            r["replaced_at"],
        )
        for r in versions
    ]
    if sorted(old, key=repr) != sorted(new, key=repr):
        await conn.execute(delete(part_versions).where(v.enrolment_id == enrolment_id))
        if versions:
            await conn.execute(insert(part_versions), versions)


async def refresh_checkin(conn: AsyncConnection, checkin_id: int) -> None:
    """:func:`refresh` for the young person of a check-in just counted."""
    found = await conn.scalar(select(checkins.c.enrolment_id).where(checkins.c.id == checkin_id))
    if found is not None:
        await refresh(conn, int(found))


async def refresh_chat(conn: AsyncConnection, chat_id: int) -> None:
    """:func:`refresh` for the young person who uses this chat."""
    for found in (
        await conn.scalars(select(enrolments.c.id).where(enrolments.c.chat_id == chat_id))
    ).all():
        await refresh(conn, int(found))


async def refresh_prompt(conn: AsyncConnection, prompt_id: int) -> None:
    """:func:`refresh` for the young person of a prompt just sent."""
    found = await conn.scalar(select(prompts.c.enrolment_id).where(prompts.c.id == prompt_id))
    if found is not None:
        await refresh(conn, int(found))


async def ensure_quarter(conn: AsyncConnection, quarter: datetime, now: datetime) -> bool:
    """Start keeping the quarter's rows, computed for everyone, if not kept yet (call under the
    release ledger's lock); whether it was started now."""
    if quarter in await kept_quarters(conn):
        return False
    if conn.dialect.name == "postgresql":  # writers that read the kept quarters commit first,
        # and later ones wait: none can miss the new quarter (SQLite has one writer anyway)
        await conn.execute(text("LOCK TABLE part_quarters IN ACCESS EXCLUSIVE MODE"))
        if quarter in await kept_quarters(conn):
            return False
    await _fill(conn, await read_people(conn, None), [quarter])
    await conn.execute(insert(part_quarters).values(quarter=quarter, made_at=now))
    return True


def plan(
    people: Iterable[Person], quarters: Sequence[datetime]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Pure: the rows of ``part_queue``, ``part_versions`` and ``part_heads`` for *quarters*."""
    queues: dict[Leaf, list[tuple[datetime, str, int, int]]] = defaultdict(list)
    versions: list[dict[str, Any]] = []
    for person in people:
        for quarter in quarters:
            entries, found = person_rows(person, quarter)
            for leaf, value, first_at, pseudonym in entries:
                queues[leaf].append((first_at, pseudonym, value, person.enrolment_id))
            versions += found
    rows, heads = queue_rows(queues)
    return rows, versions, heads


async def _fill(
    conn: AsyncConnection, people: dict[int, Person], quarters: Sequence[datetime]
) -> int:
    rows, versions, heads = plan(people.values(), quarters)
    for table, found in ((part_queue, rows), (part_versions, versions), (part_heads, heads)):
        for start in range(0, len(found), _CHUNK):
            await conn.execute(insert(table), found[start : start + _CHUNK])
    return len(rows)


async def rebuild(conn: AsyncConnection) -> int:
    """Recompute every kept quarter's rows for everyone; returns how many quarters."""
    quarters = await kept_quarters(conn)
    for table in (part_queue, part_versions, part_heads):
        await conn.execute(delete(table))
    if quarters:
        await _fill(conn, await read_people(conn, None), quarters)
    return len(quarters)
