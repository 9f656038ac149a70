"""Answer handling: our bot against a bare python-telegram-bot bot, same stream, same run.

The stream: ``presses`` answer-button presses from ``people`` young people (round-robin, each
press valid for the step its check-in is at), queued at the local Bot API at once. Both bots poll
the stand-in through PTB's real HTTP stack (httpx), with the same confirm-after-handling loop. Ours
stores the answer (compare-and-set on the step), answers the callback and edits the message to
the next statement; the bare bot answers the callback and sends one message. Time runs from the
first update queued until the bot is idle (every update handled, no request in flight). Trials
alternate; medians are reported.

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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackContext, CallbackQueryHandler

from bench.common import NOON, ROOT, SPEC, TOKEN, machine, seed, write_section
from bot.app import build_application, build_runtime
from bot.polling import running
from bot.standin import standin_settings
from conversations import buttons
from conversations.questionnaire import first_step
from core.clock import ManualClock
from local_bot_api import LocalBotAPI
from storage.schema import checkins

FIRST_CHAT = 10_000_000  # bench.common.seed's first chat id


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
) -> float:
    """Seconds for our bot to handle the stream (on a new SQLite file in ``tmp``, or on the
    empty database ``database_url``)."""
    clock = ManualClock(NOON)
    async with LocalBotAPI(SPEC, token=TOKEN, clock=clock) as api:
        database = database_url or f"sqlite+aiosqlite:///{tmp / 'answers.db'}"
        settings = standin_settings(api, database, send_rate=1000)
        rt = build_runtime(settings, clock=clock)
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
            started = time.perf_counter()
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
            elapsed = time.perf_counter() - started
            if profile is not None:
                profile.disable()
            api.assert_no_violations()
            answered = len(api.callback_answers)
            assert answered == presses, f"{answered} callback answers for {presses} presses"
            moved = sum(1 for a in api.callback_answers if a["text"] is None)
            assert moved == presses, f"only {moved} of {presses} presses moved a check-in"
        return elapsed


async def on_press(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
    query = update.callback_query
    assert query is not None
    assert update.effective_chat is not None
    await query.answer()
    await context.bot.send_message(update.effective_chat.id, "ok")


async def run_bare(people: int, presses: int) -> float:
    """Seconds for a bare PTB bot (answer the callback, send one message) to handle the stream."""
    clock = ManualClock(NOON)
    async with LocalBotAPI(SPEC, token=TOKEN, clock=clock) as api:
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        app.add_handler(CallbackQueryHandler(on_press))
        async with bare_polling(app):
            message = {}
            for n in range(people):
                sent = await app.bot.send_message(FIRST_CHAT + n, "question")
                message[n] = sent.message_id
            started = time.perf_counter()
            for index in range(presses):
                _step, n = divmod(index, people)
                api.press_button(FIRST_CHAT + n, message[n], f"1:a:{n + 1}:x:1", verify=False)
            await api.wait_for_idle(app, timeout=600)
            elapsed = time.perf_counter() - started
            api.assert_no_violations()
            assert len(api.callback_answers) == presses
        return elapsed


GROUPS = (
    (
        "idle: the event loop waiting (epoll) for SQLite's thread and the sockets",
        ("select.epoll",),
    ),
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


async def measure(people: int, presses: int, trials: int) -> dict[str, Any]:
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(trials):
        bare.append(await run_bare(people, presses))
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(await run_ours(Path(tmp), people, presses))
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory() as tmp:
        profiled = await run_ours(Path(tmp), people, presses, profile)
    stats = pstats.Stats(profile)
    return {
        "ours": ours,
        "bare": bare,
        "profiled": profiled,
        "breakdown": breakdown(stats),
        "total": sum(t for _, t in breakdown(stats)),
        "top": top_entries(stats, 25),
    }


def report(people: int, presses: int, trials: int, result: dict[str, Any], command: str) -> str:
    ours = statistics.median(result["ours"])
    bare = statistics.median(result["bare"])
    ratio = ours / bare
    met = ratio <= 1.5
    rows = "\n".join(
        f"| {name} | {seconds:.2f} | {seconds / result['total']:.0%} |"
        for name, seconds in result["breakdown"]
    )
    trials_ours = ", ".join(f"{s:.2f}" for s in result["ours"])
    trials_bare = ", ".join(f"{s:.2f}" for s in result["bare"])
    return (
        f"Command: `{command}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}\n\n"
        f"{presses} answer-button presses from {people} young people, queued at once; "
        f"{trials} trials of each bot, alternating (bare first).\n\n"
        f"| bot | median seconds | ms per update | updates/s | trials (s) |\n"
        f"|---|---|---|---|---|\n"
        f"| bare PTB (answerCallbackQuery + sendMessage) | {bare:.2f} | "
        f"{bare / presses * 1000:.2f} | {presses / bare:.0f} | {trials_bare} |\n"
        f"| Check-in (store answer, answerCallbackQuery, editMessageText) | {ours:.2f} | "
        f"{ours / presses * 1000:.2f} | {presses / ours:.0f} | {trials_ours} |\n\n"
        f"Ratio of time per update, ours / bare: **{ratio:.2f}** (target at most 1.5): "
        f"**{'met' if met else 'missed'}**.\n\n"
        f"Where our time goes (one more run under cProfile, {result['profiled']:.1f} s with "
        f"the profiler's overhead; own time by package, main thread only: aiosqlite runs "
        f"SQLite in its own thread, which cProfile does not see):\n\n"
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
    return 0 if statistics.median(result["ours"]) / statistics.median(result["bare"]) <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
