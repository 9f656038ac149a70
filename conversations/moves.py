"""Moving a young person to another key worker, for admins: ``/move``.

- ``/move LABEL STAFF_ID``: gives an enrolled young person another key worker. When several young
  people share the label, the answer lists them with a number, and ``/move #NUMBER STAFF_ID``
  picks one. Earlier check-ins stay with the key worker of their time.

For admins only, checking the role on every call (:func:`entitled`); anyone else gets exactly the
unknown-command reply. Every move is written to the audit log (ids only); the new key worker is
told, by label only. Logs say what happened, never to whom.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Update

from conversations.checkin import describe
from conversations.roster import STAFF_ID
from conversations.runtime import Context, Runtime
from conversations.sending import tell
from conversations.staff import clean_label
from core.i18n import Translator
from storage import admin, audit, enrolments, staff
from storage.records import Enrolment, StaffMember

log = logging.getLogger(__name__)

ENROLMENT_REF = re.compile(r"#(\d{1,9})")


@dataclass(frozen=True, slots=True)
class MoveRequest:
    label: str | None  # as written, when the young person was named by label
    enrolment_id: int | None  # when named by number (#12), after an ambiguous label
    key_worker_id: int

    def shown(self, t: Translator) -> str:
        """The young person as the admin named them (never more than they wrote)."""
        return t.isolate(self.label if self.label is not None else f"#{self.enrolment_id}")


def parse_move(args: list[str]) -> MoveRequest | None:
    """``LABEL STAFF_ID`` or ``#NUMBER STAFF_ID`` -> the request, or None when malformed."""
    if len(args) < 2 or not STAFF_ID.fullmatch(args[-1]):
        return None
    who = " ".join(args[:-1]).strip()
    key_worker_id = int(args[-1])
    number = ENROLMENT_REF.fullmatch(who)
    if number:
        return MoveRequest(None, int(number.group(1)), key_worker_id)
    label = clean_label(who)
    return None if label is None else MoveRequest(label, None, key_worker_id)


async def move_command(update: Update, context: Context, rt: Runtime, member: StaffMember) -> None:
    """/move LABEL STAFF_ID: give an enrolled young person another (active) key worker."""
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    request = parse_move(list(context.args or []))
    if request is None:
        await tell(
            context.bot,
            chat_id,
            t,
            t.pgettext(
                "staff",
                "Write it like this: /move AB 7 (the young person's label, then the staff id "
                "of their new key worker from /staff)",
            ),
        )
        return
    async with rt.db.transaction() as conn:
        reply, moved_to = await move(conn, rt, t, member, request)
    await tell(context.bot, chat_id, t, reply)
    if moved_to is not None:
        log.info("a young person was moved to another key worker")
        await tell_new_key_worker(rt, context, *moved_to)


async def move(
    conn: AsyncConnection, rt: Runtime, t: Translator, member: StaffMember, request: MoveRequest
) -> tuple[str, tuple[Enrolment, StaffMember] | None]:
    """Check and make one move; the answer, and (who, to whom) when someone was moved."""
    if request.enrolment_id is not None:
        one = await admin.movable_by_id(conn, request.enrolment_id)
        found = [] if one is None else [one]
    else:
        assert request.label is not None
        found = await admin.movable_by_label(conn, request.label)
    if len(found) != 1:
        return await not_one_text(conn, t, request, found), None
    new = await staff.staff_by_id(conn, request.key_worker_id)
    if new is None or not new.active or new.role != "key_worker":
        return t.pgettext(
            "staff", "{id} is not the staff id of an active key worker. Send /staff to see the ids."
        ).format(id=t.isolate(request.key_worker_id)), None
    person = await enrolments.by_id(conn, found[0])
    assert person is not None
    if person.key_worker_id == new.id:
        return t.pgettext("staff", "{who} already has {name} as their key worker.").format(
            who=request.shown(t), name=t.isolate(new.name)
        ), None
    if not await admin.move_enrolment(conn, person.id, new.id, new.team_id, rt.clock.now()):
        return not_found_text(t, request), None
    await audit.by_staff(
        conn,
        member.id,
        action="move",
        scope=f"enrolment:{person.id}:key_worker:{person.key_worker_id}->{new.id}",
        now=rt.clock.now(),
    )
    parts = [
        t.pgettext(
            "staff",
            "Done. {who} now has {name} as their key worker. Their earlier check-ins stay with "
            "their earlier key worker.",
        ).format(who=request.shown(t), name=t.isolate(new.name))
    ]
    if new.chat_id is None:
        parts.append(
            t.pgettext("staff", "{name} has not joined yet, so I could not tell them.").format(
                name=t.isolate(new.name)
            )
        )
    if (
        person.label
        and len(await enrolments.for_key_worker_by_label(conn, new.id, person.label)) > 1
    ):
        parts.append(
            t.pgettext(
                "staff",
                "{name} now has more than one young person with this label. They need different "
                "labels for /exit to work.",
            ).format(name=t.isolate(new.name))
        )
    return "\n\n".join(parts), (person, new)


def not_found_text(t: Translator, request: MoveRequest) -> str:
    return t.pgettext(
        "staff",
        "I can't find an enrolled young person called {who}. Labels are the ones key workers "
        "gave with /invite.",
    ).format(who=request.shown(t))


async def not_one_text(
    conn: AsyncConnection, t: Translator, request: MoveRequest, found: list[int]
) -> str:
    """Nobody, or more than one young person, has this label: say so, and how to pick one."""
    if not found:
        return not_found_text(t, request)
    lines = [
        t.pgettext(
            "staff",
            "More than one young person has the label {label}, and labels must be unique to "
            "move someone. Pick one by its number instead, like this: /move #{number} {id}",
        ).format(label=request.shown(t), number=found[0], id=request.key_worker_id)
    ]
    for enrolment_id in found:
        person = await enrolments.by_id(conn, enrolment_id)
        assert person is not None
        worker = await staff.staff_by_id(conn, person.key_worker_id or 0)
        lines.append(
            t.pgettext(
                "staff", "• #{number}: key worker {name} (staff id {id}), joined {date}"
            ).format(
                number=t.isolate(enrolment_id),
                name=t.isolate(worker.name if worker else "-"),
                id=t.isolate(person.key_worker_id or "-"),
                date=t.date(person.enrolled_at) if person.enrolled_at else "-",
            )
        )
    return "\n".join(lines)


async def tell_new_key_worker(
    rt: Runtime, context: Context, person: Enrolment, new: StaffMember
) -> None:
    """Tell the new key worker, in their language, who joined their caseload (label only)."""
    if new.chat_id is None:
        return
    t = rt.translator(new.language)
    await tell(
        context.bot,
        new.chat_id,
        t,
        t.pgettext(
            "staff",
            "An admin made you the key worker of {who}. Send /caseload to see your young people.",
        ).format(who=describe(t, person)),
    )
