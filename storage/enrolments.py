"""Enrolments: one row per young person, from opening an invite to exit or erasure."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import part_tallies, reach, tallies
from storage.alerts import remove_texts as remove_alert_texts
from storage.records import Enrolment, Invite
from storage.schema import (
    answers,
    checkins,
    contact_requests,
    enrolments,
    invites,
    prompts,
    staff,
    update_recipients,
)

PENDING, ACTIVE, STOPPED, EXITED, FORGOTTEN = "pending", "active", "stopped", "exited", "forgotten"


def _enrolment(m: RowMapping) -> Enrolment:
    return Enrolment(
        id=m["id"],
        pseudonym=m["pseudonym"],
        invite_id=m["invite_id"],
        team_id=m["team_id"],
        key_worker_id=m["key_worker_id"],
        label=m["label"],
        chat_id=m["chat_id"],
        language=m["language"],
        timezone=m["timezone"],
        status=m["status"],
        reachable=bool(m["reachable"]),
        enrolled_at=m["enrolled_at"],
        planned_end=m["planned_end"],
        exit_at=m["exit_at"],
    )


async def by_chat(conn: AsyncConnection, chat_id: int) -> Enrolment | None:
    """The enrolment that uses this chat, if any."""
    row = (await conn.execute(select(enrolments).where(enrolments.c.chat_id == chat_id))).first()
    return None if row is None else _enrolment(row._mapping)


async def by_id(conn: AsyncConnection, enrolment_id: int) -> Enrolment | None:
    row = (await conn.execute(select(enrolments).where(enrolments.c.id == enrolment_id))).first()
    return None if row is None else _enrolment(row._mapping)


async def pending_holder(conn: AsyncConnection, invite_id: int) -> int | None:
    """The chat that has opened this invite and not yet agreed or left, if any."""
    found = await conn.scalar(
        select(enrolments.c.chat_id).where(
            enrolments.c.invite_id == invite_id, enrolments.c.status == PENDING
        )
    )
    return None if found is None else int(found)


async def start_pending(
    conn: AsyncConnection, *, invite: Invite, chat_id: int, language: str, now: datetime
) -> int:
    """Record that this chat opened a young person's invite; replaces an earlier pending one."""
    await conn.execute(
        delete(enrolments).where(enrolments.c.chat_id == chat_id, enrolments.c.status == PENDING)
    )
    team_id = await conn.scalar(select(staff.c.team_id).where(staff.c.id == invite.created_by))
    result = await conn.execute(
        insert(enrolments).values(
            pseudonym=secrets.token_hex(8),
            invite_id=invite.id,
            team_id=team_id,
            key_worker_id=invite.created_by,
            label=invite.label,
            chat_id=chat_id,
            language=language,
            status=PENDING,
            reachable=True,
            created_at=now,
            planned_end=invite.planned_end,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def activate(conn: AsyncConnection, enrolment_id: int, now: datetime) -> None:
    """The young person agreed: they are enrolled from now."""
    await conn.execute(
        update(enrolments)
        .where(enrolments.c.id == enrolment_id, enrolments.c.status == PENDING)
        .values(status=ACTIVE, enrolled_at=now)
    )
    await reach.note(conn, enrolment_id, now)


async def drop_pending(conn: AsyncConnection, enrolment_id: int) -> None:
    """The young person left before agreeing: nothing about them is kept."""
    await conn.execute(
        delete(enrolments).where(enrolments.c.id == enrolment_id, enrolments.c.status == PENDING)
    )


async def set_language(conn: AsyncConnection, enrolment_id: int, language: str) -> None:
    await conn.execute(
        update(enrolments).where(enrolments.c.id == enrolment_id).values(language=language)
    )


async def stop(conn: AsyncConnection, enrolment_id: int, now: datetime) -> None:
    """/stop: no more prompts until they come back."""
    await conn.execute(
        update(enrolments)
        .where(enrolments.c.id == enrolment_id, enrolments.c.status == ACTIVE)
        .values(status=STOPPED, stopped_at=now)
    )
    await reach.note(conn, enrolment_id, now)


async def resume(conn: AsyncConnection, enrolment_id: int, now: datetime | None = None) -> None:
    """They came back after /stop (or unblocked the bot): prompts may go out again. Without
    *now*, the reach history catches up before the next release (``storage/reach.py``)."""
    await conn.execute(
        update(enrolments)
        .where(enrolments.c.id == enrolment_id, enrolments.c.status.in_([ACTIVE, STOPPED]))
        .values(status=ACTIVE, stopped_at=None, reachable=True)
    )
    if now is not None:
        await reach.note(conn, enrolment_id, now)  # the taking-part tallies follow
    else:
        await part_tallies.refresh(conn, enrolment_id)


async def set_reachable(
    conn: AsyncConnection, chat_id: int, reachable: bool, now: datetime | None = None
) -> None:
    """Blocked (or unblocked) the bot; with *now*, recorded in the reach history from then."""
    await conn.execute(
        update(enrolments).where(enrolments.c.chat_id == chat_id).values(reachable=reachable)
    )
    if now is not None:
        await reach.note_chat(conn, chat_id, now)  # the taking-part tallies follow
    else:
        await part_tallies.refresh_chat(conn, chat_id)


async def forget(
    conn: AsyncConnection, enrolment_id: int, *, keep_answers: bool, now: datetime
) -> None:
    """/forgetme: remove the chat id, label and free text now; answers stay only if chosen.

    With ``keep_answers`` the scale answers stay, tied only to a random pseudonym, for anonymous
    totals, and safeguarding alerts keep only their category and times; otherwise every
    check-in, answer and alert is deleted too. The words of alerts, and the label on the invite
    they joined with, go in both cases.
    """
    checkin_ids = select(checkins.c.id).where(checkins.c.enrolment_id == enrolment_id)
    await remove_alert_texts(conn, enrolment_id, delete_rows=not keep_answers)
    if keep_answers:
        await conn.execute(
            update(checkins)
            .where(checkins.c.enrolment_id == enrolment_id)
            .values(comment=None, shared=False)
        )
    else:  # when they were sent each check-in goes too: they leave "who answered" (the
        # release ledger keeps where releases counted them, conversations/departures.py)
        await conn.execute(delete(answers).where(answers.c.checkin_id.in_(checkin_ids)))
        await conn.execute(delete(prompts).where(prompts.c.enrolment_id == enrolment_id))
        await conn.execute(delete(checkins).where(checkins.c.enrolment_id == enrolment_id))
    await conn.execute(
        delete(contact_requests).where(contact_requests.c.enrolment_id == enrolment_id)
    )
    await conn.execute(  # which "you said, we did" updates they were sent (counts stay)
        delete(update_recipients).where(update_recipients.c.enrolment_id == enrolment_id)
    )
    invite_id = select(enrolments.c.invite_id).where(enrolments.c.id == enrolment_id)
    await conn.execute(
        update(invites).where(invites.c.id.in_(invite_id.scalar_subquery())).values(label=None)
    )
    await conn.execute(
        update(enrolments)
        .where(enrolments.c.id == enrolment_id)
        .values(
            chat_id=None,
            label=None,
            language=None,
            timezone=None,
            status=FORGOTTEN,
            reachable=False,
            left_at=now,
            pseudonym=secrets.token_hex(8),
        )
    )
    await tallies.forget(conn, enrolment_id)  # answers deleted leave the tallies; kept ones
    # are counted under the new pseudonym
    await reach.note(conn, enrolment_id, now)


async def for_key_worker_by_label(
    conn: AsyncConnection, key_worker_id: int, label: str
) -> list[Enrolment]:
    """A key worker's own young people with this label (case-insensitive)."""
    rows = await conn.execute(
        select(enrolments).where(
            enrolments.c.key_worker_id == key_worker_id,
            func.lower(enrolments.c.label) == label.lower(),
            enrolments.c.status.in_([ACTIVE, STOPPED]),
        )
    )
    return [_enrolment(row._mapping) for row in rows]


async def caseload(conn: AsyncConnection, key_worker_id: int) -> list[Enrolment]:
    """A key worker's young people, enrolled or stopped or exited (not pending, not forgotten)."""
    rows = await conn.execute(
        select(enrolments)
        .where(
            enrolments.c.key_worker_id == key_worker_id,
            enrolments.c.status.in_([ACTIVE, STOPPED, EXITED]),
        )
        .order_by(enrolments.c.enrolled_at)
    )
    return [_enrolment(row._mapping) for row in rows]


async def left_since(conn: AsyncConnection, key_worker_id: int, since: datetime | None) -> int:
    """How many of a key worker's young people left (``/forgetme`` or retention) after
    ``since`` (ever, when None): a count only, since nothing identifying is left of them."""
    query = (
        select(func.count())
        .select_from(enrolments)
        .where(
            enrolments.c.key_worker_id == key_worker_id,
            enrolments.c.status == FORGOTTEN,
            enrolments.c.left_at.is_not(None),
        )
    )
    if since is not None:
        query = query.where(enrolments.c.left_at > since)
    return int(await conn.scalar(query) or 0)


async def mark_exit(conn: AsyncConnection, enrolment_id: int, now: datetime) -> bool:
    """Support has ended; False if it had already ended."""
    result = await conn.execute(
        update(enrolments)
        .where(enrolments.c.id == enrolment_id, enrolments.c.exit_at.is_(None))
        .values(exit_at=now)
    )
    await part_tallies.refresh(conn, enrolment_id)
    return result.rowcount == 1


async def request_contact(
    conn: AsyncConnection,
    enrolment_id: int,
    key_worker_id: int | None,
    now: datetime,
    *,
    since: datetime,
) -> int | None:
    """Record a "please get in touch" request; None (nothing recorded) if this young person
    already asked after ``since``, so a double tap tells the key worker once. Call inside a
    write transaction: the check and the insert are one compare-and-set."""
    earlier = await conn.scalar(
        select(func.count())
        .select_from(contact_requests)
        .where(
            contact_requests.c.enrolment_id == enrolment_id, contact_requests.c.created_at > since
        )
    )
    if earlier:
        return None
    result = await conn.execute(
        insert(contact_requests).values(
            enrolment_id=enrolment_id, key_worker_id=key_worker_id, created_at=now
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def withdraw_contact(conn: AsyncConnection, request_id: int) -> None:
    """The key worker could not be told: forget the request, so asking again tries again."""
    await conn.execute(delete(contact_requests).where(contact_requests.c.id == request_id))
