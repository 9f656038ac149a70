"""The risk rule language (conversations/risk_rules.py) and the evaluation corpus.

Each feature of the rules is shown on a small list of its own, so a failure names the feature;
then every language's corpus (tests/safeguarding_corpus/<code>.yaml, machine-drafted, see its
header) is held at or above the detection and false-alarm rates measured when the lists were
extended (``python -m bench.safeguarding`` prints them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench.safeguarding import (
    CODES,
    CORPUS,
    DEV,
    DEV2,
    DEV3,
    DEV4,
    DEV5,
    DEV6,
    DEV7,
    DEV7B,
    DEV7C,
    HELD_OUT,
    HELD_OUT_2,
    HELD_OUT_3,
    HELD_OUT_4,
    evaluate,
    load_corpus,
    main,
)
from conversations.risk_rules import Affixes, example
from conversations.risk_text import fold_forms
from conversations.safeguarding import (
    PhraseList,
    RiskListError,
    explain,
    load_risk_lists,
    match_risk,
    parse_list,
)
from core.settings import DEFAULT_LOCALES_DIR

LISTS = load_risk_lists(CODES, DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR)

# Measured with python -m bench.safeguarding at the end of issue 13's third pass (2026-12-03),
# per set: (risky sentences caught, harmless sentences that fired). A change that catches fewer or
# fires on more fails; raise a floor when the lists get better. The corpus also carries the
# issue's targets (at least 95% caught, at most 5% false alarms); the development sets (dev, dev2,
# held_out - a development set since 2026-12-03 -, dev3, dev4, dev5, dev6, dev7, dev7b, dev7c) carry
# none (see bench/safeguarding.py), only these floors. held_out_2 (228/329 caught, 15/182 fired
# before the second pass; 239/329, 15/182 after it; 250/329, 15/182 after the third) and
# held_out_3 (written before the second pass: 245/392, 25/208 before; 273/392, 9/208 after it;
# 275/392, 9/208 after the third) are held out: their floors only catch a regression; never tune
# the lists or the matcher on their sentences. held_out_4 (written before issue 13's third pass,
# because held_out_3's sentences leaked into a log: 330/392, 4/208 before the pass; 331/392,
# 4/208 after) is held out the same way.
# Columns: corpus, dev, dev2, held_out, dev3, dev4, dev5, dev6, dev7, dev7b, dev7c, held_out_2,
# held_out_3, held_out_4. dev7, dev7b and dev7c (third pass, tuned on) measured 125/156, 11/78;
# 62/104, 2/52 and 33/78, 0/39 before their rules.
FLOORS: dict[str, tuple[tuple[int, int], ...]] = {
    "en": (
        (46, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (46, 0),
        (8, 0),
        (54, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (24, 1),
        (25, 0),
        (27, 1),
    ),
    "ar": (
        (43, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (31, 0),
        (8, 0),
        (53, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (20, 1),
        (23, 1),
        (25, 0),
    ),
    "fa": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (37, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (7, 0),
        (6, 0),
        (20, 1),
        (24, 2),
        (27, 0),
    ),
    "fa_AF": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (37, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (7, 0),
        (6, 0),
        (16, 1),
        (22, 1),
        (21, 0),
    ),
    "ps": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (26, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (20, 0),
        (20, 0),
        (29, 0),
    ),
    "ckb": (
        (41, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (24, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (20, 1),
        (15, 1),
        (26, 0),
    ),
    "ti": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (23, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (14, 1),
        (16, 0),
        (20, 0),
    ),
    "am": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (23, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (18, 1),
        (17, 1),
        (24, 0),
    ),
    "om": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (23, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (20, 2),
        (23, 0),
        (23, 1),
    ),
    "so": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (23, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (16, 1),
        (21, 0),
        (26, 0),
    ),
    "sq": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (23, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (22, 1),
        (22, 0),
        (28, 0),
    ),
    "vi": (
        (40, 0),
        (14, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (23, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (20, 3),
        (29, 2),
        (28, 2),
    ),
    "uk": (
        (40, 0),
        (15, 0),
        (10, 0),
        (8, 0),
        (10, 0),
        (24, 0),
        (8, 0),
        (51, 0),
        (12, 0),
        (8, 0),
        (6, 0),
        (20, 1),
        (18, 1),
        (27, 0),
    ),
}
SETS = (
    CORPUS,
    DEV,
    DEV2,
    HELD_OUT,
    DEV3,
    DEV4,
    DEV5,
    DEV6,
    DEV7,
    DEV7B,
    DEV7C,
    HELD_OUT_2,
    HELD_OUT_3,
    HELD_OUT_4,
)

HELD_OUT_SETS = (HELD_OUT_2, HELD_OUT_3, HELD_OUT_4)


def one(language: str = "en", **kwargs: object) -> dict[str, PhraseList]:
    return {language: PhraseList(language, "test", **kwargs)}  # type: ignore[arg-type]


def hit(text: str, lists: dict[str, PhraseList], language: str = "en") -> str | None:
    found = match_risk(text, language, lists)
    return found.category if found else None


# --- the corpus ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_each_language_stays_at_or_above_its_measured_rates(code: str) -> None:
    for directory, (caught, fired) in zip(SETS, FLOORS[code], strict=True):
        result = evaluate(load_corpus(code, directory), LISTS)
        # A held-out set's failure names only its totals: its sentences never reach a log.
        held = directory in HELD_OUT_SETS
        missed = f"{result.caught}/{result.risky}" if held else result.missed
        fired_on = f"{result.false_alarms}/{result.harmless}" if held else result.fired
        assert result.caught >= caught, (code, directory.name, missed)
        assert result.false_alarms <= fired, (code, directory.name, fired_on)
    corpus = load_corpus(code)
    assert len(corpus.risky) >= 40
    assert len(corpus.harmless) >= 20
    result = evaluate(corpus, LISTS)
    assert result.detection >= 0.95
    assert result.false_alarm_rate <= 0.05


@pytest.mark.parametrize("code", CODES)
def test_each_corpus_says_how_it_was_made_and_who_must_review_it(code: str) -> None:
    for directory in SETS:
        text = (directory / f"{code}.yaml").read_text("utf-8")
        assert "machine-drafted" in text
        assert "fluent speaker" in text
        assert "safeguarding lead" in text


# --- the rule language ---------------------------------------------------------------------


def test_terms_joined_by_plus_match_in_either_order_with_a_few_words_between() -> None:
    lists = one(phrases={"self_harm": ("dont + want to live",)})
    assert hit("i dont really want to live any more", lists) == "self_harm"
    assert hit("want to live? i dont", lists) == "self_harm"
    assert hit("dont know if maybe i want to live in leeds", lists) is None  # 4 words between
    assert hit("i dont want to live", lists) == "self_harm"


def test_terms_joined_by_dots_match_only_in_order() -> None:
    lists = one(phrases={"missing": ("i .. ran away",)})
    assert hit("i just ran away", lists) == "missing"
    assert hit("ran away, i did", lists) is None


def test_choices_endings_and_two_word_choices() -> None:
    lists = one(phrases={"danger": ("going_to|gonna kill|hurt me", "stab*")})
    assert hit("they are going to hurt me", lists) == "danger"
    assert hit("gonna kill me", lists) == "danger"
    assert hit("they stabbed him", lists) == "danger"
    assert hit("going to kill time", lists) is None


def test_repeated_letters_and_text_speak_fold() -> None:
    lists = one(
        phrases={"self_harm": ("want to die",)},
        spellings={"wanna": "want to", "wna": "want to"},
    )
    for text in ("i wanna dieeee", "I WANNNA DIE!!!", "wna die", "i want to die"):
        assert hit(text, lists) == "self_harm", text


def test_harmless_uses_are_masked_but_not_the_rest_of_the_message() -> None:
    lists = one(
        phrases={"abuse": ("beat* me",)},
        harmless=("beat* me at football|fifa",),
    )
    assert hit("they beat me at football", lists) is None
    assert hit("they beat me at football, then my dad beat me at home", lists) == "abuse"
    assert hit("he beats me", lists) == "abuse"


def test_affixes_cover_attached_prefixes_unless_a_word_is_exact() -> None:
    lists = {
        "ar": PhraseList(
            "ar", "test", {"self_harm": ("موت",), "danger": ("=خطر",)}, affixes=Affixes(("ب",))
        )
    }
    assert hit("بدي بموت", lists, "ar") == "self_harm"  # the present-tense ب
    assert hit("بخطر", lists, "ar") is None
    assert hit("خطر", lists, "ar") == "danger"


def test_keyboard_variants_of_sorani_and_pashto_letters_fold() -> None:
    assert hit("دەمەویت بمرم", LISTS, "ckb") == "self_harm"  # ی typed for ێ
    assert hit("دەستی خومم بری", LISTS, "ckb") == "self_harm"  # و for ۆ, ر for ڕ
    assert hit("زه غوارم مر شم", LISTS, "ps") == "self_harm"  # ر for ړ
    assert hit("گواښ یې راته کړی", LISTS, "ps") == "danger"  # گ for ګ


@pytest.mark.parametrize(
    ("text", "code", "category"),
    [
        ("bdi mout", "ar", "self_harm"),  # Arabic chat alphabet
        ("ra7 e2tol 7ali", "ar", "self_harm"),
        ("mikham bemiram", "fa", "self_harm"),  # Finglish
        ("mara lat mekona", "fa_AF", "abuse"),  # Dari in Latin letters
        ("za pa khatar ke yam", "ps", "danger"),
        ("xom bkujm", "ckb", "self_harm"),
        ("kmot deleye", "ti", "self_harm"),  # Tigrinya in Latin letters
        ("adega lay negn", "am", "danger"),  # Amharic in Latin letters
        ("я хочу умереть", "uk", "self_harm"),  # Russian, from someone who chose Ukrainian
        ("k muon song nua", "vi", "self_harm"),  # text-speak k = không
    ],
)
def test_romanised_and_neighbouring_language_forms(text: str, code: str, category: str) -> None:
    assert hit(text, LISTS, code) == category


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("they beat me at football again lol", "en"),
        ("im in danger of failing maths", "en"),
        ("I fled Eritrea in 2022", "en"),
        ("ካብ ኤርትራ ሃዲመ", "ti"),
        ("በ2018 ከሀገሬ ሸሸሁ", "am"),
        ("از افغانستان فرار کردم", "fa_AF"),
        ("eritrea irraa baqadhe", "om"),
        ("cuoi muon chet luon", "vi"),
    ],
)
def test_known_harmless_uses_stay_quiet(text: str, code: str) -> None:
    assert hit(text, LISTS, code) is None


def test_a_match_names_its_rule_by_an_id_that_holds_no_words() -> None:
    found = match_risk("i really dont want to live any more", "en", LISTS)
    assert found is not None
    assert re.fullmatch(r"en\.self_harm\.[0-9a-f]{6}", found.rule)
    rule = explain(found.rule, LISTS)
    assert rule is not None
    assert rule.source == found.source
    en = LISTS["en"]  # compiled again from the same rules: the same ids
    again = {
        "en": PhraseList(
            "en", "again", en.phrases, (), (), en.harmless, en.spellings, en.affixes, en.concepts
        )
    }
    assert match_risk("i really dont want to live any more", "en", again) == found  # stable
    assert explain("en.self_harm.000000", LISTS) is None
    assert explain("xx.danger.abcdef", LISTS) is None


def test_every_rule_written_out_matches_and_examples_are_plain() -> None:
    assert example("want_to|wanna die|dead + now") == "want to die really now"
    assert example("=bi* .. me") == "bi really me"


def test_a_service_adds_rules_harmless_uses_and_spellings_and_removes_by_id(
    tmp_path: Path,
) -> None:
    misfiring = match_risk("a knife", "en", LISTS)
    assert misfiring is not None
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "risk_phrases.yaml").write_text(
        "review_status: added by our safeguarding lead, 2026-12\n"
        "spellings: {cukood: cuckooed}\n"
        "harmless: [kill* + boredom]\n"
        f"remove: [{misfiring.rule}]\n"
        "categories:\n  exploitation: ['cuckooed + flat|place']\n",
        "utf-8",
    )
    lists = load_risk_lists(CODES, DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR, tmp_path)
    assert hit("they cukood my flat", lists) == "exploitation"
    assert hit("killing my boredom", lists) is None
    assert hit("a knife", lists) is None
    assert hit("he is going to kill me", lists) == "danger"


@pytest.mark.parametrize(
    ("categories", "problem"),
    [
        ("  danger: ['a + b .. c']\n", "inside one part"),
        ("  danger: ['a + b + c + d']\n", "at most 3 terms"),
        ("  danger: ['!!!']\n", "empty once normalised"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_with_its_file(categories: str, problem: str) -> None:
    data = yaml.safe_load("review_status: test\ncategories:\n" + categories)
    with pytest.raises(RiskListError) as caught:
        parse_list(data, "en", "extra/en/risk_phrases.yaml")
    assert "extra/en/risk_phrases.yaml" in str(caught.value)
    assert problem in str(caught.value)


def test_a_list_is_compiled_on_its_first_message_not_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "risk_phrases.yaml").write_text(
        "review_status: test\ncategories:\n  danger: ['stab* + me']\n", "utf-8"
    )
    lists = load_risk_lists(["en"], tmp_path, tmp_path)
    assert lists["en"]._patterns == []  # read and checked, not yet compiled
    assert hit("they will stab me", lists) == "danger"
    assert len(lists["en"]._patterns) == 1
    assert lists["en"].compiled() is lists["en"].compiled()  # once per list


def test_a_language_s_interchangeable_forms_are_written_one_way() -> None:
    # Ge'ez script: the sixth order as the first, so a root matches across a verb's forms.
    assert fold_forms("ገድል", "am") == fold_forms("ገደለ", "am") == "ገደለ"
    assert fold_forms("ይገድለኛል", "om") == "ይገድለኛል"  # only Amharic and Tigrinya
    # Romanised Arabic-script and Ge'ez-script languages: vowels, kh/x/5, 7 and 3.
    assert fold_forms("mikham bekosham", "fa") == fold_forms("mekham bikusham", "fa")
    assert fold_forms("ra7 e5les 3a 7ali", "ar") == fold_forms("rah ixlis aa hali", "ar")
    assert fold_forms("mikham", "en") == "mikham"  # not English
    # Ukrainian and Russian letters for the same sound.
    assert fold_forms("вбити себе", "uk") == fold_forms("вбыти себэ", "uk")
    # Their reflexive ending, -ся or -сь, one way; a word that is only "ся" stays.
    assert fold_forms("повіситися", "uk") == fold_forms("повіситись", "uk")
    assert fold_forms("хотілося", "uk") == fold_forms("хотілось", "uk")
    assert fold_forms("ся", "uk") == "ся"
    lists = one("fa", phrases={"self_harm": ("mikham + bemiram",)})
    assert hit("mekhaam bemiiram", lists, "fa") == "self_harm"


@pytest.mark.parametrize(
    ("text", "code", "category"),
    [
        ("my sister will kill me if i lose her charger", "en", None),
        ("my brother is gonna kill me if im late lol", "en", None),
        ("my brother will kill me if i tell anyone", "en", "abuse"),
        ("my brother will kill me if he sees me with that boy", "en", "danger"),
        ("they said theyll burn my house if i talk", "en", "danger"),
        ("mum nearly killed me when she saw my room haha", "en", None),
        ("mum nearly killed me haha, but my uncle touches me at night", "en", "abuse"),
        ("the film was about suicide, sad ending", "en", None),
        ("đói muốn chết", "vi", None),
        ("thèm pizza chết đi được", "vi", None),
        ("mệt mỏi quá muốn chết", "vi", "self_harm"),
        ("took 20 paracetamol an hour ago", "sq", "self_harm"),  # via the English list
    ],
)
def test_hyperbole_stays_quiet_and_real_threats_still_fire(
    text: str, code: str, category: str | None
) -> None:
    assert hit(text, LISTS, code) == category


@pytest.mark.parametrize(
    ("text", "code", "category"),
    [
        # Vietnamese without tones: "tu tu" is tự tử (suicide) or từ từ (slowly). Alone it is
        # read as suicide; right next to a slow-down word it is quiet.
        ("tu tu cho xong", "vi", "self_harm"),
        ("t muon tu tu", "vi", "self_harm"),
        ("cứ từ từ mà làm", "vi", None),
        ("tu tu thoi dung voi", "vi", None),
        ("từ từ rồi tính", "vi", None),
        ("di tu tu thoi", "vi", None),
        # "As a joke" next to a hit keeps play quiet; the same hit without it still fires.
        ("my brother punched me in the arm as a joke", "en", None),
        ("my stepdad punched me in the face", "en", "abuse"),
        ("брат вдарив мене жартома", "uk", None),
        ("вітчим мене вдарив", "uk", "abuse"),
        ("داداشم به شوخی زد تو بازوم", "fa", None),
        ("اخوي ضربني عالمزح", "ar", None),
        # "No reason to go on", in other words and orders, in several languages.
        ("nuk kam asnje arsye me vazhdu", "sq", "self_harm"),
        ("нема жодної причини жити далі", "uk", "self_harm"),
        ("ma hayo sabab aan ku noolaado", "so", "self_harm"),
        ("ko con ly do gi de song tiep", "vi", "self_harm"),
        ("arsyeja pse jetoj ne london eshte puna", "sq", None),
        # A reflexive pronoun with a verb stem in Tigrinya and Amharic, whatever the verb form.
        ("ነብሰይ እንተቐተልኩ ይሓይሸኒ", "ti", "self_harm"),
        ("ራሴን ባጠፋ ይሻለኛል", "am", "self_harm"),
        # Ukrainian reflexive verbs in -ся and -сь alike.
        ("хочу повіситись", "uk", "self_harm"),
        ("хотілося б просто зникнути", "uk", "self_harm"),
        # Two ideas anywhere in a message (drugs, then made to sell them), and everyday words
        # that look like them staying quiet (a flower seller, khat sold in a shop, a haircut,
        # "lately I'm a bit tired", a skipping rope).
        ("پسرا بهم حشیش میدن بعد مجبورم میکنن بفروشم", "fa", "exploitation"),
        ("من تو بازار گل میفروشم", "fa", None),
        ("hooyaday qaad ayay iibisaa", "so", None),
        ("hôm qua đã cắt tóc", "vi", None),
        ("dạo này t hơi mệt", "vi", None),
        ("стрибали на скакалці в парку", "uk", None),
        ("мотузка вже готова", "uk", "self_harm"),
    ],
)
def test_third_pass_rules_generalise_and_keep_known_harmless_uses_quiet(
    text: str, code: str, category: str | None
) -> None:
    assert hit(text, LISTS, code) == category


@pytest.mark.parametrize("held_out", ["held_out_2", "held_out_3", "held_out_4"])
def test_the_benchmark_never_prints_a_held_out_set_s_sentences(
    held_out: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--no-write", "--misses-in", held_out]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"--misses-in {held_out}: not a development set")
    sentences = [text for _, text in load_corpus("en", CORPUS / held_out).risky]
    assert not any(text in out for text in sentences)
