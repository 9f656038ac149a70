"""Risk in free text: normalising a message and matching it against per-language risk phrases.

Pure functions, no I/O apart from :func:`load_risk_lists`, which reads the YAML lists once at
start-up. The lists are data (``locales/<code>/risk_phrases.yaml``), each with its review status;
a service adds phrases (or removes ones that misfire) with files of the same shape in the
directory named by ``CHECKIN_RISK_PHRASES_DIR``.

Matching is deliberately simple and explainable to a safeguarding lead: the message and every
phrase go through the same :func:`normalise` (case, diacritics, Arabic-script variants, digits,
zero-width characters and punctuation folded), then a phrase matches when its words appear in a
row with word boundaries on both sides. A phrase whose last word ends in ``*`` matches any word
that starts with it (``suicid*``: suicide, suicidal). A young person's message is checked against
their own language's list and the English one, because many write in English.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATEGORIES = ("self_harm", "abuse", "exploitation", "missing", "danger")
FILE_NAME = "risk_phrases.yaml"
MAX_PHRASE = 120

# Arabic-script letters written differently across Arabic, Persian, Dari, Pashto and Sorani
# keyboards, folded to one form (applied after diacritics and hamza seats are removed).
_ARABIC_FOLD = str.maketrans(
    {
        "ى": "ي",  # alef maksura
        "ی": "ي",  # Farsi yeh
        "ې": "ي",  # Pashto yeh (often typed as a plain yeh)
        "ۍ": "ي",  # Pashto feminine yeh
        "ك": "ک",  # Arabic kaf -> keheh
        "ة": "ه",  # teh marbuta
        "ۀ": "ه",  # heh with yeh above
        "ە": "ه",  # Sorani ae (typed as heh on many keyboards)
        # Sorani letters typed on Arabic or Persian keyboards (translation review)
        "ڕ": "ر",  # Sorani rreh
        "ڵ": "ل",  # Sorani llam
        "ۆ": "و",  # Sorani o
        "ێ": "ي",  # Sorani ê
        # Pashto letters typed on Persian keyboards (translation review)
        "ګ": "گ",  # Pashto gaf -> Persian gaf
        "ښ": "ش",  # Pashto xin
        "ړ": "ر",  # Pashto rreh
        "ٱ": "ا",  # alef wasla
        "ٲ": "ا",
        "ٳ": "ا",
        "ء": "",  # a lone hamza
        "ـ": "",  # tatweel
    }
)
# Digits of every script the service meets, to ASCII.
_DIGITS = str.maketrans({chr(base + i): str(i) for base in (0x0660, 0x06F0) for i in range(10)})
# Invisible characters that change nothing a reader sees: zero-width, direction marks, BOM.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
) | {0xFEFF: None, 0x00AD: None}
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´ʼ"), None)
# Ethiopic letters that are written interchangeably (same sound in modern use): each series of
# seven orders folded onto one. ``ሐ``/``ዐ`` only for Amharic, where they also sound the same.
_ETHIOPIC_ALL = ((0x1220, 0x1230), (0x1340, 0x1338), (0x1280, 0x1200))
_ETHIOPIC_AMHARIC = ((0x1210, 0x1200), (0x12D0, 0x12A0))
# Persian and Dari verb prefixes, typed joined, with a space or with a zero-width non-joiner.
_PERSIAN_PREFIX = re.compile(r"(?<!\w)(ن?مي) (?=\w)")
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w]+|_")


def _ethiopic_table(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    return {src + i: dst + i for src, dst in pairs for i in range(7)}


_ETHIOPIC = {
    "am": str.maketrans(_ethiopic_table(_ETHIOPIC_ALL + _ETHIOPIC_AMHARIC)),
    "other": str.maketrans(_ethiopic_table(_ETHIOPIC_ALL)),
}


def normalise(text: str, language: str | None = None) -> str:
    """``text`` folded for matching: lower case, no accents or harakat, one form per letter.

    Words are separated by single spaces; punctuation becomes a space (apostrophes vanish, so
    "I'm" and "im" are the same). The same function prepares the phrases, so both sides agree.
    """
    text = text.translate(_INVISIBLE).replace("\u200c", "")  # ZWNJ joins Persian word parts
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("đ", "d").replace("ı", "i").translate(_ARABIC_FOLD).translate(_DIGITS)
    text = text.translate(_ETHIOPIC["am" if language == "am" else "other"])
    text = text.translate(_APOSTROPHES)
    text = _SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()
    if language in ("fa", "fa_AF"):
        text = _PERSIAN_PREFIX.sub(r"\1", text)
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True, slots=True)
class Match:
    """A risk phrase found in a message (the phrase is for tests and review, never for logs)."""

    category: str
    language: str
    phrase: str


@dataclass(frozen=True)
class PhraseList:
    """One language's risk phrases, by category, with its review status."""

    language: str
    review_status: str
    phrases: Mapping[str, tuple[str, ...]]
    sources: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    _patterns: dict[str, re.Pattern[str]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for category, phrases in self.phrases.items():
            regexes = {_phrase_regex(p, self.language) for p in phrases} - {""}
            if regexes:
                alternation = "|".join(sorted(regexes, key=len, reverse=True))
                self._patterns[category] = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")

    @property
    def size(self) -> int:
        return sum(len(phrases) for phrases in self.phrases.values())

    def find(self, normalised: str) -> Match | None:
        """The first category whose phrase occurs in the (already normalised) text."""
        for category in CATEGORIES:
            pattern = self._patterns.get(category)
            found = pattern.search(normalised) if pattern else None
            if found:
                return Match(category, self.language, found.group(0))
        return None


def _phrase_regex(phrase: str, language: str) -> str:
    """A phrase as a regex over normalised text: its words in a row, separated by one space;
    a trailing ``*`` lets the last word go on (a prefix)."""
    prefix = phrase.rstrip().endswith("*")
    words = normalise(phrase, language)
    if not words:
        return ""
    return re.escape(words) + (r"\w*" if prefix else "")


RiskLists = Mapping[str, PhraseList]


def match_risk(text: str, language: str | None, lists: RiskLists) -> Match | None:
    """The risk phrase in ``text``, checked in ``language`` and in English, or None."""
    codes = [code for code in dict.fromkeys((language or "en", "en")) if code in lists]
    for code in codes:
        found = lists[code].find(normalise(text, code))
        if found:
            return found
    return None


class RiskListError(ValueError):
    """A risk phrase file that cannot be used, with its path and what is wrong."""


def parse_list(data: Any, language: str, source: str, *, extension: bool = False) -> PhraseList:
    """One file's contents as a :class:`PhraseList`; :class:`RiskListError` names the problem."""
    if not isinstance(data, dict):
        raise RiskListError(f"{source}: must be a mapping with review_status and categories")
    status = data.get("review_status")
    if not extension and (not isinstance(status, str) or not status.strip()):
        raise RiskListError(f"{source}: review_status: must say who wrote and reviewed the list")
    categories = data.get("categories") or {}
    if not isinstance(categories, dict):
        raise RiskListError(f"{source}: categories: must be a mapping")
    phrases: dict[str, tuple[str, ...]] = {}
    for category, items in categories.items():
        if category not in CATEGORIES:
            raise RiskListError(
                f"{source}: categories.{category}: unknown (use {', '.join(CATEGORIES)})"
            )
        phrases[category] = _phrases(items, f"{source}: categories.{category}")
    removed = _phrases(data.get("remove") or [], f"{source}: remove")
    return PhraseList(language, str(status or "").strip(), phrases, (source,), removed)


def _phrases(items: Any, where: str) -> tuple[str, ...]:
    if not isinstance(items, list):
        raise RiskListError(f"{where}: must be a list of phrases")
    for item in items:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_PHRASE:
            raise RiskListError(f"{where}: {item!r} is not a phrase of 1-{MAX_PHRASE} characters")
    return tuple(item.strip() for item in items)


def merge(base: PhraseList, extra: PhraseList) -> PhraseList:
    """A service's additions (and removals) applied to a packaged list."""
    removed = {normalise(p, base.language) for p in extra.removed}
    merged: dict[str, tuple[str, ...]] = {}
    for category in CATEGORIES:
        phrases = (*base.phrases.get(category, ()), *extra.phrases.get(category, ()))
        kept = [p for p in phrases if normalise(p, base.language) not in removed]
        if kept:
            merged[category] = tuple(dict.fromkeys(kept))
    status = base.review_status
    if extra.review_status:
        status = f"{status}; service additions: {extra.review_status}"
    return PhraseList(base.language, status, merged, base.sources + extra.sources)


def load_risk_lists(
    codes: Iterable[str], locales_dir: Path, packaged_dir: Path, extra_dir: Path | None = None
) -> dict[str, PhraseList]:
    """Every language's list: ``<locales_dir>/<code>/risk_phrases.yaml`` (else the packaged one),
    plus a service's ``<extra_dir>/<code>/risk_phrases.yaml`` when there is one."""
    lists: dict[str, PhraseList] = {}
    for code in codes:
        path = locales_dir / code / FILE_NAME
        if not path.is_file():
            path = packaged_dir / code / FILE_NAME
        if not path.is_file():
            raise RiskListError(f"{path}: missing (every language needs a risk phrase list)")
        found = parse_list(_read(path), code, str(path))
        extra = extra_dir / code / FILE_NAME if extra_dir else None
        if extra is not None and extra.is_file():
            found = merge(found, parse_list(_read(extra), code, str(extra), extension=True))
        lists[code] = found
    return lists


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RiskListError(f"{path}: cannot be read as YAML ({type(exc).__name__})") from None
