"""Exports for evaluation: suppressed aggregates by default, pseudonymous rows on request.

Pure functions from records to CSV rows. No Telegram id, no label, no free text ever appears:
respondents are the random pseudonyms storage keeps for this purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from conversations.digest import (
    CellFigures,
    Scope,
    Window,
    checkpoint_order,
    digest_of_queues,
    quarter_windows,
    taking_part,
)
from conversations.publication import CellQueues, latest_answers, queues_of_records
from storage.records import AnswerRecord, PopulationRecord, ReleasedCell

AGGREGATE_HEADER = [
    "quarter",
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


def quarters(answers: Iterable[AnswerRecord], now: datetime) -> list[Window]:
    """Every calendar quarter from the first answer to now (the last one so far)."""
    times = [a.answered_at for a in answers]
    if not times:
        return []
    found: list[Window] = []
    current = quarter_windows(now + timedelta(microseconds=1))[0]
    while True:
        found.append(current)
        if current.since <= min(times):
            return found[::-1]
        current = quarter_windows(current.since)[1]


def aggregate_rows(
    answers: Sequence[AnswerRecord],
    people: Sequence[PopulationRecord],
    teams: Iterable[str],
    now: datetime,
    k: int,
    earlier: Sequence[ReleasedCell] = (),
    queues: Mapping[datetime, CellQueues] | None = None,
) -> tuple[list[str], list[list[object]], list[ReleasedCell]]:
    """Figures for the service and each team, per calendar quarter, exactly as the digests
    publish them (the same release ledger); and the new releases to record first. *queues*:
    the stored tallies per quarter (``storage/tallies.py``), as digests read them; without
    them, the queues the answers make."""
    rows: list[list[object]] = []
    scopes = [Scope.service(), *(Scope.of_team(team) for team in sorted(teams))]
    new: list[ReleasedCell] = []
    for window in quarters(answers, now):
        answered = {(r.respondent, r.checkpoint) for r in answers if r.answered_at in window}
        part = taking_part(people, answered)
        if queues is None:
            latest = latest_answers(answers, window.since, window.until)
            cells = {window.since: queues_of_records(latest)}
        else:
            cells = {window.since: dict(queues.get(window.since, {}))}
        for index, scope in enumerate(scopes):
            digest = digest_of_queues(
                scope,
                (scope, False),
                cells,
                part,
                (),
                window=window,
                k=k,
                earlier=earlier,
                now=now,
                reader="export",
            )
            if index == 0:
                new += [r for r in digest.releases if r.kind == "answers"]
            rows += _cell_rows(window, scope, digest.cells)
    return AGGREGATE_HEADER, rows, new


def _cell_rows(window: Window, scope: Scope, cells: Iterable[CellFigures]) -> list[list[object]]:
    rows: list[list[object]] = []
    name = "service" if scope.kind == "service" else f"team:{scope.team}"
    for cell in sorted(cells, key=lambda c: (checkpoint_order(c.checkpoint), c.item_id)):
        row: list[object] = [
            window.since.date().isoformat(),
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
    return rows


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
