"""Preparing text for risk matching: one form per letter, word and spelling.

Pure. :func:`normalise` folds case, accents and harakat, the keyboard variants of Arabic-script
letters (Arabic, Persian, Dari, Pashto, Sorani), Ethiopic letters written interchangeably,
digits, invisible characters and punctuation; :func:`squeeze` writes repeated letters once. The
same functions prepare a message and every rule (see :mod:`conversations.safeguarding`), so both
sides agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

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
        "ٱ": "ا",  # alef wasla
        "ٲ": "ا",
        "ٳ": "ا",
        "ء": "",  # a lone hamza
        "ـ": "",  # tatweel
        # Sorani letters that many keyboards lack, typed as their plain neighbours.
        "ڕ": "ر",
        "ڵ": "ل",
        "ۆ": "و",
        "ێ": "ي",
        "ۊ": "و",
        # Pashto letters typed on Persian keyboards with the nearest Persian letter.
        "ګ": "گ",
        "ټ": "ت",
        "ډ": "د",
        "ړ": "ر",
        "ڼ": "ن",
        "ښ": "ش",
        "ږ": "ژ",
        "ځ": "ز",
        "څ": "چ",
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
SPACES = re.compile(r"\s+")
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
    text = SPACES.sub(" ", _NOT_WORD.sub(" ", text)).strip()
    if language in ("fa", "fa_AF"):
        text = _PERSIAN_PREFIX.sub(r"\1", text)
    return unicodedata.normalize("NFC", text)


_REPEATS = re.compile(r"(\w)\1+")


def squeeze(text: str) -> str:
    """Repeated letters as one: "dieeee" and "die", "kill" and "kil" become the same."""
    return _REPEATS.sub(r"\1", text)


# Matching forms (see :func:`fold_forms`): what one language writes in several ways.
# Ge'ez script: the sixth order (a consonant with ə or no vowel) written as the first (ä), the
# alternation that runs through a verb's forms (ገደለ gädälä, ይገድል yəgädəl).
_ETHIOPIC_SKELETON = {code: code - 5 for code in range(0x1205, 0x1380, 8)}
# Latin-letter Arabic, Persian, Dari, Pashto, Sorani, Tigrinya and Amharic: vowels written as
# e or i, o or u, ou or oo, kh, x or 5 for one sound, 7 for h and 3 for the ain: one form each.
_ROMAN_VOWELS = str.maketrans(
    {"e": "i", "o": "u", "y": "i", "v": "w", "5": "x", "7": "h", "3": "a"}
)
_ROMAN_WORD = re.compile(r"\b[a-z0-9]*[a-z][a-z0-9]*\b")
_ROMANISED = frozenset({"ar", "fa", "fa_AF", "ps", "ckb", "ti", "am"})
# Ukrainian and Russian (many from Ukraine write Russian): letters that differ between the two
# for the same sound or word (і/и/ы, є/е/э/ё, ї, ґ, the soft and hard signs) written one way.
_CYRILLIC = str.maketrans(
    {
        "і": "и",
        "ы": "и",
        "ї": "и",
        "й": "и",
        "є": "е",
        "э": "е",
        "ё": "е",
        "ґ": "г",
        "ь": "",
        "ъ": "",
    }
)


# Ukrainian and Russian reflexive verbs end in -ся or -сь (повіситися / повіситись, хотілося /
# хотілось): once the soft sign is folded away, -ся is written -с too, so both spellings agree.
_REFLEXIVE = re.compile(r"(?<=\w\w)ся(?!\w)")


def fold_forms(text: str, language: str | None) -> str:
    """``text`` (already normalised) with a language's interchangeable forms written one way.

    - Amharic and Tigrinya (Ge'ez script): the sixth order as the first, so a verb's root
      matches across the forms that alternate ä and ə (``ገደለ``, ``ይገድለኛል``, ``እገድልሻለሁ``
      all carry ``ገደለ``);
    - Latin letters in the Arabic-script and Ge'ez-script languages (romanised writing):
      ``e``/``i``, ``o``/``u``, ``y``/``i``, ``v``/``w``, ``kh``/``x``/``5``, ``7``/``h`` and
      ``3``/``a`` folded, so ``mikham``, ``mekham`` and ``mikhaam`` agree, and ``7ali`` and
      ``hali``;
    - Ukrainian and Russian letters that stand for the same sound folded, and the reflexive
      ending ``-ся`` written as ``-сь`` (``повіситися`` and ``повіситись`` agree).

    Applied to the message and to every rule alike (see :mod:`conversations.safeguarding`).
    """
    if language in ("am", "ti"):
        text = text.translate(_ETHIOPIC_SKELETON)
    if language in _ROMANISED:
        text = _ROMAN_WORD.sub(
            lambda m: m.group(0).replace("kh", "x").translate(_ROMAN_VOWELS), text
        )
    if language == "uk":
        text = _REFLEXIVE.sub("с", text.translate(_CYRILLIC))
    return text
