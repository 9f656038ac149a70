""" "You said, we did" as data (pure): the "you said" facts from figures already released to
staff, the "we did" text cleaned, and the update in a young person's words.

The "you said" part is built only from the release ledger: for each statement, the latest
release's figure for the scope's group (the team, or the whole service) when it was *shown* to
staff. A fact says no more than that figure's band: "most of you" only when even the band's
lowest count is at least two thirds of the group, "at least half" when it is at least half,
"fewer than half" when even the highest count is under half; anything in between says nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conversations.disclosure import redact
from conversations.questionnaire import Questionnaire
from core.i18n import Translator
from storage.records import ReleasedCell

Level = str
"""``most``, ``half`` or ``fewer``."""
MAX_FACTS = 3
WE_DID_MAX = 600


@dataclass(frozen=True, slots=True)
class Fact:
    """One "you said": how many of the group answered a statement positively, in words."""

    item_id: str
    level: Level


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
    return [Fact(k, latest[k][1]) for k in ranked[:limit]]


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
