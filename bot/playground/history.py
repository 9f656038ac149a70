"""The playground's "demo history": a few dozen young people with three months of answers.

``checkin-bot playground --demo-history`` adds them to the demo service, so a newcomer sees a
meaningful digest at once instead of answering ten check-ins by hand. The answers are made up
(:func:`answer`, also used by ``bench/synthetic.py``): they drift up from start to 3 months, and
"can turn to key worker" drops at exit in team South, so the digest has something to say.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.playground.demo import DEMO_STAFF
from conversations.runtime import Runtime
from storage import demo, staff
from storage.demo import PastCheckin, PastYoungPerson

YOUNG_PEOPLE = 60
DAYS = 92
COMMENTS = (
    "She helped me with my CV, call me on 07700 900123",
    "More time to talk please",
    "I like our meetings",
    "Sometimes hard to reach him",
    "Helped me find college",
    "He listens to me",
)


def answer(rng: random.Random, checkpoint: str, item: str, south: bool) -> int | None:
    """A made-up answer: 5% skipped; higher later; "turn_to" drops at exit in team South."""
    if rng.random() < 0.05:
        return None
    base = {"start": 2.6, "3_months": 3.1, "exit": 3.3}.get(checkpoint, 3.0)
    if item == "turn_to" and checkpoint == "exit" and south:
        base = 2.2
    return max(1, min(4, round(rng.gauss(base, 0.8))))


def past_checkins(
    rng: random.Random,
    enrolled: datetime,
    now: datetime,
    items: Mapping[str, list[str]],
    south: bool,
) -> tuple[PastCheckin, ...]:
    """Start a day after enrolment; 3 months and, for some, exit, if they have come by now."""
    found = []
    for checkpoint, days in (("start", 1), ("3_months", 91), ("exit", 60)):
        at = enrolled + timedelta(days=days, hours=rng.randint(0, 8))
        if at >= now or (checkpoint == "exit" and rng.random() < 0.6):
            continue
        if rng.random() < 0.15:
            found.append(PastCheckin(checkpoint, at, None))  # asked, never answered
            continue
        values = {item: answer(rng, checkpoint, item, south) for item in items[checkpoint]}
        comment = rng.choice(COMMENTS) if rng.random() < 0.4 else None
        found.append(PastCheckin(checkpoint, at, values, comment, rng.random() < 0.5))
    return tuple(found)


async def seed_history(rt: Runtime, *, seed: int = 12) -> int:
    """Add the demo history to the demo service (its key workers' caseloads); returns how many
    young people were added."""
    rng = random.Random(seed)
    now = rt.clock.now()
    items = {
        checkpoint: [item.id for item in rt.questionnaire.items_for(checkpoint)]
        for checkpoint in ("start", "3_months", "exit")
    }
    versions = {item.id: item.version for item in rt.questionnaire.items}
    workers = [m for m in DEMO_STAFF if m.role == "key_worker"]
    async with rt.db.transaction() as conn:
        ids = []
        for member in workers:
            found = await staff.staff_by_chat(conn, member.user_id)
            assert found is not None, "the demo staff are seeded first"
            assert found.team_id is not None
            ids.append((found.id, found.team_id, member.team == "South"))
        people = []
        for n in range(YOUNG_PEOPLE):
            worker, team, south = ids[n % len(ids)]
            days = (DAYS + 10) * (YOUNG_PEOPLE - n) / YOUNG_PEOPLE
            enrolled = now - timedelta(days=days, hours=rng.randint(0, 12))
            people.append(
                PastYoungPerson(
                    team_id=team,
                    key_worker_id=worker,
                    label=f"H{n + 1:02d}",
                    enrolled_at=enrolled,
                    reachable=rng.random() > 0.08,
                    checkins=past_checkins(rng, enrolled, now, items, south),
                )
            )
        q = rt.questionnaire
        return await demo.insert_history(conn, people, (q.id, q.version), versions)
