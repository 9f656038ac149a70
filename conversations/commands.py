"""Commands as data: each one's name, handler, who may use it, menu entry and help line.

The table itself is ``bot/commands.py`` (it names the handlers, so it sits above them, and wraps
every staff command in the role check it makes on every call). This module is what the table is
made of, and what is derived from it in words: the command menus per language and role, and the
help texts. The running bot keeps the table in ``Runtime.commands``. A
command's menu entry and help line are English message ids, translated when shown (marked with
``core.i18n.N_`` for young people's texts and ``core.i18n.pN_`` with the ``staff`` context for
staff's, so ``python -m bot.locales extract`` finds them).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand

from core.i18n import STAFF_CONTEXT as STAFF
from core.i18n import Translator
from storage.records import StaffMember

Handler = Callable[..., Coroutine[Any, Any, None]]
"""``async def handler(update, context)``, as PTB calls it."""

KEY_WORKER, MANAGER, ADMIN = "key_worker", "manager", "admin"
ROLES = (KEY_WORKER, MANAGER, ADMIN)
"""The roles that see the service's figures (``/digest``)."""
VOICE = "voice"
"""Staff who only record voice clips of the texts (``/record``), e.g. interpreters."""
STAFF_ROLES = (*ROLES, VOICE)
"""Every role a staff member can have."""
ADMIN_ONLY = frozenset({ADMIN})


@dataclass(frozen=True, slots=True)
class Command:
    """One command. ``roles`` None: anyone may send it (young people; staff too when
    ``for_staff``); otherwise only active staff in one of ``roles``, checked on every call."""

    name: str
    handler: Handler
    roles: frozenset[str] | None = None
    menu: str | None = None
    help: str | None = None
    for_staff: bool = False

    @property
    def staff_only(self) -> bool:
        return self.roles is not None

    def for_role(self, role: str | None) -> bool:
        """Whether a person (``role`` None: a young person) has it in their menu and help."""
        if role is None:
            return self.roles is None
        return self.for_staff if self.roles is None else role in self.roles


def _ordered(commands: Sequence[Command], role: str | None) -> list[Command]:
    """The commands of a young person, or of a staff member (their role's first)."""
    mine = [c for c in commands if c.for_role(role)]
    return sorted(mine, key=lambda c: not c.staff_only) if role else mine


def _text(t: Translator, command: Command, message: str) -> str:
    return t.pgettext(STAFF, message) if command.staff_only else t._(message)


def menu(t: Translator, commands: Sequence[Command], role: str | None = None) -> list[BotCommand]:
    """The command menu of a young person (``role`` None) or of a staff member, in ``t``."""
    return [BotCommand(c.name, _text(t, c, c.menu)) for c in _ordered(commands, role) if c.menu]


def help_lines(t: Translator, commands: Sequence[Command], role: str | None = None) -> list[str]:
    """One line per command a young person (``role`` None) or staff member may use."""
    return [
        _text(t, c, c.help)
        for c in _ordered(commands, role)
        if c.help and not (role and c.roles == ADMIN_ONLY)  # admins read theirs after the rest
    ]


def young_person_help(t: Translator, commands: Sequence[Command]) -> str:
    """/help for a young person."""
    return t.message("\n".join([t._("Here is what I can do:"), *help_lines(t, commands)]))


def staff_help(t: Translator, member: StaffMember, commands: Sequence[Command]) -> str:
    """What a staff member can do, for their role (admins: the admin commands after)."""
    lines = [
        t.pgettext(STAFF, "You are signed in as staff ({role}).").format(
            role=role_name(t, member.role)
        ),
        *help_lines(t, commands, member.role),
    ]
    if member.role == ADMIN:
        lines.append(admin_help(t, commands))
    return t.message("\n".join(lines))


def admin_help(t: Translator, commands: Sequence[Command]) -> str:
    """The admin commands and how to write them (one line each)."""
    lines = [_text(t, c, c.help) for c in commands if c.help and c.roles == ADMIN_ONLY]
    return "\n".join([t.pgettext(STAFF, "Admin commands:"), *lines])


def staff_welcome(t: Translator, member: StaffMember, commands: Sequence[Command]) -> str:
    welcome = t.pgettext(STAFF, "Welcome, {name}!").format(name=t.isolate(member.name))
    return t.message(welcome) + "\n\n" + staff_help(t, member, commands)


def role_name(t: Translator, role: str) -> str:
    names = {
        KEY_WORKER: t.pgettext(STAFF, "key worker"),
        MANAGER: t.pgettext(STAFF, "manager"),
        ADMIN: t.pgettext(STAFF, "admin"),
        VOICE: t.pgettext(STAFF, "voice recorder"),
    }
    return names.get(role, role)
