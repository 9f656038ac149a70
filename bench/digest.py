"""Digests over 100,000 to 10,000,000 stored answers (a curve), and the scheduler's claim.

For each size, seeds a SQLite file with ``people`` enrolled young people in 3 teams of 4 key
workers, finished check-ins of 9 answers each (about 10% skipped) until that many answers are
stored, spread over this quarter and the one before, with the prompts that were sent for them,
and one future prompt for everyone still waiting for their 3-months check-in; the answer tallies
(``storage/tallies.py``) are filled with one bulk SQL statement (:func:`seed_tallies`, the same
result as ``checkin-bot tallies rebuild``, which a test checks). Then times:

- the digest as ``/digest`` builds it (``conversations.reports.compose``: read the answer
  tallies, decide under the release ledger, render text and chart) for the service,
  a team and a key worker, with the time split into its parts (the chart separately);
- the first digest after new answers: 60 more check-ins counted through the real write path, so
  the release ledger decides new blocks given the earlier release (``conversations.ledger``);
- one scheduler tick when nothing is due, and claiming a batch of 200 among 10,000 due prompts
  (at the first size only);

and prints SQLite's query plan (``EXPLAIN QUERY PLAN``) of every statement the digest ran.

``--keep DIR`` keeps each freshly seeded database in DIR and starts later runs from a copy of it
(seeding 10,000,000 answers takes over ten minutes): for iterating on the digest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import create_engine, event, insert, select, text, update
from sqlalchemy.engine import Engine

from bench.common import DEFAULT_ITEMS, TOKEN, machine, write_section
from bot.app import build_runtime
from bot.schedule import BATCH, CLAIM_LEASE, tick
from conversations.chart import ChartWords, draw_chart
from conversations.digest import Counted, Scope, TakingPart, build_digest_counted, chart_bars
from conversations.digest_text import render_text
from conversations.reports import compose, windows
from conversations.runtime import Runtime
from core.clock import ManualClock
from core.settings import load_settings
from storage import digests, ledger, part_tallies, prompts, reach, tallies, tally_reads
from storage.part_tallies import PARTS
from storage.records import ANSWERED, REACH_CELL
from storage.schema import answers, checkins, enrolments, staff, teams
from storage.schema import prompts as prompts_table

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)  # late in Q2: this quarter and Q1 both full
CHECKPOINTS = ("start", *(f"{m}_months" for m in range(3, 27, 3)), "exit")
"""Each young person's check-ins in order: ten, so 10,000,000 answers need 111,112 people."""
ITEMS = DEFAULT_ITEMS


