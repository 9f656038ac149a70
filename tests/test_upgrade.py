"""Upgrades: a database made at each earlier migration, holding a small service's data, upgraded
to the newest migration by the bot's own start-up (``Database.migrate``) with every row and value
intact, and read back by the product's own storage functions.

Each database is created by Alembic at that revision (``Database.migrate(revision)``), and its
rows are written with plain SQL in the columns that revision had, as the bot of that time stored
them (times as SQLite text in UTC, booleans as 0/1), including the awkward ones: Arabic free text,
skipped answers (NULL), a forgotten young person (chat id and label erased), an inactive staff
member and rows referring to staff (which the later migrations rebuild).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from storage import digests, enrolments, staff
from storage.db import Database
from storage.migrating import alembic_config

Rows = dict[str, list[dict[str, Any]]]

SCRIPT = ScriptDirectory.from_config(alembic_config())
REVISIONS = [s.revision for s in reversed(list(SCRIPT.walk_revisions()))]
HEAD = REVISIONS[-1]
EARLIER = REVISIONS[:-1]


def at(text: str) -> str:
    """A time as the bot stores it on SQLite: naive UTC text with microseconds."""
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S.%f")


def service_at(revision: str) -> Rows:
    """A small service's rows, in the tables and columns that ``revision`` has."""
    rows: Rows = {
        "teams": [
            {"id": 1, "name": "North", "created_at": at("2026-01-05 09:00")},
            {"id": 2, "name": "South", "created_at": at("2026-01-05 09:01")},
        ],
        "staff": [
            {
                "id": 1,
                "name": "Ada",
                "role": "admin",
                "team_id": None,
                "chat_id": 5001,
                "language": "en",
                "active": 1,
                "created_at": at("2026-01-05 09:02"),
            },
            {
                "id": 2,
                "name": "Sam",
                "role": "key_worker",
                "team_id": 1,
                "chat_id": 5002,
                "language": "fa_AF",
                "active": 1,
                "created_at": at("2026-01-05 09:03"),
            },
            {
                "id": 3,
                "name": "Mo",
                "role": "manager",
                "team_id": 1,
                "chat_id": 5003,
                "language": "en",
                "active": 1,
                "created_at": at("2026-01-05 09:04"),
            },
            {
                "id": 4,
                "name": "Lee",
                "role": "key_worker",
                "team_id": 2,
                "chat_id": None,
                "language": None,
                "active": 0,
                "created_at": at("2026-01-05 09:05"),
            },
        ],
        "invites": [
            {
                "id": 1,
                "kind": "staff",
                "token_hash": "a" * 64,
                "created_by": 1,
                "staff_id": 2,
                "label": None,
                "planned_end": None,
                "created_at": at("2026-01-05 09:03"),
                "expires_at": at("2026-01-19 09:03"),
                "used_at": at("2026-01-05 10:00"),
            },
            {
                "id": 2,
                "kind": "young_person",
                "token_hash": "b" * 64,
                "created_by": 2,
                "staff_id": None,
                "label": "AB",
                "planned_end": "2026-12-31",
                "created_at": at("2026-01-06 10:00"),
                "expires_at": at("2026-01-20 10:00"),
                "used_at": at("2026-01-06 10:05"),
            },
            {
                "id": 3,
                "kind": "young_person",
                "token_hash": "c" * 64,
                "created_by": 2,
                "staff_id": None,
                "label": "ZZ",
                "planned_end": None,
                "created_at": at("2026-01-07 10:00"),
                "expires_at": at("2026-01-21 10:00"),
                "used_at": at("2026-01-07 12:00"),
            },
        ],
        "enrolments": [
            {
                "id": 1,
                "pseudonym": "p-4f1c9a",
                "invite_id": 2,
                "team_id": 1,
                "key_worker_id": 2,
                "label": "AB",
                "chat_id": 7001,
                "language": "ar",
                "timezone": None,
                "status": "active",
                "reachable": 1,
                "created_at": at("2026-01-06 10:05"),
                "enrolled_at": at("2026-01-06 10:06"),
                "planned_end": "2026-12-31",
                "exit_at": None,
                "stopped_at": None,
            },
            {
                "id": 2,
                "pseudonym": "p-77d0e2",
                "invite_id": 3,
                "team_id": 1,
                "key_worker_id": 2,
                "label": None,
                "chat_id": None,
                "language": "ti",
                "timezone": "Africa/Asmara",
                "status": "forgotten",
                "reachable": 0,
                "created_at": at("2026-01-07 12:00"),
                "enrolled_at": at("2026-01-07 12:01"),
                "planned_end": None,
                "exit_at": at("2026-02-01 12:00"),
                "stopped_at": at("2026-01-20 08:00"),
            },
        ],
        "checkins": [
            {
                "id": 1,
                "enrolment_id": 1,
                "checkpoint": "start",
                "questionnaire_id": "quality_experience",
                "questionnaire_version": 1,
                "language": "ar",
                "step": "done",
                "status": "finished",
                "team_id": 1,
                "key_worker_id": 2,
                "comment": "شكراً على المساعدة",
                "shared": 1,
                "created_at": at("2026-01-06 10:06"),
                "finished_at": at("2026-01-06 10:09"),
            },
            {
                "id": 2,
                "enrolment_id": 2,
                "checkpoint": "start",
                "questionnaire_id": "quality_experience",
                "questionnaire_version": 1,
                "language": "ti",
                "step": "done",
                "status": "finished",
                "team_id": 1,
                "key_worker_id": 2,
                "comment": None,
                "shared": 0,
                "created_at": at("2026-01-07 12:01"),
                "finished_at": at("2026-01-07 12:04"),
            },
            {
                "id": 3,
                "enrolment_id": 1,
                "checkpoint": "3_months",
                "questionnaire_id": "quality_experience",
                "questionnaire_version": 1,
                "language": "ar",
                "step": "respected",
                "status": "open",
                "team_id": 1,
                "key_worker_id": 2,
                "comment": None,
                "shared": 0,
                "created_at": at("2026-04-06 11:00"),
                "finished_at": None,
            },
        ],
        "answers": [
            {
                "id": 1,
                "checkin_id": 1,
                "item_id": "power",
                "item_version": 1,
                "value": 4,
                "answered_at": at("2026-01-06 10:07"),
            },
            {
                "id": 2,
                "checkin_id": 1,
                "item_id": "respected",
                "item_version": 1,
                "value": None,
                "answered_at": at("2026-01-06 10:08"),
            },
            {
                "id": 3,
                "checkin_id": 2,
                "item_id": "power",
                "item_version": 1,
                "value": 2,
                "answered_at": at("2026-01-07 12:02"),
            },
            {
                "id": 4,
                "checkin_id": 3,
                "item_id": "power",
                "item_version": 1,
                "value": 3,
                "answered_at": at("2026-04-06 11:01"),
            },
        ],
        "contact_requests": [
            {"id": 1, "enrolment_id": 1, "key_worker_id": 2, "created_at": at("2026-01-08 15:00")},
        ],
        "audit_log": [
            {
                "id": 1,
                "at": at("2026-01-12 09:00"),
                "actor": "staff:3",
                "action": "digest",
                "scope": "team:North",
            },
            {
                "id": 2,
                "at": at("2026-02-01 12:00"),
                "actor": "system",
                "action": "retention",
                "scope": "forgotten:1",
            },
        ],
    }
    number = REVISIONS.index(revision)
    if number >= REVISIONS.index("0002"):
        rows["prompts"] = [
            {
                "id": 1,
                "enrolment_id": 1,
                "checkpoint": "start",
                "questionnaire_id": "quality_experience",
                "due_at": at("2026-01-06 10:06"),
                "status": "answered",
                "next_check_at": None,
                "claimed_by": None,
                "sent_at": at("2026-01-06 10:06"),
                "reminded_at": None,
                "checkin_id": 1,
                "attempts": 1,
                "updated_at": at("2026-01-06 10:09"),
            },
            {
                "id": 2,
                "enrolment_id": 1,
                "checkpoint": "3_months",
                "questionnaire_id": "quality_experience",
                "due_at": at("2026-04-06 10:06"),
                "status": "sent",
                "next_check_at": at("2026-04-09 11:00"),
                "claimed_by": None,
                "sent_at": at("2026-04-06 11:00"),
                "reminded_at": None,
                "checkin_id": 3,
                "attempts": 1,
                "updated_at": at("2026-04-06 11:00"),
            },
        ]
    if number >= REVISIONS.index("0003"):
        extra = [("monthly", "Europe/London", at("2026-02-01 09:00")), ("weekly", None, None)]
        for member, (frequency, zone, last) in zip(rows["staff"], extra * 2, strict=True):
            member.update(digest_frequency=frequency, timezone=zone, last_digest_at=last)
    if number >= REVISIONS.index("0004"):
        for member, lead in zip(rows["staff"], (1, None, 2, None), strict=True):
            member["safeguarding_lead"] = lead
        rows["alerts"] = [
            {
                "id": 1,
                "enrolment_id": 1,
                "category": "danger",
                "source": "message",
                "text": "أنا خائف",
                "created_at": at("2026-01-09 20:00"),
                "acknowledged_at": at("2026-01-09 20:10"),
                "acknowledged_by": 1,
                "escalated_at": None,
            },
        ]
    return rows


