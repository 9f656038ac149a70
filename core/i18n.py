"""Languages: catalogues, a translator per person, locale negotiation and bidi isolation.

Every text a person sees goes through a :class:`Translator`. Catalogues are the ``.po`` files
under ``locales/<code>/LC_MESSAGES/messages.po``; they are compiled in memory when the bot starts
(no ``.mo`` file is committed or needed). A service may put its own reviewed ``.po`` files in the
directory named by ``CHECKIN_LOCALES_OVERRIDE_DIR``; those win over the packaged ones.

Right-to-left languages get a right-to-left mark at the start of every message, and every
inserted value (labels, numbers, links) is wrapped in Unicode first-strong isolates so that
punctuation does not jump. Left-to-right runs written into a right-to-left translation itself
(commands such as ``/support``, names such as ``Check-in`` or ``Home Office``, numbers such as
``999``) are isolated the same way when the translation is looked up (:func:`bidi_fix`), and
arrows and other directional symbols are mirrored (``⬅️ Back`` points right in Arabic), so the
catalogues keep the English symbols and plain text.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

RLM = "\u200f"
LRI = "\u2066"
FSI = "\u2068"
PDI = "\u2069"

MIRRORED = str.maketrans("⬅➡◀▶←→⏪⏩⏮⏭", "➡⬅▶◀→←⏩⏪⏭⏮")
"""Directional symbols and their mirror images (the emoji variation selector stays as it is)."""

_RTL_LETTER = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_WORD = r"[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f'’._:/+\-]*[A-Za-z0-9\u00c0-\u024f])?"
_LTR_RUN = re.compile(rf"(?:/[a-z_]+|{_WORD})(?: +{_WORD})*")
"""A left-to-right run: a command, or words and numbers joined by single spaces; it ends on a
letter or digit, so a full stop or bracket after it stays in the right-to-left text."""
_KEEP = re.compile(r"(\{[^{}]*\}|[\u2066-\u2068][^\u2069]*\u2069)")
"""Placeholders (filled and isolated later) and runs already isolated are left alone."""


def bidi_fix(text: str) -> str:
    """A right-to-left translation made to display right: left-to-right runs isolated, arrows
    mirrored. Text without right-to-left letters (an English fallback) is left as it is."""
    if not _RTL_LETTER.search(text):
        return text
    parts = _KEEP.split(text)
    for index in range(0, len(parts), 2):  # even parts lie outside placeholders and isolates
        parts[index] = _LTR_RUN.sub(lambda m: f"{FSI}{m[0]}{PDI}", parts[index])
    return "".join(parts).translate(MIRRORED)


@dataclass(frozen=True, slots=True)
class Language:
    """A language offered to young people and staff."""

    code: str  # the catalogue folder, e.g. "fa_AF"
    native_name: str  # in its own script
    english_name: str
    rtl: bool = False

    @property
    def babel_locale(self) -> Locale:
        return _parsed_locale(self.code)


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English"),
    Language("ar", "العربية", "Arabic", rtl=True),
    Language("fa", "فارسی", "Persian (Farsi)", rtl=True),
    Language("fa_AF", "دری", "Dari", rtl=True),
    Language("ps", "پښتو", "Pashto", rtl=True),
    Language("ckb", "کوردیی ناوەندی", "Kurdish (Sorani)", rtl=True),
    Language("ti", "ትግርኛ", "Tigrinya"),
    Language("am", "አማርኛ", "Amharic"),
    Language("om", "Afaan Oromoo", "Oromo"),
    Language("so", "Soomaali", "Somali"),
    Language("sq", "Shqip", "Albanian"),
    Language("vi", "Tiếng Việt", "Vietnamese"),
    Language("uk", "Українська", "Ukrainian"),
)
BY_CODE = {language.code: language for language in LANGUAGES}


@functools.cache
def _parsed_locale(code: str) -> Locale:
    return Locale.parse(code)


def negotiate(telegram_code: str | None, available: Iterable[str], default: str) -> str:
    """A first guess at a person's language from Telegram's ``language_code``."""
    codes = set(available)
    if not telegram_code:
        return default
    wanted = telegram_code.replace("-", "_")
    if wanted in codes:
        return wanted
    base = wanted.split("_")[0].lower()
    if base == "prs":  # Dari's ISO 639-3 code
        base = "fa_AF"
    return base if base in codes else default


def N_(message: str) -> str:
    """Mark a text for translation where it is defined; it is translated where it is shown."""
    return message


def pN_(context: str, message: str) -> str:
    """:func:`N_` with a message context (``staff``), for ``python -m bot.locales extract``."""
    del context
    return message


SMALL_NUMBERS = 100
"""Whole numbers below this are formatted once per language and kept."""


class Translator:
    """Translates, formats and isolates text for one language."""

    def __init__(self, language: Language, translations: NullTranslations) -> None:
        self.language = language
        self._translations = translations
        self._small_numbers: dict[int, str] = {}  # "Statement 3 of 9": formatted once

    @property
    def code(self) -> str:
        return self.language.code

    @property
    def rtl(self) -> bool:
        return self.language.rtl

    def _(self, message: str) -> str:
        """Translate ``message`` (the English text is the message id)."""
        return self._shown(self._translations.gettext(message))

    gettext = _

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._shown(self._translations.ngettext(singular, plural, n))

    def pgettext(self, context: str, message: str) -> str:
        return self._shown(self._translations.pgettext(context, message))

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self._shown(self._translations.npgettext(context, singular, plural, n))

    def _shown(self, translated: object) -> str:
        text = str(translated)
        return bidi_fix(text) if self.rtl else text

    def has(self, message: str, context: str | None = None) -> bool:
        """Whether this catalogue has a translation of ``message``."""
        if self.code == "en":
            return True
        translated = (
            self._translations.pgettext(context, message)
            if context
            else self._translations.gettext(message)
        )
        return translated != message or _same_in_both(message)

    def isolate(self, value: object) -> str:
        """Wrap an inserted value so it keeps its own direction inside right-to-left text."""
        text = str(value)
        return f"{FSI}{text}{PDI}" if self.rtl else text

    def message(self, text: str) -> str:
        """A whole message as sent: right-to-left ones open with a right-to-left mark."""
        return f"{RLM}{text}" if self.rtl and not text.startswith(RLM) else text

    def number(self, value: float) -> str:
        small = type(value) is int and 0 <= value < SMALL_NUMBERS
        if small and value in self._small_numbers:
            return self._small_numbers[int(value)]
        shown = self.isolate(format_decimal(value, locale=self.language.babel_locale))
        if small:
            self._small_numbers[int(value)] = shown
        return shown

    def percent(self, share: float) -> str:
        return self.isolate(format_percent(share, locale=self.language.babel_locale))

    def date(self, value: date | datetime) -> str:
        return self.isolate(format_date(value, format="medium", locale=self.language.babel_locale))

    def language_name(self, code: str) -> str:
        """The name of the language *code* in this translator's language ("الإنجليزية" for
        English read in Arabic), from Babel's CLDR data; its own name where CLDR has none."""
        named = _parsed_locale(code).get_display_name(self.language.babel_locale)
        return named or BY_CODE[code].native_name