def seed(path: Path, people: int, answer_count: int) -> dict[str, int]:
    """Fill an already migrated database; returns the row counts. Each young person has at most
    one check-in per checkpoint (as in the bot): at most ``10 * people`` check-ins."""
    if answer_count > len(CHECKPOINTS) * people * len(ITEMS):
        raise SystemExit(f"--people: {answer_count} answers need more than {people} people")
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
        conn.execute(  # each young person's reach from when they enrolled (as activate notes it)
            text(
                "INSERT INTO reach_events (enrolment_id, at, reachable, team_id, key_worker_id) "
                "SELECT id, enrolled_at, 1, team_id, key_worker_id FROM enrolments"
            )
        )
        step = (NOW - q1 - timedelta(days=1)) / checkin_count
        checkin_rows: list[dict[str, Any]] = []
        answer_rows: list[tuple[int, str, int, int | None, datetime]] = []
        prompt_rows: list[dict[str, Any]] = []
        written = 0
        for c in range(1, checkin_count + 1):
            person = (c - 1) % people + 1
            checkpoint = CHECKPOINTS[(c - 1) // people]
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
        # Everyone has their next checkpoint's prompt planned for later.
        later = []
        for n in range(1, people + 1):
            done = (checkin_count - n) // people + 1 if n <= checkin_count else 0
            if done < len(CHECKPOINTS):
                later.append(
                    dict(
                        enrolment_id=n,
                        checkpoint=CHECKPOINTS[done],
                        questionnaire_id="quality_experience",
                        due_at=NOW + timedelta(days=1 + n % 60),
                        status="due",
                        next_check_at=NOW + timedelta(days=1 + n % 60),
                        attempts=0,
                        updated_at=q1,
                    )
                )
        for start in range(0, len(later), 20_000):
            conn.execute(insert(prompts_table), later[start : start + 20_000])
        counts["answers"] = written
        counts["prompts"] = checkin_count + len(later)
    engine.dispose()
    return counts


def _stamp(at: datetime | None) -> str | None:
    """A time as SQLAlchemy stores it in SQLite (naive UTC), for bulk inserts in plain SQL."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_COLUMNS = {
    "checkins": (
        "id, enrolment_id, checkpoint, questionnaire_id, questionnaire_version, language, step,"
        " status, team_id, key_worker_id, comment, shared, created_at, finished_at"
    ),
    "prompts": (
        "enrolment_id, checkpoint, questionnaire_id, due_at, status, next_check_at, sent_at,"
        " checkin_id, attempts, updated_at"
    ),
}


def _bulk(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert pre-generated rows with one ``executemany`` of plain SQL (no per-row binding
    work in SQLAlchemy: seeding 10,000,000 answers takes minutes, not an hour)."""
    names = [n.strip() for n in _COLUMNS[table].split(",")]
    marks = ", ".join("?" for _ in names)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({_COLUMNS[table]}) VALUES ({marks})",  # noqa: S608 - fixed names
        [
            tuple(_stamp(v) if isinstance(v, datetime) else v for v in (r.get(n) for n in names))
            for r in rows
        ],
    )


def _flush(
    conn: Any,
    checkin_rows: list[dict[str, Any]],
    answer_rows: list[tuple[int, str, int, int | None, datetime]],
    prompt_rows: list[dict[str, Any]],
) -> None:
    if checkin_rows:
        _bulk(conn, "checkins", checkin_rows)
    if answer_rows:
        conn.exec_driver_sql(
            "INSERT INTO answers (checkin_id, item_id, item_version, value, answered_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(c, i, v, x, _stamp(a)) for c, i, v, x, a in answer_rows],
        )
    if prompt_rows:
        _bulk(conn, "prompts", prompt_rows)
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


def _quarter(column: str) -> str:
    """SQLite: the start of the quarter of a stored UTC time, as SQLAlchemy stores times."""
    return (
        f"printf('%s-%02d-01 00:00:00.000000', substr({column}, 1, 4),"
        f" (CAST(substr({column}, 6, 2) AS INTEGER) - 1) / 3 * 3 + 1)"
    )


SEED_QUEUE = """
INSERT INTO answer_queue (quarter, team_id, key_worker_id, checkpoint, item_id, enrolment_id,
    pseudonym, value, first_at, c1, c2, c3, c4, total)
WITH rec AS (
    SELECT c.enrolment_id AS e, COALESCE(c.team_id, 0) AS t, COALESCE(c.key_worker_id, 0) AS w,
        c.checkpoint AS cp, a.item_id AS it, a.value AS v, a.answered_at AS at,
        c.finished_at AS fin, en.pseudonym AS ps, QUARTER AS q
    FROM answers a JOIN checkins c ON a.checkin_id = c.id
    JOIN enrolments en ON en.id = c.enrolment_id
    WHERE c.status IN ('finished', 'closed')
), ranked AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY e, q, cp, it
            ORDER BY at DESC, COALESCE(v, 0) DESC) AS rn
    FROM rec
), latest AS (
    SELECT * FROM ranked WHERE rn = 1 AND v IS NOT NULL
)
SELECT q, t, w, cp, it, e, ps, v, fin,
    SUM(v = 1) OVER queue, SUM(v = 2) OVER queue, SUM(v = 3) OVER queue, SUM(v = 4) OVER queue,
    ROW_NUMBER() OVER queue
FROM latest
WINDOW queue AS (PARTITION BY q, t, w, cp, it ORDER BY fin, ps ROWS UNBOUNDED PRECEDING)
""".replace("QUARTER", _quarter("a.answered_at"))

