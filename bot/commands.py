"""Every command of the bot, declared once: name, handler, who may use it, menu entry, help line.

This table drives the handler registration (``bot/app.py``), the role check of every staff
command, the command menus in every language (``conversations/menu.py``), ``/help`` and the
staff help (``conversations/commands.py``); a test checks the README's command tables against it.
Staff commands answer anyone not entitled (a young person, a stranger, staff in another role)
exactly as an unknown command, and tell them nothing about the data.
"""

from __future__ import annotations

from collections.abc import Sequence

from conversations import (
    account,
    alerts,
    checkin,
    enrolment,
    moves,
    mydata,
    recording,
    reports,
    roster,
    staff,
    update_scope,
    updates,
)
from conversations.commands import (
    ADMIN,
    KEY_WORKER,
    MANAGER,
    ROLES,
    VOICE,
    Command,
    Handler,
)
from conversations.roles import StaffHandler, entitled
from core.i18n import N_, pN_


def anyone(
    name: str,
    handler: Handler,
    *,
    menu: str | None = None,
    help: str | None = None,
    for_staff: bool = False,
) -> Command:
    """A command anyone may send: young people's (and staff's too when ``for_staff``)."""
    return Command(name, handler, None, menu, help, for_staff)


def staff_only(
    name: str,
    handler: StaffHandler,
    roles: Sequence[str],
    *,
    menu: str | None = None,
    help: str | None = None,
) -> Command:
    """A command only active staff in ``roles`` may use; checked on every call."""
    checked = entitled(*roles)(handler)
    return Command(name, checked, frozenset(roles), menu, help)


COMMANDS: tuple[Command, ...] = (
    # Young people (and anyone who writes to the bot), in the order of their menu and /help.
    anyone("start", enrolment.start),
    anyone(
        "checkin",
        checkin.checkin_command,
        menu=N_("Start or carry on with a check-in"),
        help=N_("/checkin: start or carry on with a check-in"),
    ),
    anyone(
        "language",
        enrolment.language_command,
        menu=N_("Change your language"),
        help=N_("/language: change your language"),
        for_staff=True,
    ),
    anyone(
        "privacy",
        account.privacy_command,
        menu=N_("Who sees what"),
        help=N_("/privacy: who sees what, and how long it is kept"),
    ),
    anyone(
        "support",
        account.support_command,
        menu=N_("People you can talk to"),
        help=N_("/support: people you can talk to, and asking your key worker to get in touch"),
    ),
    anyone(
        "mydata",
        mydata.mydata_command,
        menu=N_("See everything kept about you"),
        help=N_("/mydata: see everything I keep about you"),
    ),
    anyone(
        "updates",
        updates.updates_command,
        menu=N_("What your service did with your answers"),
        help=N_("/updates: what your service did with your answers"),
    ),
    anyone("help", account.help_command, menu=N_("What I can do")),
    anyone(
        "stop",
        account.stop_command,
        menu=N_("No more check-ins"),
        help=N_("/stop: no more check-ins"),
    ),
    anyone(
        "forgetme",
        account.forgetme_command,
        menu=N_("Delete everything about you"),
        help=N_("/forgetme: delete everything about you"),
    ),
    # Staff, in the order of their menu and help (admins' commands are listed after the rest).
    staff_only(
        "invite",
        staff.invite_command,
        [KEY_WORKER],
        menu=pN_("staff", "Invite a young person"),
        help=pN_(
            "staff",
            "/invite [label] [end date]: a single-use invite link and QR code for a young person",
        ),
    ),
    staff_only(
        "caseload",
        staff.caseload_command,
        [KEY_WORKER],
        menu=pN_("staff", "Your young people"),
        help=pN_("staff", "/caseload: your young people and which check-ins are due or done"),
    ),
    staff_only(
        "exit",
        staff.exit_command,
        [KEY_WORKER],
        menu=pN_("staff", "Mark that support has ended"),
        help=pN_("staff", "/exit label: mark that support has ended (sends the exit check-in)"),
    ),
    staff_only(
        "staff",
        roster.staff_command,
        [ADMIN],
        menu=pN_("staff", "Staff list"),
        help=pN_("staff", "/staff: everyone on the staff list, with their ids"),
    ),
    staff_only(
        "addstaff",
        roster.addstaff_command,
        [ADMIN],
        menu=pN_("staff", "Add a staff member"),
        help=pN_(
            "staff",
            "/addstaff role team name: add a staff member and get their invite link (role: "
            "key_worker, manager or admin; team: one word or in quotes, or - for an admin "
            'with no team), like /addstaff key_worker "North East" Sam Jones',
        ),
    ),
    staff_only(
        "deactivate",
        roster.deactivate_command,
        [ADMIN],
        menu=pN_("staff", "Deactivate a staff member"),
        help=pN_("staff", "/deactivate id: end a staff member's access, like /deactivate 7"),
    ),
    staff_only(
        "move",
        moves.move_command,
        [ADMIN],
        menu=pN_("staff", "Move a young person to another key worker"),
        help=pN_(
            "staff",
            "/move label id: give a young person another key worker, like /move AB 7 (their "
            "label, then the new key worker's id)",
        ),
    ),
    staff_only(
        "digest",
        reports.digest_command,
        ROLES,
        menu=pN_("staff", "Anonymised trends"),
        help=pN_("staff", "/digest: anonymised trends; /digest settings: when you get them"),
    ),
    staff_only(
        "yousaid",
        update_scope.yousaid_command,
        [MANAGER, ADMIN],
        menu=pN_("staff", "Tell young people what you did"),
        help=pN_(
            "staff",
            "/yousaid: a \u201cyou said, we did\u201d update for your young people (managers: "
            "your team; admins: one team or the whole service), previewed before it is sent",
        ),
    ),
    staff_only("safeguarding", alerts.safeguarding_command, [ADMIN]),
    staff_only(
        "record",
        recording.record_command,
        [ADMIN, VOICE],
        menu=pN_("staff", "Record the texts read aloud"),
        help=pN_(
            "staff",
            "/record language [number]: record a text young people read, aloud, in a "
            "language (voice clips)",
        ),
    ),
)
"""Every command, in menu order (a manager has /digest, and /language as everyone does)."""
