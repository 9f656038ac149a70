"""The playground's voice clips: uploading one in the language review, and hearing it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.async_api import expect
from sqlalchemy import text

from bot.playground import Playground
from conversations import buttons
from tests.playground_client import (
    ARTIFACTS,
    CHROMIUM,
    KEY_WORKER,
    YOUNG_PERSON,
    Client,
    browser_page,
    join,
)
from tests.voice_files import MP3, ogg_opus, ogg_vorbis


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_a_clip_uploaded_in_the_review_is_heard_by_a_young_person(
    playground: Playground, client: Client
) -> None:
    listing = await client.get("/api/voice/en")
    assert listing["texts"][0] == {
        "number": 1,
        "key": "welcome",
        "what": "welcome",
        "has_clip": False,
    }
    assert listing["texts"][1]["what"] == "statement 1"
    clip = ogg_opus(2.0, tag=b"playground")
    saved = await client.post("/api/voice/en", {"key": "item.power", "audio": b64(clip)})
    assert saved == {"ok": True, "key": "item.power", "duration": 2}
    listing = await client.get("/api/voice/en")
    assert [t["key"] for t in listing["texts"] if t["has_clip"]] == ["item.power"]

    # The demo young person joins; their first statement now has "🔊 Listen"; pressing it sends
    # the clip, uploaded to Telegram from the stored audio (the playground gave it no file id).
    await join(client, playground)
    first = (await client.get(f"/api/phones/{YOUNG_PERSON}"))["messages"][-1]
    assert first["text"].startswith("Statement 1")
    assert first["buttons"][0][0]["text"] == "🔊 Listen"
    data = buttons.encode(buttons.Listen("item.power"))
    await client.post(
        f"/api/phones/{YOUNG_PERSON}/press", {"message_id": first["id"], "data": data}
    )
    await playground.idle()
    phone = await client.get(f"/api/phones/{YOUNG_PERSON}")
    voice = phone["messages"][-1]["voice"]
    assert voice is not None
    async with client.session.get(client.url + voice) as response:
        assert response.content_type == "audio/ogg"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert await response.read() == clip
    # Byte ranges, as an audio player asks for them (the end of the stream gives its length).
    size = len(clip)
    for asked, status, body, content_range in [
        ("bytes=0-3", 206, clip[:4], f"bytes 0-3/{size}"),
        ("bytes=-10", 206, clip[-10:], f"bytes {size - 10}-{size - 1}/{size}"),
        (f"bytes=10-{size + 100}", 206, clip[10:], f"bytes 10-{size - 1}/{size}"),
        (f"bytes={size}-", 416, None, f"bytes */{size}"),
        ("pages=1-2", 416, None, f"bytes */{size}"),
    ]:
        async with client.session.get(client.url + voice, headers={"Range": asked}) as response:
            assert response.status == status, asked
            assert response.headers["Content-Range"] == content_range
            if body is not None:
                assert await response.read() == body
    async with playground.rt.db.read() as conn:
        stored = (await conn.execute(text("SELECT file_id FROM voice_clips"))).scalar()
    assert stored is not None


@pytest.mark.parametrize(
    ("audio", "error"),
    [
        (b64(MP3), "not an OGG file"),
        (b64(ogg_vorbis()), "without Opus sound"),
        (b64(b""), "the file is empty"),
        ("not base64!", "not base64"),
    ],
)
async def test_a_wrong_file_is_refused_with_what_is_wrong(
    client: Client, audio: str, error: str
) -> None:
    answer = await client.post("/api/voice/en", {"key": "welcome", "audio": audio}, status=400)
    assert error in answer["error"]
    listing = await client.get("/api/voice/en")
    assert not any(t["has_clip"] for t in listing["texts"])


async def test_unknown_texts_and_languages_are_refused(client: Client) -> None:
    clip = b64(ogg_opus(1.0))
    answer = await client.post("/api/voice/en", {"key": "item.nope", "audio": clip}, status=400)
    assert "no text" in answer["error"]
    await client.get("/api/voice/xx", status=404)


# ---- the voice flow in a real browser --------------------------------------------------------
@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make system)"
)
async def test_in_the_browser_a_clip_uploaded_in_the_review_is_heard_mid_check_in(
    playground: Playground, tmp_path: Path
) -> None:
    """Upload a clip for statement 1 in the Language review; a young person starts a check-in,
    sees "🔊 Listen", presses it, gets the voice message, and is still at statement 1."""
    clip = ogg_opus(2.0, tag=b"browser")
    upload = tmp_path / "statement-1.ogg"
    upload.write_bytes(clip)
    ARTIFACTS.mkdir(exist_ok=True)
    async with browser_page(playground.url) as page:
        # The Language review: English, statement 1, an .ogg file, Upload.
        await page.get_by_role("tab", name="Language review").click()
        await page.locator("#review-lang").select_option("en")
        status = page.locator("#voice-status")
        await expect(status).to_contain_text("Voice clips: 0/")
        await page.locator("#voice-text").select_option("item.power")
        await page.locator("#voice-file").set_input_files(str(upload))
        await page.get_by_role("button", name="Upload").click()
        await expect(status).to_contain_text("saved (2 s)")
        await expect(status).to_contain_text("Voice clips: 1/")
        await expect(page.locator("#voice-text")).to_have_value("item.power")

        # The phones: the key worker invites, the young person joins and starts.
        await page.get_by_role("tab", name="Phones").click()
        key_worker = page.locator(f'.phone[data-key="{KEY_WORKER}"]')
        young = page.locator(f'.phone[data-key="{YOUNG_PERSON}"]')
        await key_worker.locator("textarea").fill("/invite AB")
        await key_worker.get_by_role("button", name="Send").click()
        await expect(key_worker.locator(".msg.bot").last).to_contain_text("Invite for AB")
        await key_worker.get_by_role("button", name="Open on Young person 1").click()
        await young.get_by_role("button", name="English").click()
        await young.get_by_role("button", name="Yes, let's go").click()
        statement = young.locator(".msg.bot", has_text="Statement 1 of 9")
        await expect(statement).to_have_count(1)
        listen = statement.get_by_role("button", name="🔊 Listen")
        await expect(listen).to_be_visible()

        # "🔊 Listen": the clip arrives as a voice message the page can play...
        await listen.click()
        audio = young.locator(".msg.bot audio.voice")
        await expect(audio).to_have_count(1)
        source = await audio.get_attribute("src")
        assert source is not None
        fetched = await page.evaluate(
            """async (src) => {
                const response = await fetch(src);
                const body = new Uint8Array(await response.arrayBuffer());
                return [response.headers.get("content-type"), Array.from(body)];
            }""",
            source,
        )
        assert fetched[0] == "audio/ogg"
        assert bytes(fetched[1]) == clip
        # The browser opens it as sound: its length, read from the stream, is the clip's.
        duration = await audio.evaluate(
            """(audio) => new Promise((resolve, reject) => {
                audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
                audio.addEventListener("error", () => reject(new Error(
                    `audio error ${audio.error && audio.error.code}`)));
                audio.preload = "metadata";
                audio.load();
            })"""
        )
        assert duration == pytest.approx(2.0, abs=0.05)
        await page.screenshot(path=str(ARTIFACTS / "playground-voice.png"))

        # ...and the check-in has not moved: statement 1 is still the live message, with
        # its buttons usable, and answering it goes on to statement 2.
        await expect(young.locator(".msg.bot", has_text="Statement 1 of 9")).to_have_count(1)
        await expect(young.locator(".msg.bot", has_text="Statement 2 of 9")).to_have_count(0)
        mostly = statement.get_by_role("button", name="Mostly")
        await expect(mostly).to_be_enabled()
        async with playground.rt.db.read() as conn:
            step = (await conn.execute(text("SELECT step FROM checkins"))).scalar()
        assert step == "power"
        await mostly.click()
        await expect(young.locator(".msg.bot", has_text="Statement 2 of 9")).to_have_count(1)
