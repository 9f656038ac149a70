""" "You said, we did": managers (their team) and admins (one team or the service) tell young
people what was done with their answers; young people read the last few with ``/updates``.

``/yousaid`` (conversations/update_scope.py: a manager's team, or the scope an admin picks)
builds the "you said" part from figures already released to staff (the release ledger) and asks
for the "we did" text; ``/yousaid CODE text`` adds a translation of it. A preview shows what
each language will read, then "Send" confirms: one recipient row per enrolled, reachable young
person of the scope who has not used /stop. The prompt job (bot/schedule.py)
sends them within the send window, through the one send budget, each at most once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Update
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from conversations import buttons
from conversations.commands import ADMIN, MANAGER
from conversations.digest import quarter_windows
from conversations.local_time import is_within_window
from conversations.planning import zone_of
from conversations.presses import answer_stale, pressed
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press, button_row, edit_or_send, send, send_lines, tell
from conversations.yousaid import (
    WE_DID_MAX,
    clean_we_did,
    decode_facts,
    encode_facts,
    facts_from,
    render,
    said_releases,
    you_said,
)
from core.i18n import BY_CODE, Translator
from storage import audit, enrolments, ledger, staff, updates
from storage.records import StaffMember
from storage.updates import Update as UpdateRow

log = logging.getLogger(__name__)

PUBLISHERS = (MANAGER, ADMIN)
SHOWN = 3
"""How many updates ``/updates`` shows."""


def may_publish(member: StaffMember | None, team_id: int | None) -> bool:
    """An admin may publish for any team or the whole service (None); a manager only for their
    own team."""
    if member is None:
        return False
    if member.role == ADMIN:
        return True
    return member.role == MANAGER and team_id is not None and team_id == member.team_id


def scope_words(team_id: int | None) -> str:
    return "service" if team_id is None else f"team:{team_id}"


def as_read(rt: Runtime, row: UpdateRow, texts: dict[str, str], language: str | None) -> str:
    """The update as a young person reading ``language`` sees it."""
    default = rt.settings.default_language
    code = language or default
    t = rt.translator(code)
    we_did = texts.get(code) or row.we_did or ""
    untranslated = None
    if code != default and code not in texts:
        untranslated = t.language_name(default)
    return render(
        t, rt.questionnaire, decode_facts(row.facts), we_did, untranslated_from=untranslated
    )


# --- the staff side -------------------------------------------------------------------------


async def start_draft(
    rt: Runtime, bot: ExtBot[None], member: StaffMember, team_id: int | None, team: str | None
) -> None:
    """Start an update for ``team`` (``team_id``; None: the whole service): show its "you said"
    part from released figures and ask for the "we did" text."""
    assert member.chat_id is not None
    t = rt.translator(member.language)
    now = rt.clock.now()
    current, previous = quarter_windows(now)
    async with rt.db.transaction() as conn:
        cells = await ledger.released_since(conn, [previous.since, current.since])
        facts = facts_from(cells, team, rt.questionnaire)
        if facts:
            await updates.new_draft(
                conn,
                author_id=member.id,
                team_id=team_id,
                facts=encode_facts(facts),
                now=now,
            )
    if not facts:
        await tell(
            bot,
            member.chat_id,
            t,
            t.pgettext(
                "staff",
                "No figures for your young people have been shown to staff yet this quarter "
                "or last, so there is nothing to say \u201cyou said\u201d about. Send /digest "
                "first; figures appear once enough young people have answered.",
            ),
        )
        return
    young = rt.translator(rt.settings.default_language)
    said = "\n".join(f"• {line}" for line in you_said(young, rt.questionnaire, facts))
    await send(
        bot,
        member.chat_id,
        t.message(
            t.pgettext(
                "staff",
                "Young people will read first (from figures already shown to staff):",
            )
        )
        + "\n"
        + said
        + "\n\n"
        + t.message(
            t.pgettext(
                "staff",
                "Now write what you did, in one message of at most {n} characters. Phone "
                "numbers, e-mail addresses and @handles are removed.",
            ).format(n=WE_DID_MAX)
        ),
    )


async def take_we_did(rt: Runtime, context: Context, chat_id: int, text: str) -> bool:
    """A staff member's message is the "we did" text of their draft: store it and preview.
    False when it is not (no draft waiting for it): the message is handled as usual."""
    async with rt.db.read() as conn:
        member = await staff.staff_by_chat(conn, chat_id)
        draft = await updates.draft_of(conn, member.id) if member is not None else None
    if member is None or member.role not in PUBLISHERS or draft is None or draft.we_did:
        return False
    t = rt.translator(member.language)
    cleaned = clean_we_did(text)
    if not cleaned or len(cleaned) > WE_DID_MAX:
        await tell(context.bot, chat_id, t, _too_long(t))
        return True
    async with rt.db.transaction() as conn:
        await updates.set_we_did(conn, draft.id, cleaned)
    await preview(rt, context, member, draft.id)
    return True


def _too_long(t: Translator) -> str:
    return t.pgettext(
        "staff", "Please write it in one message of 1 to {n} characters, and send it again."
    ).format(n=WE_DID_MAX)


async def add_translation(
    rt: Runtime, context: Context, member: StaffMember, code: str, text: str
) -> None:
    """``/yousaid CODE text``: the "we did" part of the draft in language ``CODE``."""
    assert member.chat_id is not None
    t = rt.translator(member.language)
    async with rt.db.read() as conn:
        draft = await updates.draft_of(conn, member.id)
    if draft is None or not draft.we_did:
        await tell(
            context.bot,
            member.chat_id,
            t,
            t.pgettext(
                "staff",
                "Send /yousaid to start an update; once you have written what you did, "
                "/yousaid fa <text> adds it in Farsi (any language code).",
            ),
        )
        return
    cleaned = clean_we_did(text)
    if code not in rt.catalogues.codes or code == rt.settings.default_language:
        codes = ", ".join(c for c in rt.catalogues.codes if c != rt.settings.default_language)
        await tell(
            context.bot,
            member.chat_id,
            t,
            t.pgettext("staff", "Write a language code first, one of: {codes}").format(codes=codes),
        )
        return
    if not cleaned or len(cleaned) > WE_DID_MAX:
        await tell(context.bot, member.chat_id, t, _too_long(t))
        return
    async with rt.db.transaction() as conn:
        await updates.set_translation(conn, draft.id, code, cleaned)
    await preview(rt, context, member, draft.id)


async def preview(rt: Runtime, context: Context, member: StaffMember, update_id: int) -> None:
    """What each language will read, then how many it goes to, with Send and Cancel."""
    assert member.chat_id is not None
    t = rt.translator(member.language)
    async with rt.db.read() as conn:
        row = await updates.by_id(conn, update_id)
        texts = await updates.translations(conn, update_id)
        audience = await updates.audience(conn, row.team_id if row else None)
    assert row is not None
    languages = sorted(
        {rt.settings.default_language, *texts, *(language or "" for _, language in audience)} - {""}
    )
    for code in languages:
        heading = t.pgettext("staff", "Preview: {language}").format(
            language=f"{BY_CODE[code].english_name} ({code})"
        )
        await send_lines(context.bot, member.chat_id, t, [heading, as_read(rt, row, texts, code)])
    markup = button_row(
        (t.pgettext("staff", "📣 Send"), buttons.Publish(row.id, confirm=True)),
        (t.pgettext("staff", "Cancel"), buttons.Publish(row.id, confirm=False)),
    )
    await tell(
        context.bot,
        member.chat_id,
        t,
        t.pgettext(
            "staff",
            "This goes to {n} young people (enrolled, reachable, not stopped), within the "
            "send window. To add what you did in another language, send /yousaid and the "
            "language code with the text, like /yousaid fa …",
        ).format(n=len(audience)),
        markup,
    )


async def on_publish(update: Update, context: Context) -> None:
    """ "📣 Send" queues the update for every young person it is for; "Cancel" drops it."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.Publish)
    if read is None:
        return
    press, action = read
    now = rt.clock.now()
    async with rt.db.transaction() as conn:
        member = await staff.staff_by_chat(conn, press.chat_id)
        row = await updates.by_id(conn, action.update_id)
        done = False
        audience: list[tuple[int, str | None]] = []
        if (
            row is not None
            and member is not None
            and row.author_id == member.id
            and may_publish(member, row.team_id)
        ):
            if action.confirm:
                audience = await updates.audience(conn, row.team_id)
                done = await updates.confirm(conn, row.id, [e for e, _ in audience], now)
                if done:
                    team = None if row.team_id is None else await staff.team_name(conn, row.team_id)
                    facts = decode_facts(row.facts)
                    shown = said_releases(facts, team, now, f"update:{row.id}")
                    await ledger.record(conn, shown)  # every figure shown to anyone
                    await audit.by_staff(
                        conn,
                        member.id,
                        action="update_sent",
                        scope=f"update:{row.id} {scope_words(row.team_id)} "
                        f"recipients:{len(audience)}",
                        now=now,
                    )
                    await _finish_if_done(conn, row.id, now)  # nobody to send it to
            else:
                done = await updates.cancel(conn, row.id)
    if member is None or not done:
        await answer_stale(rt, press)
        return
    t = rt.translator(member.language)
    await answer_press(press.query)
    if action.confirm:
        said = t.pgettext(
            "staff",
            "Sending to {n} young people, within the send window. Each gets it once.",
        ).format(n=len(audience))
    else:
        said = t.pgettext("staff", "Cancelled: nothing was sent.")
    await edit_or_send(context.bot, press.chat_id, press.message_id, t.message(said))


