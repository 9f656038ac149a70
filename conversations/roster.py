"""The staff roster in Telegram, for admins: the staff list, adding and deactivating staff.

Every command here is for admins only and checks the role on every call (:func:`entitled`); anyone
else gets exactly the unknown-command reply. Every change, and the staff list, is written to the
audit log (ids only: never a name, a label or a token). Logs say what happened, never to whom.

- ``/staff``: every staff member with their id, role, team, and whether they joined or were
  deactivated.
- ``/addstaff ROLE TEAM NAME``: a new staff member and their single-use invite link, as
  ``checkin-bot staff add`` prints it. ``TEAM`` is one word, or quoted (``"North East"``); ``-``
  means no team, for admins only. A new team name creates the team.
- ``/deactivate STAFF_ID``: ends a staff member's access and voids their unused invite links.

Moving a young person to another key worker (``/move``) is :mod:`conversations.moves`.
"""

from __future__ import annotations

import logging
import re
import shlex
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError

from conversations.commands import admin_help, role_name
from conversations.runtime import Context, Runtime
from conversations.sending import send, send_lines, tell
from core.i18n import Translator
from storage import admin, audit, handled, staff
from storage.invites import new_token
from storage.records import StaffMember

log = logging.getLogger(__name__)

NAME_MAX = 80  # staff.name
TEAM_MAX = 64  # teams.name
NO_TEAM = "-"
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
STAFF_ID = re.compile(r"\d{1,9}")


# /staff


async def staff_command(update: Update, context: Context, rt: Runtime, member: StaffMember) -> None:
    """/staff: every staff member (id, name, role, team, joined or not, active or not)."""
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    async with rt.db.transaction() as conn:
        people = await staff.every_member(conn)
        await audit.by_staff(
            conn, member.id, action="staff_list", scope="service", now=rt.clock.now()
        )
    lines = [
        t.npgettext("staff", "{n} staff member:", "{n} staff members:", len(people)).format(
            n=t.number(len(people))
        )
    ]
    lines += [staff_line(t, person) for person in people]
    lines += ["", admin_help(t, rt.commands)]
    await send_lines(context.bot, update.effective_chat.id, t, lines)
    log.info("the staff list was read")


def staff_line(t: Translator, person: StaffMember) -> str:
    """One staff member as an admin sees them."""
    if not person.active:
        state = t.pgettext("staff", "deactivated")
    elif person.chat_id is not None:
        state = t.pgettext("staff", "joined")
    else:
        state = t.pgettext("staff", "not joined yet")
    return t.pgettext("staff", "• {id}: {name}, {role}, {team}, {state}").format(
        id=t.isolate(person.id),
        name=t.isolate(person.name),
        role=role_name(t, person.role),
        team=t.isolate(person.team_name) if person.team_name else t.pgettext("staff", "no team"),
        state=state,
    )


# /addstaff


@dataclass(frozen=True, slots=True)
class NewStaff:
    role: str
    team: str | None
    name: str


def clean_text(raw: str) -> str:
    """Printable text with single spaces (control and format characters removed)."""
    text = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", text).strip()


def parse_addstaff(text: str) -> NewStaff | str:
    """``ROLE TEAM NAME...`` -> the new staff member, or what is wrong ("usage", "role", ...)."""
    try:
        words = shlex.split(text.translate(SMART_QUOTES))
    except ValueError:
        return "usage"
    if len(words) < 3:
        return "usage"
    role, team, name = words[0].lower(), clean_text(words[1]), clean_text(" ".join(words[2:]))
    if role not in staff.ROLES:
        return "role"
    if not team or not name:
        return "usage"
    if team == NO_TEAM:
        if role not in ("admin", "voice"):
            return "team"
        return NewStaff(role, None, name) if len(name) <= NAME_MAX else "name"
    if len(team) > TEAM_MAX:
        return "team_long"
    if len(name) > NAME_MAX:
        return "name"
    return NewStaff(role, team, name)


def addstaff_problem(t: Translator, problem: str) -> str:
    """One line on how to write /addstaff, for what was wrong."""
    if problem == "role":
        return t.pgettext(
            "staff",
            "The role must be key_worker, manager, admin or voice. Write it like this: "
            "/addstaff key_worker North Sam Jones",
        )
    if problem == "team":
        return t.pgettext(
            "staff",
            "Key workers and managers need a team. Write it like this: "
            "/addstaff key_worker North Sam Jones",
        )
    if problem == "team_long":
        return t.pgettext("staff", "A team name can have at most 64 characters.")
    if problem == "name":
        return t.pgettext("staff", "A name can have at most 80 characters.")
    return t.pgettext(
        "staff",
        "Write it like this: /addstaff key_worker North Sam Jones (role: key_worker, manager, "
        "admin or voice; then a team, or - for an admin or voice recorder with no team; then "
        "their name)",
    )


