"""A button press's statements as fixed SQL text, shared by both drivers of a press.

The same text runs on SQLite (``?`` parameters, :class:`storage.press_store.SqlitePressStore`
on the event loop's :mod:`sqlite3` connection) and on PostgreSQL (numbered ``$n`` parameters,
:func:`numbered`, :class:`storage.press_pg.PgPressStore` on the pool's asyncpg connection, where
asyncpg prepares each text once per connection and reuses it). Both stores must give what the
storage functions everything else uses give (``storage/checkins.py``, ``storage/prompts.py``,
``storage/voice.py``; ``tests/test_press_store.py`` compares them): a statement changed there is
changed here.

The statuses are ``storage.checkins``' OPEN, PAUSED and FINISHED; its LIVE is
``('open', 'paused')``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from storage.records import Checkin


class HandOver(Exception):
    """The press finishes a check-in: its answers are counted into the answer tallies
    (``storage/tallies.py``), which the worker path's storage functions do, in the same
    transaction; the fixed-text store's transaction rolls back and hands the press over."""


OWNED = (
    "SELECT checkins.id, checkins.enrolment_id, checkins.checkpoint, checkins.questionnaire_id,"
    " checkins.questionnaire_version, checkins.language, checkins.step, checkins.status,"
    " checkins.comment, checkins.shared, checkins.created_at, checkins.finished_at,"
    " checkins.message_id"
    " FROM checkins JOIN enrolments ON checkins.enrolment_id = enrolments.id"
    " WHERE checkins.id = ? AND enrolments.chat_id = ?"
)
BY_ID = (
    "SELECT id, enrolment_id, checkpoint, questionnaire_id, questionnaire_version, language,"
    " step, status, comment, shared, created_at, finished_at, message_id"
    " FROM checkins WHERE id = ?"
)
MOVE = (
    "UPDATE checkins SET step = ?, status = 'open'"
    " WHERE id = ? AND step = ? AND status IN ('open', 'paused')"
    " RETURNING id, enrolment_id, checkpoint, questionnaire_id, questionnaire_version, language,"
    " step, status, comment, shared, created_at, finished_at, message_id"
)
UPSERT_ANSWER = (
    "INSERT INTO answers (checkin_id, item_id, item_version, value, answered_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (checkin_id, item_id) DO UPDATE SET"
    " value = excluded.value, item_version = excluded.item_version,"
    " answered_at = excluded.answered_at"
)
PAUSE = "UPDATE checkins SET status = 'paused' WHERE id = ? AND step = ? AND status = 'open'"
SKIP_COMMENT = (
    "UPDATE checkins SET comment = NULL, step = ?, status = 'open'"
    " WHERE id = ? AND step = 'comment' AND status IN ('open', 'paused')"
)
MARK_ANSWERED = (
    "UPDATE prompts SET status = 'answered', next_check_at = NULL, updated_at = ?"
    " WHERE checkin_id = ?"
)
ANOTHER_DUE = (
    "SELECT 1 FROM prompts WHERE enrolment_id = ? AND status = 'due'"
    " AND (checkin_id IS NULL OR checkin_id != ?) LIMIT 1"
)
ANSWER_OF = "SELECT value FROM answers WHERE checkin_id = ? AND item_id = ?"
HAS_CLIP = "SELECT id FROM voice_clips WHERE text_key = ? AND language = ? LIMIT 1"

STATEMENTS = (
    OWNED,
    BY_ID,
    MOVE,
    UPSERT_ANSWER,
    PAUSE,
    SKIP_COMMENT,
    MARK_ANSWERED,
    ANOTHER_DUE,
    ANSWER_OF,
    HAS_CLIP,
)
"""Every statement of a press (``tests/test_press_store.py`` checks which tables they write)."""


def numbered(sql: str) -> str:
    """PostgreSQL's form of a statement: each ``?`` in turn becomes ``$1``, ``$2``, ... (the
    statements have no ``?`` inside a string literal)."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


def utc(value: datetime) -> datetime:
    """An aware datetime as :class:`storage.schema.UTCDateTime` binds it: naive UTC."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored: pass an aware UTC time")
    return value.astimezone(UTC).replace(tzinfo=None)


def aware(value: datetime | str | None) -> datetime | None:
    """A stored time as :class:`storage.schema.UTCDateTime` reads it: aware UTC (SQLite gives
    text, PostgreSQL a naive datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def checkin_of(row: Any) -> Checkin | None:
    """A check-in from a row of :data:`OWNED`, :data:`BY_ID` or :data:`MOVE` (None: no row)."""
    if row is None:
        return None
    created_at = aware(row[10])
    assert created_at is not None
    return Checkin(
        id=row[0],
        enrolment_id=row[1],
        checkpoint=row[2],
        questionnaire_id=row[3],
        questionnaire_version=row[4],
        language=row[5],
        step=row[6],
        status=row[7],
        comment=row[8],
        shared=bool(row[9]),
        created_at=created_at,
        finished_at=aware(row[11]),
        message_id=row[12],
    )
