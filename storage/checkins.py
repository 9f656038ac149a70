"""Check-ins and their answers. Each answer is stored the moment it is given.

Every change of a check-in's position is a compare-and-set on its ``step``: an update only
happens when the check-in is still at the step the button was shown for. A double tap, an old
button or a replayed update therefore changes nothing, and a restart never loses or doubles an
answer, because the position lives here and nowhere else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import part_tallies, tallies
from storage.db import upsert
from storage.records import Checkin
from storage.schema import answers, checkins, enrolments

OPEN, PAUSED, FINISHED, CLOSED = "open", "paused", "finished", "closed"
LIVE = (OPEN, PAUSED)


def _checkin(m: RowMapping) -> Checkin:
    return Checkin(
        id=m["id"],
        enrolment_id=m["enrolment_id"],
        checkpoint=m["checkpoint"],
        questionnaire_id=m["questionnaire_id"],
        questionnaire_version=m["questionnaire_version"],
        language=m["language"],
        step=m["step"],
        status=m["status"],
        comment=m["comment"],
        shared=bool(m["shared"]),
        created_at=m["created_at"],
        finished_at=m["finished_at"],
        message_id=m["message_id"],
    )


async def open_checkin(
    conn: AsyncConnection,
    *,
    enrolment_id: int,
    checkpoint: str,
    questionnaire_id: str,
    questionnaire_version: int,
    language: str,
    step: str,
    team_id: int | None,
    key_worker_id: int | None,
    now: datetime,
) -> int:
    """Start a check-in at ``step`` and return its id."""
    result = await conn.execute(
        insert(checkins).values(
            enrolment_id=enrolment_id,
            checkpoint=checkpoint,
            questionnaire_id=questionnaire_id,
            questionnaire_version=questionnaire_version,
            language=language,
            step=step,
            status=OPEN,
            team_id=team_id,
            key_worker_id=key_worker_id,
            shared=False,
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def live_checkin(conn: AsyncConnection, enrolment_id: int) -> Checkin | None:
    """The young person's open or paused check-in (there is at most one)."""
    row = (
        await conn.execute(
            select(checkins)
            .where(checkins.c.enrolment_id == enrolment_id, checkins.c.status.in_(LIVE))
            .order_by(checkins.c.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else _checkin(row._mapping)


async def by_id(conn: AsyncConnection, checkin_id: int) -> Checkin | None:
    row = (await conn.execute(select(checkins).where(checkins.c.id == checkin_id))).first()
    return None if row is None else _checkin(row._mapping)


async def owned(conn: AsyncConnection, checkin_id: int, chat_id: int) -> Checkin | None:
    """The check-in ``checkin_id`` if it belongs to the young person using ``chat_id``."""
    row = (
        await conn.execute(
            select(checkins)
            .join(enrolments, checkins.c.enrolment_id == enrolments.c.id)
            .where(checkins.c.id == checkin_id, enrolments.c.chat_id == chat_id)
        )
    ).first()
    return None if row is None else _checkin(row._mapping)


async def move(
    conn: AsyncConnection, checkin_id: int, *, expected_step: str, new_step: str
) -> Checkin | None:
    """Move a live check-in from ``expected_step`` to ``new_step`` and return it as it is now;
    None if it was elsewhere (an old button, a double tap)."""
    row = (
        await conn.execute(
            update(checkins)
            .where(
                checkins.c.id == checkin_id,
                checkins.c.step == expected_step,
                checkins.c.status.in_(LIVE),
            )
            .values(step=new_step, status=OPEN)
            .returning(*checkins.c)
        )
    ).first()
    return None if row is None else _checkin(row._mapping)


async def record_answer(
    conn: AsyncConnection,
    checkin_id: int,
    *,
    item_id: str,
    item_version: int,
    value: int | None,
    new_step: str,
    now: datetime,
) -> Checkin | None:
    """Store the answer to the item the check-in is at, and move on; returns the check-in as it
    is now, or None if it had already moved on."""
    moved = await move(conn, checkin_id, expected_step=item_id, new_step=new_step)
    if moved is None:
        return None
    statement = upsert(conn, answers).values(
        checkin_id=checkin_id,
        item_id=item_id,
        item_version=item_version,
        value=value,
        answered_at=now,
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[answers.c.checkin_id, answers.c.item_id],
            set_={"value": value, "item_version": item_version, "answered_at": now},
        )
    )
    return moved


async def answer_of(conn: AsyncConnection, checkin_id: int, item_id: str) -> int | None:
    """The value given to one item (None when skipped or not answered yet)."""
    value = await conn.scalar(
        select(answers.c.value).where(
            answers.c.checkin_id == checkin_id, answers.c.item_id == item_id
        )
    )
    return None if value is None else int(value)


async def answers_of(conn: AsyncConnection, checkin_id: int) -> dict[str, int | None]:
    """Item id -> value (None when skipped) for one check-in."""
    rows = await conn.execute(
        select(answers.c.item_id, answers.c.value).where(answers.c.checkin_id == checkin_id)
    )
    return {row.item_id: row.value for row in rows}


async def pause(conn: AsyncConnection, checkin_id: int, *, expected_step: str) -> bool:
    result = await conn.execute(
        update(checkins)
        .where(
            checkins.c.id == checkin_id,
            checkins.c.step == expected_step,
            checkins.c.status == OPEN,
        )
        .values(status=PAUSED)
    )
    return result.rowcount == 1


async def reopen(conn: AsyncConnection, checkin_id: int) -> None:
    """A paused check-in is shown again (``/checkin``)."""
    await conn.execute(
        update(checkins)
        .where(checkins.c.id == checkin_id, checkins.c.status == PAUSED)
        .values(status=OPEN)
    )


async def save_comment(
    conn: AsyncConnection, checkin_id: int, *, text: str | None, new_step: str
) -> bool:
    """Store the optional free text (None to skip it) and move on to ``new_step``."""
    result = await conn.execute(
        update(checkins)
        .where(
            checkins.c.id == checkin_id,
            checkins.c.step == "comment",
            checkins.c.status.in_(LIVE),
        )
        .values(comment=text, step=new_step, status=OPEN)
    )
    return result.rowcount == 1


async def finish(conn: AsyncConnection, checkin_id: int, *, shared: bool, now: datetime) -> bool:
    """Close the check-in as finished, shared with the key worker or not."""
    result = await conn.execute(
        update(checkins)
        .where(
            checkins.c.id == checkin_id,
            checkins.c.step == "share",
            checkins.c.status.in_(LIVE),
        )
        .values(shared=shared, step="done", status=FINISHED, finished_at=now)
    )
    if result.rowcount != 1:
        return False
    await tallies.count_checkin(conn, checkin_id)  # counted now: into the tallies, same transaction
    await part_tallies.refresh_checkin(conn, checkin_id)  # who answered, too
    return True


async def close_checkin(conn: AsyncConnection, checkin_id: int, now: datetime) -> None:
    """Close a live check-in unfinished (its window passed, or a newer checkpoint replaced it)."""
    result = await conn.execute(
        update(checkins)
        .where(checkins.c.id == checkin_id, checkins.c.status.in_(LIVE))
        .values(status=CLOSED, finished_at=now)
    )
    if result.rowcount == 1:
        await tallies.count_checkin(conn, checkin_id)
        await part_tallies.refresh_checkin(conn, checkin_id)


async def hand_buttons_to(conn: AsyncConnection, checkin_id: int, message_id: int) -> int | None:
    """Record ``message_id`` as the one message carrying the check-in's live buttons; returns
    the message that carried them before (None if none was recorded), whose buttons must go."""
    before = await conn.scalar(select(checkins.c.message_id).where(checkins.c.id == checkin_id))
    await conn.execute(
        update(checkins).where(checkins.c.id == checkin_id).values(message_id=message_id)
    )
    return None if before is None else int(before)


async def set_language(conn: AsyncConnection, checkin_id: int, language: str) -> None:
    await conn.execute(
        update(checkins).where(checkins.c.id == checkin_id).values(language=language)
    )


async def finished_checkpoints(conn: AsyncConnection, enrolment_id: int) -> set[str]:
    rows = await conn.execute(
        select(checkins.c.checkpoint).where(
            checkins.c.enrolment_id == enrolment_id, checkins.c.status == FINISHED
        )
    )
    return {row.checkpoint for row in rows}
