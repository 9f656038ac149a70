"""Digests for staff: ``/digest``, ``/digest settings``, scheduled digests, and the CLI's digest.

The figures come from :func:`conversations.digest.build_digest_counted` (pure, under disclosure
control), given the answers, who answered and reach as the tallies hold them
(``storage/tally_reads.py``: a few rows per cell, key worker and release, from the answer
tallies and the taking-part tallies); no young person's records are read. This module only
gathers them, picks the caller's scope, renders the text in the staff member's language with a
chart, and writes each read to the audit log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ExtBot

from conversations.chart import ChartWords, draw_chart
from conversations.digest import (
    Counted,
    Digest,
    Scope,
    TakingPart,
    Window,
    build_digest_counted,
    chart_bars,
    quarter_windows,
)
from conversations.digest_text import render_text
from conversations.participation import RESPONSE
from conversations.reach import REACH
from conversations.runtime import Context, Runtime
from conversations.sending import send, split_lines, tell
from conversations.wording import checkpoint_name
from core.i18n import Translator
from storage import audit, digests, ledger, part_tallies, staff, tally_reads
from storage.digests import NO_TEAM
from storage.part_tallies import PARTS
from storage.records import ANSWERED, REACH_CELL, StaffMember

log = logging.getLogger(__name__)

FREQUENCIES = ("weekly", "monthly", "off")
SEND_AT = time(9, 0)


@dataclass(frozen=True)
class Report:
    """A rendered digest: its text (in parts that fit a message) and its chart."""

    digest: Digest
    text: str
    chart: bytes | None  # None when no figure may be shown yet

    def parts(self) -> list[str]:
        return split_lines(self.text.split("\n"))


def scope_of(member: StaffMember) -> Scope:
    """Whose figures a staff member sees: key workers their own, managers their team's,
    admins the whole service."""
    team = member.team_name or NO_TEAM
    if member.role == "key_worker":
        return Scope.of_key_worker(team, str(member.id))
    if member.role == "manager":
        return Scope.of_team(team)
    return Scope.service()


def windows(now: datetime, since: datetime | None) -> tuple[Window, Window]:
    """This quarter so far and the one before; or the quarter that holds ``since`` (up to now),
    and the one before it. Figures are released per calendar quarter (see the release ledger)."""
    if since is None:
        return quarter_windows(now)
    current, previous = quarter_windows(since)
    whole = quarter_windows(current.since + timedelta(days=100))[1]
    return Window(whole.since, min(whole.until, now)), previous


async def compose(
    rt: Runtime,
    scope: Scope,
    t: Translator,
    now: datetime,
    since: datetime | None = None,
    *,
    reader: str,
) -> Report:
    """Build and render the digest for ``scope`` at ``now``, recording in the release ledger
    every figure it shows for the first time (decided and recorded under one lock)."""
    window, previous = windows(now + timedelta(microseconds=1), since)  # up to now, inclusive
    async with rt.db.transaction() as conn:
        await ledger.lock(conn)
        await part_tallies.ensure_quarter(conn, window.since, now)  # once per quarter
        k = rt.settings.min_group_size
        current = Counted(*await tally_reads.queues(conn, window.since, k))
        before = Counted(*await tally_reads.queues(conn, previous.since, k))
        respondents = None
        if scope.kind == "key_worker":
            assert scope.team is not None
            assert scope.key_worker is not None
            respondents = await tally_reads.respondents(
                conn, window.since, scope.team, scope.key_worker
            )
        taking_part = TakingPart(
            Counted(*await tally_reads.queues(conn, window.since, k, RESPONSE, PARTS, ANSWERED)),
            Counted(*await tally_reads.queues(conn, window.since, k, REACH, PARTS, REACH_CELL[1])),
        )
        comments = await digests.shared_comment_records(conn, window.since, window.until)
        earlier = await ledger.released_since(conn, [previous.since, window.since])
        digest = build_digest_counted(
            scope,
            current,
            before,
            respondents,
            (),
            (),
            comments,
            window=window,
            previous_window=previous,
            k=rt.settings.min_group_size,
            earlier=earlier,
            now=now,
            reader=reader,
            taking_part=taking_part,
        )
        await ledger.record(conn, digest.releases)
    q = rt.questionnaire
    names = {item.id: t.pgettext(q.context(item.id), item.short) for item in q.items}
    text = t.message(render_text(digest, t, names))
    bars = chart_bars(digest)
    chart = None
    if any(bar.share is not None for bar in bars):
        checkpoints = {
            c.checkpoint: checkpoint_name(t, c.checkpoint, staff=True) for c in digest.cells
        }
        chart = draw_chart(
            bars,
            names,
            checkpoints,
            ChartWords(
                title=t.pgettext("staff", "Share answering positively, by statement and check-in"),
                axis=t.pgettext(
                    "staff", "Young people who answered “Mostly” or “Yes, definitely” (%)"
                ),
                legend=t.pgettext(
                    "staff",
                    "Colour: check-in. Dark bar: at least this share; light part: it may be up"
                    " to here (figures are ranges). “hidden”: not shown, so that no one's answers"
                    " can be worked out.",
                ),
                hidden=t.pgettext("staff", "hidden"),
                too_few=t.pgettext("staff", "too few answers yet"),
            ),
            language=t.code,
        )
    return Report(digest, text, chart)


async def deliver(rt: Runtime, bot: ExtBot[None], member: StaffMember, report: Report) -> None:
    """Send a rendered digest (text, then chart) to a staff member."""
    assert member.chat_id is not None
    t = rt.translator(member.language)
    for part in report.parts():  # every part opens in its direction
        await send(bot, member.chat_id, t.message(part), parse_mode="HTML")
    if report.chart is not None:
        await bot.send_photo(
            member.chat_id, report.chart, caption=t.message(t.pgettext("staff", "Chart"))
        )


async def digest_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """/digest: the caller's digest; /digest settings [weekly|monthly|off]; admins may add a
    team name for that team's digest."""
    args = list(context.args or [])
    t = rt.translator(member.language)
    if args and args[0] == "settings":
        await _settings(update, context, rt, member, args[1:])
        return
    scope = scope_of(member)
    if args and member.role == "admin":
        async with rt.db.read() as conn:
            known = await digests.team_names(conn)
        name = " ".join(args)
        if name not in known:
            assert update.effective_chat is not None
            await tell(
                context.bot,
                update.effective_chat.id,
                t,
                t.pgettext("staff", "There is no team called {team}. Teams: {teams}").format(
                    team=t.isolate(name), teams=", ".join(t.isolate(k) for k in known) or "-"
                ),
            )
            return
        scope = Scope.of_team(name)
    now = rt.clock.now()
    report = await compose(rt, scope, t, now, reader=f"staff:{member.id}")
    async with rt.db.transaction() as conn:
        await audit.by_staff(
            conn, member.id, action="digest", scope=describe_scope(report.digest.group), now=now
        )
    await deliver(rt, context.bot, member, report)