async def addstaff_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """/addstaff ROLE TEAM NAME: a new staff member and their single-use staff invite link."""
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    parsed = parse_addstaff(" ".join(context.args or []))
    if isinstance(parsed, str):
        await tell(context.bot, chat_id, t, addstaff_problem(t, parsed))
        return
    now = rt.clock.now()
    token = new_token()
    expires = now + timedelta(days=rt.settings.invite_ttl_days)
    async with rt.db.transaction() as conn:
        if not await handled.first_time(conn, update.update_id, now):
            return  # a redelivery: the first delivery added them
        staff_id, new_team = await staff.add_with_invite(
            conn,
            name=parsed.name,
            role=parsed.role,
            team=parsed.team,
            created_by=member.id,
            token=token,
            now=now,
            expires_at=expires,
        )
        await audit.by_staff(
            conn, member.id, action="staff_add", scope=f"staff:{staff_id}", now=now
        )
    await send(
        context.bot,
        chat_id,
        added_text(t, parsed, staff_id, new_team, rt.deep_link(token), expires),
    )
    log.info("a staff member was added")


def added_text(
    t: Translator, new: NewStaff, staff_id: int, new_team: bool, link: str, expires: datetime
) -> str:
    """The answer to /addstaff: who was added, and their invite link."""
    role = role_name(t, new.role)
    if new.team is None:
        who = t.pgettext("staff", "Added {name} as {role}, with no team (staff id {id}).").format(
            name=t.isolate(new.name), role=role, id=t.isolate(staff_id)
        )
    else:
        who = t.pgettext(
            "staff", "Added {name} as {role} in the team {team} (staff id {id})."
        ).format(
            name=t.isolate(new.name), role=role, team=t.isolate(new.team), id=t.isolate(staff_id)
        )
    parts = [who]
    if new_team:
        parts.append(t.pgettext("staff", "{team} is a new team.").format(team=t.isolate(new.team)))
    parts.append(
        t.pgettext(
            "staff",
            "Send them this link privately. It works once, makes whoever opens it this staff "
            "member, and expires on {date}.",
        ).format(date=t.date(expires))
    )
    parts.append(t.isolate(link))
    return t.message("\n\n".join(parts))


# /deactivate


async def deactivate_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """/deactivate STAFF_ID: end a staff member's access (not your own) and void their links."""
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    args = list(context.args or [])
    if len(args) != 1 or not STAFF_ID.fullmatch(args[0]):
        await tell(
            context.bot,
            chat_id,
            t,
            t.pgettext("staff", "Write it like this: /deactivate 7 (the staff id from /staff)"),
        )
        return
    staff_id = int(args[0])
    if staff_id == member.id:
        await tell(
            context.bot,
            chat_id,
            t,
            t.pgettext("staff", "You cannot deactivate yourself. Please ask another admin."),
        )
        return
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        target = await staff.staff_by_id(conn, staff_id)
        if target is None or not target.active:
            reply = deactivate_problem(t, staff_id, target)
        else:
            await staff.deactivate(conn, staff_id)
            await admin.void_staff_invites(conn, staff_id, now)
            left = await admin.caseload_size(conn, staff_id)
            await audit.by_staff(
                conn, member.id, action="staff_deactivate", scope=f"staff:{staff_id}", now=now
            )
            reply = deactivated_text(t, target, left)
    await tell(context.bot, chat_id, t, reply)
    if target is not None and target.active:
        log.info("a staff member was deactivated")
        if target.chat_id is not None:
            await reset_menu(context, target.chat_id)


def deactivate_problem(t: Translator, staff_id: int, target: StaffMember | None) -> str:
    if target is None:
        return t.pgettext(
            "staff", "There is no staff member with the id {id}. Send /staff to see the ids."
        ).format(id=t.isolate(staff_id))
    return t.pgettext("staff", "{name} (staff id {id}) is already deactivated.").format(
        name=t.isolate(target.name), id=t.isolate(staff_id)
    )


def deactivated_text(t: Translator, target: StaffMember, caseload: int) -> str:
    parts = [
        t.pgettext(
            "staff",
            "Done. {name} (staff id {id}) can no longer use Check-in, and their unused invite "
            "links no longer work.",
        ).format(name=t.isolate(target.name), id=t.isolate(target.id))
    ]
    if caseload:
        parts.append(
            t.npgettext(
                "staff",
                "They still have {n} young person: give them another key worker with /move.",
                "They still have {n} young people: give them another key worker with /move.",
                caseload,
            ).format(n=t.number(caseload))
        )
    return "\n\n".join(parts)


async def reset_menu(context: Context, chat_id: int) -> None:
    """Take the staff command menu off a deactivated staff member's chat (best effort)."""
    try:
        await context.bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("a chat's command menu could not be reset: %s", type(exc).__name__)
