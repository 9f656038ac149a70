"""Digest over a million stored answers, and the scheduler's claim among 100,000 enrolments.

Seeds a SQLite file with ``people`` enrolled young people in 3 teams of 4 key workers, finished
check-ins of 9 answers each (about 10% skipped) until ``answers`` answers are stored, spread over
this quarter and the one before, with the prompts that were sent for them, and one future prompt
for everyone still waiting for their 3-months check-in. Then times:

- the digest as ``/digest`` builds it (``conversations.reports.compose``: read the records, build
  the digest under disclosure control, render text and chart) for the service, a team and a key
  worker, with the time split into its parts;
- one scheduler tick when nothing is due (what the bot does every 30 seconds), and claiming a batch
  of 200 among 10,000 due prompts;

and prints SQLite's query plan (``EXPLAIN QUERY PLAN``) of every statement those ran.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import create_engine, event, insert, select, update
from sqlalchemy.engine import Engine

from bench.common import DEFAULT_ITEMS, TOKEN, machine, write_section
from bot.app import build_runtime
from bot.schedule import BATCH, LEASE, WORKER, tick
from conversations.digest import Scope, build_digest
from conversations.reports import compose, windows
from conversations.runtime import Runtime
from core.clock import ManualClock
from core.settings import load_settings
from storage import digests, prompts
from storage.schema import answers, checkins, enrolments, staff, teams
from storage.schema import prompts as prompts_table

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)  # late in Q2: this quarter and Q1 both full
ITEMS = DEFAULT_ITEMS


def seed(path: Path, people: int, answer_count: int) -> dict[str, int]:
    """Fill an already migrated database; returns the row counts."""
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda c, _r: c.execute("PRAGMA synchronous=OFF"))
    q1 = datetime(2026, 1, 1, tzinfo=UTC)
    checkin_count = -(-answer_count // len(ITEMS))
    counts = {"enrolments": people, "checkins": checkin_count}
    with engine.begin() as conn:
        for t, name in enumerate(("North", "South", "East"), start=1):
            conn.execute(insert(teams).values(id=t, name=name, created_at=q1))
        for s in range(1, 13):
            conn.execute(
                insert(staff).values(
                    id=s,
                    name=f"kw{s}",
                    role="key_worker",
                    team_id=(s - 1) % 3 + 1,
                    active=True,
                    created_at=q1,
                )
            )
        rows: list[dict[str, Any]] = []
        for n in range(1, people + 1):
            rows.append(
                dict(
                    id=n,
                    pseudonym=secrets.token_hex(8),
                    team_id=(n - 1) % 3 + 1,
                    key_worker_id=(n - 1) % 12 + 1,
                    label=f"YP{n}",
                    chat_id=10_000_000 + n,
                    language="en",
                    status="active",
                    reachable=True,
                    created_at=q1,
                    enrolled_at=q1 + timedelta(minutes=n % 40_000),
                )
            )
            if len(rows) == 20_000:
                conn.execute(insert(enrolments), rows)
                rows.clear()
        if rows:
            conn.execute(insert(enrolments), rows)
        step = (NOW - q1 - timedelta(days=1)) / checkin_count
        checkin_rows: list[dict[str, Any]] = []
        answer_rows: list[tuple[int, str, int, int | None, datetime]] = []
        prompt_rows: list[dict[str, Any]] = []
        written = 0
        for c in range(1, checkin_count + 1):
            person = (c - 1) % people + 1
            checkpoint = "start" if c <= people else "3_months"
            at = q1 + step * c
            team = (person - 1) % 3 + 1
            checkin_rows.append(
                dict(
                    id=c,
                    enrolment_id=person,
                    checkpoint=checkpoint,
                    questionnaire_id="quality_experience",
                    questionnaire_version=1,
                    language="en",
                    step="done",
                    status="finished",
                    team_id=team,
                    key_worker_id=(person - 1) % 12 + 1,
                    comment="It helps." if c % 20 == 0 else None,
                    shared=c % 40 == 0,
                    created_at=at - timedelta(minutes=5),
                    finished_at=at,
                )
            )
            prompt_rows.append(
                dict(
                    enrolment_id=person,
                    checkpoint=checkpoint,
                    questionnaire_id="quality_experience",
                    due_at=at - timedelta(hours=1),
                    status="answered",
                    next_check_at=None,
                    sent_at=at - timedelta(hours=1),
                    checkin_id=c,
                    attempts=1,
                    updated_at=at,
                )
            )
            for i, item in enumerate(ITEMS):
                if written == answer_count:
                    break
                value = None if (c + i) % 10 == 0 else (c * 7 + i * 3) % 4 + 1
                answer_rows.append((c, item, 1, value, at - timedelta(seconds=10 * (9 - i))))
                written += 1
            if len(checkin_rows) == 20_000:
                _flush(conn, checkin_rows, answer_rows, prompt_rows)
        _flush(conn, checkin_rows, answer_rows, prompt_rows)
        # Everyone without a 3-months check-in yet has that prompt planned for later.
        later = [
            dict(
                enrolment_id=n,
                checkpoint="3_months",
                questionnaire_id="quality_experience",
                due_at=NOW + timedelta(days=1 + n % 60),
                status="due",
                next_check_at=NOW + timedelta(days=1 + n % 60),
                attempts=0,
                updated_at=q1,
            )
            for n in range(checkin_count - people + 1, people + 1)
        ]
        for start in range(0, len(later), 20_000):
            conn.execute(insert(prompts_table), later[start : start + 20_000])
        counts["answers"] = written
        counts["prompts"] = checkin_count + len(later)
    engine.dispose()
    return counts


def _flush(
    conn: Any,
    checkin_rows: list[dict[str, Any]],
    answer_rows: list[tuple[int, str, int, int | None, datetime]],
    prompt_rows: list[dict[str, Any]],
) -> None:
    if checkin_rows:
        conn.execute(insert(checkins), checkin_rows)
    if answer_rows:
        conn.execute(
            insert(answers),
            [
                dict(checkin_id=c, item_id=i, item_version=v, value=x, answered_at=a)
                for c, i, v, x, a in answer_rows
            ],
        )
    if prompt_rows:
        conn.execute(insert(prompts_table), prompt_rows)
    checkin_rows.clear()
    answer_rows.clear()
    prompt_rows.clear()


@contextmanager
def captured(engine: Engine, into: list[tuple[str, Any]]) -> Iterator[None]:
    """Record every statement (SQL and parameters) the engine runs."""

    def before(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: Any) -> None:
        into.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


def query_plans(path: Path, statements: list[tuple[str, Any]]) -> str:
    """``EXPLAIN QUERY PLAN`` of each distinct SELECT/UPDATE/DELETE that ran."""
    seen: set[str] = set()
    blocks: list[str] = []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for sql, params in statements:
            head = sql.lstrip().split(None, 1)[0].upper()
            if head not in ("SELECT", "UPDATE", "DELETE", "WITH") or sql in seen:
                continue
            seen.add(sql)
            rows = db.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()).fetchall()
            plan = "\n".join(f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows)
            blocks.append(f"```sql\n{' '.join(sql.split())}\n```\n```\n{plan}\n```")
    finally:
        db.close()
    return "\n\n".join(blocks)


def _depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth += 1
        parent = parents[parent]
    return depth


async def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs of the coroutine function ``fn``, and its last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def measure(tmp: Path, people: int, answer_count: int, repeat: int) -> dict[str, Any]:
    path = tmp / "digest.db"
    settings = load_settings(
        telegram_token=TOKEN,
        telegram_api_url="http://127.0.0.1:9/bot",
        bot_username="checkin_test_bot",
        database_url=f"sqlite+aiosqlite:///{path}",
    )
    rt: Runtime = build_runtime(settings, clock=ManualClock(NOW))
    await rt.db.migrate()
    started = time.perf_counter()
    counts = seed(path, people, answer_count)
    seeded = time.perf_counter() - started
    t = rt.translator("en")
    out: dict[str, Any] = {"counts": counts, "seed_seconds": seeded}
    statements: list[tuple[str, Any]] = []
    with captured(rt.db.engine.sync_engine, statements):
        await compose(
            rt, Scope.service(), t, NOW, reader="bench"
        )  # warm: imports, matplotlib, statement cache
    scopes = {
        "service": Scope.service(),
        "team (North)": Scope.of_team("North"),
        "key worker": Scope.of_key_worker("North", "1"),
    }
    out["compose"] = {}
    for name, scope in scopes.items():

        async def run(scope: Scope = scope) -> Any:
            return await compose(rt, scope, t, NOW, reader="bench")

        out["compose"][name], _ = await timed(run, repeat)
    # The parts of one service digest.
    window, previous = windows(NOW + timedelta(microseconds=1), None)
    parts: dict[str, float] = {}

    async def read_answers() -> Any:
        async with rt.db.read() as conn:
            return await digests.answer_records(conn, window.until)

    async def read_people() -> Any:
        async with rt.db.read() as conn:
            return await digests.population_records(conn, window.since, window.until)

    async def read_comments() -> Any:
        async with rt.db.read() as conn:
            return await digests.comment_records(conn, window.until)

    parts["storage.digests.answer_records"], records = await timed(read_answers, repeat)
    parts["storage.digests.population_records"], people_records = await timed(read_people, repeat)
    parts["storage.digests.comment_records"], comments = await timed(read_comments, repeat)

    async def build() -> Any:
        return build_digest(
            Scope.service(),
            records,
            people_records,
            comments,
            window=window,
            previous_window=previous,
            k=5,
        )

    parts["conversations.digest.build_digest"], _ = await timed(build, repeat)
    parts["render text and chart (the rest of compose)"] = max(
        0.0, out["compose"]["service"] - sum(parts.values())
    )
    out["parts"] = parts
    out["answer_records"] = len(records)

    # The scheduler among 100,000 enrolments.
    with captured(rt.db.engine.sync_engine, statements):
        out["tick_idle"], _ = await timed(lambda: tick(rt, cast(Any, None)), repeat * 3)
    async with rt.db.transaction() as conn:
        await conn.execute(
            update(prompts_table)
            .where(
                prompts_table.c.id.in_(
                    select(prompts_table.c.id).where(prompts_table.c.status == "due").limit(10_000)
                )
            )
            .values(next_check_at=NOW - timedelta(minutes=1))
        )

    async with rt.db.read() as conn:
        out["due_before"] = len(await prompts.peek(conn, NOW, limit=100_000))

    async def claim() -> Any:
        async with rt.db.transaction() as conn:
            return await prompts.claim(conn, now=NOW, lease=LEASE, limit=BATCH, worker=WORKER)

    with captured(rt.db.engine.sync_engine, statements):
        out["claim_batch"], batch = await timed(claim, repeat * 3)
    out["claimed"] = len(batch)
    async with rt.db.read() as conn:
        out["due_left"] = len(await prompts.peek(conn, NOW, limit=100_000))
    await rt.db.close()
    out["plans"] = query_plans(path, statements)
    out["db_mb"] = disk_mb(tmp)
    return out


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir()) / 1e6


def report(result: dict[str, Any], command: str) -> str:
    counts = result["counts"]
    service = result["compose"]["service"]
    met = service < 1.0
    compose_rows = "\n".join(
        f"| {name} | {seconds:.2f} |" for name, seconds in result["compose"].items()
    )
    part_rows = "\n".join(
        f"| `{name}` | {seconds:.2f} |" for name, seconds in result["parts"].items()
    )
    return (
        f"Command: `{command}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}\n\n"
        f"Database: {counts['answers']:,} answers in {counts['checkins']:,} finished check-ins "
        f"of {counts['enrolments']:,} young people (3 teams, 12 key workers), "
        f"{counts['prompts']:,} prompt rows; {result['db_mb']:.0f} MB on disk (seeded in "
        f"{result['seed_seconds']:.0f} s). The service digest reads "
        f"{result['answer_records']:,} answer records (this quarter and the one before).\n\n"
        f"**Digest** (`conversations.reports.compose`, as `/digest` runs it; median seconds):\n\n"
        f"| scope | seconds |\n|---|---|\n{compose_rows}\n\n"
        f"Target: a digest over 1,000,000 stored answers in under 1 second: "
        f"**{'met' if met else 'missed'}** ({service:.2f} s for the service).\n\n"
        f"Where the service digest's time goes:\n\n| part | seconds |\n|---|---|\n{part_rows}\n\n"
        f"**Scheduler among {counts['enrolments']:,} enrolments** (median seconds):\n\n"
        f"| what | seconds |\n|---|---|\n"
        f"| one tick with nothing due (every 30 s) | {result['tick_idle'] * 1000:.1f} ms |\n"
        f"| claim a batch of {result['claimed']} while "
        f"{result['due_before']:,} prompts are due "
        f"| {result['claim_batch'] * 1000:.1f} ms |\n\n"
        f"Query plans (SQLite `EXPLAIN QUERY PLAN`) of every statement the digest, the tick and "
        f"the claim ran:\n\n{result['plans']}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(Path(tmp), args.people, args.answers, args.repeat))
    command = (
        f"python -m bench.digest --people {args.people} --answers {args.answers} "
        f"--repeat {args.repeat}"
    )
    body = report(result, command)
    write_section("Digest over stored answers, and the scheduler's claim", body)
    print(body)
    return 0 if result["compose"]["service"] < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
