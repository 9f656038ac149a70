"""Storage against a real database, each test on SQLite and on PostgreSQL: migrations, answers
stored once, invites used once, erasure, and prompt claims that two processes can race for
safely."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import checkins, enrolments, invites, prompts, staff
from storage.db import Database
from storage.health import head_revision
from storage.migrating import alembic_config, compare_type, current_revision
from storage.schema import answers, metadata
from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both

NOW = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.close()


async def enrol(conn: AsyncConnection, chat_id: int = 1001, label: str = "AB") -> int:
    team = await staff.ensure_team(conn, "North", NOW)
    worker = await staff.add_staff(conn, name="Sam", role="key_worker", team_id=team, now=NOW)
    await invites.create_invite(
        conn,
        kind="young_person",
        token=f"tok-{chat_id}-xxxxxxxxxxxxx",
        created_by=worker,
        label=label,
        now=NOW,
        expires_at=NOW + timedelta(days=14),
    )
    invite = await invites.find_invite(conn, f"tok-{chat_id}-xxxxxxxxxxxxx")
    assert invite is not None
    enrolment_id = await enrolments.start_pending(
        conn, invite=invite, chat_id=chat_id, language="en", now=NOW
    )
    await enrolments.activate(conn, enrolment_id, NOW)
    return enrolment_id


async def test_migrations_create_exactly_the_schema(db: Database) -> None:
    async with db.read() as conn:
        assert await current_revision(conn) == head_revision()

        def differences(sync: Connection) -> list[object]:
            context = MigrationContext.configure(sync, opts={"compare_type": compare_type})
            return list(compare_metadata(context, metadata))

        assert await conn.run_sync(differences) == []


async def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'checkin.db'}")
    try:
        await db.migrate()
        async with db.read() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    finally:
        await db.close()


async def test_times_are_stored_in_utc_and_naive_times_are_refused(db: Database) -> None:
    async with db.transaction() as conn:
        team = await staff.ensure_team(
            conn, "T", NOW.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kabul"))
        )
        raw = (
            await conn.execute(text("SELECT created_at FROM teams WHERE id = :i"), {"i": team})
        ).scalar()
        assert str(raw).startswith("2026-03-02 11:00:00")
    with pytest.raises(Exception, match="naive"):
        async with db.transaction() as conn:
            await staff.ensure_team(conn, "U", datetime(2026, 1, 1))


async def test_an_answer_is_stored_once_and_a_double_tap_changes_nothing(db: Database) -> None:
    async with db.transaction() as conn:
        enrolment_id = await enrol(conn)
        checkin_id = await checkins.open_checkin(
            conn,
            enrolment_id=enrolment_id,
            checkpoint="start",
            questionnaire_id="q",
            questionnaire_version=1,
            language="en",
            step="power",
            team_id=None,
            key_worker_id=None,
            now=NOW,
        )
    async with db.transaction() as conn:
        assert await checkins.record_answer(
            conn,
            checkin_id,
            item_id="power",
            item_version=1,
            value=4,
            new_step="respected",
            now=NOW,
        )
    async with db.transaction() as conn:  # the same press again: the check-in has moved on
        assert not await checkins.record_answer(
            conn,
            checkin_id,
            item_id="power",
            item_version=1,
            value=1,
            new_step="respected",
            now=NOW,
        )
    async with db.transaction() as conn:  # Back, then change the answer: still one row
        assert await checkins.move(conn, checkin_id, expected_step="respected", new_step="power")
        assert await checkins.record_answer(
            conn,
            checkin_id,
            item_id="power",
            item_version=1,
            value=2,
            new_step="respected",
            now=NOW,
        )
    async with db.read() as conn:
        assert await checkins.answers_of(conn, checkin_id) == {"power": 2}
        rows = (await conn.execute(select(answers))).all()
        assert len(rows) == 1


async def test_concurrent_double_taps_store_one_answer(db: Database) -> None:
    async with db.transaction() as conn:
        enrolment_id = await enrol(conn)
        checkin_id = await checkins.open_checkin(
            conn,
            enrolment_id=enrolment_id,
            checkpoint="start",
            questionnaire_id="q",
            questionnaire_version=1,
            language="en",
            step="power",
            team_id=None,
            key_worker_id=None,
            now=NOW,
        )

    async def tap(value: int) -> bool:
        async with db.transaction() as conn:
            return None is not await checkins.record_answer(
                conn,
                checkin_id,
                item_id="power",
                item_version=1,
                value=value,
                new_step="respected",
                now=NOW,
            )

    results = await asyncio.gather(*(tap(v) for v in (1, 2, 3, 4)))
    assert sorted(results) == [False, False, False, True]


async def test_an_invite_works_once_and_not_after_expiry(db: Database) -> None:
    async with db.transaction() as conn:
        invite_id = await invites.create_invite(
            conn,
            kind="young_person",
            token="t" * 43,
            created_by=None,
            now=NOW,
            expires_at=NOW + timedelta(days=14),
        )
        stored = (await conn.execute(text("SELECT token_hash FROM invites"))).scalar_one()
        assert stored != "t" * 43
        assert len(stored) == 64
        assert await invites.use_invite(conn, invite_id, NOW)
        assert not await invites.use_invite(conn, invite_id, NOW)
        late = await invites.create_invite(
            conn,
            kind="young_person",
            token="u" * 43,
            created_by=None,
            now=NOW,
            expires_at=NOW + timedelta(days=14),
        )
        assert not await invites.use_invite(conn, late, NOW + timedelta(days=15))


@pytest.mark.parametrize("keep", [True, False])
async def test_forget_removes_identifiers_and_free_text(db: Database, keep: bool) -> None:
    async with db.transaction() as conn:
        enrolment_id = await enrol(conn, chat_id=555, label="ZZ")
        checkin_id = await checkins.open_checkin(
            conn,
            enrolment_id=enrolment_id,
            checkpoint="start",
            questionnaire_id="q",
            questionnaire_version=1,
            language="en",
            step="power",
            team_id=None,
            key_worker_id=None,
            now=NOW,
        )
        await checkins.record_answer(
            conn, checkin_id, item_id="power", item_version=1, value=3, new_step="comment", now=NOW
        )
        await checkins.save_comment(
            conn, checkin_id, text="call me on 07700 900123", new_step="share"
        )
        assert (
            await enrolments.request_contact(conn, enrolment_id, None, NOW, since=NOW) is not None
        )
        before = await enrolments.by_id(conn, enrolment_id)
        await enrolments.forget(conn, enrolment_id, keep_answers=keep, now=NOW)
    async with db.read() as conn:
        after = await enrolments.by_id(conn, enrolment_id)
        assert after is not None
        assert before is not None
        assert (after.chat_id, after.label, after.status) == (None, None, "forgotten")
        assert after.pseudonym != before.pseudonym
        assert await enrolments.by_chat(conn, 555) is None
        comments = (await conn.execute(text("SELECT comment FROM checkins"))).scalars().all()
        assert all(c is None for c in comments)
        assert (await conn.execute(text("SELECT count(*) FROM contact_requests"))).scalar() == 0
        kept = (await conn.execute(text("SELECT count(*) FROM answers"))).scalar()
        assert kept == (1 if keep else 0)


async def test_two_processes_never_claim_the_same_prompt(db: Database) -> None:
    async with db.transaction() as conn:
        team = await staff.ensure_team(conn, "N", NOW)
        worker = await staff.add_staff(conn, name="K", role="key_worker", team_id=team, now=NOW)
        for chat in range(300):
            invite_id = await invites.create_invite(
                conn,
                kind="young_person",
                token=f"token-{chat:04d}-abcdefghijk",
                created_by=worker,
                now=NOW,
                expires_at=NOW + timedelta(days=1),
            )
            invite = await invites.find_invite(conn, f"token-{chat:04d}-abcdefghijk")
            assert invite is not None
            assert invite.id == invite_id
            eid = await enrolments.start_pending(
                conn, invite=invite, chat_id=10_000 + chat, language="en", now=NOW
            )
            await prompts.plan(
                conn,
                enrolment_id=eid,
                checkpoint="3_months",
                questionnaire_id="q",
                due_at=NOW,
                now=NOW,
            )
    other = Database(db.url)  # a second "process": its own engine and connections

    async def claimer(database: Database, name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with database.transaction() as conn:
                batch = await prompts.claim(
                    conn, now=NOW, lease=timedelta(minutes=5), limit=7, worker=name
                )
            if not batch:
                return got
            got += [p.id for p in batch]

    try:
        first, second = await asyncio.gather(claimer(db, "a"), claimer(other, "b"))
    finally:
        await other.close()
    assert len(first) + len(second) == 300
    assert not set(first) & set(second)


async def test_exit_drops_later_checkpoints_and_brings_exit_forward(db: Database) -> None:
    async with db.transaction() as conn:
        eid = await enrol(conn)
        await prompts.plan(
            conn,
            enrolment_id=eid,
            checkpoint="3_months",
            questionnaire_id="q",
            due_at=NOW + timedelta(days=90),
            now=NOW,
        )
        await prompts.plan(
            conn,
            enrolment_id=eid,
            checkpoint="exit",
            questionnaire_id="q",
            due_at=datetime.combine(date(2026, 9, 1), datetime.min.time(), UTC),
            now=NOW,
        )
        await prompts.drop_unsent_from(conn, eid, NOW)
        await prompts.bring_forward_exit(conn, eid, "q", NOW)
        rows = {p.checkpoint: p for p in await prompts.of_enrolment(conn, eid)}
    assert set(rows) == {"exit"}
    assert rows["exit"].due_at == NOW
    assert rows["exit"].next_check_at == NOW


async def test_migrations_go_up_down_and_up_again(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The same migrations on an empty database: to the newest, back to nothing, up again."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database("updown")
    database = Database(url)

    def tables(sync: Connection) -> set[str]:
        return set(inspect(sync).get_table_names()) - {"alembic_version"}

    try:
        for _ in range(2):
            await database.migrate()
            async with database.read() as conn:
                assert await current_revision(conn) == head_revision()
                assert await conn.run_sync(tables) == set(metadata.tables)
            async with database.transaction() as conn:
                await conn.run_sync(downgrade_to_nothing)
            async with database.read() as conn:
                assert await current_revision(conn) is None
                assert await conn.run_sync(tables) == set()
    finally:
        await database.close()


def downgrade_to_nothing(sync: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = sync
    command.downgrade(config, "base")


async def test_telegram_ids_beyond_32_bits_are_stored(db: Database) -> None:
    big = 2**52 + 12345  # Telegram documents up to 52 significant bits
    async with db.transaction() as conn:
        enrolment_id = await enrol(conn, chat_id=big)
        team = await staff.ensure_team(conn, "South", NOW)
        member = await staff.add_staff(conn, name="Lee", role="key_worker", team_id=team, now=NOW)
        await staff.link_chat(conn, member, -big, "en")
    async with db.read() as conn:
        person = await enrolments.by_chat(conn, big)
        assert person is not None
        assert (person.id, person.chat_id) == (enrolment_id, big)
        found = await staff.staff_by_chat(conn, -big)
        assert found is not None
        assert found.chat_id == -big
