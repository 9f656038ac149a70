"""Check-ins in young people's own languages, end to end: script, direction, fallback, menus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from core.i18n import FSI, PDI, RLM
from tests.people import add_staff, invite, join
from tests.world import World

KW = 900101
LETTERS = {
    "ar": re.compile(r"[\u0600-\u06FF]"),
    "ti": re.compile(r"[\u1200-\u137F]"),
}
LATIN_WORD = re.compile(r"[A-Za-z]{4,}")


def foreign_words(text: str) -> list[str]:
    """Latin-script words outside isolates, commands and links: signs of a half translation."""
    text = re.sub(f"{FSI}.*?{PDI}", " ", text)
    text = re.sub(r"/[a-z]+|https?://\S+|\{[a-z_]+\}", " ", text)
    allowed = {"Check", "Home", "Office", "Childline", "Samaritans", "Shout", "SHOUT", "Telegram"}
    return [w for w in LATIN_WORD.findall(text) if w not in allowed]


@pytest.mark.parametrize(("code", "native"), [("ar", "العربية"), ("ti", "ትግርኛ")])
async def test_a_whole_checkin_in_the_young_persons_script(
    world: World, code: str, native: str
) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW)
    picker = await world.say(1001, f"/start {token}", language_code=code)
    welcome = (await world.press(1001, native, picker[-1]))[-1]
    message = (await world.press(1001, "✅", welcome))[-1]
    for _ in range(9):
        labels = [label for label, _ in world.api.buttons(message)]
        message = (await world.press(1001, labels[1], message))[-1]
    labels = [label for label, _ in world.api.buttons(message)]
    message = (await world.press(1001, labels[0], message))[-1]  # nothing to add
    labels = [label for label, _ in world.api.buttons(message)]
    await world.press(1001, labels[0], message)  # keep private
    await world.say(1001, "/help")
    await world.say(1001, "/privacy")
    await world.say(1001, "/support")
    texts = [  # every version of every message, edits included
        version
        for m in world.api.messages(1001)
        for version in [*(h.text or h.caption or "" for h in m.history), m.content]
    ]
    assert len(texts) >= 15
    for text in texts:
        assert LETTERS[code].search(text), text
        assert not foreign_words(text), (text, foreign_words(text))
        if code == "ar":
            assert text.startswith(RLM), text
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        from sqlalchemy import text as sql

        stored = (await conn.execute(sql("SELECT count(*), min(value) FROM answers"))).one()
        assert tuple(stored) == (9, 3)
        assert (await conn.execute(sql("SELECT language FROM checkins"))).scalar() == code


async def test_the_picker_shows_every_language_in_its_own_script(world: World) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW)
    picker = (await world.say(1001, f"/start {token}", language_code="fa"))[-1]
    labels = [label for label, _ in world.api.buttons(picker)]
    assert labels == [
        "English",
        "العربية",
        "فارسی",
        "دری",
        "پښتو",
        "کوردیی ناوەندی",
        "ትግርኛ",
        "አማርኛ",
        "Afaan Oromoo",
        "Soomaali",
        "Shqip",
        "Tiếng Việt",
        "Українська",
    ]
    assert picker.content.startswith(RLM)  # pre-selected from Telegram's language_code: Persian


async def test_changing_language_mid_checkin_shows_the_same_statement_again(
    world: World,
) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW)
    first = (await join(world, 1001, token))[-1]
    second = (await world.press(1001, "Mostly", first))[-1]
    assert second.content.startswith("Statement 2 of 9")
    picker = (await world.say(1001, "/language"))[-1]
    replies = await world.press(1001, "Українська", picker)
    assert replies[-1].content.count("2") >= 1
    assert re.search(r"[\u0400-\u04FF]", replies[-1].content)
    labels = [label for label, _ in world.api.buttons(replies[-1])]
    assert any("Мож" in label or "Так" in label for label in labels), labels


def untranslate_one_statement(tmp_path: Path, code: str) -> Path:
    """A service's override catalogue for ``code`` in which one statement is untranslated."""
    override = tmp_path / "override"
    source = Path(__file__).resolve().parents[1] / "locales" / code / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    for message in catalog:
        if message.context == "quality_experience.cares":
            message.string = ""
    target = override / code / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True)
    with target.open("wb") as handle:
        write_po(handle, catalog)
    return override


async def test_an_incomplete_language_falls_back_whole_and_says_why(
    world: World, tmp_path: Path
) -> None:
    override = untranslate_one_statement(tmp_path, "so")
    world.settings = world.settings.model_copy(update={"locales_override_dir": override})
    await world.restart()
    await add_staff(world, KW)
    token = await invite(world, KW)
    replies = await join(world, 1001, token, language="Soomaali")
    assert replies[-1].content.startswith("Statement 1 of 9")  # the whole check-in in English
    notice = replies[-2].content
    assert "English" in notice or "Ingiriis" in notice
    assert not notice.startswith("Statement")


async def test_command_menus_are_set_per_language_and_per_chat(world: World) -> None:
    assert world.app is not None
    arabic = await world.app.bot.get_my_commands(language_code="ar")
    assert [c.command for c in arabic][:2] == ["checkin", "language"]
    assert LETTERS["ar"].search(arabic[0].description)
    english = await world.app.bot.get_my_commands()
    assert english[0].description == "Start or carry on with a check-in"
    # Sorani has no two-letter code: choosing it sets the menu on that chat.
    await add_staff(world, KW)
    token = await invite(world, KW)
    picker = (await world.say(1001, f"/start {token}"))[-1]
    await world.press(1001, "کوردیی ناوەندی", picker)
    from telegram import BotCommandScopeChat

    mine = await world.app.bot.get_my_commands(scope=BotCommandScopeChat(1001))
    assert mine
    assert LETTERS["ar"].search(mine[0].description)
