"""Voice prompts end to end: recording with /record, listening mid check-in, restarts."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from conversations import buttons
from conversations.retention import run_retention
from local_bot_api.models import BotMessage
from storage import voice
from storage.db import Database
from tests.people import KEY_WORKER, YOUNG_PERSON, add_staff, enrolled, invite, statement
from tests.voice_files import MP3, ogg_opus, ogg_vorbis
from tests.world import START, World

YP = YOUNG_PERSON
KW = KEY_WORKER
ADMIN = 900200
RECORDER = 900300


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def send_take(world: World, user: int, data: bytes) -> list[BotMessage]:
    """The staff member sends a voice message holding ``data``; returns the bot's replies."""
    before = {m.message_id for m in world.api.messages(user)}
    world.api.send_voice(user, data=data, duration=2)
    await world.idle()
    return [m for m in world.api.messages(user) if m.message_id not in before]


async def record(world: World, user: int, command: str, data: bytes) -> BotMessage:
    """``command`` (a /record), one take, and "Keep"; returns the next prompt."""
    prompt = (await world.say(user, command))[-1]
    assert "Read this aloud" in prompt.content
    played = (await send_take(world, user, data))[-1]
    assert played.method == "sendVoice"
    return (await world.press(user, "Keep", played))[-1]


async def test_an_admin_records_a_statement_plays_it_back_redoes_and_keeps_it(
    world: World,
) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    overview = (await world.say(ADMIN, "/record"))[-1].content
    assert "/record fa" in overview
    assert "Dari" in overview or "Persian" in overview or "(fa)" in overview
    assert "English (en): 0/" in overview

    prompt = (await world.say(ADMIN, "/record en 2"))[-1]
    assert "Recording in English (en), text 2 of 14 (statement 1)" in prompt.content
    assert "I feel I have the power to shape" in prompt.content

    first_take, second_take = ogg_opus(2.0, tag=b"one"), ogg_opus(3.0, tag=b"two")
    played = (await send_take(world, ADMIN, first_take))[-1]
    assert played.method == "sendVoice"
    assert played.voice == first_take  # played back exactly as recorded
    assert "This is how it sounds: statement 1, English (en). Keep it?" in played.content
    assert [label for label, _ in world.api.buttons(played)] == ["✅ Keep", "🔁 Redo"]

    again = await world.press(ADMIN, "Redo", played)
    assert "Let's try again." in again[0].content
    assert "text 2 of 14 (statement 1)" in again[-1].content
    assert await rows(world, "SELECT count(*) FROM voice_clips") == [(0,)]

    played = (await send_take(world, ADMIN, second_take))[-1]
    following = await world.press(ADMIN, "Keep", played)
    assert "Kept." in following[0].content
    assert "text 3 of 14 (statement 2)" in following[-1].content  # guided: the next one
    stored = await rows(world, "SELECT text_key, language, audio, duration FROM voice_clips")
    assert stored == [("item.power", "en", second_take, 3)]
    assert (await rows(world, "SELECT file_id FROM voice_clips"))[0][0] is not None

    # The redone take lost its buttons; a replayed Keep of it changes nothing.
    stale = next(m for m in world.api.messages(ADMIN) if m.voice == first_take)
    assert world.api.buttons(stale) == []
    keep = buttons.encode(buttons.KeepTake("item.power", "en", keep=True))
    world.api.press_button(ADMIN, stale.message_id, keep, verify=False)
    await world.idle()
    assert world.api.callback_answers[-1]["text"] == "This button no longer works."
    assert await rows(world, "SELECT audio FROM voice_clips") == [(second_take,)]