def write(path: Path, rows: Rows) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        for table, records in rows.items():
            for record in records:
                names = ", ".join(record)
                marks = ", ".join("?" for _ in record)
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our names
                conn.execute(sql, list(record.values()))


def read(path: Path, table: str, columns: list[str]) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall()  # noqa: S608 - our own names
    return [dict(row) for row in found]


def revision_of(path: Path) -> list[tuple[str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchall()


def test_every_migration_is_covered() -> None:
    assert REVISIONS[:4] == ["0001", "0002", "0003", "0004"]
    assert EARLIER, "there is at least one earlier migration to upgrade from"


@pytest.mark.parametrize("revision", EARLIER)
async def test_a_database_from_an_earlier_migration_upgrades_with_its_data_intact(
    tmp_path: Path, revision: str
) -> None:
    path = tmp_path / f"at-{revision}.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate(revision)
    await db.close()
    assert revision_of(path) == [(revision,)]
    before = service_at(revision)
    write(path, before)

    db = Database(f"sqlite+aiosqlite:///{path}")  # a newer bot starting on it
    try:
        await db.migrate()
        assert revision_of(path) == [(HEAD,)]
        for table, records in before.items():  # every row, every value, as it was written
            assert read(path, table, list(records[0])) == records, table
        newest = service_at(HEAD)
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
        assert set(newest) <= tables
        # columns and tables that came later hold their defaults, or nothing
        if "prompts" not in before:
            assert read(path, "prompts", ["id"]) == []
        if "digest_frequency" not in before["staff"][0]:
            assert (
                read(path, "staff", ["digest_frequency", "timezone", "last_digest_at"])
                == [{"digest_frequency": "weekly", "timezone": None, "last_digest_at": None}] * 4
            )
        if "alerts" not in before:
            assert read(path, "alerts", ["id"]) == []
            assert read(path, "staff", ["safeguarding_lead"]) == [{"safeguarding_lead": None}] * 4

        # The product reads the upgraded rows with its own functions.
        async with db.read() as conn:
            person = await enrolments.by_chat(conn, 7001)
            worker = await staff.staff_by_chat(conn, 5002)
            inactive = await staff.staff_by_id(conn, 4)
            teams = await digests.team_names(conn)
            answered = await digests.answer_records(conn, datetime(2026, 6, 1, tzinfo=UTC))
        assert person is not None
        assert (person.label, person.language, person.status) == ("AB", "ar", "active")
        assert person.planned_end == date(2026, 12, 31)
        assert person.enrolled_at == datetime(2026, 1, 6, 10, 6, tzinfo=UTC)
        assert worker is not None
        assert (worker.name, worker.role, worker.language) == ("Sam", "key_worker", "fa_AF")
        assert inactive is not None
        assert not inactive.active
        assert teams == ["North", "South"]
        assert sorted((r.respondent, r.item_id, r.value) for r in answered) == [
            ("p-4f1c9a", "power", 4),
            ("p-4f1c9a", "respected", None),
            ("p-77d0e2", "power", 2),
        ]
        # and writes to them as the newest version does
        async with db.transaction() as conn:
            await digests.set_digest_frequency(conn, 2, "off")
        async with db.read() as conn:
            assert await digests.digest_frequency(conn, 2) == "off"
    finally:
        await db.close()
