"""The release ledger end to end: what /digest shows is recorded first, on a real database, and
the digest reads at a glance in Telegram (HTML headings the local Bot API parses)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import ledger
from storage.db import Database
from storage.records import ReleasedBlock, ReleasedCell, ReleasedFigure
from tests.test_e2e_staff import ADMIN, MANAGER, rows, service
from tests.world import World

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'checkin.db'}")
    await database.migrate()
    yield database
    await database.close()


async def test_releases_round_trip_through_the_database(db: Database) -> None:
    cell = ReleasedCell(
        since=datetime(2026, 4, 1, tzinfo=UTC),
        kind="answers",
        checkpoint="3_months",
        item_id="turn_to",
        released_at=NOW,
        reader="staff:3",
        blocks=(
            ReleasedBlock("North", "7", NOW, "ab12", 10),
            ReleasedBlock("North", "8", None, None, 0),
        ),
        figures=(
            ReleasedFigure(None, None, "shown", 10, (5, 10), ((0, 4), (0, 4), (5, 10), (0, 4))),
            ReleasedFigure("North", "8", "too_few", 0, None, None),
        ),
    )
    other = ReleasedCell(cell.since, "reach", "", "", NOW, "cli", (), cell.figures[:1])
    async with db.transaction() as conn:
        await ledger.lock(conn)
        assert await ledger.record(conn, [cell, other]) == 2
    async with db.read() as conn:
        # reach figures are read back too: they are decided across releases (issue 12)
        assert await ledger.released_since(conn, [cell.since]) == [cell, other]
        assert await ledger.released_since(conn, [cell.since], kinds=("answers",)) == [cell]
        assert await ledger.released_since(conn, [cell.since], kinds=("reach",)) == [other]
        assert await ledger.released_since(conn, [NOW]) == []


async def test_a_digest_is_recorded_before_it_is_shown_and_shown_again_unchanged(
    world: World,
) -> None:
    await service(world, 10, answer="Mostly")
    first = await world.say(MANAGER, "/digest")
    recorded = await rows(world, "SELECT kind, reader FROM releases WHERE kind = 'answers'")
    assert recorded
    assert all(reader == "staff:3" for _, reader in recorded)
    assert await rows(world, "SELECT id FROM release_figures WHERE positive IS NOT NULL")
    again = await world.say(ADMIN, "/digest North")
    # the same answers: the admin sees the manager's release again; no new answer figures
    assert await rows(world, "SELECT kind, reader FROM releases WHERE kind = 'answers'") == recorded
    shown = next(m.content for m in first if m.photo is None)
    shown_again = next(m.content for m in again if m.photo is None)
    assert shown.split("Who answered")[0] == shown_again.split("Who answered")[0]


async def test_headings_stand_out_and_text_is_escaped(world: World) -> None:
    await service(world, 10, answer="Mostly")
    assert world.rt is not None
    async with world.rt.db.transaction() as conn:
        await conn.execute(text("UPDATE teams SET name = 'North <&> Co' WHERE name = 'North'"))
    replies = await world.say(MANAGER, "/digest")
    message = next(m for m in world.api.messages(MANAGER) if m.message_id == replies[0].message_id)
    assert message.content.startswith("Check-in digest for team North <&> Co")
    assert message.raw_text is not None
    assert "&lt;&amp;&gt;" in message.raw_text
    bold = [e for e in message.entities if e["type"] == "bold"]
    headings = {message.content[e["offset"] : e["offset"] + e["length"]] for e in bold}
    assert {"What stands out", "The numbers", "Who answered"} <= headings


async def test_forgetme_leaves_where_releases_counted_them_and_the_next_digest_still_works(
    world: World,
) -> None:
    """A young person whose answers a digest counted deletes everything: the ledger keeps, per
    answer a release counted, where it was counted (no pseudonym, no value), and the next
    digest is decided with them still in the reader's system."""
    users = await service(world, 10)
    first = (await world.say(MANAGER, "/digest"))[-1].content
    ask = (await world.say(users[0], "/forgetme"))[-1]
    await world.press(users[0], "Delete everything", ask)
    assert await rows(
        world,
        "SELECT count(*) FROM answers a JOIN checkins c ON c.id = a.checkin_id"
        " JOIN enrolments e ON e.id = c.enrolment_id WHERE e.chat_id IS NULL",
    ) == [(0,)]
    departed = await rows(
        world,
        "SELECT r.reader, b.through_id, b.size, f.id, r.item_id FROM releases r "
        "JOIN release_blocks b ON b.release_id = r.id "
        "LEFT JOIN release_figures f ON f.release_id = r.id WHERE r.kind = 'departed'",
    )
    ((counted,),) = await rows(world, "SELECT count(*) FROM releases WHERE kind = 'answers'")
    assert isinstance(counted, int)
    assert counted > 0
    from_answers = [row[:4] for row in departed if row[4] != "answered"]
    assert len(from_answers) == counted  # one per statement the digest counted them in
    # and one for "who answered": the digest counted them as having answered the check-in
    assert len([row for row in departed if row[4] == "answered"]) == 1
    assert all(row[:4] == ("forgetme", None, 1, None) for row in departed)
    assert await rows(
        world,
        "SELECT count(*) FROM prompts p JOIN enrolments e ON e.id = p.enrolment_id"
        " WHERE e.chat_id IS NULL",
    ) == [(0,)]  # when they were sent each check-in went too: they left "who answered"
    again = (await world.say(MANAGER, "/digest"))[-1].content
    assert again  # decided without error given the departures
    assert first