async def test_listening_mid_checkin_changes_nothing_and_only_where_a_clip_exists(
    world: World,
) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada", team="Office")
    statement_clip, yes_clip = ogg_opus(2.0, tag=b"power"), ogg_opus(1.0, tag=b"yes")
    await record(world, ADMIN, "/record en 2", statement_clip)
    await record(world, ADMIN, "/record en 11", yes_clip)  # the answer "Yes, definitely"

    first = (await enrolled(world))[-1]
    labels = [label for label, _ in world.api.buttons(first)]
    assert labels[0] == "🔊 Listen"
    before = (first.content, first.reply_markup, len(first.history))
    step = await rows(world, "SELECT step, status FROM checkins")

    heard = await world.press(YP, "Listen", first)
    voices = [m for m in heard if m.method == "sendVoice"]
    assert [m.voice for m in voices] == [statement_clip, yes_clip]  # the statement, then labels
    assert [m for m in heard if m.method != "sendVoice"] == []  # nothing else sent or edited
    assert (first.content, first.reply_markup, len(first.history)) == before
    assert await rows(world, "SELECT step, status FROM checkins") == step
    assert await rows(world, "SELECT count(*) FROM answers") == [(0,)]
    assert world.api.callback_answers[-1]["text"] is None

    # Listening twice sends the clip again by Telegram's file id; the check-in carries on.
    await world.press(YP, "Listen", first)
    second = (await world.press(YP, "Mostly", first))[-1]
    assert second.message_id == first.message_id  # still the one live message
    assert "respected" in statement(second)
    assert "🔊 Listen" not in [label for label, _ in world.api.buttons(second)]
    assert await rows(world, "SELECT item_id, value FROM answers") == [("power", 3)]


async def test_a_young_person_hears_their_own_language_and_no_listen_without_a_clip(
    world: World,
) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada", team="Office")
    farsi = ogg_opus(2.0, tag=b"farsi")
    await record(world, ADMIN, "/record fa 2", farsi)
    english = (await enrolled(world))[-1]
    assert "🔊 Listen" not in [label for label, _ in world.api.buttons(english)]

    token = await invite(world, KW, "CD")
    picker = await world.say(YP + 1, f"/start {token}")
    welcome = await world.press(YP + 1, "فارسی", picker[-1])
    assert "🔊" not in str(world.api.buttons(welcome[-1]))  # no clip of the welcome in Farsi
    first = (await world.press(YP + 1, "✅", welcome[-1]))[-1]
    listen = [label for label, _ in world.api.buttons(first) if label.startswith("🔊")]
    assert listen
    assert listen[0] != "🔊 Listen"
    heard = await world.press(YP + 1, listen[0], first)
    assert [m.voice for m in heard] == [farsi]


async def test_the_welcome_has_a_clip_and_a_restart_in_between_loses_nothing(
    world: World,
) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada", team="Office")
    welcome_clip = ogg_opus(20.0, tag=b"welcome")
    prompt = (await world.say(ADMIN, "/record en 1"))[-1]
    assert "(welcome)" in prompt.content
    assert "Hello! I'm Check-in" in prompt.content
    played = (await send_take(world, ADMIN, welcome_clip))[-1]

    await world.restart()  # between the take and "Keep"
    await world.press(ADMIN, "Keep", played)
    assert await rows(world, "SELECT text_key, duration FROM voice_clips") == [("welcome", 20)]

    await world.restart()
    world.api.forget_files()  # as after a new bot token: Telegram refuses the old file ids
    old_id = (await rows(world, "SELECT file_id FROM voice_clips"))[0][0]
    await add_staff(world, KW)
    token = await invite(world, KW)
    picker = await world.say(YP, f"/start {token}")
    welcome = (await world.press(YP, "English", picker[-1]))[-1]
    assert next(label for label, _ in world.api.buttons(welcome)) == "🔊 Listen"
    heard = await world.press(YP, "Listen", welcome)
    assert [m.voice for m in heard] == [welcome_clip]  # uploaded again from the stored audio
    new_id = (await rows(world, "SELECT file_id FROM voice_clips"))[0][0]
    assert new_id not in (None, old_id)
    assert await rows(world, "SELECT status FROM enrolments") == [("pending",)]
    first = (await world.press(YP, "✅", welcome))[-1]
    assert first.content.startswith("Statement 1 of 9")


