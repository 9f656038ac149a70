"""The staff command menu, per role (a staff-only text source: see ``core.i18n``)."""

from __future__ import annotations

from telegram import BotCommand

from core.i18n import Translator


def staff_commands(t: Translator, role: str) -> list[BotCommand]:
    commands = []
    if role == "key_worker":
        commands += [
            BotCommand("invite", t._("Invite a young person")),
            BotCommand("caseload", t._("Your young people")),
            BotCommand("exit", t._("Mark that support has ended")),
        ]
    if role == "admin":
        commands += [
            BotCommand("staff", t._("Staff list")),
            BotCommand("addstaff", t._("Add a staff member")),
            BotCommand("deactivate", t._("Deactivate a staff member")),
            BotCommand("move", t._("Move a young person to another key worker")),
        ]
    commands.append(BotCommand("digest", t._("Anonymised trends")))
    commands.append(BotCommand("language", t._("Change your language")))
    return commands
