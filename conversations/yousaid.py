""" "You said, we did" as data (pure): the "you said" facts from figures already released to
staff, the "we did" text cleaned, and the update in a young person's words.

The "you said" part is built only from the release ledger: for each statement, the latest
release's figure for the scope's group (the team, or the whole service) when it was *shown* to
staff. A fact says no more than that figure's band: "most of you" only when even the band's
lowest count is at least two thirds of the group, "at least half" when it is at least half,
"fewer than half" when even the highest count is under half; anything in between says nothing.

Each sentence is itself a figure shown (to young people), so it is written to the release ledger
when the update is sent (:func:`said_releases`, kind ``yousaid``): the count range the words
allow (:func:`said_range`), for the same group, statement, checkpoint and quarter as the figure
it came from. That range always holds the released band, so a sentence tells a reader of the
ledger nothing the ledger did not already hold (tested in ``tests/test_ledger_updates.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from conversations.disclosure import redact
from conversations.questionnaire import Questionnaire
from core.i18n import Translator
from storage.records import ReleasedCell, ReleasedFigure

Level = str
"""``most``, ``half`` or ``fewer``."""
MAX_FACTS = 3
WE_DID_MAX = 600


@dataclass(frozen=True, slots=True)
class Fact:
    """One "you said": how many of the group answered a statement positively, in words.

    The figure it came from: ``checkpoint``, the quarter starting ``since``, a group of ``size``
    (empty for updates drafted before the ledger recorded them)."""

    item_id: str
    level: Level
    checkpoint: str = ""
    since: datetime | None = None
    size: int = 0


def level_of(size: int, positive: tuple[int, int]) -> Level | None:
    """The words a released band allows, or None when the band allows no plain sentence."""
    low, high = positive
    if size <= 0:
        return None
    if 3 * low >= 2 * size:
        return "most"
    if 2 * low >= size:
        return "half"
    if 2 * high < size:
        return "fewer"
    return None


def said_range(size: int, level: Level) -> tuple[int, int]:
    """How many of *size* answered positively, as far as the words of *level* say."""
    if level == "most":
        return (-(-2 * size // 3), size)
    if level == "half":
        return (-(-size // 2), size)
    return (0, -(-size // 2) - 1)


def said_releases(
    facts: Iterable[Fact], team: str | None, now: datetime, reader: str
) -> list[ReleasedCell]:
    """What the release ledger records for an update's "you said" sentences (kind ``yousaid``):
    per fact, the range its words allow for the group it came from."""
    found = []
    for fact in facts:
        if fact.since is None or fact.size <= 0:
            continue
        said = said_range(fact.size, fact.level)
        figure = ReleasedFigure(team, None, "shown", fact.size, said, None)
        found.append(
            ReleasedCell(
                fact.since, "yousaid", fact.checkpoint, fact.item_id, now, reader, (), (figure,)
            )
        )
    return found


def facts_from(
    cells: Iterable[ReleasedCell], team: str | None, q: Questionnaire, limit: int = MAX_FACTS
) -> list[Fact]:
    """The "you said" facts of a team (``team`` None: the service) from released cells: per
    statement its latest shown figure, strongest first, at most ``limit``."""
    latest: dict[str, tuple[ReleasedCell, Level, float]] = {}
    for cell in cells:
        if cell.kind != "answers":
            continue
        for figure in cell.figures:
            if figure.team != team or figure.key_worker is not None:
                continue
            if figure.status != "shown" or figure.positive is None:
                continue
            level = level_of(figure.size, figure.positive)
            seen = latest.get(cell.item_id)
            if level is not None and (seen is None or seen[0].released_at <= cell.released_at):
                latest[cell.item_id] = (cell, level, figure.positive[0] / figure.size)
    order = {item.id: n for n, item in enumerate(q.items)}
    ranked = sorted((k for k in latest if k in order), key=lambda k: (-latest[k][2], order[k]))
    return [
        Fact(k, latest[k][1], latest[k][0].checkpoint, latest[k][0].since, size)
        for k in ranked[:limit]
        for size in [_size(latest[k][0], team)]
    ]


def _size(cell: ReleasedCell, team: str | None) -> int:
    return next(f.size for f in cell.figures if f.team == team and f.key_worker is None)


def encode_facts(facts: list[Fact]) -> str:
    """``item:level:checkpoint:size:since`` per fact (``item:level`` in older drafts)."""
    return ",".join(
        f"{f.item_id}:{f.level}"
        + (f":{f.checkpoint}:{f.size}:{f.since.isoformat()}" if f.since is not None else "")
        for f in facts
    )


def decode_facts(text: str) -> list[Fact]:
    facts = []
    for part in text.split(","):
        fields = part.split(":", 4)
        if len(fields) == 5:
            item, level, checkpoint, size, since = fields
            facts.append(Fact(item, level, checkpoint, datetime.fromisoformat(since), int(size)))
        elif len(fields) >= 2:
            facts.append(Fact(fields[0], fields[1]))
    return facts


def clean_we_did(text: str) -> str:
    """The manager's text as young people will read it: phone numbers, e-mail addresses,
    @handles and chat links removed (as in shared comments), spaces tidied."""
    return " ".join(redact(text).split())


def you_said(t: Translator, q: Questionnaire, facts: Iterable[Fact]) -> list[str]:
    """The templated "you said" sentences, in ``t``'s language."""
    lines = []
    for fact in facts:
        statement = t.isolate(t.pgettext(q.context(fact.item_id), q.item(fact.item_id).text))
        if fact.level == "most":
            lines.append(t._("Most of you agreed: {statement}").format(statement=statement))
        elif fact.level == "half":
            lines.append(
                t._("At least half of you agreed: {statement}").format(statement=statement)
            )
        else:
            lines.append(
                t._("Fewer than half of you agreed: {statement}").format(statement=statement)
            )
    return lines


def render(
    t: Translator,
    q: Questionnaire,
    facts: Iterable[Fact],
    we_did: str,
    *,
    untranslated_from: str | None = None,
) -> str:
    """The whole update as one young person reads it; ``untranslated_from``: the name of the
    language ``we_did`` is written in when it is not the reader's."""
    parts = [t._("📣 You said, we did"), "\n".join(f"• {line}" for line in you_said(t, q, facts))]
    did = [t._("What we did:"), t.isolate(we_did)]
    if untranslated_from is not None:
        did.append(
            t._("(This part is in {language}: there is no translation yet.)").format(
                language=untranslated_from
            )
        )
    parts.append("\n".join(did))
    return t.message("\n\n".join(part for part in parts if part))