async def test_wrong_files_get_a_clear_answer_and_change_nothing(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    await world.say(ADMIN, "/record en")
    for data in (MP3, ogg_vorbis()):
        replies = await send_take(world, ADMIN, data)
        assert [m.method for m in replies] == ["sendMessage"]
        assert "not a voice recording I can use" in replies[0].content
        assert "OGG" in replies[0].content
    before = {m.message_id for m in world.api.messages(ADMIN)}
    world.api.send_document(ADMIN, MP3, filename="clip.mp3", mime_type="audio/mpeg")
    await world.idle()
    replies = [m for m in world.api.messages(ADMIN) if m.message_id not in before]
    assert "not a voice recording I can use" in replies[-1].content
    big = await send_take(world, ADMIN, ogg_opus(2.0) + bytes(1_100_000))
    assert "too big" in big[-1].content
    assert await rows(world, "SELECT audio FROM voice_drafts") == [(None,)]
    assert await rows(world, "SELECT count(*) FROM voice_clips") == [(0,)]

    # An uploaded OGG/Opus file (not a voice note) is a take too.
    before = {m.message_id for m in world.api.messages(ADMIN)}
    world.api.send_document(ADMIN, ogg_opus(2.0), filename="welcome.ogg")
    await world.idle()
    played = [m for m in world.api.messages(ADMIN) if m.message_id not in before][-1]
    assert played.method == "sendVoice"


async def test_the_voice_role_records_and_others_get_the_unknown_command_answer(
    world: World,
) -> None:
    await add_staff(world, RECORDER, role="voice", name="Rahim", team="Interpreters")
    await record(world, RECORDER, "/record ps", ogg_opus(2.0))
    assert await rows(world, "SELECT language, text_key FROM voice_clips") == [("ps", "welcome")]
    assert "/digest" not in (await world.say(RECORDER, "/help"))[-1].content
    unknown = (await world.say(RECORDER, "/digest"))[-1].content

    await enrolled(world)
    assert (await world.say(KW, "/record en"))[-1].content == unknown
    assert (await world.say(YP, "/record en"))[-1].content == unknown
    # A young person's voice note is not a take: the usual kind answer.
    before = {m.message_id for m in world.api.messages(YP)}
    world.api.send_voice(YP, data=ogg_opus(1.0))
    await world.idle()
    replies = [m for m in world.api.messages(YP) if m.message_id not in before]
    assert "I can only read button presses and text" in replies[-1].content
    assert await rows(world, "SELECT count(*) FROM voice_clips") == [(1,)]


async def test_forgetme_never_touches_clips(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada", team="Office")
    await record(world, ADMIN, "/record en 2", ogg_opus(2.0))
    first = (await enrolled(world))[-1]
    await world.press(YP, "Listen", first)
    ask = (await world.say(YP, "/forgetme"))[-1]
    await world.press(YP, "Delete everything", ask)
    assert await rows(world, "SELECT count(*) FROM voice_clips") == [(1,)]


async def test_retention_never_touches_clips(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada", team="Office")
    clip = ogg_opus(2.0)
    await record(world, ADMIN, "/record en 2", clip)
    await enrolled(world)
    ask = (await world.say(KW, "/exit AB"))[-1]
    await world.press(KW, "Yes, support has ended", ask)
    world.clock.advance(timedelta(days=400))
    assert world.rt is not None
    removed = await run_retention(world.rt, force=True)
    assert removed is not None
    assert await rows(world, "SELECT status FROM enrolments") == [("forgotten",)]
    assert await rows(world, "SELECT text_key, audio FROM voice_clips") == [("item.power", clip)]


def test_checkin_bot_languages_shows_voice_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"

    async def two_farsi_clips() -> None:
        db = Database(url)
        await db.migrate()
        async with db.transaction() as conn:
            for key in ("welcome", "item.power"):
                await voice.save_clip(
                    conn,
                    text_key=key,
                    language="fa",
                    audio=ogg_opus(2.0),
                    duration=2,
                    file_id=None,
                    recorded_by=None,
                    now=START,
                )
        await db.close()

    asyncio.run(two_farsi_clips())
    monkeypatch.setenv("CHECKIN_DATABASE_URL", url)
    assert main(["languages"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "voice" in lines["code"].split()
    columns = re.compile(r"(\d+)/(\d+)\s+(\d+)\s+(\d+/\d+)")
    voice_of = {code: m[4] for code, line in lines.items() if (m := columns.search(line))}
    assert voice_of["fa"] == "2/14"
    assert voice_of["en"] == "0/14"
    assert len(voice_of) == 13
