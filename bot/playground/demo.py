"""The demo service of the playground: its staff, and the phones people chat on.

Every playground starts with one admin, a manager and two key workers in two teams, each tied to
a fake Telegram user id (so the bot knows them as staff from their first message). Young people
get fresh ids from 100001 upwards and join through a key worker's ``/invite``, as in real life.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ExtBot

from conversations.menu import set_chat_menu
from conversations.runtime import Runtime
from storage import staff

FIRST_YOUNG_PERSON_ID = 100001


@dataclass(frozen=True, slots=True)
class DemoStaff:
    """A staff member of the demo service and the Telegram user id of their phone."""

    user_id: int
    name: str
    role: str
    team: str | None

    @property
    def title(self) -> str:
        """The phone's header, e.g. ``Key worker · Sam (North)``."""
        role = {"key_worker": "Key worker", "manager": "Manager", "admin": "Admin"}[self.role]
        team = f" ({self.team})" if self.team else ""
        return f"{role} · {self.name}{team}"


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff(900101, "Sam", "key_worker", "North"),
    DemoStaff(900102, "Priya", "key_worker", "South"),
    DemoStaff(900002, "Morgan", "manager", "North"),
    DemoStaff(900001, "Alex", "admin", None),
)


@dataclass
class Phone:
    """One simulated phone on the page: a Telegram user chatting privately with the bot."""

    key: str
    user_id: int
    role: str  # key_worker, manager, admin or young_person
    title: str
    first_name: str
    language_code: str = "en"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form for the page."""
        return {
            "key": self.key,
            "user_id": self.user_id,
            "role": self.role,
            "title": self.title,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }


def staff_phone(member: DemoStaff) -> Phone:
    """The phone of a demo staff member."""
    return Phone(f"staff-{member.user_id}", member.user_id, member.role, member.title, member.name)


def young_person_phone(number: int, language_code: str = "en") -> Phone:
    """The phone of the ``number``-th young person (1-based)."""
    return Phone(
        key=f"yp-{FIRST_YOUNG_PERSON_ID + number - 1}",
        user_id=FIRST_YOUNG_PERSON_ID + number - 1,
        role="young_person",
        title=f"Young person {number}",
        first_name=f"Young person {number}",
        language_code=language_code,
    )


async def seed(rt: Runtime, bot: ExtBot[None]) -> None:
    """Create the demo staff, linked to their phones, unless this database already has them.

    Each gets the staff command menu on their chat, as when staff join through an invite.
    """
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        for member in DEMO_STAFF:
            if await staff.staff_by_chat(conn, member.user_id) is not None:
                continue
            team_id = await staff.ensure_team(conn, member.team, now) if member.team else None
            staff_id = await staff.add_staff(
                conn, name=member.name, role=member.role, team_id=team_id, now=now
            )
            await staff.link_chat(conn, staff_id, member.user_id, "en")
    for member in DEMO_STAFF:
        await set_chat_menu(bot, member.user_id, rt.translator("en"), rt.commands, member.role)
