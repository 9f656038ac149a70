"""A realistic synthetic service (3 teams, 12 key workers, 300 young people) and its digests.

Writes ``bench/synthetic-digest.txt`` (the service's and team North's digests, as a manager and an
admin get them) and ``bench/synthetic-digest.png`` (the service chart). Run:
``python -m bench.synthetic``.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.common import DEFAULT_ITEMS
from bot.app import build_runtime
from bot.playground import history
from conversations.digest import Scope
from conversations.reports import compose
from core.clock import ManualClock
from core.settings import load_settings
from storage.schema import answers, checkins, enrolments, prompts, staff, teams

HERE = Path(__file__).resolve().parent
ITEMS = DEFAULT_ITEMS
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
COMMENTS = (
    "She helped me with my CV, call me on 07700 900123",
    "More time to talk please",
    "I like our meetings",
    "Sometimes hard to reach him",
    "Helped me find college",
    "Good",
    "He listens to me",
    "I want more help with housing",
)


def answer(rng: random.Random, checkpoint: str, item: str, team: int) -> int | None:
    """Answers drift up from start to 3 months; 'turn_to' drops at exit in team South."""
    return history.answer(rng, checkpoint, item, south=team == 1)


async def seed_service(url: str, rng: random.Random) -> None:
    from storage.db import Database

    db = Database(url)
    await db.migrate()
    async with db.transaction() as conn:
        team_ids = [
            (await conn.execute(insert(teams).values(name=n, created_at=NOW))).inserted_primary_key[  # type: ignore[index]
                0
            ]
            for n in ("North", "South", "East")
        ]
        workers = [
            (
                (  # type: ignore[index]
                    await conn.execute(
                        insert(staff).values(
                            name=f"Key worker {i + 1}",
                            role="key_worker",
                            team_id=team_ids[i % 3],
                            active=True,
                            created_at=NOW,
                        )
                    )
                ).inserted_primary_key[0],
                i % 3,
            )
            for i in range(12)
        ]
        for n in range(300):
            worker, team = workers[n % 12]
            enrolled = datetime(2026, 4, 2, tzinfo=UTC) + timedelta(hours=n)
            eid = (
                await conn.execute(
                    insert(enrolments).values(
                        pseudonym=secrets.token_hex(8),
                        team_id=team_ids[team],
                        key_worker_id=worker,
                        label=f"YP{n}",
                        chat_id=50_000 + n,
                        language="en",
                        status="active",
                        reachable=rng.random() > 0.06,
                        created_at=enrolled,
                        enrolled_at=enrolled,
                    )
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for offset, checkpoint in ((0, "start"), (40, "3_months"), (70, "exit")):
                at = enrolled + timedelta(days=offset)
                if at >= NOW or (checkpoint != "start" and rng.random() < 0.3):
                    continue
                await conn.execute(
                    insert(prompts).values(
                        enrolment_id=eid,
                        checkpoint=checkpoint,
                        questionnaire_id="quality_experience",
                        due_at=at,
                        status="answered",
                        sent_at=at,
                        attempts=1,
                        updated_at=at,
                    )
                )
                if rng.random() < 0.2:
                    continue  # prompted, never answered
                shared = rng.random() < 0.5
                cid = (
                    await conn.execute(
                        insert(checkins).values(
                            enrolment_id=eid,
                            checkpoint=checkpoint,
                            questionnaire_id="quality_experience",
                            questionnaire_version=1,
                            language="en",
                            step="done",
                            status="finished",
                            team_id=team_ids[team],
                            key_worker_id=worker,
                            shared=shared,
                            created_at=at,
                            finished_at=at,
                            comment=rng.choice(COMMENTS) if rng.random() < 0.5 else None,
                        )
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                await conn.execute(
                    insert(answers),
                    [
                        dict(
                            checkin_id=cid,
                            item_id=item,
                            item_version=1,
                            value=answer(rng, checkpoint, item, team),
                            answered_at=at,
                        )
                        for item in ITEMS
                    ],
                )
    await db.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'synthetic.db'}"
        await seed_service(url, random.Random(7))
        settings = load_settings(database_url=url, bot_username="checkin_test_bot")
        rt = build_runtime(settings, clock=ManualClock(NOW))
        t = rt.translator("en")
        service = await compose(rt, Scope.service(), t, NOW, reader="bench")
        north = await compose(rt, Scope.of_team("North"), t, NOW, reader="bench")
        await rt.db.close()
    text = "\n\n".join(
        (
            "# As an admin gets it (/digest)\n\n" + service.text,
            "# As team North's manager gets it (/digest)\n\n" + north.text,
        )
    )
    (HERE / "synthetic-digest.txt").write_text(text + "\n", "utf-8")
    assert service.chart is not None, "the synthetic service is large enough to show figures"
    (HERE / "synthetic-digest.png").write_bytes(service.chart)
    print(text)
    print(f"\nchart: {HERE / 'synthetic-digest.png'}")


if __name__ == "__main__":
    asyncio.run(main())
