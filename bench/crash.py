"""Crash test: scripted check-ins while the bot process is killed (SIGKILL) and restarted.

The parent runs the local Bot API (real clock) and plays ``people`` young people, each with an open
check-in. The bot is a separate process, ``python -m bot.cli run``, exactly as an operator runs it.
Young people press the buttons of the statement they see (a random answer or Skip, then "Nothing
to add", then "Keep private" or "Share"); at random presses the parent kills the bot at one of
these moments: right after the press is queued, once its update is confirmed (by the bot's next
getUpdates, which it asks for only after handling the batch), once the bot has answered the
button, or once it has edited the message (and, with ``jitter``, after a random few milliseconds
instead). After each kill it restarts the bot and every young person who is not finished sends
``/checkin``.

Checked, at every restart and at the end (reading the SQLite file directly):

- **resume**: ``/checkin`` shows the statement the database says the check-in is at, and the
  stored answers are exactly the statements before it (no gap, nothing after it);
- **exactly once**: at most one stored answer per (check-in, statement), and a press the bot
  acknowledged as saved is stored with the value pressed; no press is acknowledged as saved twice
  for the same statement; every stored value is one the young person pressed for that statement;
- **complete**: in the end every check-in is finished with all 9 answers stored.

A press the bot never acknowledged may or may not be stored: if the bot was killed after storing
it, the young person's next ``/checkin`` shows the following statement; if it was killed before,
the update is delivered again on restart (Telegram keeps unconfirmed updates). The bot polls with
its own loop (bot/polling.py), not python-telegram-bot's: it confirms a batch (the next getUpdates
offset) only after handling it, so a kill before then means the batch comes again, and the
compare-and-set makes the repeat harmless (answered "already saved"). A press is dropped only if
its update was confirmed before its handler ran (as python-telegram-bot's own polling does, which
confirms an update when it is *queued*); such presses are still counted and reported as
"dropped", not failures, and should be none.

Run: ``python -m bench.crash --kills 30`` (results in bench/results.md); the test suite runs a
short form (tests/test_crash.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import machine, write_section
from conversations import buttons
from conversations.questionnaire import load_questionnaires
from core.settings import DEFAULT_SPEC_PATH
from local_bot_api import LocalBotAPI
from local_bot_api.models import BotMessage
from storage.db import Database
from storage.schema import checkins, enrolments, staff, teams

ROOT = Path(__file__).resolve().parents[1]
SPEC = DEFAULT_SPEC_PATH
TOKEN = "123456:CRASH-test-token"
FIRST_CHAT = 7_000_001
KILL_POINTS = ("queued", "fetched", "answered", "edited")
NOTHING_OPEN = "There is no check-in for you right now"
SORRY = "Sorry, something went wrong on my side"


class CrashTestFailure(AssertionError):
    """An invariant did not hold."""


@dataclass
class Press:
    person: int
    checkin_id: int
    step: str
    value: int | None  # answers: 1-4, 0 for Skip; None for other buttons
    update_id: int
    query_id: str


@dataclass
class Report:
    kills: int = 0
    kill_points: Counter[str] = field(default_factory=Counter)
    presses: int = 0
    saved: int = 0  # acknowledged: stored now
    refused: int = 0  # acknowledged: "already saved" (a replay or an old button)
    unacknowledged: int = 0
    unacknowledged_stored: int = 0  # killed after storing, before answering
    dropped: int = 0  # confirmed to Telegram before the handler ran, then killed (none expected)
    resumes_checked: int = 0
    sorry: int = 0  # "Sorry, something went wrong" replies (an update failed in a handler)
    answers: int = 0
    seconds: float = 0.0
    restarts_seconds: list[float] = field(default_factory=list)


class BotProcess:
    """``python -m bot.cli run`` against the stand-in, killed and restarted at will."""

    def __init__(self, api: LocalBotAPI, database: Path, log: Path) -> None:
        self.api = api
        self.database = database
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
        env.update(
            CHECKIN_TELEGRAM_TOKEN=TOKEN,
            CHECKIN_TELEGRAM_API_URL=self.api.base_url,
            CHECKIN_TELEGRAM_FILE_URL=self.api.base_file_url,
            CHECKIN_DATABASE_URL=f"sqlite+aiosqlite:///{self.database}",
            CHECKIN_BOT_USERNAME="checkin_test_bot",
            CHECKIN_LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        return env

    async def start(self, timeout: float = 60.0) -> float:  # noqa: ASYNC109 - a deadline, not a cancel scope
        """Start the bot and wait until it polls; returns the seconds it took."""
        started = time.perf_counter()
        polls = self.api.request_counts["getUpdates"]
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                cwd=self.database.parent,
                env=self.env(),
                stdout=log,
                stderr=log,
            )
        process = self.process

        def polling() -> bool:
            return self.api.request_counts["getUpdates"] > polls or process.returncode is not None

        await self.api.wait_until(polling, timeout=timeout)
        if process.returncode is not None:
            tail = self.log.read_text("utf-8", "replace")[-2000:]
            raise CrashTestFailure(f"the bot exited ({process.returncode}):\n{tail}")
        return time.perf_counter() - started

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        self.process = None

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(15):
                    await self.process.wait()
            except TimeoutError:
                await self.kill()
        self.process = None


async def seed(database: Path, people: int) -> list[str]:
    """``people`` enrolled young people, each with an open 3-months check-in; returns the items."""
    questionnaire = load_questionnaires(ROOT / "conversations" / "questionnaires")
    q = questionnaire["quality_experience"]
    items = [item.id for item in q.items_for("3_months")]
    now = datetime.now(UTC)
    db = Database(f"sqlite+aiosqlite:///{database}")
    await db.migrate()
    async with db.transaction() as conn:
        await conn.execute(insert(teams).values(id=1, name="North", created_at=now))
        await conn.execute(
            insert(staff).values(
                id=1, name="Sam", role="key_worker", team_id=1, active=True, created_at=now
            )
        )
        for n in range(people):
            await conn.execute(
                insert(enrolments).values(
                    id=n + 1,
                    pseudonym=f"p{n:06d}",
                    team_id=1,
                    key_worker_id=1,
                    label=f"YP{n}",
                    chat_id=FIRST_CHAT + n,
                    language="en",
                    status="active",
                    reachable=True,
                    created_at=now,
                    enrolled_at=now,
                )
            )
            await conn.execute(
                insert(checkins).values(
                    id=n + 1,
                    enrolment_id=n + 1,
                    checkpoint="3_months",
                    questionnaire_id=q.id,
                    questionnaire_version=q.version,
                    language="en",
                    step=items[0],
                    status="open",
                    team_id=1,
                    key_worker_id=1,
                    shared=False,
                    created_at=now,
                )
            )
    await db.close()
    return items


def shown_step(message: BotMessage) -> tuple[int, str] | None:
    """(check-in, step) a message shows, read from its buttons; None when it has none."""
    for _label, data in LocalBotAPI.buttons(message):
        action = buttons.decode(data)
        if isinstance(action, buttons.Answer):
            return action.checkin_id, action.item_id
        if isinstance(action, buttons.NoComment):
            return action.checkin_id, "comment"
        if isinstance(action, buttons.Share):
            return action.checkin_id, "share"
    return None


class Stored:
    """The database as it is on disk (read-only; WAL lets us read while the bot runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def checkin(self, checkin_id: int) -> tuple[str, str]:
        [(step, status)] = self.query("SELECT step, status FROM checkins WHERE id = ?", checkin_id)
        return str(step), str(status)

    def answers(self, checkin_id: int) -> dict[str, int | None]:
        rows = self.query(
            "SELECT item_id, value FROM answers WHERE checkin_id = ? ORDER BY id", checkin_id
        )
        return {str(item): value for item, value in rows}


class CrashTest:
    def __init__(
        self, tmp: Path, *, kills: int, people: int, seed: int, jitter: bool, log: bool
    ) -> None:
        self.tmp = tmp
        self.kills = kills
        self.people = people
        self.random = random.Random(seed)
        self.jitter = jitter
        self.verbose = log
        self.database = tmp / "crash.db"
        self.stored = Stored(self.database)
        self.items: list[str] = []
        self.presses: list[Press] = []
        self.report = Report()
        self.finished: set[int] = set()
        self.current: dict[int, BotMessage] = {}

    def say(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)

    async def run(self) -> Report:
        started = time.perf_counter()
        self.items = await seed(self.database, self.people)
        async with LocalBotAPI(SPEC, token=TOKEN, bot_username="checkin_test_bot") as api:
            bot = BotProcess(api, self.database, self.tmp / "bot.log")
            self.report.restarts_seconds.append(await bot.start())
            try:
                await self.resume_all(api)
                press_count = 0
                while len(self.finished) < self.people:
                    person = self.random.choice(
                        [p for p in range(self.people) if p not in self.finished]
                    )
                    press = self.press(api, person)
                    press_count += 1
                    kill = self.report.kills < self.kills and self.random.random() < 0.5
                    if kill:
                        await self.kill_at(api, bot, press)
                        self.report.restarts_seconds.append(await bot.start())
                        await self.resume_all(api)
                    else:
                        await self.wait_for_reply(api, press)
                    if press_count > 40 * self.people + 10 * self.kills:
                        raise CrashTestFailure("the check-ins do not progress")
                await api.wait_for_idle(timeout=30)
                if self.report.kills < self.kills:
                    raise CrashTestFailure(
                        f"only {self.report.kills} kills before every check-in finished; "
                        "give more people"
                    )
            finally:
                await bot.stop()
            api.assert_no_violations()
            self.check_final(api)
        self.report.seconds = time.perf_counter() - started
        return self.report

    # --- the young people --------------------------------------------------------------
    def press(self, api: LocalBotAPI, person: int) -> Press:
        message = self.current[person]
        shown = shown_step(message)
        assert shown is not None
        checkin_id, step = shown
        value: int | None = None
        if step == "comment":
            action: buttons.Action = buttons.NoComment(checkin_id)
        elif step == "share":
            action = buttons.Share(checkin_id, share=self.random.random() < 0.5)
        else:
            value = self.random.choice((0, 1, 2, 3, 4))
            action = buttons.Answer(checkin_id, step, value)
        update = api.press_button(FIRST_CHAT + person, message.message_id, buttons.encode(action))
        query = update["callback_query"]
        press = Press(person, checkin_id, step, value, update["update_id"], query["id"])
        self.presses.append(press)
        self.report.presses += 1
        return press

    @staticmethod
    def answer_of(api: LocalBotAPI, press: Press) -> dict[str, Any] | None:
        for answer in reversed(api.callback_answers):
            if answer["callback_query_id"] == press.query_id:
                found: dict[str, Any] = answer
                return found
        return None

    async def wait_for_reply(self, api: LocalBotAPI, press: Press) -> None:
        """The press is answered, and (when it moved the check-in) the message shows the next
        step."""
        chat = FIRST_CHAT + press.person
        message = self.current[press.person]
        before = len(message.history)
        await api.wait_until(lambda: self.answer_of(api, press) is not None, timeout=30)
        answer = self.answer_of(api, press)
        assert answer is not None
        if answer["text"] is not None:
            raise CrashTestFailure(f"a fresh press was refused: {answer['text']!r}")

        def edited() -> bool:
            return len(message.history) > before or api.last_message(chat) is not message

        await api.wait_until(edited, timeout=30)
        latest = api.last_message(chat)
        assert latest is not None
        self.current[press.person] = latest
        if press.step == "share":
            self.finished.add(press.person)

    async def kill_at(self, api: LocalBotAPI, bot: BotProcess, press: Press) -> None:
        point = self.random.choice((*KILL_POINTS, "jitter") if self.jitter else KILL_POINTS)
        message = self.current[press.person]
        before = len(message.history)
        conditions = {
            "queued": lambda: True,
            "fetched": lambda: api.state.confirmed_update_id >= press.update_id,
            "answered": lambda: self.answer_of(api, press) is not None,
            "edited": lambda: len(message.history) > before,
            "jitter": lambda: True,
        }
        if point == "jitter":
            await asyncio.sleep(self.random.uniform(0.0, 0.03))
        try:
            await api.wait_until(conditions[point], timeout=30)
        except TimeoutError:
            raise CrashTestFailure(f"the bot never reached {point!r}") from None
        await bot.kill()
        self.report.kills += 1
        self.report.kill_points[point] += 1
        self.say(f"kill {self.report.kills} at {point} (press of {press.step})")

    async def resume_all(self, api: LocalBotAPI) -> None:
        """Every young person not finished sends /checkin; it must show the stored step."""
        for person in range(self.people):
            if person in self.finished:
                continue
            chat = FIRST_CHAT + person
            api.send_text(chat, "/checkin")
            message = await api.wait_for_message(
                chat,
                predicate=lambda m: shown_step(m) is not None or NOTHING_OPEN in m.content,
                timeout=30,
            )
            shown = shown_step(message)
            checkin_id = person + 1
            step, status = self.stored.checkin(checkin_id)
            stored = self.stored.answers(checkin_id)
            self.check_prefix(checkin_id, step, status, stored)
            if shown is None:
                if status != "finished" or NOTHING_OPEN not in message.content:
                    raise CrashTestFailure(
                        f"/checkin showed no step, but check-in {checkin_id} is {status}"
                    )
                self.finished.add(person)
                continue
            if shown != (checkin_id, step):
                raise CrashTestFailure(
                    f"check-in {checkin_id} resumed at {shown[1]!r}, but it is at {step!r}"
                )
            self.report.resumes_checked += 1
            self.current[person] = message

    # --- invariants ----------------------------------------------------------------------
    def check_prefix(
        self, checkin_id: int, step: str, status: str, stored: dict[str, int | None]
    ) -> None:
        answered = list(stored)
        position = self.items.index(step) if step in self.items else len(self.items)
        expected = self.items[:position]
        if status == "finished" and step != "done":
            raise CrashTestFailure(f"check-in {checkin_id} finished at step {step!r}")
        if sorted(answered) != sorted(expected):
            raise CrashTestFailure(
                f"check-in {checkin_id} at {step!r} has answers for {answered}, "
                f"expected exactly {expected}"
            )

    def check_final(self, api: LocalBotAPI) -> None:
        report = self.report
        report.sorry = sum(
            SORRY in m.content
            for person in range(self.people)
            for m in api.messages(FIRST_CHAT + person)
        )
        duplicates = self.stored.query(
            "SELECT checkin_id, item_id, COUNT(*) FROM answers GROUP BY 1, 2 HAVING COUNT(*) > 1"
        )
        if duplicates:
            raise CrashTestFailure(f"answers stored twice: {duplicates}")
        saved_for: dict[tuple[int, str], list[Press]] = {}
        for press in self.presses:
            answer = self.answer_of(api, press)
            if answer is None:
                report.unacknowledged += 1
            elif answer["text"] is None:
                report.saved += 1
                saved_for.setdefault((press.checkin_id, press.step), []).append(press)
            else:
                report.refused += 1
        for (checkin_id, step), saved in saved_for.items():
            if len(saved) > 1:
                raise CrashTestFailure(f"check-in {checkin_id} {step!r} was saved twice")
        for person in range(self.people):
            checkin_id = person + 1
            step, status = self.stored.checkin(checkin_id)
            stored = self.stored.answers(checkin_id)
            if (step, status) != ("done", "finished"):
                raise CrashTestFailure(f"check-in {checkin_id} ended {status} at {step!r}")
            self.check_prefix(checkin_id, step, status, stored)
            report.answers += len(stored)
            for item, value in stored.items():
                pressed = [
                    p.value for p in self.presses if (p.checkin_id, p.step) == (checkin_id, item)
                ]
                as_pressed = None if value is None else value
                if (0 if as_pressed is None else as_pressed) not in pressed:
                    raise CrashTestFailure(
                        f"check-in {checkin_id} {item!r} holds {value}, never pressed ({pressed})"
                    )
                acknowledged = saved_for.get((checkin_id, item))
                if acknowledged and (acknowledged[0].value or None) != value:
                    raise CrashTestFailure(
                        f"check-in {checkin_id} {item!r} holds {value}, but the saved press "
                        f"was {acknowledged[0].value}"
                    )
        # Unacknowledged presses: stored (the first press of its statement that was processed)
        # or dropped (the next press of the same statement is the one stored).
        for index, press in enumerate(self.presses):
            if self.answer_of(api, press) is not None:
                continue
            later = [
                p
                for p in self.presses[index + 1 :]
                if (p.checkin_id, p.step) == (press.checkin_id, press.step)
            ]
            if later and any(self.answer_of(api, p) is not None for p in later):
                first_later = next(p for p in later if self.answer_of(api, p) is not None)
                answer = self.answer_of(api, first_later)
                if answer is not None and answer["text"] is None:
                    report.dropped += 1
                    continue
            report.unacknowledged_stored += 1


def report_text(report: Report, command: str) -> str:
    points = ", ".join(f"{point} {count}" for point, count in sorted(report.kill_points.items()))
    restart = sorted(report.restarts_seconds)[len(report.restarts_seconds) // 2]
    return (
        f"Command: `{command}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}\n\n"
        f"The bot as its own process (`python -m bot.cli run`), killed with SIGKILL "
        f"{report.kills} times ({points}) and restarted each time (median start-up "
        f"{restart:.1f} s); {report.seconds:.0f} s in all.\n\n"
        f"| what | count |\n|---|---|\n"
        f"| button presses | {report.presses} |\n"
        f"| acknowledged as saved | {report.saved} |\n"
        f"| acknowledged as already saved (redelivered or old button) | {report.refused} |\n"
        f"| never acknowledged (killed first) | {report.unacknowledged} |\n"
        f"| … of which stored anyway (killed after storing) | {report.unacknowledged_stored} |\n"
        f"| … of which dropped (update confirmed before its handler ran; "
        f"pressed again) | {report.dropped} |\n"
        f"| resumes checked (`/checkin` shows the stored step, answers are exactly the ones "
        f"before it) | {report.resumes_checked} |\n"
        f"| answers stored at the end (9 per check-in, none twice) | {report.answers} |\n"
        f'| "Sorry, something went wrong" replies | {report.sorry} |\n\n'
        f"Result: every acknowledged answer stored exactly once with the value pressed, no "
        f"answer stored twice or never pressed, every check-in resumed at the right statement "
        f"and finished: **met**.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    people = max(args.people, args.kills // 4 + 1)  # enough check-ins to kill the bot in
    with tempfile.TemporaryDirectory() as tmp:
        test = CrashTest(
            Path(tmp),
            kills=args.kills,
            people=people,
            seed=args.seed,
            jitter=True,
            log=not args.quiet,
        )
        report = asyncio.run(test.run())
    command = f"python -m bench.crash --kills {args.kills} --people {people} --seed {args.seed}"
    body = report_text(report, command)
    write_section("Crash test (SIGKILL at random points)", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
