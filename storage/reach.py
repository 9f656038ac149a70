"""Reach events: an append-only history of whether each young person could be reached (enrolled,
not stopped, not blocked, not gone) and with which key worker, from when.

The release ledger decides reach figures across releases from it (``conversations/reach.py``).
:func:`note` appends an event when an enrolment's state differs from its last one; the functions
of ``storage/enrolments.py`` that change it call it with their time, and :func:`catch_up` is
called before every release, so a change made where no time was at hand (or an admin moving a
young person to another key worker) is recorded before any figure can show it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import part_tallies
from storage.records import ReachChange
from storage.schema import enrolments, reach_events, teams

NO_TEAM = "(no team)"

State = tuple[bool, int | None, int | None]
"""Reachable, team id, key worker id."""


def _state_now() -> ColumnElement[Any]:
    return and_(enrolments.c.reachable.is_(True), enrolments.c.status == "active")


async def _catch_up(conn: AsyncConnection, now: datetime, where: ColumnElement[bool]) -> list[int]:
    inner = reach_events.alias("inner_event")
    last_id = (  # per enrolment, an index lookup (not a GROUP BY over every event)
        select(func.max(inner.c.id))
        .where(inner.c.enrolment_id == enrolments.c.id)
        .correlate(enrolments)
        .scalar_subquery()
    )
    last = reach_events.alias("last_event")
    rows = await conn.execute(
        select(
            enrolments.c.id,
            enrolments.c.reachable,
            enrolments.c.status,
            enrolments.c.team_id,
            enrolments.c.key_worker_id,
            last.c.reachable,
            last.c.team_id,
            last.c.key_worker_id,
        )
        .select_from(enrolments.outerjoin(last, last.c.id == last_id))
        .where(where, enrolments.c.status != "pending", enrolments.c.enrolled_at.is_not(None))
    )
    new = []
    for eid, reachable, status, team, worker, was, was_team, was_worker in rows:
        state: State = (bool(reachable) and status == "active", team, worker)
        if was is not None and state == (bool(was), was_team, was_worker):
            continue
        new.append(
            {
                "enrolment_id": eid,
                "at": now,
                "reachable": state[0],
                "team_id": team,
                "key_worker_id": worker,
            }
        )
    if new:
        await conn.execute(insert(reach_events), new)
    return [int(event["enrolment_id"]) for event in new]


async def note(conn: AsyncConnection, enrolment_id: int, now: datetime) -> None:
    """Record one enrolment's reach (and key worker) from *now*, if it changed; its taking-part
    tallies follow (``storage/part_tallies.py``)."""
    await _catch_up(conn, now, enrolments.c.id == enrolment_id)
    await part_tallies.refresh(conn, enrolment_id)


async def note_chat(conn: AsyncConnection, chat_id: int, now: datetime) -> None:
    """:func:`note` for the enrolment that uses this chat."""
    await _catch_up(conn, now, enrolments.c.chat_id == chat_id)
    await part_tallies.refresh_chat(conn, chat_id)


async def catch_up(conn: AsyncConnection, now: datetime) -> int:
    """Before a release: record every enrolment whose reach or key worker differs from its last
    event, from *now* (their taking-part tallies following); returns how many were recorded."""
    found = await _catch_up(conn, now, enrolments.c.id.is_not(None))
    quarters = await part_tallies.kept_quarters(conn) if found else []
    for enrolment_id in found:
        await part_tallies.refresh(conn, enrolment_id, quarters)
    return len(found)


async def histories(conn: AsyncConnection, until: datetime) -> dict[int, list[ReachChange]]:
    """Per enrolment, its reach events before *until*, oldest first."""
    rows = await conn.execute(
        select(
            reach_events.c.enrolment_id,
            reach_events.c.at,
            reach_events.c.reachable,
            teams.c.name,
            reach_events.c.key_worker_id,
        )
        .select_from(reach_events.outerjoin(teams, reach_events.c.team_id == teams.c.id))
        .where(reach_events.c.at < until)
        .order_by(reach_events.c.at, reach_events.c.id)
    )
    found: dict[int, list[ReachChange]] = defaultdict(list)
    for eid, at, reachable, team, worker in rows:
        found[eid].append(ReachChange(at, bool(reachable), team or NO_TEAM, str(worker)))
    return found
