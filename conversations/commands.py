"""Staff commands in words: the help a staff member reads, and the names of the roles."""

from __future__ import annotations

from core.i18n import Translator
from storage.records import StaffMember


def staff_help(t: Translator, member: StaffMember) -> str:
    lines = [t._("You are signed in as staff ({role}).").format(role=role_name(t, member.role))]
    if member.role == "key_worker":
        lines += [
            t._(
                "/invite [label] [end date]: a single-use invite link and QR code for a young "
                "person"
            ),
            t._("/caseload: your young people and which check-ins are due or done"),
            t._("/exit label: mark that support has ended (sends the exit check-in)"),
        ]
    lines.append(t._("/digest: anonymised trends; /digest settings: when you get them"))
    lines.append(t._("/language: change your language"))
    if member.role == "admin":
        lines.append(admin_help(t))
    return t.message("\n".join(lines))


def staff_welcome(t: Translator, member: StaffMember) -> str:
    return (
        t.message(t._("Welcome, {name}!").format(name=t.isolate(member.name)))
        + "\n\n"
        + (staff_help(t, member))
    )


def role_name(t: Translator, role: str) -> str:
    return {"key_worker": t._("key worker"), "manager": t._("manager"), "admin": t._("admin")}.get(
        role, role
    )


def admin_help(t: Translator) -> str:
    """The admin commands and how to write them (one line each)."""
    return "\n".join(
        (
            t._("Admin commands:"),
            t._("/staff: everyone on the staff list, with their ids"),
            t._(
                "/addstaff role team name: add a staff member and get their invite link (role: "
                "key_worker, manager or admin; team: one word or in quotes, or - for an admin "
                'with no team), like /addstaff key_worker "North East" Sam Jones'
            ),
            t._("/deactivate id: end a staff member's access, like /deactivate 7"),
            t._(
                "/move label id: give a young person another key worker, like /move AB 7 (their "
                "label, then the new key worker's id)"
            ),
        )
    )