def _same_in_both(message: str) -> bool:
    """Texts that are the same in every language (emoji only, numbers)."""
    return not any(ch.isalpha() for ch in message)


class Catalogues:
    """Every language's compiled catalogue, loaded once at start-up.

    ``missing(code)`` is the set of (context, message) pairs that English has and that language
    lacks (untranslated, fuzzy or absent): a check-in is only asked in a language where it is empty.
    """

    def __init__(self, locales_dir: Path, override_dir: Path | None = None) -> None:
        self._translators: dict[str, Translator] = {}
        self._translated: dict[str, frozenset[tuple[str | None, str]]] = {}
        for language in LANGUAGES:
            translations, translated = _compile(language.code, [override_dir, locales_dir])
            self._translators[language.code] = Translator(language, translations)
            self._translated[language.code] = translated
        self._for_young_people = _young_people_texts(
            locales_dir / "en" / "LC_MESSAGES" / "messages.po"
        )

    def get(self, code: str | None) -> Translator:
        return self._translators.get(code or "en", self._translators["en"])

    def missing(self, code: str, *, young_people_only: bool = False) -> set[tuple[str | None, str]]:
        """What ``code`` lacks; with ``young_people_only``, only texts young people can see."""
        if code == "en":
            return set()
        wanted = self._for_young_people if young_people_only else self._translated["en"]
        return set(wanted - self._translated.get(code, frozenset()))

    @property
    def codes(self) -> list[str]:
        return [language.code for language in LANGUAGES]


def _compile(
    code: str, directories: list[Path | None]
) -> tuple[NullTranslations, frozenset[tuple[str | None, str]]]:
    """Compile the first ``messages.po`` found for ``code`` in memory; also what it translates."""
    for directory in directories:
        if directory is None:
            continue
        po_path = directory / code / "LC_MESSAGES" / "messages.po"
        if po_path.is_file():
            stat = po_path.stat()
            return _compile_file(code, po_path.resolve(), stat.st_mtime_ns, stat.st_size)
    return NullTranslations(), frozenset()


@functools.lru_cache(maxsize=64)
def _compile_file(
    code: str, po_path: Path, mtime_ns: int, size: int
) -> tuple[NullTranslations, frozenset[tuple[str | None, str]]]:
    """One catalogue compiled in memory, once per process for each version of the file (a
    restart in the same process, or the next test, reuses it; an edited file is compiled anew)."""
    del mtime_ns, size  # part of the cache key only
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer), frozenset(_translated(catalog))


STAFF_CONTEXT = "staff"
"""The message context of texts only staff read (``t.pgettext("staff", ...)``)."""


def _young_people_texts(english: Path) -> set[tuple[str | None, str]]:
    """Every English text except those in the staff context: what a young person may see."""
    if not english.is_file():
        return set()
    with english.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    return {
        (message.context, str(message.id[0] if isinstance(message.id, tuple) else message.id))
        for message in catalog
        if message.id and message.context != STAFF_CONTEXT
    }


def _translated(catalog: Catalog) -> set[tuple[str | None, str]]:
    done: set[tuple[str | None, str]] = set()
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            done.add((message.context, str(key)))
    return done
