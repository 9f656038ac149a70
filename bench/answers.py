"""Answer handling: our bot against two bare python-telegram-bot bots, same stream, same run.

The stream: ``presses`` answer-button presses from ``people`` young people (round-robin, each
press valid for the step its check-in is at), queued at the local Bot API at once. Every bot polls
the stand-in through PTB's real HTTP stack (httpx), with the same confirm-after-handling loop. Ours
stores the answer (compare-and-set on the step), answers the callback and edits the message to
the next statement. The two bare bots store nothing:

- **like-for-like**: answers the callback and edits the message to the same next statement with
  the same keyboard (the same text and buttons ours sends, built as PTB objects per press), so
  the difference to ours is what Check-in adds: storage, checks, rendering;
- **one word**: answers the callback and sends one word (``sendMessage``), the floor of a reply.

Measured: CPU time of the whole process (every thread: the bot, SQLite's work, and the stand-in
sharing the process) from the first update queued until the bot is idle (every update handled, no
request in flight), and wall-clock time beside it. Trials alternate; medians are reported.

Our bot runs with ``CHECKIN_SEND_RATE=1000`` (the setting's maximum) so that PTB's rate limiter
stays in the stack without pacing the edits: at the default 25/s the edits, not the handling,
would set the pace, which is Telegram's limit and the fan-out benchmark's subject.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import insert
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackContext, CallbackQueryHandler

from bench.common import NOON, ROOT, SPEC, TOKEN, machine, seed, write_section
from bot.app import build_application, build_runtime
from bot.polling import running
from bot.standin import standin_settings
from conversations import buttons
from conversations.questionnaire import SHARE, first_step, next_step
from conversations.steps import render_step
from core.clock import ManualClock
from local_bot_api import LocalBotAPI
from storage.records import Checkin
from storage.schema import checkins

FIRST_CHAT = 10_000_000  # bench.common.seed's first chat id


class Timing(NamedTuple):
    """One trial: wall-clock seconds and CPU seconds (the whole process, every thread)."""

    wall: float
    cpu: float


class Stopwatch:
    """Wall-clock and process CPU time from :meth:`start` to :meth:`stop`."""

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> Timing:
        return Timing(time.perf_counter() - self.wall, time.process_time() - self.cpu)


async def bare_poll(app: Application) -> None:  # type: ignore[type-arg]
    """The bare bot's loop: the same confirm-after-handling shape as bot/polling.py's, without
    what our bot adds to it (metrics, back-off, the database check)."""
    offset: int | None = None
    while True:
        updates = await app.bot.get_updates(offset=offset, timeout=10)
        for update in updates:
            await app.process_update(update)
            offset = update.update_id + 1


@asynccontextmanager
async def bare_polling(app: Application) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """A bare bot polled with the same confirm-after-handling loop as ours."""
    await app.initialize()
    await app.start()
    poller = asyncio.create_task(bare_poll(app))
    try:
        yield
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        await app.stop()
        await app.shutdown()


async def run_ours(
    tmp: Path,
    people: int,
    presses: int,
    profile: cProfile.Profile | None = None,
    database_url: str | None = None,
    presses_on_driver: bool = True,
) -> Timing:
    """Seconds for our bot to handle the stream (on a new SQLite file in ``tmp``, or on the
    empty database ``database_url``; on PostgreSQL with presses as fixed SQL text on asyncpg,
    or through SQLAlchemy when not ``presses_on_driver``)."""
    clock = ManualClock(NOON)
    async with LocalBotAPI(SPEC, token=TOKEN, clock=clock) as api:
        database = database_url or f"sqlite+aiosqlite:///{tmp / 'answers.db'}"
        settings = standin_settings(api, database, send_rate=1000)
        rt = build_runtime(settings, clock=clock)
        rt.db.presses_on_driver = rt.db.presses_on_driver and presses_on_driver
        await rt.db.migrate()
        await seed(rt.db, people, due_prompts=False)
        q = rt.questionnaire
        async with rt.db.transaction() as conn:
            await conn.execute(
                insert(checkins),
                [
                    dict(
                        id=n + 1,
                        enrolment_id=n + 1,
                        checkpoint="3_months",
                        questionnaire_id=q.id,
                        questionnaire_version=q.version,
                        language="en",
                        step=first_step(q, "3_months"),
                        status="open",
                        team_id=None,
                        key_worker_id=None,
                        shared=False,
                        created_at=NOON,
                    )
                    for n in range(people)
                ],
            )
        app = build_application(rt, tick_seconds=None)
        async with running(app):
            for n in range(people):  # each young person opens their check-in: one message
                api.send_text(FIRST_CHAT + n, "/checkin")
            await api.wait_for_idle(app, timeout=120)
            message = {n: api.messages(FIRST_CHAT + n)[-1].message_id for n in range(people)}
            items = [item.id for item in q.items_for("3_months")]
            if profile is not None:
                profile.enable()
            watch = Stopwatch()
            watch.start()
            for index in range(presses):
                step, n = divmod(index, people)
                cid = n + 1
                action: buttons.Action = (
                    buttons.Answer(cid, items[step], 1 + (index % 4))
                    if step < len(items)
                    else buttons.NoComment(cid)
                )
                api.press_button(FIRST_CHAT + n, message[n], buttons.encode(action), verify=False)
            await api.wait_for_idle(app, timeout=600)
            elapsed = watch.stop()
            if profile is not None:
                profile.disable()
            api.assert_no_violations()
            answered = len(api.callback_answers)
            assert answered == presses, f"{answered} callback answers for {presses} presses"
            moved = sum(1 for a in api.callback_answers if a["text"] is None)
            assert moved == presses, f"only {moved} of {presses} presses moved a check-in"
        return elapsed


async def on_press(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The one-word bare bot: answer the callback, send one word."""
    query = update.callback_query
    assert query is not None
    assert update.effective_chat is not None
    await query.answer()
    await context.bot.send_message(update.effective_chat.id, "ok")


