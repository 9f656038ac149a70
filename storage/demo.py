"""The playground's demo history: young people with months of past check-ins, written at once.

Only the playground uses this (``checkin-bot playground --demo-history``); the records are made
by ``bot/playground/history.py``. The young people have no chat (nothing is ever sent to them).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.prompt_status import PromptStatus
from storage import reach, tally_rebuild
from storage.schema import answers, checkins, enrolments, prompts


@dataclass(frozen=True)
class PastCheckin:
    """A check-in of the past: finished at ``at`` (``answers`` ``None``: prompted, unanswered)."""

    checkpoint: str
    at: datetime
    answers: Mapping[str, int | None] | None
    comment: str | None = None
    shared: bool = False


@dataclass(frozen=True)
class PastYoungPerson:
    team_id: int
    key_worker_id: int
    label: str
    enrolled_at: datetime
    reachable: bool
    checkins: tuple[PastCheckin, ...]


async def insert_history(
    conn: AsyncConnection,
    people: Sequence[PastYoungPerson],
    questionnaire: tuple[str, int],
    item_versions: Mapping[str, int],
) -> int:
    """Write the young people, their prompts, check-ins and answers; returns how many."""
    questionnaire_id, version = questionnaire
    for person in people:
        result = await conn.execute(
            insert(enrolments).values(
                pseudonym=secrets.token_hex(8),
                team_id=person.team_id,
                key_worker_id=person.key_worker_id,
                label=person.label,
                language="en",
                status="active",
                reachable=person.reachable,
                created_at=person.enrolled_at,
                enrolled_at=person.enrolled_at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        enrolment_id = key[0]
        await reach.note(conn, enrolment_id, person.enrolled_at)  # their reach, from then
        for past in person.checkins:
            checkin_id = None
            if past.answers is not None:
                made = await conn.execute(
                    insert(checkins).values(
                        enrolment_id=enrolment_id,
                        checkpoint=past.checkpoint,
                        questionnaire_id=questionnaire_id,
                        questionnaire_version=version,
                        language="en",
                        step="done",
                        status="finished",
                        team_id=person.team_id,
                        key_worker_id=person.key_worker_id,
                        comment=past.comment,
                        shared=past.shared,
                        created_at=past.at,
                        finished_at=past.at,
                    )
                )
                made_key = made.inserted_primary_key
                assert made_key is not None
                checkin_id = made_key[0]
                await conn.execute(
                    insert(answers),
                    [
                        {
                            "checkin_id": checkin_id,
                            "item_id": item,
                            "item_version": item_versions.get(item, 1),
                            "value": value,
                            "answered_at": past.at,
                        }
                        for item, value in past.answers.items()
                    ],
                )
            await conn.execute(
                insert(prompts).values(
                    enrolment_id=enrolment_id,
                    checkpoint=past.checkpoint,
                    questionnaire_id=questionnaire_id,
                    due_at=past.at,
                    status=PromptStatus.ANSWERED
                    if checkin_id is not None
                    else PromptStatus.EXPIRED,
                    next_check_at=None,
                    sent_at=past.at,
                    checkin_id=checkin_id,
                    attempts=1,
                    updated_at=past.at,
                )
            )
    await tally_rebuild.rebuild(conn)  # counted as if in time order, as they would have been
    return len(people)
