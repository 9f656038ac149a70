"""The translation review's fixes stay fixed (../shared/reviews/translation-review.md).

Each ``locales/<code>/glossary.yaml`` names, besides the terms every catalogue test checks:

- ``pause`` and ``stop``: different words, so ``⏸ Pause`` never reads like ``/stop`` (the
  permanent opt-out);
- ``safeguarding lead``: a child and youth protection wording, never a security or guard role;
- ``address``: the formal or informal "you" the catalogue uses, and why;
- ``avoid``: wordings the review found wrong or frightening (the asylum-refusal word for Skip,
  "secret" for private, "directly" for automatically); none may come back in any translation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.pofile import read_po

from core.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
TRANSLATED = [language.code for language in LANGUAGES if language.code != "en"]
PAUSED = "Paused. Your answers so far are saved. Send /checkin when you want to carry on."
EMOJI = re.compile(r"[\u23f8\ufe0f\s]+")


def glossary(code: str) -> dict[str, Any]:
    data = yaml.safe_load((LOCALES / code / "glossary.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def translations(code: str) -> dict[str, list[str]]:
    """Every English msgid (first form) with its translations, all contexts together."""
    with (LOCALES / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=code)
    found: dict[str, list[str]] = {}
    for message in catalogue:
        if not message.id:
            continue
        ident = str(message.id[0] if isinstance(message.id, tuple | list) else message.id)
        value = message.string
        strings = [str(s) for s in value] if isinstance(value, tuple | list) else [str(value)]
        found.setdefault(ident, []).extend(strings)
    return found


def term(code: str, name: str) -> tuple[str, list[str]]:
    entry = glossary(code)["terms"].get(name)
    assert isinstance(entry, dict), f"{code}: glossary.yaml has no term {name!r}"
    forms = entry.get("forms")
    assert isinstance(forms, list), f"{code}: term {name!r} has no list of forms"
    assert forms, f"{code}: term {name!r} has no forms"
    return str(entry["translation"]), [str(form).casefold() for form in forms]


def has_form(text: str, forms: list[str]) -> bool:
    return any(form in text.casefold() for form in forms)


@pytest.mark.parametrize("code", TRANSLATED)
def test_pause_and_stop_are_different_words(code: str) -> None:
    pause, pause_forms = term(code, "pause")
    stop, stop_forms = term(code, "stop")
    assert pause.casefold() != stop.casefold(), f"{code}: pause and stop share a translation"
    texts = translations(code)
    (button,) = texts["⏸ Pause"]
    label = EMOJI.sub(" ", button).strip().casefold()
    assert has_form(button, pause_forms), f"{code}: the Pause button {button!r} is not {pause!r}"
    (paused,) = texts[PAUSED]
    assert has_form(paused, pause_forms), f"{code}: {paused!r} is not {pause!r}"
    for stop_text in (texts["No more check-ins"][0], texts["/stop: no more check-ins"][0]):
        assert has_form(stop_text, stop_forms), f"{code}: {stop_text!r} is not {stop!r}"
        assert label not in stop_text.casefold(), f"{code}: Pause {button!r} reads as {stop_text!r}"
        assert not has_form(stop_text, pause_forms), f"{code}: {stop_text!r} says pause"
    assert label not in stop_forms
    assert label != stop.casefold()


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_safeguarding_lead_is_a_child_protection_role(code: str) -> None:
    _, forms = term(code, "safeguarding lead")
    wrong = [
        text
        for english, texts in translations(code).items()
        if "safeguarding lead" in english.casefold()
        for text in texts
        if not has_form(text, forms)
    ]
    assert not wrong, f"{code}: the safeguarding lead is not {forms}: {wrong}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_wording_the_review_found_wrong_comes_back(code: str) -> None:
    avoid = glossary(code).get("avoid") or []
    assert isinstance(avoid, list)
    found = [
        (english, word)
        for english, texts in translations(code).items()
        for word in avoid
        for text in texts
        if str(word).casefold() in text.casefold()
    ]
    assert not found, f"{code}: {found}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_glossary_states_formal_or_informal_you(code: str) -> None:
    address = glossary(code).get("address")
    assert isinstance(address, dict), f"{code}: glossary.yaml has no `address`"
    assert address.get("form") in {"formal", "informal"}, f"{code}: address form {address!r}"
    assert len(str(address.get("note", ""))) > 20, f"{code}: say why, in the address note"


SPECIFIC = {
    # (msgid, what the translation must contain, what it must not) from the review's tables
    "fa": [
        ("Skip", "بگذر", "رد"),
        ("skipped", "بی‌جواب", "رد"),
        ("Yes, definitely", "کاملاً", "حتماً"),
    ],
    "fa_AF": [("Yes, definitely", "کاملاً", "حتماً")],
    "so": [
        (
            "• If you may be unsafe, I show you who can help. Nobody is told automatically.",
            "iskiis",
            "toos",
        ),
        (
            "• Your key worker and managers only see totals from many young people together, "
            "never your own answers, unless you choose to share a check-in.",
            "jawaabahaaga su'aalaha",
            "la wadaagto su'aalahaaga",
        ),
    ],
    "om": [
        (
            "• Your key worker and managers only see totals from many young people together, "
            "never your own answers, unless you choose to share a check-in.",
            "deebii gaaffilee",
            "ati gaaffilee kee qooduu",
        ),
        (
            "A gentle reminder: your check-in is still open. It takes about a minute, and you "
            "can skip any statement.",
            "naannoo",
            "qofa fudhata",
        ),
    ],
    "uk": [("Yes, definitely", "Так, цілком", "точно")],
    "ar": [("Not really", "ليس كثيراً", "تماماً")],
    "vi": [("Not really", "Không lắm", "hẳn"), ("Emergency", "Khẩn cấp", "Cấp cứu")],
    "ti": [("Statement {n} of {total}", "መግለጺ", "ሓሳብ")],
}


@pytest.mark.parametrize("code", sorted(SPECIFIC))
def test_the_reviews_specific_fixes(code: str) -> None:
    texts = translations(code)
    for english, wanted, unwanted in SPECIFIC[code]:
        for text in texts[english]:
            assert wanted in text, f"{code}: {english!r} -> {text!r} lacks {wanted!r}"
            assert unwanted not in text, f"{code}: {english!r} -> {text!r} has {unwanted!r}"
