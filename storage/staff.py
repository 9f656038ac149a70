"""Staff and teams: who works here, in which role and team, and which chat is theirs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.invites import create_invite
from storage.records import StaffMember
from storage.schema import staff, teams

ROLES = ("key_worker", "manager", "admin", "voice")
"""Every role a staff member can have (conversations/commands.py names them)."""


async def ensure_team(conn: AsyncConnection, name: str, now: datetime) -> int:
    """The id of the team called ``name``, created if it does not exist yet."""
    found = await conn.scalar(select(teams.c.id).where(teams.c.name == name))
    if found is not None:
        return int(found)
    result = await conn.execute(insert(teams).values(name=name, created_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def team_id_by_name(conn: AsyncConnection, name: str) -> int | None:
    found = await conn.scalar(select(teams.c.id).where(teams.c.name == name))
    return None if found is None else int(found)


async def teams_by_name(conn: AsyncConnection) -> list[tuple[int, str]]:
    """Every team as (id, name), by name."""
    rows = await conn.execute(select(teams.c.id, teams.c.name).order_by(teams.c.name))
    return [(int(i), str(name)) for i, name in rows.all()]


async def team_name(conn: AsyncConnection, team_id: int) -> str | None:
    found = await conn.scalar(select(teams.c.name).where(teams.c.id == team_id))
    return None if found is None else str(found)


async def add_staff(
    conn: AsyncConnection, *, name: str, role: str, team_id: int | None, now: datetime
) -> int:
    """Create a staff member (not yet linked to a chat) and return their id."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    result = await conn.execute(
        insert(staff).values(name=name, role=role, team_id=team_id, active=True, created_at=now)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def add_with_invite(
    conn: AsyncConnection,
    *,
    name: str,
    role: str,
    team: str | None,
    created_by: int | None,
    token: str,
    now: datetime,
    expires_at: datetime,
) -> tuple[int, bool]:
    """A new staff member and their single-use staff invite for ``token``.

    Returns the staff id and whether ``team`` was created just now (so a typo can be noticed).
    """
    new_team = False
    team_id = None
    if team is not None:
        new_team = await team_id_by_name(conn, team) is None
        team_id = await ensure_team(conn, team, now)
    staff_id = await add_staff(conn, name=name, role=role, team_id=team_id, now=now)
    await create_invite(
        conn,
        kind="staff",
        token=token,
        created_by=created_by,
        staff_id=staff_id,
        now=now,
        expires_at=expires_at,
    )
    return staff_id, new_team


def _member(m: RowMapping) -> StaffMember:
    return StaffMember(
        id=m["id"],
        name=m["name"],
        role=m["role"],
        team_id=m["team_id"],
        team_name=m["team_name"],
        chat_id=m["chat_id"],
        language=m["language"],
        active=bool(m["active"]),
    )


_SELECT = select(
    staff.c.id,
    staff.c.name,
    staff.c.role,
    staff.c.team_id,
    teams.c.name.label("team_name"),
    staff.c.chat_id,
    staff.c.language,
    staff.c.active,
).select_from(staff.outerjoin(teams, staff.c.team_id == teams.c.id))


async def every_member(conn: AsyncConnection) -> list[StaffMember]:
    """Every staff member, active or not, in the order they were added."""
    rows = await conn.execute(_SELECT.order_by(staff.c.id))
    return [_member(row._mapping) for row in rows]


async def staff_by_chat(conn: AsyncConnection, chat_id: int) -> StaffMember | None:
    """The active staff member using this chat, if any."""
    row = (
        await conn.execute(_SELECT.where(staff.c.chat_id == chat_id, staff.c.active.is_(True)))
    ).first()
    return None if row is None else _member(row._mapping)


async def staff_by_id(conn: AsyncConnection, staff_id: int) -> StaffMember | None:
    row = (await conn.execute(_SELECT.where(staff.c.id == staff_id))).first()
    return None if row is None else _member(row._mapping)


async def link_chat(conn: AsyncConnection, staff_id: int, chat_id: int, language: str) -> None:
    """Tie a staff member to the chat that opened their staff invite."""
    await conn.execute(
        update(staff).where(staff.c.id == staff_id).values(chat_id=chat_id, language=language)
    )


async def set_language(conn: AsyncConnection, staff_id: int, language: str) -> None:
    await conn.execute(update(staff).where(staff.c.id == staff_id).values(language=language))


async def deactivate(conn: AsyncConnection, staff_id: int) -> None:
    await conn.execute(
        update(staff).where(staff.c.id == staff_id).values(active=False, chat_id=None)
    )
