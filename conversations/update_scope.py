"""``/yousaid``: who a "you said, we did" update is for.

A manager's update is always for their own team (a manager with no team gets the answer to an
unknown command: there is nothing they may publish for). An admin is asked with buttons: the
whole service, or one team (each team its own button); the press is checked again (an admin,
still active, and a team that exists), and anyone else's press is answered like a stale button.
The update itself (its figures, preview and sending) is conversations/updates.py.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from conversations import buttons, updates
from conversations.commands import ADMIN
from conversations.presses import answer_stale, pressed
from conversations.roles import refuse
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press, edit_or_send, tell
from core.i18n import Translator
from storage import staff
from storage.records import StaffMember


async def yousaid_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """``/yousaid``: start an update (an admin first picks its scope); ``/yousaid CODE text``:
    the "we did" part in language CODE."""
    assert member.chat_id is not None
    args = context.args or []
    if args:
        await updates.add_translation(rt, context, member, args[0], " ".join(args[1:]))
        return
    if member.role != ADMIN:  # a manager: their own team (one with no team has nothing)
        if member.team_id is None:
            await refuse(rt, update, context)
            return
        await updates.start_draft(rt, context.bot, member, member.team_id, member.team_name)
        return
    t = rt.translator(member.language)
    async with rt.db.read() as conn:
        teams = await staff.teams_by_name(conn)
    choices: list[tuple[str, int | None]] = [(t.pgettext("staff", "The whole service"), None)]
    choices += [(name, team_id) for team_id, name in teams]
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=buttons.encode(buttons.Scope(team_id)))]
            for label, team_id in choices
        ]
    )
    await tell(
        context.bot,
        member.chat_id,
        t,
        t.pgettext(
            "staff",
            "Who is this update for? The whole service, or the young people of one team:",
        ),
        markup,
    )


def scope_name(t: Translator, team: str | None) -> str:
    return t.pgettext("staff", "the whole service") if team is None else t.isolate(team)


async def on_scope(update: Update, context: Context) -> None:
    """An admin picked the scope: the draft for it starts; the buttons go."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.Scope)
    if read is None:
        return
    press, action = read
    async with rt.db.read() as conn:
        member = await staff.staff_by_chat(conn, press.chat_id)
        team = await staff.team_name(conn, action.team_id) if action.team_id is not None else None
    if (
        member is None
        or member.role != ADMIN
        or not updates.may_publish(member, action.team_id)
        or (action.team_id is not None and team is None)
    ):
        await answer_stale(rt, press)
        return
    t = rt.translator(member.language)
    await answer_press(press.query)
    chosen = t.pgettext("staff", "This update is for: {scope}").format(scope=scope_name(t, team))
    await edit_or_send(context.bot, press.chat_id, press.message_id, t.message(chosen))
    await updates.start_draft(rt, context.bot, member, action.team_id, team)
