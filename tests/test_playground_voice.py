"""The playground's voice clips: uploading one in the language review, and hearing it."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import text

from bot.playground import Playground
from conversations import buttons
from tests.playground_client import KEY_WORKER, YOUNG_PERSON, Client
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
    await client.post(f"/api/phones/{KEY_WORKER}/send", {"text": "/invite AB"})
    await playground.idle()
    invite = (await client.get(f"/api/phones/{KEY_WORKER}"))["messages"][-1]
    link = re.search(r"https://t\.me/\S+", invite["text"])
    assert link is not None
    await client.post(f"/api/phones/{YOUNG_PERSON}/open", {"link": link[0]})
    await playground.idle()
    for label in ("English", "✅ Yes, let's go"):
        last = (await client.get(f"/api/phones/{YOUNG_PERSON}"))["messages"][-1]
        button = next(b for row in last["buttons"] for b in row if b["text"] == label)
        await client.post(
            f"/api/phones/{YOUNG_PERSON}/press", {"message_id": last["id"], "data": button["data"]}
        )
        await playground.idle()
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
        assert await response.read() == clip
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
