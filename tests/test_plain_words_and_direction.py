"""Right-to-left texts that display right, and plain words for young people who read little.

- Every string of every right-to-left catalogue, as the bot shows it, has its left-to-right runs
  (commands, names such as Check-in, numbers) inside Unicode isolates, and its arrows mirrored.
- The English welcome is about 90 words, still says who sees what, that it is optional and how
  to stop and delete, explains "key worker" once, and stays in the chat after agreeing.
- Helplines that answer only in English say so to someone reading another language.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from conversations.safeguarding import load_risk_lists, match_risk, normalise
from conversations.texts import PrivacyWording, support, welcome
from core.i18n import FSI, LANGUAGES, PDI, RLM, Catalogues, Translator, bidi_fix
from core.settings import DEFAULT_LOCALES_DIR, UK_HELPLINES
from tests.people import KEY_WORKER, YOUNG_PERSON, add_staff, enrolled, invite
from tests.world import World

RTL = [language.code for language in LANGUAGES if language.rtl]
CATALOGUES = Catalogues(DEFAULT_LOCALES_DIR)
ISOLATED = re.compile(f"{FSI}[^{PDI}]*{PDI}")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
LEFT_TO_RIGHT = re.compile(r"[A-Za-z0-9/]")
ARROWS = {"⬅": "➡", "▶": "◀"}
GLOSS = "the person at your service who supports you"
KW, YP = KEY_WORKER, YOUNG_PERSON


def shown_texts(t: Translator) -> list[tuple[str, str]]:
    """(English, as shown) for every entry of ``t``'s catalogue, each plural form included."""
    path = DEFAULT_LOCALES_DIR / t.code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=t.code)
    out = []
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = str(message.id[0]), str(message.id[1])
            for n in range(0, 111):  # covers every plural form of every language
                if message.context:
                    out.append((singular, t.npgettext(message.context, singular, plural, n)))
                else:
                    out.append((singular, t.ngettext(singular, plural, n)))
        elif message.context:
            out.append((str(message.id), t.pgettext(message.context, str(message.id))))
        else:
            out.append((str(message.id), t._(str(message.id))))
    return out


def test_left_to_right_runs_are_isolated_and_arrows_mirrored() -> None:
    fixed = bidi_fix("/support (الدعم): اتصل بـ 999. أنا Check-in، ⬅️ رجوع {n}")
    assert fixed == (
        f"{FSI}/support{PDI} (الدعم): اتصل بـ {FSI}999{PDI}. أنا {FSI}Check-in{PDI}، ➡️ رجوع {{n}}"
    )
    assert bidi_fix(fixed) == fixed.translate(str.maketrans("➡", "⬅"))  # isolates kept as they are
    assert bidi_fix("Done. {name} can no longer use Check-in.") == (
        "Done. {name} can no longer use Check-in."  # an English fallback is left alone
    )
    assert bidi_fix("(Home Office) وزارة").startswith(f"({FSI}Home Office{PDI})")


@pytest.mark.parametrize("code", RTL)
def test_every_right_to_left_string_displays_right(code: str) -> None:
    t = CATALOGUES.get(code)
    checked = 0
    for english, shown in shown_texts(t):
        if shown == english:  # untranslated (falls back to English): nothing to fix
            continue
        bare = PLACEHOLDER.sub(" ", ISOLATED.sub(" ", shown))
        assert not LEFT_TO_RIGHT.search(bare), f"{code}: not isolated in {shown!r}"
        for arrow, mirror in ARROWS.items():
            if arrow in english:
                assert mirror in shown, f"{code}: {arrow} not mirrored in {shown!r}"
                assert arrow not in shown, f"{code}: {arrow} not mirrored in {shown!r}"
        checked += 1
    assert checked > 250, f"{code}: only {checked} translated strings"


@pytest.mark.parametrize("code", [c for c in CATALOGUES.codes if c not in RTL])
def test_left_to_right_languages_are_left_as_written(code: str) -> None:
    t = CATALOGUES.get(code)
    assert t._("⬅️ Back").startswith("⬅️")
    assert FSI not in t._(
        "/support: people you can talk to, and asking your key worker to get in touch"
    )


