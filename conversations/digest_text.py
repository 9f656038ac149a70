"""Staff digests in plain words: findings first, then the numbers (rendering only).

Every sentence is a literal ``gettext``/``ngettext`` call filled with ``.format()`` after
translation, so Babel extracts it and translators see whole sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Protocol

from conversations.digest import (
    CellFigures,
    Digest,
    Finding,
    checkpoint_order,
)
from conversations.wording import checkpoint_name

# ---------------------------------------------------------------------------------------------
# Plain text


class Translator(Protocol):
    """What :func:`render_text` needs from a translator (``core.i18n.Translator`` fits)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...

    def isolate(self, value: object) -> str: ...

    def date(self, value: date) -> str: ...


def answer_label(value: int, t: Translator) -> str:
    """A scale value's answer text."""
    labels = {
        4: t.gettext("Yes, definitely"),
        3: t.gettext("Mostly"),
        2: t.gettext("Not really"),
        1: t.gettext("No"),
    }
    return labels[value]


def finding_sentence(finding: Finding, t: Translator, item: str) -> str:
    """One finding in plain words."""
    if finding.kind == "exit_vs_3_months":
        sentences = {
            "fewer": t.gettext(
                "Fewer young people answered positively about “{item}” at exit than at 3 months."
            ),
            "more": t.gettext(
                "More young people answered positively about “{item}” at exit than at 3 months."
            ),
            "same": t.gettext("No clear change about “{item}” between 3 months and exit."),
        }
        return sentences[finding.direction].format(item=item)
    sentences = {
        "fewer": t.gettext(
            "Fewer young people answered positively about “{item}” than in the previous period"
            " (check-in: {checkpoint})."
        ),
        "more": t.gettext(
            "More young people answered positively about “{item}” than in the previous period"
            " (check-in: {checkpoint})."
        ),
        "same": t.gettext(
            "No clear change about “{item}” since the previous period (check-in: {checkpoint})."
        ),
    }
    label = checkpoint_name(t, finding.checkpoint, staff=True)
    return sentences[finding.direction].format(item=item, checkpoint=label)


def _title(digest: Digest, t: Translator) -> list[str]:
    if digest.scope.kind == "service":
        title = t.gettext("Check-in digest for the whole service")
    elif digest.scope.kind == "team":
        title = t.gettext("Check-in digest for team {team}").format(team=digest.scope.team)
    else:
        title = t.gettext("Check-in digest for your young people")
    lines = [title]
    lines.append(
        t.gettext("From {since} to {until}").format(
            since=t.date(digest.window.since.date()),
            until=t.date(digest.window.until.date()),
        )
    )
    if digest.fallback_to_team:
        lines.append(
            t.gettext(
                "Fewer than {k} of your young people answered in this period, so these are your"
                " team's figures."
            ).format(k=digest.k)
        )
    return lines


def _findings_lines(digest: Digest, t: Translator, items: Mapping[str, str]) -> list[str]:
    lines = ["", t.gettext("What stands out")]
    if not digest.findings:
        lines.append(t.gettext("Nothing to compare yet: not enough answers have come in."))
    lines.extend(
        "- " + finding_sentence(f, t, items.get(f.item_id, f.item_id)) for f in digest.findings
    )
    return lines