def describe_scope(scope: Scope) -> str:
    """The audit log's words for a scope (ids only, no names of young people)."""
    if scope.kind == "service":
        return "service"
    if scope.kind == "team":
        return f"team:{scope.team}"
    return f"key_worker:{scope.key_worker}"


async def _settings(
    update: Update, context: Context, rt: Runtime, member: StaffMember, args: list[str]
) -> None:
    t = rt.translator(member.language)
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    if args and args[0] in FREQUENCIES:
        async with rt.db.transaction() as conn:
            await digests.set_digest_frequency(conn, member.id, args[0])
    elif args:
        await tell(
            context.bot,
            chat_id,
            t,
            t.pgettext(
                "staff",
                "Please write /digest settings weekly, /digest settings monthly or "
                "/digest settings off.",
            ),
        )
        return
    async with rt.db.read() as conn:
        frequency = await digests.digest_frequency(conn, member.id)
    if frequency == "off":
        reply = t.pgettext(
            "staff",
            "You don't get scheduled digests. To turn them on, send /digest settings "
            "weekly or /digest settings monthly.",
        )
    else:
        when = (
            t.pgettext("staff", "every Monday at 09:00")
            if frequency == "weekly"
            else t.pgettext("staff", "on the first day of each month at 09:00")
        )
        reply = t.pgettext(
            "staff",
            "You get a digest {when}. To change it, send /digest settings weekly, monthly or off.",
        ).format(when=when)
    await tell(context.bot, chat_id, t, reply)


# --- scheduled digests ------------------------------------------------------------------------


def last_due(frequency: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The most recent scheduled time at or before ``now``: Monday 09:00, or the 1st at 09:00."""
    local = now.astimezone(zone)
    if frequency == "weekly":
        day = local.date() - timedelta(days=local.weekday())
    else:
        day = local.date().replace(day=1)
    due = datetime.combine(day, SEND_AT, zone)
    if due > local:
        due = (
            datetime.combine(day - timedelta(days=7), SEND_AT, zone)
            if frequency == "weekly"
            else datetime.combine((day - timedelta(days=1)).replace(day=1), SEND_AT, zone)
        )
    return due.astimezone(ZoneInfo("UTC"))


async def send_scheduled(rt: Runtime, bot: ExtBot[None]) -> int:
    """Send every scheduled digest that has fallen due since it was last sent; returns how many."""
    now = rt.clock.now()
    sent = 0
    for frequency in ("weekly", "monthly"):
        async with rt.db.read() as conn:
            recipients = await digests.digest_recipients(conn, frequency)
        for staff_id, zone_name in recipients:
            zone = ZoneInfo(zone_name) if zone_name else rt.settings.zone
            due = last_due(frequency, now, zone)
            async with rt.db.transaction() as conn:
                previous = await digests.last_digest_at(conn, staff_id)
                member = await staff.staff_by_id(conn, staff_id)
                if member is None or (previous is not None and previous >= due):
                    continue
                if not await digests.mark_digest_sent(conn, staff_id, now, previous):
                    continue  # another bot process took it
                if previous is None:  # the schedule starts now; the first one comes next time
                    continue
                await audit.by_system(
                    conn, action="digest_scheduled", scope=f"staff:{staff_id}", now=now
                )
            t = rt.translator(member.language)
            report = await compose(rt, scope_of(member), t, now, reader=f"staff:{staff_id}")
            await deliver(rt, bot, member, report)
            sent += 1
    if sent:
        log.info("scheduled digests sent: %d", sent)
    return sent
