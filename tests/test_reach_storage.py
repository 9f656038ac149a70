"""The reach history on a real database (both backends): each change of whether a young person
can be reached is appended once, with its time; a change made without a time at hand, or a move
to another key worker, is caught up before a release; the digest's population carries it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from storage import admin, digests, enrolments, reach, staff
from storage.db import Database
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.test_storage import NOW, enrol


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def test_changes_are_appended_once_each_with_their_time(db: Database) -> None:
    hour = timedelta(hours=1)
    async with db.transaction() as conn:
        eid = await enrol(conn, chat_id=2001)
        await enrolments.stop(conn, eid, NOW + hour)
        await enrolments.stop(conn, eid, NOW + 2 * hour)  # already stopped: nothing new
        await enrolments.resume(conn, eid, NOW + 3 * hour)
        await enrolments.set_reachable(conn, 2001, False, NOW + 4 * hour)
        await enrolments.set_reachable(conn, 2001, False, NOW + 5 * hour)  # no change
        await enrolments.set_reachable(conn, 2001, True)  # no time at hand: caught up later
        assert await reach.catch_up(conn, NOW + 6 * hour) == 1
        assert await reach.catch_up(conn, NOW + 7 * hour) == 0  # nothing changed since
    async with db.read() as conn:
        history = (await reach.histories(conn, NOW + 10 * hour))[eid]
    assert [(c.at - NOW, c.reachable) for c in history] == [
        (0 * hour, True),
        (1 * hour, False),
        (3 * hour, True),
        (4 * hour, False),
        (6 * hour, True),
    ]


async def test_a_move_and_forgetme_are_in_the_history_and_the_population(db: Database) -> None:
    async with db.transaction() as conn:
        eid = await enrol(conn, chat_id=2002)
        team = await staff.ensure_team(conn, "South", NOW)
        other = await staff.add_staff(conn, name="Kim", role="key_worker", team_id=team, now=NOW)
        assert await admin.move_enrolment(conn, eid, other, team)
        assert await reach.catch_up(conn, NOW + timedelta(hours=1)) == 1
        await enrolments.forget(conn, eid, keep_answers=True, now=NOW + timedelta(hours=2))
    async with db.read() as conn:
        people = await digests.population_records(conn, NOW, NOW + timedelta(days=1))
    (person,) = people
    assert [(c.team, c.key_worker == str(other), c.reachable) for c in person.reach] == [
        ("North", False, True),
        ("South", True, True),  # moved
        ("South", True, False),  # /forgetme: can no longer be reached
    ]