def _cell_lines(cell: CellFigures, t: Translator, item: str) -> list[str]:
    if cell.status == "withheld":
        return [
            t.gettext("{item}: not shown, so that no one's answers can be worked out.").format(
                item=item
            )
        ]
    if cell.share is None or cell.positive is None:
        if cell.respondents:
            text = t.ngettext(
                "{item}: {n} young person answered, not enough answers yet to show a share.",
                "{item}: {n} young people answered, not enough answers yet to show a share.",
                cell.respondents,
            )
            return [text.format(item=item, n=cell.respondents)]
        return [t.gettext("{item}: not enough answers yet.").format(item=item)]
    # Translators: {low}–{high}% is a range of percentages; {low_n}–{high_n} a range of people.
    head = t.ngettext(
        "{item}: {low}–{high}% answered positively ({low_n}–{high_n} of {n} young person).",
        "{item}: {low}–{high}% answered positively ({low_n}–{high_n} of {n} young people).",
        cell.respondents,
    )
    lines = [
        head.format(
            item=item,
            low=cell.share.low,
            high=cell.share.high,
            low_n=cell.positive.lo,
            high_n=cell.positive.hi,
            n=cell.respondents,
        )
    ]
    for value, rng in reversed(cell.distribution or ()):
        # Translators: one answer of the scale and how many gave it, e.g. "Mostly: 5–9".
        line = t.gettext("{answer}: {low}–{high}")
        lines.append("    " + line.format(answer=answer_label(value, t), low=rng.lo, high=rng.hi))
    return lines


def _numbers_lines(digest: Digest, t: Translator, items: Mapping[str, str]) -> list[str]:
    lines = ["", t.gettext("The numbers")]
    order = {item: i for i, item in enumerate(items)}
    checkpoints = sorted({c.checkpoint for c in digest.cells}, key=checkpoint_order)
    for checkpoint in checkpoints:
        label = checkpoint_name(t, checkpoint, staff=True)
        lines.append(t.gettext("Check-in: {checkpoint}").format(checkpoint=label))
        cells = [c for c in digest.cells if c.checkpoint == checkpoint]
        cells.sort(key=lambda c: (order.get(c.item_id, len(order)), c.item_id))
        for cell in cells:
            lines.extend(_cell_lines(cell, t, items.get(cell.item_id, cell.item_id)))
    if not checkpoints:
        lines.append(t.gettext("There are not enough answers yet to show any figures."))
    return lines


def _people_lines(digest: Digest, t: Translator) -> list[str]:
    lines = ["", t.gettext("Who answered")]
    for r in digest.response:
        label = checkpoint_name(t, r.checkpoint, staff=True)
        if r.answered is None:
            text = t.gettext(
                "Check-in “{checkpoint}”: too few young people were asked to show this."
            )
            lines.append(text.format(checkpoint=label))
            continue
        text = t.ngettext(
            "Check-in “{checkpoint}”: {low}–{high} of the {n} young person asked answered.",
            "Check-in “{checkpoint}”: {low}–{high} of the {n} young people asked answered.",
            r.prompted,
        )
        lines.append(
            text.format(checkpoint=label, low=r.answered.lo, high=r.answered.hi, n=r.prompted)
        )
    reach = digest.reach
    if not digest.response and reach.unreachable is None:
        lines.append(t.gettext("Too few young people were asked in this period to show this."))
    if reach.unreachable is not None:
        text = t.ngettext(
            "{low}–{high} of {n} young person can no longer be reached.",
            "{low}–{high} of {n} young people can no longer be reached.",
            reach.young_people,
        )
        lines.append(
            text.format(low=reach.unreachable.lo, high=reach.unreachable.hi, n=reach.young_people)
        )
    return lines


def _comment_lines(digest: Digest, t: Translator) -> list[str]:
    lines = ["", t.gettext("Shared comments")]
    if digest.comments is None:
        text = t.gettext("Comments appear once at least {k} young people have shared one.")
        return [*lines, text.format(k=digest.k)]
    return lines + ["- " + t.gettext("“{comment}”").format(comment=c) for c in digest.comments]


def render_text(digest: Digest, translator: Translator, item_texts: Mapping[str, str]) -> str:
    """The digest as plain text: title, findings in words, then the numbers.

    *item_texts* maps statement ids to short names, already translated; its order is the order
    of statements in the text.
    """
    t = translator
    lines = _title(digest, t)
    lines += _findings_lines(digest, t, item_texts)
    lines += _numbers_lines(digest, t, item_texts)
    lines += _people_lines(digest, t)
    lines += _comment_lines(digest, t)
    return "\n".join(lines)
