"""Staff digests in plain words: the gist first, then the numbers (rendering only), in
Telegram's HTML (headings in bold, everything inserted escaped).

Every sentence is a literal ``gettext``/``ngettext`` call filled with ``.format()`` after
translation, so Babel extracts it and translators see whole sentences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from html import escape, unescape
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

    def pgettext(self, context: str, message: str) -> str: ...

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str: ...

    def isolate(self, value: object) -> str: ...

    def date(self, value: date | datetime) -> str: ...


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


def _b(text: str) -> str:
    """A heading: bold in Telegram's HTML (the text is escaped first)."""
    return f"<b>{escape(text, quote=False)}</b>"


def _e(text: str) -> str:
    return escape(text, quote=False)


def _title(digest: Digest, t: Translator) -> list[str]:
    if digest.scope.kind == "service":
        title = t.gettext("Check-in digest for the whole service")
    elif digest.scope.kind == "team":
        title = t.gettext("Check-in digest for team {team}").format(
            team=t.isolate(digest.scope.team)
        )
    else:
        title = t.gettext("Check-in digest for your young people")
    period = t.pgettext("staff", "{since} to {until}").format(
        since=t.date(digest.window.since), until=t.date(digest.window.until)
    )
    return [_b(title), _e(period), _e(_whose(digest, t))]


def _whose(digest: Digest, t: Translator) -> str:
    """What "these figures" means for this reader."""
    team = t.isolate(digest.group.team)
    if digest.fallback_to_team:
        return t.pgettext(
            "staff",
            "Fewer than {k} of your young people have answered so far, so you see your team's"
            " figures: every young person in team {team}, yours among them.",
        ).format(k=digest.k, team=team)
    if digest.group.kind == "key_worker":
        return t.pgettext("staff", "These figures are about your own young people only.")
    if digest.group.kind == "team":
        return t.pgettext(
            "staff", "These figures are about every young person in team {team}."
        ).format(team=team)
    return t.pgettext("staff", "These figures are about every young person in the service.")


def _shown(digest: Digest) -> list[CellFigures]:
    return [c for c in digest.cells if c.share is not None]


def _summary_lines(digest: Digest, t: Translator, items: Mapping[str, str]) -> list[str]:
    """Plain words first: how many answers count, what changed, what stands out."""
    lines = ["", _b(t.gettext("What stands out"))]
    counted = _counted(digest, t)
    if counted:
        lines.append(_e(counted))
    clear = [f for f in digest.findings if f.direction != "same"]
    for finding in clear[:3]:
        lines.append(_e(finding_sentence(finding, t, items.get(finding.item_id, finding.item_id))))
    if digest.findings and not clear:
        lines.append(
            _e(
                t.pgettext(
                    "staff",
                    "No clear change: the figures overlap with the previous quarter's and between"
                    " 3 months and exit.",
                )
            )
        )
    shown = _shown(digest)
    if shown:
        lines.extend(_e(line) for line in _extremes(shown, t, items))
    if not shown:
        lines.append(_e(t.pgettext("staff", "Not enough answers yet to show any share.")))
    elif not digest.findings:
        lines.append(
            _e(
                t.pgettext(
                    "staff",
                    "Nothing to compare with yet: there are no figures from the previous quarter"
                    " or from both 3 months and exit for the same statement.",
                )
            )
        )
    lines.append(
        _e(
            t.pgettext(
                "staff",
                "Why ranges: answers are counted in groups of {k} young people and shown as"
                " ranges, and some figures are hidden, so that no one's answers can be worked"
                " out. Figures move in steps of {k}.",
            ).format(k=digest.k)
        )
    )
    return lines


def _counted(digest: Digest, t: Translator) -> str | None:
    """How many young people's answers the figures hold, per checkpoint."""
    per_checkpoint: dict[str, int] = {}
    for cell in digest.cells:
        per_checkpoint[cell.checkpoint] = max(
            per_checkpoint.get(cell.checkpoint, 0), cell.respondents
        )
    parts = [
        t.npgettext(
            "staff", "{n} young person at {checkpoint}", "{n} young people at {checkpoint}", n
        ).format(n=n, checkpoint=checkpoint_name(t, checkpoint, staff=True))
        for checkpoint, n in sorted(per_checkpoint.items(), key=lambda kv: checkpoint_order(kv[0]))
        if n
    ]
    if not parts:
        return None
    return t.pgettext("staff", "Answers counted so far: {parts}.").format(parts=", ".join(parts))


def _extremes(shown: list[CellFigures], t: Translator, items: Mapping[str, str]) -> list[str]:
    """The most and least positive statements, when their ranges do not overlap."""
    high = max(shown, key=lambda c: (c.share.low if c.share else 0, c.item_id))
    low = min(shown, key=lambda c: (c.share.high if c.share else 100, c.item_id))
    if high.share is None or low.share is None or low.share.high >= high.share.low:
        return []
    sentence = t.pgettext(
        "staff",
        "Most positive: “{high}” ({high_low}–{high_high}% at {high_checkpoint}). Least positive:"
        " “{low}” ({low_low}–{low_high}% at {low_checkpoint}).",
    )
    return [
        sentence.format(
            high=items.get(high.item_id, high.item_id),
            high_low=high.share.low,
            high_high=high.share.high,
            high_checkpoint=checkpoint_name(t, high.checkpoint, staff=True),
            low=items.get(low.item_id, low.item_id),
            low_low=low.share.low,
            low_high=low.share.high,
            low_checkpoint=checkpoint_name(t, low.checkpoint, staff=True),
        )
    ]


