"""A fluent speaker's corrections and review marks, made into a catalogue the bot can use.

The Language review page checks each correction as it is typed (``review.js``); the same rules
are checked here, on the server, before any catalogue is written:

- every ``{placeholder}`` of the English is kept, none is added, and no stray brace is left
  (``str.format`` would fail on one);
- every command of the English (``/stop``) is kept;
- markup tags (``<b>``) are exactly those of the English;
- no form is empty.

:func:`reviewed_catalogue` returns the corrected ``.po`` with ``Last-Translator``, a
``# review: ...`` comment on each text marked, and ``X-Review-Status`` for the whole catalogue,
ready to drop into ``CHECKIN_LOCALES_OVERRIDE_DIR/<code>/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po

from bot.locales import NEEDS_WORK, REVIEWED, set_text_review, text_review, with_review_status

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
COMMAND = re.compile(r"(?<![\w/])/[a-z]+\b")
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
NAME_MAX = 80
TEXT_MAX = 4000


class CorrectionError(ValueError):
    """A correction or review that cannot be written; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Correction:
    """One text as the reviewer left it: its translation(s) and its mark (or None)."""

    context: str | None
    english: str  # the msgid (the singular, for plurals)
    translation: tuple[str, ...]
    mark: str | None  # REVIEWED, NEEDS_WORK or None


def problems(english: Sequence[str], translation: Sequence[str]) -> list[str]:
    """What is wrong with ``translation`` (each plural form) against the English, in words."""
    source = " ".join(english)
    wanted = sorted(set(PLACEHOLDER.findall(source)))
    commands = set(COMMAND.findall(source))
    tags = sorted(TAG.findall(source))
    found: list[str] = []
    for index, text in enumerate(translation):
        where = f"form {index}: " if len(translation) > 1 else ""
        if not text.strip():
            found.append(f"{where}empty")
            continue
        if len(text) > TEXT_MAX:
            found.append(f"{where}longer than {TEXT_MAX} characters")
        have = sorted(set(PLACEHOLDER.findall(text)))
        missing = [p for p in wanted if p not in have]
        extra = [p for p in have if p not in wanted]
        if missing:
            found.append(f"{where}keep {', '.join(missing)} exactly as in the English")
        if extra:
            found.append(f"{where}{', '.join(extra)} is not in the English")
        if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
            found.append(f"{where}a lone {{ or }}: placeholders are written like {{n}}")
        lost = sorted(commands - set(COMMAND.findall(text)))
        if lost:
            found.append(f"{where}keep the command {', '.join(lost)}")
        if sorted(TAG.findall(text)) != tags:
            shown = " ".join(tags) or "none"
            found.append(f"{where}markup must be exactly as in the English ({shown})")
    return found


def parse(entries: Any, reviewer: Any) -> tuple[str, list[Correction]]:
    """The reviewer's name and corrections from the page's JSON; CorrectionError if bad."""
    name = " ".join(str(reviewer or "").split())
    if not name:
        raise CorrectionError("enter your name: it goes into the catalogue as Last-Translator")
    if len(name) > NAME_MAX or any(ch in name for ch in '<>"\\'):
        raise CorrectionError(f'your name: at most {NAME_MAX} characters, without < > " \\')
    if not isinstance(entries, list):
        raise CorrectionError("entries must be a list")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise CorrectionError("each entry must be an object")
        translation = entry.get("translation")
        if not isinstance(translation, list) or not all(isinstance(t, str) for t in translation):
            raise CorrectionError("each entry needs its translation as a list of texts")
        mark = entry.get("review")
        if mark not in (REVIEWED, NEEDS_WORK, None):
            raise CorrectionError(f"review must be {REVIEWED!r}, {NEEDS_WORK!r} or null")
        context = entry.get("context")
        out.append(
            Correction(
                context=str(context) if context else None,
                english=str(entry.get("english", "")),
                translation=tuple(translation),
                mark=mark,
            )
        )
    return name, out


def reviewed_catalogue(
    path: Path, code: str, reviewer: str, corrections: Sequence[Correction], now: datetime
) -> bytes:
    """The catalogue at ``path`` with the corrections and marks applied, as ``.po`` bytes."""
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=code)
    bad: list[str] = []
    for correction in corrections:
        message = catalogue.get(correction.english, context=correction.context)
        if message is None:
            bad.append(f"{correction.english[:60]!r}: not in this catalogue")
            continue
        english = [str(i) for i in message.id] if message.pluralizable else [str(message.id)]
        forms = len(message.string) if isinstance(message.string, tuple | list) else 1
        if len(correction.translation) != forms:
            bad.append(f"{correction.english[:60]!r}: needs {forms} form(s)")
            continue
        found = problems(english, correction.translation)
        if found:
            bad.append(f"{correction.english[:60]!r}: {'; '.join(found)}")
            continue
        _apply(message, correction, reviewer, now.date().isoformat())
    if bad:
        raise CorrectionError("; ".join(bad))
    marks = [text_review(m) for m in catalogue if m.id]
    reviewed = marks.count(REVIEWED)
    needs_work = marks.count(NEEDS_WORK)
    when = now.date().isoformat()
    if reviewed == len(marks):
        status = f"reviewed by {reviewer} on {when}"
    else:
        status = f"{reviewed} of {len(marks)} reviewed by {reviewer} on {when}"
        if needs_work:
            status += f", {needs_work} need work"
    catalogue.last_translator = reviewer
    catalogue.revision_date = now
    catalogue.fuzzy = False
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=0, ignore_obsolete=True, no_location=True, sort_output=True)
    return with_review_status(buffer.getvalue().decode("utf-8"), status).encode("utf-8")


def _apply(message: Message, correction: Correction, reviewer: str, when: str) -> None:
    if message.pluralizable:
        message.string = correction.translation
    else:
        message.string = correction.translation[0]
    if correction.mark is not None:
        message.flags.discard("fuzzy")
        by = f"by {reviewer} on {when}"
        set_text_review(
            message, f"{REVIEWED} {by}" if correction.mark == REVIEWED else f"{NEEDS_WORK}, {by}"
        )