SEED_HEADS = """
INSERT INTO answer_heads (quarter, team_id, key_worker_id, checkpoint, item_id, c1, c2, c3, c4,
    total)
SELECT quarter, team_id, key_worker_id, checkpoint, item_id, SUM(value = 1), SUM(value = 2),
    SUM(value = 3), SUM(value = 4), COUNT(*)
FROM answer_queue GROUP BY quarter, team_id, key_worker_id, checkpoint, item_id
"""


SEED_FIRSTS = """
INSERT INTO answer_firsts (enrolment_id, quarter, checkpoint, answered_at, counted_at)
SELECT c.enrolment_id, QUARTER, c.checkpoint, MIN(a.answered_at), MIN(c.finished_at)
FROM answers a JOIN checkins c ON a.checkin_id = c.id
WHERE c.status IN ('finished', 'closed')
GROUP BY c.enrolment_id, QUARTER, c.checkpoint
""".replace("QUARTER", _quarter("a.answered_at"))


def seed_tallies(path: Path) -> None:
    """Fill the answer tallies of a freshly seeded SQLite file in bulk SQL: what
    ``checkin-bot tallies rebuild`` makes, given that :func:`seed` gives each young person one
    check-in per checkpoint (no answer is ever replaced, so the value first counted is the
    check-in's). ``tests/test_tallies.py`` checks the two agree."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA synchronous=OFF")
        for table in ("answer_queue", "answer_versions", "answer_heads", "answer_firsts"):
            db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        db.execute(SEED_QUEUE)
        db.execute(SEED_HEADS)
        db.execute(SEED_FIRSTS)
        db.commit()
    finally:
        db.close()


async def add_checkins(rt: Runtime, first_id: int, count: int, at: datetime) -> None:
    """``count`` newly enrolled young people are each sent and finish a 3-months check-in in
    this quarter, counted through the real write paths (``storage.reach.note`` as enrolling
    does, ``storage.prompts.plan`` with the time sent, ``storage.tallies.count_checkin`` and
    ``storage.part_tallies.refresh_checkin`` as ``checkins.finish`` does), one transaction
    each."""
    for c in range(first_id, first_id + count):
        person = 10_000_000 + c
        team, worker = (c - 1) % 3 + 1, (c - 1) % 12 + 1
        async with rt.db.transaction() as conn:
            await conn.execute(
                insert(enrolments).values(
                    id=person,
                    pseudonym=secrets.token_hex(8),
                    team_id=team,
                    key_worker_id=worker,
                    language="en",
                    status="active",
                    reachable=True,
                    created_at=at - timedelta(days=1),
                    enrolled_at=at - timedelta(days=1),
                )
            )
            await reach.note(conn, person, at - timedelta(days=1))  # as activate does
            await prompts.plan(  # sent, as the scheduler records it
                conn,
                enrolment_id=person,
                checkpoint="3_months",
                questionnaire_id="quality_experience",
                due_at=at - timedelta(hours=1),
                now=at - timedelta(hours=1),
                status="sent",
                sent_at=at - timedelta(hours=1),
            )
            await conn.execute(
                insert(checkins).values(
                    id=c,
                    enrolment_id=person,
                    checkpoint="3_months",
                    questionnaire_id="quality_experience",
                    questionnaire_version=1,
                    language="en",
                    step="done",
                    status="finished",
                    team_id=team,
                    key_worker_id=worker,
                    shared=False,
                    created_at=at - timedelta(minutes=5),
                    finished_at=at,
                )
            )
            await conn.execute(
                insert(answers),
                [
                    dict(
                        checkin_id=c,
                        item_id=item,
                        item_version=1,
                        value=(c + i) % 4 + 1,
                        answered_at=at - timedelta(seconds=10 * (9 - i)),
                    )
                    for i, item in enumerate(ITEMS)
                ],
            )
            await tallies.count_checkin(conn, c)
            await part_tallies.refresh_checkin(conn, c)  # as checkins.finish does


async def parts_of(rt: Runtime, repeat: int) -> dict[str, float]:
    """The service digest, part by part, as ``compose`` runs it."""
    window, previous = windows(NOW + timedelta(microseconds=1), None)
    starts = [previous.since, window.since]
    k = rt.settings.min_group_size
    t = rt.translator("en")
    parts: dict[str, float] = {}
    got: dict[str, Any] = {}

    def part(name: str, fn: Callable[[Any], Any]) -> Callable[[], Any]:
        async def run() -> Any:
            async with rt.db.read() as conn:
                got[name] = await fn(conn)
            return got[name]

        return run

    reads: dict[str, Callable[[Any], Any]] = {
        "storage.tally_reads.queues (this quarter)": lambda c: tally_reads.queues(
            c, window.since, k
        ),
        "storage.tally_reads.queues (the quarter before)": lambda c: tally_reads.queues(
            c, previous.since, k
        ),
        "storage.tally_reads.queues (response, from the taking-part tallies)": lambda c: (
            tally_reads.queues(c, window.since, k, "response", PARTS, ANSWERED)
        ),
        "storage.tally_reads.queues (reach, from the taking-part tallies)": lambda c: (
            tally_reads.queues(c, window.since, k, "reach", PARTS, REACH_CELL[1])
        ),
        "storage.digests.shared_comment_records": lambda c: digests.shared_comment_records(
            c, window.since, window.until
        ),
        "storage.ledger.released_since": lambda c: ledger.released_since(c, starts),
    }

    for name, fn in reads.items():
        parts[name], _ = await timed(part(name, fn), repeat)
    names = list(reads)

    async def decide() -> Any:
        return build_digest_counted(
            Scope.service(),
            Counted(*got[names[0]]),
            Counted(*got[names[1]]),
            None,
            (),
            (),
            got[names[4]],
            window=window,
            previous_window=previous,
            k=k,
            earlier=got[names[5]],
            now=NOW,
            reader="bench",
            taking_part=TakingPart(Counted(*got[names[2]]), Counted(*got[names[3]])),
        )

    (
        parts["conversations.digest.build_digest_counted (publication, ledger decision)"],
        digest,
    ) = await timed(decide, repeat)
    q = rt.questionnaire
    item_names = {item.id: item.short for item in q.items}

    async def text() -> Any:
        return render_text(digest, t, item_names)

    parts["conversations.digest_text.render_text"], _ = await timed(text, repeat)

    async def chart() -> Any:
        words = ChartWords("title", "axis", "legend", "hidden", "too few")
        checkpoints = {c.checkpoint: c.checkpoint for c in digest.cells}
        return draw_chart(chart_bars(digest), item_names, checkpoints, words, language="en")

    parts[CHART], _ = await timed(chart, repeat)
    return parts


CHART = "conversations.chart.draw_chart (the chart)"
SCOPES = {
    "service": Scope.service(),
    "team": Scope.of_team("North"),
    "key worker": Scope.of_key_worker("North", "1"),
}


async def measure(
    tmp: Path,
    people: int,
    answer_count: int,
    repeat: int,
    scheduler: bool,
    keep: Path | None = None,
) -> dict[str, Any]:
    path = tmp / f"digest-{answer_count}.db"
    settings = load_settings(
        telegram_token=TOKEN,
        telegram_api_url="http://127.0.0.1:9/bot",
        bot_username="checkin_test_bot",
        database_url=f"sqlite+aiosqlite:///{path}",
    )
    rt: Runtime = build_runtime(settings, clock=ManualClock(NOW))
    snapshot = keep / f"digest-{people}-{answer_count}.db" if keep is not None else None
    facts = snapshot.with_suffix(".json") if snapshot is not None else None
    out: dict[str, Any]
    if snapshot is not None and facts is not None and facts.exists():
        shutil.copyfile(snapshot, path)  # seeded before: the same start, without the wait
        out = json.loads(facts.read_text())
    else:
        await rt.db.migrate()
        started = time.perf_counter()
        counts = seed(path, people, answer_count)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        seed_tallies(path)
        out = {
            "counts": counts,
            "seed_seconds": seeded,
            "tally_seconds": time.perf_counter() - started,
        }
        started = time.perf_counter()
        async with rt.db.transaction() as conn:  # what the quarter's first digest does, once
            await part_tallies.ensure_quarter(conn, windows(NOW, None)[0].since, NOW)
        out["part_seconds"] = time.perf_counter() - started
        if snapshot is not None and facts is not None:
            await rt.db.close()
            rt = build_runtime(settings, clock=ManualClock(NOW))
            shutil.copyfile(path, snapshot)
            facts.write_text(json.dumps(out))
    counts = out["counts"]
    async with rt.db.read() as conn:
        window, previous = windows(NOW + timedelta(microseconds=1), None)
        out["queues"] = 0
        for since in (previous.since, window.since):
            found, _ = await tally_reads.queues(conn, since, 5)
            out["queues"] += sum(len(per_leaf) for per_leaf in found.values())
    t = rt.translator("en")
    statements: list[tuple[str, Any]] = []
    with captured(rt.db.engine.sync_engine, statements):
        await compose(rt, Scope.service(), t, NOW, reader="bench")  # warm; records a release
    out["compose"] = {}
    for name, scope in SCOPES.items():

        async def run(scope: Scope = scope) -> Any:
            return await compose(rt, scope, t, NOW, reader="bench")

        out["compose"][name], _ = await timed(run, repeat)
    # The first digest after new answers: new blocks, decided given the earlier releases.
    firsts: list[float] = []
    next_id = counts["checkins"] + 1
    for _ in range(repeat):
        await add_checkins(rt, next_id, 60, NOW - timedelta(minutes=1))
        next_id += 60
        started = time.perf_counter()
        await compose(rt, Scope.service(), t, NOW, reader="bench")
        firsts.append(time.perf_counter() - started)
    out["first_after_new"] = statistics.median(firsts)
    out["parts"] = await parts_of(rt, repeat)
    if scheduler:
        await measure_scheduler(rt, repeat, out)
    await rt.db.close()
    out["plans"] = query_plans(path, statements)
    out["db_mb"] = path.stat().st_size / 1e6
    path.unlink()
    return out


async def measure_scheduler(rt: Runtime, repeat: int, out: dict[str, Any]) -> None:
    """One idle tick, and claiming a batch among 10,000 due prompts."""
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
            return await prompts.claim(
                conn, now=NOW, lease=CLAIM_LEASE, limit=BATCH, worker=rt.worker
            )

    out["claim_batch"], batch = await timed(claim, repeat * 3)
    out["claimed"] = len(batch)


def limit_for(answers_count: int) -> float:
    """The target: under 0.25 s up to 1,000,000 answers, under 1 s at 10,000,000."""
    return 0.25 if answers_count <= 1_000_000 else 1.0


def report(results: list[dict[str, Any]], command: str) -> str:
    rows = []
    for r in results:
        c = r["compose"]
        chart = r["parts"][CHART]
        worst = max(*c.values(), r["first_after_new"])
        limit = limit_for(r["counts"]["answers"])
        verdict = "met" if worst < limit else "missed"
        bare = max(*c.values()) - chart
        rows.append(
            f"| {r['counts']['answers']:,} | {r['counts']['checkins']:,} | {r['queues']:,} "
            f"| {c['service']:.3f} | {c['team']:.3f} | {c['key worker']:.3f} "
            f"| {r['first_after_new']:.3f} | {chart:.3f} | {bare:.3f} "
            f"| {r['db_mb']:.0f} MB, seeded {r['seed_seconds']:.0f} s + tallies "
            f"{r['tally_seconds']:.0f} s + the quarter's taking part {r['part_seconds']:.0f} s "
            f"| **{verdict}** (< {limit} s) |"
        )
    largest = results[-1]
    part_rows = "\n".join(
        f"| `{name}` | " + " | ".join(f"{r['parts'][name] * 1000:.1f}" for r in results) + " |"
        for name in largest["parts"]
    )
    sizes = " | ".join(f"{r['counts']['answers']:,}" for r in results)
    scheduler = next((r for r in results if "tick_idle" in r), None)
    sched = ""
    if scheduler is not None:
        sched = (
            f"**Scheduler among {scheduler['counts']['enrolments']:,} enrolments** (median):\n\n"
            f"| what | seconds |\n|---|---|\n"
            f"| one tick with nothing due (every 30 s) | {scheduler['tick_idle'] * 1000:.1f} ms |\n"
            f"| claim a batch of {scheduler['claimed']} while "
            f"{scheduler['due_before']:,} prompts are due "
            f"| {scheduler['claim_batch'] * 1000:.1f} ms |\n\n"
        )
    people = results[0]["counts"]["enrolments"]
    return (
        f"Command: `{command}`  \nDate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  \n"
        f"Machine: {machine()}\n\n"
        f"Each size: {people:,} young people (3 teams, 12 key workers), finished check-ins of 9 "
        f"answers over this quarter and the one before; the digest reads the answers from the "
        f"answer tallies (`storage/tally_reads.py`: a few rows per cell, key worker and "
        f"release) and decides on them under the release ledger; who answered, reach and a key "
        f"worker's respondents the same way from the taking-part tallies "
        f"(`storage/part_tallies.py`, computed for everyone once, by the quarter's first "
        f"digest: timed apart). "
        f"Median seconds of `conversations.reports.compose` (as `/digest` runs it: "
        f"reading, release ledger decision and recording, text and chart), and of the first "
        f"digest after 60 new check-ins were counted (new blocks decided given the earlier "
        f"release):\n\n"
        f"| answers | check-ins | queues | service | team | key worker | first digest after "
        f"new answers (service) | the chart alone | slowest scope without the chart | database "
        f"| target (every scope and the first digest, chart included) |\n"
        f"|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Where the service digest's time goes (milliseconds, median) at {sizes} answers:\n\n"
        f"| part | "
        + sizes
        + " |\n|---|"
        + "---|" * len(results)
        + "\n"
        + part_rows
        + "\n\n"
        + sched
        + f"Query plans (SQLite `EXPLAIN QUERY PLAN`) of every statement the digest ran (at "
        f"{largest['counts']['answers']:,} answers):\n\n{largest['plans']}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=111_112)
    parser.add_argument(
        "--answers",
        default="100000,1000000,10000000",
        help="comma-separated sizes of the curve (default 100000,1000000,10000000)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tmp", default=None, help="folder for the databases (default: temp)")
    parser.add_argument(
        "--keep",
        default=None,
        help="folder where each freshly seeded database is kept (digest-PEOPLE-ANSWERS.db, with "
        "its seeding times in a .json beside it) and copied from on later runs instead of "
        "seeding again: the same starting state, for iterating on the digest; the seeding "
        "times reported are those of the kept run",
    )
    args = parser.parse_args(argv)
    keep = Path(args.keep) if args.keep else None
    if keep is not None and not keep.is_dir():
        print(f"--keep: {keep} is not a folder")
        return 2
    sizes = [int(a) for a in str(args.answers).split(",")]
    results = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        for index, size in enumerate(sizes):
            results.append(
                asyncio.run(measure(Path(tmp), args.people, size, args.repeat, index == 0, keep))
            )
            print(f"{size:,} answers: {results[-1]['compose']}", flush=True)
    command = (
        f"python -m bench.digest --people {args.people} --answers {args.answers} "
        f"--repeat {args.repeat}" + (f" --keep {keep}" if keep is not None else "")
    )
    body = report(results, command)
    write_section("Digest over stored answers, and the scheduler's claim", body)
    print(body)
    met = all(
        max(*r["compose"].values(), r["first_after_new"]) < limit_for(r["counts"]["answers"])
        for r in results
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