def _cell_lines(cell: CellFigures, t: Translator, item: str, k: int) -> list[str]:
    """One statement's figures (or several statements' with the very same figures: *item*
    names them all)."""
    if cell.status == "withheld":
        return [
            t.gettext("{item}: not shown, so that no one's answers can be worked out.").format(
                item=item
            )
        ]
    if cell.share is None or cell.positive is None:
        if cell.respondents:
            text = t.npgettext(
                "staff",
                "{item}: {n} young person answered; a share shows once {m} have.",
                "{item}: {n} young people answered; a share shows once {m} have.",
                cell.respondents,
            )
            need = max(2 * k, cell.respondents + k)  # the next block, and enough for a band
            return [text.format(item=item, n=cell.respondents, m=need)]
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
    if cell.distribution:
        # Translators: one answer of the scale and how many gave it, e.g. "Mostly: 5–9".
        line = t.gettext("{answer}: {low}–{high}")
        parts = [
            line.format(answer=answer_label(value, t), low=rng.lo, high=rng.hi)
            for value, rng in reversed(cell.distribution)
        ]
        lines.append("    " + " · ".join(parts))
    return lines


def _numbers_lines(digest: Digest, t: Translator, items: Mapping[str, str]) -> list[str]:
    lines = ["", _b(t.gettext("The numbers"))]
    order = {item: i for i, item in enumerate(items)}
    checkpoints = sorted({c.checkpoint for c in digest.cells}, key=checkpoint_order)
    for checkpoint in checkpoints:
        label = checkpoint_name(t, checkpoint, staff=True)
        lines.append(_b(t.gettext("Check-in: {checkpoint}").format(checkpoint=label)))
        cells = [c for c in digest.cells if c.checkpoint == checkpoint]
        cells.sort(key=lambda c: (order.get(c.item_id, len(order)), c.item_id))
        groups: dict[tuple[object, ...], list[CellFigures]] = {}
        for cell in cells:
            key = (cell.status, cell.respondents, cell.positive, cell.distribution)
            groups.setdefault(key, []).append(cell)
        for same in groups.values():
            if len(same) == len(cells) and len(cells) > 2:
                name = t.npgettext(
                    "staff", "The {n} statement", "Each of the {n} statements", len(cells)
                ).format(n=len(cells))
            else:
                name = ", ".join(items.get(c.item_id, c.item_id) for c in same)
            lines.extend(_e(line) for line in _cell_lines(same[0], t, name, digest.k))
    if not checkpoints:
        lines.append(_e(t.gettext("There are not enough answers yet to show any figures.")))
    return lines


def _people_lines(digest: Digest, t: Translator) -> list[str]:
    lines = ["", _b(t.gettext("Who answered"))]
    for r in digest.response:
        label = checkpoint_name(t, r.checkpoint, staff=True)
        if r.answered is None and r.status == "withheld":  # enough asked, but it would tell
            text = t.gettext("{item}: not shown, so that no one's answers can be worked out.")
            lines.append(_e(text.format(item=label)))
            continue
        if r.answered is None:
            text = t.pgettext(
                "staff", "At {checkpoint}: too few young people were asked to show this."
            )
            lines.append(_e(text.format(checkpoint=label)))
            continue
        text = t.npgettext(
            "staff",
            "At {checkpoint}: {low}–{high} of the {n} young person asked answered.",
            "At {checkpoint}: {low}–{high} of the {n} young people asked answered.",
            r.prompted,
        )
        lines.append(
            _e(text.format(checkpoint=label, low=r.answered.lo, high=r.answered.hi, n=r.prompted))
        )
    reach = digest.reach
    if not digest.response and reach.unreachable is None:
        lines.append(_e(t.gettext("Too few young people were asked in this period to show this.")))
    if reach.unreachable is not None:
        if reach.unreachable.lo == 0:
            text = t.npgettext(
                "staff",
                "Can no longer be reached: fewer than {k} of {n} young person, possibly none.",
                "Can no longer be reached: fewer than {k} of {n} young people, possibly none.",
                reach.young_people,
            )
            lines.append(_e(text.format(k=reach.unreachable.hi + 1, n=reach.young_people)))
        else:
            text = t.ngettext(
                "{low}–{high} of {n} young person can no longer be reached.",
                "{low}–{high} of {n} young people can no longer be reached.",
                reach.young_people,
            )
            lines.append(
                _e(
                    text.format(
                        low=reach.unreachable.lo, high=reach.unreachable.hi, n=reach.young_people
                    )
                )
            )
    return lines


def _comment_lines(digest: Digest, t: Translator) -> list[str]:
    lines = ["", _b(t.gettext("Shared comments"))]
    if digest.comments is None:
        text = t.gettext("Comments appear once at least {k} young people have shared one.")
        return [*lines, _e(text.format(k=digest.k))]
    return lines + [_e("- " + t.gettext("“{comment}”").format(comment=c)) for c in digest.comments]


def render_text(digest: Digest, translator: Translator, item_texts: Mapping[str, str]) -> str:
    """The digest in Telegram HTML: title and whose figures these are, the gist in plain words,
    then the numbers (statements with the same figures on one line), who answered, comments.

    *item_texts* maps statement ids to short names, already translated; its order is the order
    of statements in the text. :func:`plain` gives the same without markup.
    """
    t = translator
    lines = _title(digest, t)
    lines += _summary_lines(digest, t, item_texts)
    lines += _numbers_lines(digest, t, item_texts)
    lines += _people_lines(digest, t)
    lines += _comment_lines(digest, t)
    return "\n".join(lines)


_TAG = re.compile(r"</?b>")


def plain(html: str) -> str:
    """A rendered digest without its markup (for the command line)."""
    return unescape(_TAG.sub("", html))