Rows = list[list[tuple[str, str]]]


@dataclass
class Screens:
    """What the like-for-like bare bot shows: per chat, the text and buttons (label, data) after
    each press, exactly as Check-in renders them, and how far each chat has got."""

    shown: dict[int, list[tuple[str, Rows]]]
    first: dict[int, tuple[str, Rows]]
    pressed: dict[int, int]


def screens(api: LocalBotAPI, people: int, presses: int) -> Screens:
    """Check-in's own rendering of every statement the stream moves through (before timing)."""
    rt = build_runtime(standin_settings(api, "sqlite+aiosqlite:///:memory:"))
    q, t = rt.questionnaire, rt.translator("en")

    def rendered(cid: int, step: str) -> tuple[str, Rows]:
        checkin = Checkin(
            id=cid,
            enrolment_id=cid,
            checkpoint="3_months",
            questionnaire_id=q.id,
            questionnaire_version=q.version,
            language="en",
            step=step,
            status="open",
            comment=None,
            shared=False,
            created_at=NOON,
            finished_at=None,
        )
        text, markup = render_step(q, checkin, t)
        assert markup is not None
        rows = [[(b.text, str(b.callback_data)) for b in row] for row in markup.inline_keyboard]
        return text, rows

    items = [item.id for item in q.items_for("3_months")]
    shown: dict[int, list[tuple[str, Rows]]] = {}
    first: dict[int, tuple[str, Rows]] = {}
    for n in range(people):
        step = first_step(q, "3_months")
        first[FIRST_CHAT + n] = rendered(n + 1, step)
        after: list[tuple[str, Rows]] = []
        for k in range(-(-presses // people)):
            step = next_step(q, "3_months", step) if k < len(items) else SHARE
            after.append(rendered(n + 1, step))
        shown[FIRST_CHAT + n] = after
    return Screens(shown=shown, first=first, pressed={})


def keyboard(rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def on_press_like(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
    """The like-for-like bare bot: answer the callback and edit the message to the next
    statement with its keyboard, side by side, as Check-in does (nothing stored)."""
    query = update.callback_query
    assert query is not None
    assert query.message is not None
    chat = update.effective_chat
    assert chat is not None
    state: Screens = context.bot_data["screens"]
    k = state.pressed.get(chat.id, 0)
    state.pressed[chat.id] = k + 1
    text, rows = state.shown[chat.id][k]
    await asyncio.gather(
        query.answer(),
        context.bot.edit_message_text(
            text, chat.id, query.message.message_id, reply_markup=keyboard(rows)
        ),
    )


async def run_bare(people: int, presses: int, *, like_for_like: bool) -> Timing:
    """Seconds for a bare PTB bot to handle the stream: with ``like``, the like-for-like bot
    (answer the callback, edit the message with the same keyboard), else the one-word bot."""
    clock = ManualClock(NOON)
    async with LocalBotAPI(SPEC, token=TOKEN, clock=clock) as api:
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        like = screens(api, people, presses) if like_for_like else None
        app.add_handler(CallbackQueryHandler(on_press if like is None else on_press_like))
        app.bot_data["screens"] = like
        async with bare_polling(app):
            message = {}
            for n in range(people):
                if like is None:
                    sent = await app.bot.send_message(FIRST_CHAT + n, "question")
                else:
                    text, rows = like.first[FIRST_CHAT + n]
                    sent = await app.bot.send_message(
                        FIRST_CHAT + n, text, reply_markup=keyboard(rows)
                    )
                message[n] = sent.message_id
            watch = Stopwatch()
            watch.start()
            for index in range(presses):
                _step, n = divmod(index, people)
                api.press_button(FIRST_CHAT + n, message[n], f"1:a:{n + 1}:x:1", verify=False)
            await api.wait_for_idle(app, timeout=600)
            elapsed = watch.stop()
            api.assert_no_violations()
            assert len(api.callback_answers) == presses
            if like is not None:
                assert sum(like.pressed.values()) == presses
        return elapsed


GROUPS = (
    (
        "idle: the event loop waiting (epoll) for a thread or the sockets",
        ("select.epoll",),
    ),
    ("SQLite on the event loop (sqlite3 statements)", ("sqlite3.Connection", "sqlite3.Cursor")),
    (
        "handing work to aiosqlite's thread (queue put, GIL hand-over)",
        ("_queue.SimpleQueue", "/aiosqlite/"),
    ),
    ("SQLAlchemy (statements, results, greenlets)", ("/sqlalchemy/", "greenlet")),
    (
        "our code (bot/, conversations/, storage/)",
        tuple(f"{ROOT}/{folder}/" for folder in ("bot", "conversations", "storage")),
    ),
    ("local Bot API stand-in (shares the process)", ("/local_bot_api/",)),
    ("python-telegram-bot", ("/telegram/",)),
    (
        "httpx / httpcore (client HTTP; incl. httpcore's `import sniffio` retried per request)",
        ("/httpx/", "/httpcore/", "/h11/", "/anyio/", "importlib", "posix.stat"),
    ),
    ("aiohttp (the stand-in's server HTTP)", ("/aiohttp/", "/multidict/", "/yarl/")),
    ("asyncio, sockets", ("/asyncio/", "selectors", "_socket", "_contextvars")),
    ("other (json, babel, builtins)", ("",)),
)


def hand_overs(stats: pstats.Stats) -> int:
    """Work handed to another thread: aiosqlite's queue puts (one a statement, a cursor, a
    commit) and executor jobs (the loop connection's background checkpoints)."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    return sum(
        calls
        for (filename, _line, func), (_cc, calls, *_rest) in raw.items()
        if "put_nowait' of '_queue.SimpleQueue" in func
        or (filename.endswith("base_events.py") and func == "run_in_executor")
    )


def breakdown(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time (tottime) summed by where the code lives."""
    totals = {name: 0.0 for name, _ in GROUPS}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        where = f"{filename}:{func}"
        for name, needles in GROUPS:
            if name.startswith("our code") and "/local_api/" in where:
                continue
            if any(needle in where for needle in needles):
                totals[name] += tottime
                break
    return sorted(totals.items(), key=lambda kv: -kv[1])


def top_entries(stats: pstats.Stats, count: int) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(count)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line.replace(str(Path.cwd()) + "/", "") for line in lines[start:] if line)


TARGET = 1.2
"""A press costs at most this many times the like-for-like bare bot's (CPU time)."""

BOTS = ("one word", "like-for-like", "ours")
SQLALCHEMY = "ours, through SQLAlchemy"


async def measure(
    people: int,
    presses: int,
    trials: int,
    database: Callable[[], str] | None = None,
    profiled: bool = True,
    through_sqlalchemy: bool = False,
) -> dict[str, Any]:
    """``trials`` of each bot, alternating (one-word bare, like-for-like bare, ours); ours on a
    new SQLite file each trial, or on a new database ``database()`` names. With
    ``through_sqlalchemy`` (PostgreSQL), each trial also runs ours with presses through
    SQLAlchemy, as before issue 11's asyncpg press. Then one more run of ours under cProfile
    when ``profiled``."""
    bots = (*BOTS, SQLALCHEMY) if through_sqlalchemy else BOTS
    runs: dict[str, list[Timing]] = {bot: [] for bot in bots}
    for _ in range(trials):
        runs["one word"].append(await run_bare(people, presses, like_for_like=False))
        runs["like-for-like"].append(await run_bare(people, presses, like_for_like=True))
        with tempfile.TemporaryDirectory() as tmp:
            url = database() if database is not None else None
            runs["ours"].append(await run_ours(Path(tmp), people, presses, database_url=url))
        if through_sqlalchemy:
            url = database() if database is not None else None
            runs[SQLALCHEMY].append(
                await run_ours(
                    Path("."), people, presses, database_url=url, presses_on_driver=False
                )
            )
    result: dict[str, Any] = {"runs": runs}
    if profiled:
        profile = cProfile.Profile(time.process_time)  # CPU time: the machine may be busy
        with tempfile.TemporaryDirectory() as tmp:
            url = database() if database is not None else None
            result["profiled"] = await run_ours(Path(tmp), people, presses, profile, url)
        stats = pstats.Stats(profile)
        result["breakdown"] = breakdown(stats)
        result["total"] = sum(t for _, t in result["breakdown"])
        result["top"] = top_entries(stats, 25)
        result["hand_overs"] = hand_overs(stats) / presses
    return result


def cpu(result: dict[str, Any], bot: str) -> float:
    """The median CPU seconds of ``bot``'s trials."""
    return float(statistics.median(t.cpu for t in result["runs"][bot]))


def ratios(result: dict[str, Any], bot: str = "ours") -> tuple[float, float]:
    """Ours against the like-for-like bare bot, and against the one-word bare bot (CPU)."""
    ours = cpu(result, bot)
    return ours / cpu(result, "like-for-like"), ours / cpu(result, "one word")


LABELS = {
    "one word": "bare PTB, one word (answerCallbackQuery + sendMessage)",
    "like-for-like": "bare PTB, like-for-like (answerCallbackQuery + editMessageText, same "
    "text and keyboard)",
    "ours": "Check-in (store the answer, answerCallbackQuery + editMessageText)",
    SQLALCHEMY: "Check-in, the press's statements through SQLAlchemy (as before the asyncpg press)",
}


def table(result: dict[str, Any], presses: int) -> str:
    """One row per bot: median CPU and wall time, per press, and every trial."""
    lines = [
        "| bot | CPU s (median) | CPU ms a press | wall s (median) | presses/s (wall) | "
        "trials, CPU s / wall s |",
        "|---|---|---|---|---|---|",
    ]
    for bot, runs in result["runs"].items():
        wall = statistics.median(t.wall for t in runs)
        trials = ", ".join(f"{t.cpu:.2f} / {t.wall:.2f}" for t in runs)
        lines.append(
            f"| {LABELS[bot]} | {cpu(result, bot):.2f} | {cpu(result, bot) / presses * 1000:.2f} "
            f"| {wall:.2f} | {presses / wall:.0f} | {trials} |"
        )
    return "\n".join(lines)


def verdict(like: float) -> str:
    return f"**{'met' if like <= TARGET else 'missed'}**"


def report(people: int, presses: int, trials: int, result: dict[str, Any], command: str) -> str:
    like, one_word = ratios(result)
    rows = "\n".join(
        f"| {name} | {seconds:.2f} | {seconds / result['total']:.0%} |"
        for name, seconds in result["breakdown"]
    )
    profiled: Timing = result["profiled"]
    return (
        f"Command: `{command}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}\n\n"
        f"{presses} answer-button presses from {people} young people, queued at once; "
        f"{trials} trials of each bot, alternating (one-word bare, like-for-like bare, ours). "
        f"CPU time is the whole process's (every thread; the stand-in shares the process) from "
        f"the first press queued until the bot is idle.\n\n"
        f"{table(result, presses)}\n\n"
        f"Ours against the like-for-like bare bot, CPU: **{like:.2f}x** (target at most "
        f"{TARGET}x): {verdict(like)}. Against the one-word bare bot: **{one_word:.2f}x**.\n\n"
        f"Thread hand-overs a press (aiosqlite queue puts and executor jobs, counted in the "
        f"profile): {result['hand_overs']:.2f}.\n\n"
        f"Where our time goes (one more run under cProfile timing CPU, {profiled.cpu:.1f} s with "
        f"the profiler's overhead; own time by package, main thread only; a press's statements "
        f"run on the event loop's own SQLite connection, so they are in it):\n\n"
        f"| where | own seconds | share |\n|---|---|---|\n{rows}\n\n"
        f"Top entries by own time:\n\n```\n{result['top']}\n```\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--presses", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.people, args.presses, args.trials))
    command = (
        f"python -m bench.answers --people {args.people} --presses {args.presses} "
        f"--trials {args.trials}"
    )
    body = report(args.people, args.presses, args.trials, result, command)
    write_section("Answer handling against a bare PTB bot", body)
    print(body)
    return 0 if ratios(result)[0] <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