def words(text: str) -> int:
    return len(re.findall(r"[\w'’/-]+", text))


def test_the_english_welcome_is_plain_and_short() -> None:
    t = CATALOGUES.get("en")
    text = welcome(t, PrivacyWording())
    assert words(text) <= 90, (words(text), text)
    for point in ("Who sees what", "anonymous totals", "Home Office", "/stop", "/forgetme"):
        assert point in text
    assert "your choice" in text  # optional
    assert "skip any question" in text
    assert "Nobody is told automatically" in text
    assert f"key worker ({GLOSS})" in text
    alert = welcome(t, PrivacyWording(policy="alert_lead"))
    assert words(alert) <= 105, words(alert)  # naming the safeguarding lead takes 12 more
    assert "safeguarding lead" in alert


@pytest.mark.parametrize("code", [c for c in CATALOGUES.codes if c != "en"])
def test_every_language_has_the_new_welcome(code: str) -> None:
    t = CATALOGUES.get(code)
    text = welcome(t, PrivacyWording())
    english = welcome(CATALOGUES.get("en"), PrivacyWording())
    for line in english.split("\n"):
        if line.strip():
            assert line.strip() not in text.replace(RLM, ""), f"{code}: untranslated {line!r}"
    assert "/stop" in text
    assert "/forgetme" in text


async def test_the_welcome_stays_in_the_chat_after_agreeing(world: World) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW)
    picker = await world.say(YP, f"/start {token}")
    shown = (await world.press(YP, "English", picker[-1]))[-1]
    agreed = await world.press(YP, "✅", shown)
    kept = next(m for m in world.api.messages(YP) if m.message_id == shown.message_id)
    assert kept.content == shown.content  # the welcome's words are still there
    assert "Who sees what" in kept.content
    assert world.api.buttons(kept) == []  # its buttons went: it cannot be agreed to twice
    thanks = [m for m in agreed if "Thank you for joining" in m.content]
    assert len(thanks) == 1
    assert thanks[0].message_id > shown.message_id  # a new message, not an edit
    assert agreed[-1].content.startswith("Statement 1 of 9")
    # "key worker" is explained once, in the welcome, not in every message.
    everything = " ".join(m.content for m in world.api.messages(YP))
    assert everything.count(GLOSS) == 1


async def test_helplines_that_answer_in_english_say_so(world: World) -> None:
    await enrolled(world)
    english = (await world.say(YP, "/support"))[-1].content
    assert "English only" not in english
    await world.say(YP, "/language")
    await world.press(YP, "Soomaali")
    somali = (await world.say(YP, "/support"))[-1].content
    lines = {line.split(":")[0]: line for line in somali.splitlines() if line.startswith("•")}
    for name in ("Childline", "Samaritans", "Shout"):
        line = next(v for k, v in lines.items() if name in k)
        assert "(Ingiriisi keliya)" in line, line
    emergency = next(v for k, v in lines.items() if "999" in v)
    assert "Ingiriisi" not in emergency  # 999 has interpreters
    assert [h.english_only for h in UK_HELPLINES] == [True, True, True, False]


def test_a_service_helpline_is_not_english_only_unless_it_says_so(tmp_path: Path) -> None:
    from core.settings import Helpline

    t = CATALOGUES.get("ar")
    text = support(t, [Helpline(name="Local line", contact="0800 000")])
    assert "الإنجليزية" not in text
    text = support(t, [Helpline(name="Local line", contact="0800 000", english_only=True)])
    assert "الإنجليزية" in text


def test_sorani_and_pashto_typed_on_arabic_or_persian_keyboards_still_match() -> None:
    lists = load_risk_lists(["ckb", "ps"], DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR)
    assert match_risk("من خوکوژی دەکەم", "ckb", lists) is not None  # «خۆکوژی» without ۆ
    assert match_risk("هغه گواش کوي", "ps", lists) is not None  # «ګواښ کوي» with گ and ش
    assert normalise("ڕ ڵ ۆ ێ ګ ښ ړ") == normalise("ر ل و ی گ ش ر")
