"""Exports for evaluation: suppressed aggregates by default, pseudonymous rows on request.

Pure functions from records to CSV rows. No Telegram id, no label, no free text ever appears:
respondents are the random pseudonyms storage keeps for this purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from conversations.digest import (
    Scope,
    Window,
    build_digest,
    checkpoint_order,
)
from storage.records import AnswerRecord, PopulationRecord

AGGREGATE_HEADER = [
    "scope",
    "checkpoint",
    "item_id",
    "status",
    "respondents",
    "positive_low",
    "positive_high",
    "positive_share_low_pct",
    "positive_share_high_pct",
    "yes_definitely_low",
    "yes_definitely_high",
    "mostly_low",
    "mostly_high",
    "not_really_low",
    "not_really_high",
    "no_low",
    "no_high",
]
ROWS_HEADER = ["respondent", "team", "key_worker", "checkpoint", "item_id", "value", "answered_on"]
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def aggregate_rows(
    answers: Sequence[AnswerRecord],
    people: Sequence[PopulationRecord],
    teams: Iterable[str],
    now: datetime,
    k: int,
) -> tuple[list[str], list[list[object]]]:
    """Figures for the service and each team over all time, under the digests' suppression."""
    window = Window(EPOCH, now + timedelta(seconds=1))
    rows: list[list[object]] = []
    scopes = [Scope.service(), *(Scope.of_team(team) for team in sorted(teams))]
    for scope in scopes:
        digest = build_digest(scope, answers, people, (), window=window, k=k)
        if digest.group != scope:
            continue  # too few respondents for this team to be shown on its own
        name = "service" if scope.kind == "service" else f"team:{scope.team}"
        cells = sorted(digest.cells, key=lambda c: (checkpoint_order(c.checkpoint), c.item_id))
        for cell in cells:
            row: list[object] = [
                name,
                cell.checkpoint,
                cell.item_id,
                cell.status,
                cell.respondents or "",
            ]
            if cell.positive is not None and cell.share is not None:
                row += [cell.positive.lo, cell.positive.hi, cell.share.low, cell.share.high]
            else:
                row += ["", "", "", ""]
            ranges = dict(cell.distribution or ())
            for value in (4, 3, 2, 1):
                found = ranges.get(value)
                row += [found.lo, found.hi] if found is not None else ["", ""]
            rows.append(row)
    return AGGREGATE_HEADER, rows


def answer_rows(answers: Iterable[AnswerRecord]) -> tuple[list[str], list[list[object]]]:
    """One row per answer with pseudonymous ids and the date only (admins only; audited)."""
    rows: list[list[object]] = [
        [
            a.respondent,
            a.team,
            a.key_worker,
            a.checkpoint,
            a.item_id,
            "" if a.value is None else a.value,
            a.answered_at.date().isoformat(),
        ]
        for a in sorted(answers, key=lambda a: (a.respondent, a.answered_at, a.item_id))
    ]
    return ROWS_HEADER, rows
