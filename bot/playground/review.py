"""The "language review" view: every text of the check-in in one language beside English.

A fluent speaker reads the questionnaire (title, answer labels, each statement and its short
name) and then every other message, with each entry's catalogue status: ``translated``,
``fuzzy`` (needs review: the bot does not use it) or ``missing`` (the bot falls back to English),
and its review mark (``reviewed``, ``needs work`` or none yet). They can correct any text in place
and download the reviewed catalogue (:mod:`bot.playground.corrections`).
The list comes from the template ``locales/messages.pot``, so a language without a catalogue
yet shows everything as missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.locales import NEEDS_WORK, REVIEWED, completeness, po_path, text_review
from conversations.questionnaire import Questionnaire
from core.i18n import BY_CODE, LANGUAGES, Language, bidi_fix

JSONDict = dict[str, Any]
Key = tuple[str | None, str]
_REVIEW_STATUS = re.compile(r'^"X-Review-Status:([^"\\]*)(?:\\n)?"\s*$', re.MULTILINE)


def languages(locales_dir: Path) -> list[JSONDict]:
    """Every offered language with its catalogue's completeness."""
    return [language_summary(language, locales_dir) for language in LANGUAGES]


def language_summary(language: Language, locales_dir: Path) -> JSONDict:
    """Code, names, direction and completeness of one language."""
    done = completeness(language.code, locales_dir)
    return {
        "code": language.code,
        "native_name": language.native_name,
        "english_name": language.english_name,
        "rtl": language.rtl,
        "translated": done.translated,
        "total": done.total,
        "fuzzy": done.fuzzy,
        "status": done.status,
        "reviewed": done.reviewed,
        "needs_work": done.needs_work,
        "review_count": done.review_count,
    }


def review(
    code: str,
    locales_dir: Path,
    questionnaire_ids: Collection[str],
    override_dir: Path | None = None,
) -> JSONDict:
    """The review of language ``code``: questionnaire items first, then the other messages.

    Raises ``KeyError`` for a language the bot does not offer.
    """
    language = BY_CODE[code]
    template = _read(locales_dir / "messages.pot", None)
    assert template is not None, "locales/messages.pot is missing: run `make locales`"
    path = catalogue_path(code, locales_dir, override_dir)
    catalogue = _read(path, code) if path is not None else None
    translated = {_key(m): m for m in catalogue or () if m.id}
    rows = [_row(m, translated.get(_key(m)), language.rtl) for m in template if m.id]
    questionnaire_rows = [r for r in rows if _questionnaire_of(r, questionnaire_ids)]
    counts = {status: 0 for status in ("translated", "fuzzy", "missing", REVIEWED, NEEDS_WORK)}
    for row in rows:
        counts[row["status"]] += 1
        if row["review"]:
            counts[row["review"]] += 1
    return {
        "language": language_summary(language, locales_dir),
        "catalogue": _header(catalogue, path),
        "counts": {**counts, "total": len(rows)},
        "questionnaires": _group(questionnaire_rows, questionnaire_ids),
        "messages": [r for r in rows if not _questionnaire_of(r, questionnaire_ids)],
    }


def catalogue_path(code: str, locales_dir: Path, override_dir: Path | None) -> Path | None:
    """The catalogue the bot uses: a service's override first, else the packaged one."""
    for root in (override_dir, locales_dir):
        if root is not None and po_path(code, root).is_file():
            return po_path(code, root)
    return None


def _read(path: Path, code: str | None) -> Catalog | None:
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=code)


def _key(message: Message) -> Key:
    ident = message.id
    return message.context, str(ident[0] if isinstance(ident, tuple) else ident)


def _strings(value: object) -> list[str]:
    if isinstance(value, tuple | list):
        return [str(v or "") for v in value]
    return [str(value or "")]


def _row(template: Message, found: Message | None, rtl: bool = False) -> JSONDict:
    """One entry: the English text(s), the translation(s) and their status; for a
    right-to-left language also ``shown``, the translation as the bot sends it (isolates,
    mirrored arrows), since the catalogue's plain text displays commands backwards."""
    english = _strings(template.id)
    translation = _strings(found.string) if found is not None else []
    if found is not None and found.fuzzy:
        status = "fuzzy"
    elif translation and all(translation):
        status = "translated"
    else:
        status = "missing"
    return {
        "context": template.context,
        "english": english,
        "translation": translation,
        "status": status,
        "review": text_review(found) if found is not None and status == "translated" else None,
        "shown": [bidi_fix(text) for text in translation] if rtl else None,
        "notes": [*template.auto_comments, *template.user_comments],
        "locations": [f"{file}:{line}" for file, line in template.locations],
        "placeholders": "python-brace-format" in template.flags,
    }


def _questionnaire_of(row: JSONDict, questionnaire_ids: Collection[str]) -> str | None:
    context = row["context"]
    if not context or "." not in context:
        return None
    qid = str(context).split(".", 1)[0]
    return qid if qid in questionnaire_ids else None


def _group(rows: Iterable[JSONDict], questionnaire_ids: Collection[str]) -> list[JSONDict]:
    """Questionnaire rows grouped by questionnaire, each row naming its item, in the order a
    young person meets them: title, answer labels, then each statement (when the questionnaires
    themselves are given, not just their ids)."""
    groups: dict[str, list[JSONDict]] = {}
    for row in rows:
        qid = _questionnaire_of(row, questionnaire_ids)
        assert qid is not None
        groups.setdefault(qid, []).append({**row, "item": str(row["context"]).split(".", 1)[1]})
    found = questionnaire_ids if isinstance(questionnaire_ids, Mapping) else {}
    for qid, items in groups.items():
        questionnaire = found.get(qid)
        if isinstance(questionnaire, Questionnaire):
            items.sort(key=_reading_order(questionnaire))
    return [{"id": qid, "rows": items} for qid, items in groups.items()]


def _reading_order(questionnaire: Questionnaire) -> Callable[[JSONDict], tuple[int, int]]:
    labels = [option.label for option in questionnaire.scale]
    ranks = {"title": 0, "scale": 1} | {
        item.id: 2 + n for n, item in enumerate(questionnaire.items)
    }
    statements = {item.text for item in questionnaire.items}

    def key(row: JSONDict) -> tuple[int, int]:
        english = row["english"][0]
        within = labels.index(english) if english in labels else int(english not in statements)
        return ranks.get(row["item"], len(ranks) + 2), within

    return key


def review_status(path: Path) -> str:
    """The catalogue's ``X-Review-Status`` header (Babel drops ``X-`` headers, so read it here)."""
    found = _REVIEW_STATUS.search(path.read_text(encoding="utf-8", errors="replace"))
    return found[1].strip() if found and found[1].strip() else "not recorded"


def _header(catalogue: Catalog | None, path: Path | None) -> JSONDict:
    if catalogue is None or path is None:
        return {"exists": False, "review_status": "missing"}
    headers = dict(catalogue.mime_headers)
    return {
        "exists": True,
        "path": str(path),
        "review_status": review_status(path),
        "last_translator": headers.get("Last-Translator", ""),
        "revision_date": headers.get("PO-Revision-Date", ""),
        "language_team": headers.get("Language-Team", ""),
    }
