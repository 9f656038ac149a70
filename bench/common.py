"""What the benchmarks share: a seeded service, a bot against the local Bot API, the results."""

from __future__ import annotations

import platform
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert
from telegram.ext import Application

from bot.app import build_application, build_runtime
from bot.polling import running
from bot.standin import standin_settings
from conversations.questionnaire import DEFAULT_DIR, load_questionnaire
from conversations.runtime import Runtime
from core.clock import ManualClock
from core.settings import DEFAULT_SPEC_PATH
from local_bot_api import LocalBotAPI
from storage.db import Database
from storage.schema import enrolments, prompts, staff, teams

ROOT = Path(__file__).resolve().parents[1]
SPEC = DEFAULT_SPEC_PATH
RESULTS = ROOT / "bench" / "results.md"
TOKEN = "123456:BENCH"
DEFAULT_ITEMS = tuple(
    item.id for item in load_questionnaire(DEFAULT_DIR / "quality_experience.yaml").items
)
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, inside the send window


async def seed(db: Database, people: int, *, due_prompts: bool, now: datetime = NOON) -> None:
    """``people`` enrolled young people in 3 teams of 4 key workers; maybe a due prompt each."""
    async with db.transaction() as conn:
        team_ids = []
        for name in ("North", "South", "East"):
            result = await conn.execute(insert(teams).values(name=name, created_at=now))
            team_ids.append(result.inserted_primary_key[0])  # type: ignore[index]
        workers: list[tuple[int, int]] = []
        for i in range(12):
            team = team_ids[i % 3]
            result = await conn.execute(
                insert(staff).values(
                    name=f"kw{i}", role="key_worker", team_id=team, active=True, created_at=now
                )
            )
            workers.append((result.inserted_primary_key[0], team))  # type: ignore[index]
        rows = []
        for n in range(people):
            worker, team = workers[n % len(workers)]
            rows.append(
                dict(
                    pseudonym=secrets.token_hex(8),
                    team_id=team,
                    key_worker_id=worker,
                    label=f"YP{n}",
                    chat_id=10_000_000 + n,
                    language="en",
                    status="active",
                    reachable=True,
                    created_at=now,
                    enrolled_at=now,
                )
            )
        for start in range(0, people, 5000):
            await conn.execute(insert(enrolments), rows[start : start + 5000])
        if due_prompts:
            ids = range(1, people + 1)
            batch = [
                dict(
                    enrolment_id=i,
                    checkpoint="3_months",
                    questionnaire_id="quality_experience",
                    due_at=now,
                    status="due",
                    next_check_at=now,
                    attempts=0,
                    updated_at=now,
                )
                for i in ids
            ]
            for start in range(0, people, 5000):
                await conn.execute(insert(prompts), batch[start : start + 5000])


@dataclass
class RunningBot:
    api: LocalBotAPI
    rt: Runtime
    app: Application  # type: ignore[type-arg]


@asynccontextmanager
async def running_bot(
    tmp: Path,
    *,
    send_limit: float | None = None,
    send_rate: float = 25.0,
    seed_people: int = 0,
    due_prompts: bool = False,
) -> AsyncIterator[RunningBot]:
    """A migrated, seeded database and the real application against the local Bot API."""
    clock = ManualClock(NOON)
    async with LocalBotAPI(SPEC, token=TOKEN, clock=clock, send_limit_per_second=send_limit) as api:
        database = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        settings = standin_settings(api, database, send_rate=send_rate)
        rt = build_runtime(settings, clock=clock)
        await rt.db.migrate()
        if seed_people:
            await seed(rt.db, seed_people, due_prompts=due_prompts)
        app = build_application(rt, tick_seconds=None)
        async with running(app):
            yield RunningBot(api, rt, app)


def machine() -> str:
    import os

    return (
        f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"Python {sys.version.split()[0]} · {platform.platform()}"
    )


def write_section(name: str, body: str) -> None:
    """Replace (or add) one ``## name`` section of bench/results.md."""
    text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    marker = f"\n## {name}\n"
    head, _, rest = text.partition(marker)
    tail = ""
    if rest:
        nxt = rest.find("\n## ")
        tail = rest[nxt:] if nxt >= 0 else ""
    RESULTS.write_text(head.rstrip("\n") + "\n" + marker + body.rstrip("\n") + "\n" + tail, "utf-8")
