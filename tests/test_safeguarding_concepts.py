"""Risk rules that cover concepts rather than sentences (issue 13).

Each feature of the rule language added for it (``@concept`` lexicons, ``!`` for "a word other
than", ``*`` at a word's start, ``&`` for two ideas anywhere in a message) is shown on a small list
of its own; then the packaged lists are held to the known false alarm ("I want to live in Leeds"),
the issue's examples and common harmless idioms, and matching is held to stay fast.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bench.safeguarding import CODES, load_corpus
from conversations.safeguarding import (
    PhraseList,
    RiskListError,
    load_risk_lists,
    match_risk,
    parse_list,
)
from core.settings import DEFAULT_LOCALES_DIR

LISTS = load_risk_lists(CODES, DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR)


def listed(text: str, **kwargs: object) -> dict[str, PhraseList]:
    data = yaml.safe_load("review_status: test\n" + text)
    return {"en": parse_list(data, "en", "test/en/risk_phrases.yaml", **kwargs)}  # type: ignore[arg-type]


def hit(text: str, lists: dict[str, PhraseList], language: str = "en") -> str | None:
    found = match_risk(text, language, lists)
    return found.category if found else None


# --- the rule language ---------------------------------------------------------------------


def test_a_concept_is_written_once_and_used_by_many_rules() -> None:
    lists = listed(
        "concepts:\n  die: ['die|dying|dead', 'not_wake_up|disappear*']\n"
        "  want: [want|wish]\n"
        "categories:\n  self_harm: ['@want + @die', 'thinking .. @die|gone']\n"
    )
    assert hit("i just want to not wake up", lists) == "self_harm"
    assert hit("i wish i could disappear", lists) == "self_harm"  # a word of the second line
    assert hit("been thinking about being gone", lists) == "self_harm"  # a concept among words
    assert hit("i want to go to the park", lists) is None
    assert lists["en"].example("@want + @die") == "want really die"


def test_a_rule_naming_a_concept_the_list_lacks_is_refused_with_its_file() -> None:
    with pytest.raises(RiskListError) as caught:
        listed("categories:\n  danger: ['@nothing + here']\n")
    assert "test/en/risk_phrases.yaml" in str(caught.value)
    assert "no concept named 'nothing'" in str(caught.value)
    with pytest.raises(RiskListError, match="concept's name"):
        listed("concepts: {'two words': [a]}\ncategories: {}\n")


def test_a_negated_word_is_any_word_but_those_named() -> None:
    lists = listed(
        "harmless: ['live in|at !this|the_world|my']\n"
        "categories:\n  self_harm: ['dont .. want to live']\n"
    )
    assert hit("i dont know if i want to live in leeds", lists) is None
    assert hit("i dont want to live in this world", lists) == "self_harm"
    assert hit("i dont want to live in my body", lists) == "self_harm"
    assert lists["en"].example("want !this") == "want something"


def test_a_star_at_the_start_allows_any_beginning() -> None:
    lists = listed("categories:\n  abuse: ['*hitsme', 'hurt*']\n")
    assert hit("he alwayshitsme", lists) == "abuse"  # stand-in for a verb with prefixes
    assert hit("hurting", lists) == "abuse"
    assert hit("hitsmetoo", lists) is None  # the start is free, not the end


def test_parts_joined_by_ampersand_match_anywhere_but_not_across_a_harmless_mask() -> None:
    lists = listed(
        "harmless: ['for a laugh']\ncategories:\n  exploitation: ['owe* & work|sell .. for them']\n"
    )
    text = "they say i still owe them thousands from the trip so now i have to sell for them"
    assert hit(text, lists) == "exploitation"  # far apart, any order
    assert hit("i sell for them and owe nothing", lists) == "exploitation"
    assert hit("i owe you for a laugh sell for them", lists) is None  # the mask separates
    assert hit("i owe my mate a tenner", lists) is None
    assert lists["en"].example("owe* & work .. for them") == "owe really work really for them"


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("a + b .. c", "inside one part"),
        ("a & b & c & d", "at most 3 parts"),
        ("a + b + c + d", "at most 3 terms"),
    ],
)
def test_joins_that_cannot_work_are_refused(rule: str, problem: str) -> None:
    with pytest.raises(RiskListError, match=problem):
        listed(f"categories:\n  danger: ['{rule}']\n")


def test_a_rule_id_stays_the_same_when_a_concept_it_uses_grows() -> None:
    small = listed("concepts: {die: [die]}\ncategories:\n  self_harm: ['want + @die']\n")
    large = listed("concepts: {die: [die|dead]}\ncategories:\n  self_harm: ['want + @die']\n")
    assert small["en"].rules[0].id == large["en"].rules[0].id
    found = match_risk("want to be dead", "en", large)
    assert found is not None
    assert found.rule == large["en"].rules[0].id
    assert "dead" not in found.rule


def test_a_service_uses_and_widens_a_packaged_concept(tmp_path: Path) -> None:
    assert "want" in LISTS["en"].concepts
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "risk_phrases.yaml").write_text(
        "review_status: added by our safeguarding lead, 2026-12\n"
        "concepts: {want: [longing_to]}\n"
        "categories:\n  self_harm: ['@want + vanish_into_the_night']\n",
        "utf-8",
    )
    lists = load_risk_lists(CODES, DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR, tmp_path)
    assert hit("i want to vanish into the night", lists) == "self_harm"  # packaged word
    assert hit("longing to vanish into the night", lists) == "self_harm"  # the service's word
    assert hit("im longing to die", lists) == "self_harm"  # packaged rules see the new word
    assert hit("longing to vanish into the night", LISTS) is None  # packaged lists untouched


# --- the packaged lists --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("I want to live in Leeds", "en"),  # the known false alarm
        ("I don't know if I want to live in Leeds", "en"),
        ("i dont know if i want to live in leeds or manchester", "en"),
        ("just killing time before my bus", "en"),
        ("im dying to see the new spiderman", "en"),
        ("this joke is killing me", "en"),
        ("I could die of embarrassment", "en"),
        ("they beat me at football again lol", "en"),
        ("im in danger of failing maths", "en"),
        ("I fled Eritrea in 2019 with my cousin", "en"),
        ("my phone died so i couldnt reply", "en"),
        ("i took 2 paracetamol for my headache", "en"),
        ("my mum came into my room at night to say goodnight", "en"),
        ("بدي عيش بلندن لما اكبر", "ar"),
        ("متت من الضحك", "ar"),
        ("هربنا من سوريا سنة ٢٠١٥", "ar"),
        ("از خنده مردم", "fa"),
        ("امتحان ریاضی منو کشت", "fa"),
        ("د خندا نه مړ شوم", "ps"),
        ("لە پێکەنیندا مردم", "ckb"),
        ("ብሰሓቕ ሞይተ", "ti"),
        ("በሳቅ ሞትኩ", "am"),
        ("kolfaan du'e", "om"),
        ("qosol ayaan u dhintay", "so"),
        ("vdiqa së qeshuri", "sq"),
        ("em đang giết thời gian chờ vào học", "vi"),
        ("хочу жити у Лідсі", "uk"),
        ("я помираю від сміху", "uk"),
    ],
)
def test_harmless_uses_stay_quiet(text: str, code: str) -> None:
    assert hit(text, LISTS, code) is None


@pytest.mark.parametrize(
    ("text", "code", "category"),
    [
        ("I don't want to live in this world", "en", "self_harm"),
        ("I don't want to live anymore", "en", "self_harm"),  # an inserted word
        ("i dont really want to live any more", "en", "self_harm"),
        ("thinking about ending it all", "en", "self_harm"),  # another verb ending
        ("everyone would be better off if i wasnt here", "en", "self_harm"),
        ("no one would care if i just vanished", "en", "self_harm"),
        ("havent eaten in 4 days on purpose", "en", "self_harm"),
        (
            "the guy says i owe him 3000 and makes me work at the car wash for nothing",
            "en",
            "exploitation",
        ),
        ("he keeps messaging me saying hes gonna find me and kill me", "en", "danger"),
        ("my uncle keeps coming into my room at night", "en", "abuse"),
        ("نمی‌خواهم زنده باشم", "fa_AF", "self_harm"),  # written Dari ending
        ("نمیخوام زنده بمونم", "fa_AF", "self_harm"),  # spoken ending
        ("دیگه نمیخوام زنده بمونم", "fa", "self_harm"),
        ("بفكر انتحر", "ar", "self_harm"),  # present-tense ب
        ("عم بفكّر بالموت كل يوم", "ar", "self_harm"),
        ("بيضربني ابوي كل يوم", "ar", "abuse"),
        ("bde mot w 5alas", "ar", "self_harm"),  # Arabic in Latin letters with digits
        ("ra7 e2tol 7ali", "ar", "self_harm"),
        ("mikham khodamo bekosham", "fa", "self_harm"),  # Persian in Latin letters
        ("nemikham zende basham", "fa", "self_harm"),
        ("zra me ghwari che mar sham", "ps", "self_harm"),  # Pashto in Latin letters
        ("dmawe bmrm", "ckb", "self_harm"),  # Sorani in Latin letters
        ("دەمەوێت خۆم بکوژم", "ckb", "self_harm"),
        ("دهمهويت خوم بکوژم", "ckb", "self_harm"),  # typed without the Sorani letters
        ("ډیرې ګولۍ مې وخوړې", "ps", "self_harm"),
        ("ډیرې گولۍ مې وخوړې", "ps", "self_harm"),  # گ for ګ
        ("nebsey kqetl delye", "ti", "self_harm"),  # Tigrinya in Latin letters
        ("rasen magtfat efelgalehu", "am", "self_harm"),  # Amharic in Latin letters
        ("не хочу больше жить", "uk", "self_harm"),  # Russian from a Ukrainian speaker
        ("за мною хтось стежить", "uk", "danger"),
        ("ko muon song nua", "vi", "self_harm"),
    ],
)
def test_the_issues_examples_and_real_writing_match(text: str, code: str, category: str) -> None:
    assert hit(text, LISTS, code) == category


def test_matching_stays_fast() -> None:
    """Every corpus sentence in its language and English, timed on CPU (the machine is shared):
    the bench measures a few hundred microseconds per message; a regression to several
    milliseconds fails."""
    texts = [
        (code, sentence)
        for code in CODES
        for corpus in (load_corpus(code),)
        for sentence in (*(s for _, s in corpus.risky), *corpus.harmless)
    ]
    started = time.process_time()
    for code, sentence in texts:
        match_risk(sentence, code, LISTS)
    assert (time.process_time() - started) / len(texts) < 0.003
