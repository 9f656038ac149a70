""" "You said, we did" updates: drafts, their texts per language, and each recipient.

A recipient row is written for every young person an update is for when it is confirmed; the
prompt job claims a row (``claimed_at``) before sending it, so each young person gets an update at
most once, across restarts and processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.enrolments import ACTIVE
from storage.schema import enrolments, update_recipients, update_texts, updates

DRAFT, SENDING, SENT, CANCELLED = "draft", "sending", "sent", "cancelled"


@dataclass(frozen=True, slots=True)
class Update:
    id: int
    author_id: int
    team_id: int | None
    facts: str
    we_did: str | None
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    recipients: int
    reached: int


def _update(m: object) -> Update:
    row = dict(m)  # type: ignore[call-overload]
    return Update(
        row["id"],
        row["author_id"],
        row["team_id"],
        row["facts"],
        row["we_did"],
        row["status"],
        row["created_at"],
        row["confirmed_at"],
        row["recipients"],
        row["reached"],
    )


async def new_draft(
    conn: AsyncConnection, *, author_id: int, team_id: int | None, facts: str, now: datetime
) -> int:
    """A new draft of ``author_id``'s; their earlier unsent draft is cancelled."""
    await conn.execute(
        update(updates)
        .where(updates.c.author_id == author_id, updates.c.status == DRAFT)
        .values(status=CANCELLED)
    )
    result = await conn.execute(
        insert(updates).values(
            author_id=author_id,
            team_id=team_id,
            facts=facts,
            status=DRAFT,
            created_at=now,
            recipients=0,
            reached=0,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def draft_of(conn: AsyncConnection, author_id: int) -> Update | None:
    row = (
        (
            await conn.execute(
                select(updates).where(updates.c.author_id == author_id, updates.c.status == DRAFT)
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _update(row)


async def by_id(conn: AsyncConnection, update_id: int) -> Update | None:
    row = (await conn.execute(select(updates).where(updates.c.id == update_id))).mappings().first()
    return None if row is None else _update(row)


async def set_we_did(conn: AsyncConnection, update_id: int, text: str) -> None:
    await conn.execute(
        update(updates)
        .where(updates.c.id == update_id, updates.c.status == DRAFT)
        .values(we_did=text)
    )


async def set_translation(conn: AsyncConnection, update_id: int, language: str, text: str) -> None:
    statement = upsert(conn, update_texts).values(update_id=update_id, language=language, text=text)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["update_id", "language"], set_={"text": text}
        )
    )


async def translations(conn: AsyncConnection, update_id: int) -> dict[str, str]:
    rows = await conn.execute(
        select(update_texts.c.language, update_texts.c.text).where(
            update_texts.c.update_id == update_id
        )
    )
    return {str(language): str(text) for language, text in rows.all()}


async def audience(conn: AsyncConnection, team_id: int | None) -> list[tuple[int, str | None]]:
    """The young people an update of ``team_id`` (None: the service) is for: enrolled (active,
    so not after /stop), reachable, with a chat; as (enrolment id, language)."""
    query = select(enrolments.c.id, enrolments.c.language).where(
        enrolments.c.status == ACTIVE,
        enrolments.c.reachable.is_(True),
        enrolments.c.chat_id.is_not(None),
    )
    if team_id is not None:
        query = query.where(enrolments.c.team_id == team_id)
    rows = await conn.execute(query.order_by(enrolments.c.id))
    return [(int(i), language) for i, language in rows.all()]


async def confirm(
    conn: AsyncConnection, update_id: int, recipients: list[int], now: datetime
) -> bool:
    """Turn a draft into an update being sent to ``recipients``; False if it is no draft now."""
    result = await conn.execute(
        update(updates)
        .where(updates.c.id == update_id, updates.c.status == DRAFT, updates.c.we_did.is_not(None))
        .values(status=SENDING, confirmed_at=now, recipients=len(recipients))
    )
    if not result.rowcount:
        return False
    if recipients:
        await conn.execute(
            insert(update_recipients),
            [{"update_id": update_id, "enrolment_id": e} for e in recipients],
        )
    return True


async def cancel(conn: AsyncConnection, update_id: int) -> bool:
    result = await conn.execute(
        update(updates)
        .where(updates.c.id == update_id, updates.c.status == DRAFT)
        .values(status=CANCELLED)
    )
    return bool(result.rowcount)


async def unsent(conn: AsyncConnection, limit: int) -> list[tuple[int, int]]:
    """Recipients not yet taken for sending, oldest update first: (update id, enrolment id)."""
    rows = await conn.execute(
        select(update_recipients.c.update_id, update_recipients.c.enrolment_id)
        .where(update_recipients.c.claimed_at.is_(None))
        .order_by(update_recipients.c.update_id, update_recipients.c.enrolment_id)
        .limit(limit)
    )
    return [(int(u), int(e)) for u, e in rows.all()]


async def claim(conn: AsyncConnection, update_id: int, enrolment_id: int, now: datetime) -> bool:
    """Take one recipient for sending; False if another process (or an earlier run) did."""
    result = await conn.execute(
        update(update_recipients)
        .where(
            update_recipients.c.update_id == update_id,
            update_recipients.c.enrolment_id == enrolment_id,
            update_recipients.c.claimed_at.is_(None),
        )
        .values(claimed_at=now)
    )
    return bool(result.rowcount)


async def mark_sent(
    conn: AsyncConnection, update_id: int, enrolment_id: int, now: datetime
) -> None:
    await conn.execute(
        update(update_recipients)
        .where(
            update_recipients.c.update_id == update_id,
            update_recipients.c.enrolment_id == enrolment_id,
        )
        .values(sent_at=now)
    )
    await conn.execute(
        update(updates).where(updates.c.id == update_id).values(reached=updates.c.reached + 1)
    )


async def drop_recipient(conn: AsyncConnection, update_id: int, enrolment_id: int) -> None:
    """A recipient no longer reachable, stopped or forgotten: they are not sent it."""
    await conn.execute(
        delete(update_recipients).where(
            update_recipients.c.update_id == update_id,
            update_recipients.c.enrolment_id == enrolment_id,
            update_recipients.c.sent_at.is_(None),
        )
    )


async def remaining(conn: AsyncConnection, update_id: int) -> int:
    found = await conn.scalar(
        select(func.count())
        .select_from(update_recipients)
        .where(update_recipients.c.update_id == update_id, update_recipients.c.claimed_at.is_(None))
    )
    return int(found or 0)


async def received_by(conn: AsyncConnection, enrolment_id: int, limit: int) -> list[Update]:
    """The last ``limit`` updates this young person was sent, newest first."""
    rows = (
        await conn.execute(
            select(updates)
            .join(
                update_recipients,
                and_(
                    update_recipients.c.update_id == updates.c.id,
                    update_recipients.c.enrolment_id == enrolment_id,
                ),
            )
            .where(update_recipients.c.sent_at.is_not(None))
            .order_by(updates.c.confirmed_at.desc(), updates.c.id.desc())
            .limit(limit)
        )
    ).mappings()
    return [_update(r) for r in rows]


async def release_claim(conn: AsyncConnection, update_id: int, enrolment_id: int) -> None:
    """Telegram asked to slow down before this one was sent: it waits for the next tick."""
    await conn.execute(
        update(update_recipients)
        .where(
            update_recipients.c.update_id == update_id,
            update_recipients.c.enrolment_id == enrolment_id,
            update_recipients.c.sent_at.is_(None),
        )
        .values(claimed_at=None)
    )


async def finish_if_done(conn: AsyncConnection, update_id: int) -> Update | None:
    """Mark a sending update ``sent`` once no recipient is left to take; the update when this
    call did it (so its end is audited once), else None."""
    if await remaining(conn, update_id):
        return None
    result = await conn.execute(
        update(updates)
        .where(updates.c.id == update_id, updates.c.status == SENDING)
        .values(status=SENT)
    )
    return await by_id(conn, update_id) if result.rowcount else None
