"""Risk phrases (pure): normalising, matching per language, no false alarms, the lists as data;
the privacy wording a service chooses; and the retention decision."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from conversations.questionnaire import load_questionnaires
from conversations.retention import removal_due
from conversations.safeguarding import (
    CATEGORIES,
    PhraseList,
    RiskListError,
    load_risk_lists,
    match_risk,
    normalise,
)
from conversations.texts import PrivacyWording, privacy, welcome
from core.errors import SettingsError
from core.i18n import LANGUAGES, Catalogues
from core.settings import DEFAULT_LOCALES_DIR, load_settings

CODES = [language.code for language in LANGUAGES]
LISTS = load_risk_lists(CODES, DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR)
CATALOGUES = Catalogues(DEFAULT_LOCALES_DIR)

ORDINARY = [
    "I'm fine",
    "im fine thanks",
    "not really",
    "No",
    "no.",
    "Mostly",
    "yes definitely",
    "My key worker helped me",
    "my key worker helped me find a college course and I feel safe now",
    "Nothing to add",
    "I'm not sure",
    "She helps me a lot with my English",
    "I want to go to college",
    "We played football and he beat me at FIFA",  # "beat me" alone is not listed
    "It has begun to feel better",
    "Thank you",
]


# --- normalising ---------------------------------------------------------------------------


def test_case_punctuation_and_apostrophes_fold() -> None:
    assert normalise("  I'M   Fine!!  ") == "im fine"
    assert normalise("don’t") == normalise("dont") == "dont"
    assert normalise("self-harm") == "self harm"


def test_diacritics_fold() -> None:
    assert normalise("Tôi muốn tự tử", "vi") == "toi muon tu tu"
    assert normalise("Đánh tôi", "vi") == "danh toi"
    assert normalise("Dua të vdes", "sq") == "dua te vdes"
    assert normalise("ÉTÉ") == "ete"


def test_arabic_script_variants_harakat_tatweel_and_digits_fold() -> None:
    assert normalise("أُرِيدُ أَنْ أَمُوتَ", "ar") == normalise("اريد ان اموت", "ar")
    assert normalise("إ آ أ ٱ ا") == "ا ا ا ا ا"
    assert normalise("ي ى ی ئ") == "ي ي ي ي"
    assert normalise("ك ک") == "ک ک"
    assert normalise("ة ه") == "ه ه"
    assert normalise("ؤ و") == "و و"
    assert normalise("مـــوت") == "موت"
    assert normalise("٣ ۳ 3") == "3 3 3"


def test_zero_width_characters_vanish_and_persian_prefixes_join() -> None:
    assert normalise("ki\u200bll my\u200dself") == "kill myself"
    assert normalise("\u2068kms\u2069\u200f") == "kms"
    joined = normalise("ميخوام بميرم", "fa")
    assert normalise("می‌خوام بمیرم", "fa") == joined  # with a zero-width non-joiner
    assert normalise("می خوام بمیرم", "fa") == joined  # with a space


def test_ethiopic_letters_written_interchangeably_fold() -> None:
    assert normalise("ራሤን", "am") == normalise("ራሴን", "am")  # ሠ / ሰ
    assert normalise("ሐ", "am") == normalise("ሀ", "am")
    assert normalise("ሐ", "ti") != normalise("ሀ", "ti")  # distinct sounds in Tigrinya


# --- matching ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_every_phrase_of_every_language_matches_inside_a_sentence(code: str) -> None:
    """Every rule, written out as a plain sentence (its first choices, a word between terms)."""
    for phrases in LISTS[code].phrases.values():
        for phrase in phrases:
            found = match_risk(f"... {LISTS[code].example(phrase)}, really.", code, LISTS)
            assert found is not None, (code, phrase)


@pytest.mark.parametrize(
    ("text", "code", "category"),
    [
        ("I want to KILL MYSELF", "en", "self_harm"),
        ("gonna kms tbh", "en", "self_harm"),
        ("I've been feeling suicidal", "en", "self_harm"),
        ("he hits me when he's drunk", "en", "abuse"),
        ("they beat me", "en", "abuse"),
        ("im scared to go home", "en", "abuse"),
        ("they made me sell stuff, I was made to sell", "en", "exploitation"),
        ("I'm going to run away", "en", "missing"),
        ("I am not safe here", "en", "danger"),
        ("أُرِيدُ أَنْ أَمُوتَ", "ar", "self_harm"),
        ("ابي يضربني", "ar", "abuse"),
        ("می‌خوام بمیرم", "fa", "self_harm"),
        ("مرا لت میکنه", "fa_AF", "abuse"),
        ("زه په خطر کې یم", "ps", "danger"),
        ("دەمەوێت بمرم", "ckb", "self_harm"),
        ("ኣብ ሓደጋ እየ", "ti", "danger"),
        ("መሞት እፈልጋለሁ", "am", "self_harm"),
        ("Du'uu barbaada", "om", "self_harm"),
        ("Waan is dilayaa", "so", "self_harm"),
        ("Dua te vdes", "sq", "self_harm"),  # typed without ë
        ("toi muon tu tu", "vi", "self_harm"),  # typed without tones
        ("Він б’є мене", "uk", "abuse"),
        ("I want to die", "ar", "self_harm"),  # English, from someone who chose Arabic
    ],
)
def test_risk_phrases_match(text: str, code: str, category: str) -> None:
    found = match_risk(text, code, LISTS)
    assert found is not None
    assert found.category == category


@pytest.mark.parametrize("code", CODES)
def test_ordinary_answers_never_match(code: str) -> None:
    for text in ORDINARY:
        assert match_risk(text, code, LISTS) is None, (code, text)


@pytest.mark.parametrize("code", CODES)
def test_the_answers_young_people_see_in_their_language_never_match(code: str) -> None:
    """The scale labels and buttons, as translated, typed back by a young person."""
    t = CATALOGUES.get(code)
    q = load_questionnaires(Path("conversations/questionnaires"))["quality_experience"]
    texts = [t.pgettext(q.context("scale"), option.label) for option in q.scale]
    texts += [t._("Nothing to add"), t._("Skip"), t._("Thank you, I've saved that.")]
    texts += [t.pgettext(q.context(item.id), item.text) for item in q.items]
    for text in texts:
        assert match_risk(text, code, LISTS) is None, (code, text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("từ từ thôi", "vi"),  # "slowly": the same letters as tự tử without tones
        ("nuk jam i sigurt", "sq"),  # "I'm not sure"
        ("a grape and a skill", "en"),
        ("kmsk", "en"),
        ("shaqaalahaygu wuu i caawiyaa", "so"),  # "my worker helps me"
        ("أنا بخير والمرشد ساعدني", "ar"),
        ("من خوبم", "fa"),
        ("Все добре", "uk"),
    ],
)
def test_near_misses_do_not_match(text: str, code: str) -> None:
    assert match_risk(text, code, LISTS) is None


def test_a_trailing_star_matches_word_endings_only() -> None:
    lists = {"en": PhraseList("en", "test", {"danger": ("traffick*",)})}
    assert match_risk("trafficked", "en", lists) is not None
    assert match_risk("trafficking", "en", lists) is not None
    assert match_risk("traffic", "en", lists) is None
    assert match_risk("antitrafficking", "en", lists) is None


# --- the lists as data ---------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_every_language_has_a_reviewed_status_and_enough_phrases(code: str) -> None:
    found = LISTS[code]
    assert "review" in found.review_status
    assert set(found.phrases) == set(CATEGORIES)
    assert found.size >= (100 if code == "en" else 24)
    for phrases in found.phrases.values():
        assert len(phrases) == len(set(phrases))


def _write(directory: Path, code: str, text: str) -> None:
    (directory / code).mkdir(parents=True)
    (directory / code / "risk_phrases.yaml").write_text(text, "utf-8")


def test_a_service_adds_and_removes_phrases(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "en",
        "review_status: reviewed by our safeguarding lead, 2026-02\n"
        "categories:\n  exploitation: [cuckooed]\nremove: [knife]\n",
    )
    lists = load_risk_lists(CODES, DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR, tmp_path)
    assert match_risk("they cuckooed my flat", "en", lists) is not None
    assert match_risk("I cut it with a knife", "en", lists) is None
    assert match_risk("I cut it with a knife", "en", LISTS) is not None
    assert "service additions: reviewed by our safeguarding lead" in lists["en"].review_status


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("categories: {}\n", "review_status"),
        ("review_status: ok\ncategories:\n  feelings: [sad]\n", "unknown"),
        ("review_status: ok\ncategories:\n  danger: [1]\n", "not a phrase"),
        ("review_status: ok\ncategories: [a\n", "YAML"),
    ],
)
def test_a_broken_list_is_refused_with_its_path(tmp_path: Path, text: str, problem: str) -> None:
    for code in CODES:
        _write(tmp_path, code, (DEFAULT_LOCALES_DIR / code / "risk_phrases.yaml").read_text())
    (tmp_path / "so" / "risk_phrases.yaml").write_text(text, "utf-8")
    with pytest.raises(RiskListError) as caught:
        load_risk_lists(CODES, tmp_path, DEFAULT_LOCALES_DIR)
    assert "so/risk_phrases.yaml" in str(caught.value)
    assert problem in str(caught.value)


# --- the privacy wording -------------------------------------------------------------------


def test_the_privacy_text_states_the_policy() -> None:
    t = CATALOGUES.get("en")
    signpost = privacy(t, PrivacyWording(policy="signpost_only"))
    assert "Nobody is told automatically" in signpost
    assert "a named member of staff will see it" not in signpost
    alert = welcome(t, PrivacyWording(policy="alert_lead"))
    assert "a named member of staff will see it" in alert
    assert "unless there is a risk to someone's safety" in alert
    assert "anonymous" in alert
    assert "/forgetme" in alert
    assert "/mydata" in privacy(t, PrivacyWording())


def test_a_service_words_the_immigration_sentence_itself(tmp_path: Path) -> None:
    notes = tmp_path / "notes.yaml"
    notes.write_text(
        "en: We never share anything with the Home Office.\n"
        "ar: لا نشارك أي شيء مع وزارة الداخلية.\n",
        "utf-8",
    )
    wording = PrivacyWording.from_settings(load_settings(immigration_note_file=notes))
    english = privacy(CATALOGUES.get("en"), wording)
    assert "We never share anything with the Home Office." in english
    assert "unless there is a risk" not in english
    assert "لا نشارك أي شيء مع وزارة الداخلية." in privacy(CATALOGUES.get("ar"), wording)
    # A language the file does not cover gets the service's own words, not the default sentence.
    assert "We never share anything with the Home Office." in privacy(CATALOGUES.get("so"), wording)

    notes.write_text("ar: لا نشارك\n", "utf-8")
    with pytest.raises(SettingsError, match="CHECKIN_IMMIGRATION_NOTE_FILE: needs a wording"):
        PrivacyWording.from_settings(load_settings(immigration_note_file=notes))
    notes.write_text("xx: hello\n", "utf-8")
    with pytest.raises(SettingsError, match="unknown language code 'xx'"):
        PrivacyWording.from_settings(load_settings(immigration_note_file=notes))


# --- retention (the pure decision) ---------------------------------------------------------


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)


def test_removal_is_due_a_set_number_of_calendar_months_after_exit_or_silence() -> None:
    kw = {"retention_months": 12, "silence_months": 12}
    active = at("2026-06-01")
    assert removal_due(at("2026-01-31"), active, at("2027-01-31"), **kw) == "exit"
    assert removal_due(at("2026-01-31"), active, at("2027-01-30"), **kw) is None
    assert removal_due(None, at("2026-03-10"), at("2027-03-10"), **kw) == "silence"
    assert removal_due(None, at("2026-03-10"), at("2027-03-09"), **kw) is None
    one = {"retention_months": 1, "silence_months": 12}
    assert removal_due(at("2026-01-31"), active, at("2026-02-28"), **one) == "exit"  # month end