# --- delivery, in the prompt job ------------------------------------------------------------


async def deliver_due(rt: Runtime, bot: ExtBot[None], limit: int = 200) -> int:
    """Send confirmed updates to the young people whose send window is open now; each recipient
    is claimed before sending, so nobody gets one twice. Returns how many were sent."""
    now = rt.clock.now()
    sent = 0
    async with rt.db.read() as conn:
        due = await updates.unsent(conn, limit)
    cache: dict[int, tuple[UpdateRow, dict[str, str]]] = {}
    for update_id, enrolment_id in due:
        async with rt.db.transaction() as conn:
            person = await enrolments.by_id(conn, enrolment_id)
            if (
                person is None
                or person.status != enrolments.ACTIVE
                or not person.reachable
                or person.chat_id is None
            ):
                await updates.drop_recipient(conn, update_id, enrolment_id)
                await _finish_if_done(conn, update_id, now)
                continue
            if not is_within_window(now, zone_of(rt, person), rt.schedule.send_window):
                continue
            if not await updates.claim(conn, update_id, enrolment_id, now):
                continue
            if update_id not in cache:
                row = await updates.by_id(conn, update_id)
                assert row is not None
                cache[update_id] = (row, await updates.translations(conn, update_id))
        row, texts = cache[update_id]
        try:
            await bot.send_message(person.chat_id, as_read(rt, row, texts, person.language))
        except RetryAfter:
            log.info("updates: Telegram asked to slow down; the rest wait for the next tick")
            async with rt.db.transaction() as conn:
                await updates.release_claim(conn, update_id, enrolment_id)
            break
        except Forbidden:
            async with rt.db.transaction() as conn:
                await enrolments.set_reachable(conn, person.chat_id, False, now)
        except TelegramError as exc:
            log.warning("an update could not be sent: %s", type(exc).__name__)
        else:
            sent += 1
            async with rt.db.transaction() as conn:
                await updates.mark_sent(conn, update_id, enrolment_id, now)
        async with rt.db.transaction() as conn:
            await _finish_if_done(conn, update_id, now)
    return sent


async def _finish_if_done(conn: AsyncConnection, update_id: int, now: datetime) -> None:
    """Once every recipient was taken, the update is done: audited with how many it reached."""
    done = await updates.finish_if_done(conn, update_id)
    if done is not None:
        await audit.by_system(
            conn,
            action="update_reached",
            scope=f"update:{update_id} reached:{done.reached} of {done.recipients}",
            now=now,
        )


# --- the young person's side ----------------------------------------------------------------


async def updates_command(update: Update, context: Context) -> None:
    """``/updates``: the last few updates this young person was sent, newest first."""
    rt = context.runtime
    chat = update.effective_chat
    assert chat is not None
    async with rt.db.read() as conn:
        person = await enrolments.by_chat(conn, chat.id)
        got = await updates.received_by(conn, person.id, SHOWN) if person else []
        texts = {row.id: await updates.translations(conn, row.id) for row in got}
    t = rt.translator(person.language if person else None)
    if not got:
        await tell(
            context.bot,
            chat.id,
            t,
            t._(
                "There are no updates from your service yet. "
                "When there is one, I'll send it to you."
            ),
        )
        return
    for row in got:
        await send(
            context.bot,
            chat.id,
            as_read(rt, row, texts[row.id], person.language if person else None),
        )
