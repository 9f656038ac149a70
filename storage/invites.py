"""Invites: single-use, expiring tokens for young people and staff. Only a hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Invite
from storage.schema import invites


def new_token() -> str:
    """An unguessable invite token: 43 characters of ``[A-Za-z0-9_-]`` (256 random bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 of a token: what the database keeps instead of the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invite(
    conn: AsyncConnection,
    *,
    kind: str,
    token: str,
    created_by: int | None,
    staff_id: int | None = None,
    label: str | None = None,
    planned_end: date | None = None,
    now: datetime,
    expires_at: datetime,
) -> int:
    """Store a new invite for ``token`` and return its id."""
    result = await conn.execute(
        insert(invites).values(
            kind=kind,
            token_hash=token_hash(token),
            created_by=created_by,
            staff_id=staff_id,
            label=label,
            planned_end=planned_end,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def find_invite(conn: AsyncConnection, token: str) -> Invite | None:
    """The invite a token belongs to, used or not; None for a forged token."""
    row = (
        await conn.execute(select(invites).where(invites.c.token_hash == token_hash(token)))
    ).first()
    if row is None:
        return None
    m = row._mapping
    return Invite(
        id=m["id"],
        kind=m["kind"],
        created_by=m["created_by"],
        staff_id=m["staff_id"],
        label=m["label"],
        planned_end=m["planned_end"],
        expires_at=m["expires_at"],
        used_at=m["used_at"],
    )


async def use_invite(conn: AsyncConnection, invite_id: int, now: datetime) -> bool:
    """Mark an invite used; False when someone else used it first (it works once)."""
    result = await conn.execute(
        update(invites)
        .where(invites.c.id == invite_id, invites.c.used_at.is_(None), invites.c.expires_at > now)
        .values(used_at=now)
    )
    return result.rowcount == 1
