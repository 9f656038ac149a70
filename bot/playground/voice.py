"""The playground's voice clips: which texts of a language have a clip, and uploading one.

Kept apart from the language review (``review.py``): it reads and writes the bot's database
through ``storage/``, with the same checks as ``/record`` (size, OGG pages, Opus sound).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from bot.playground.core import PlaygroundError
from conversations.recording import text_to_read
from conversations.runtime import Runtime
from conversations.voiceclips import MAX_BYTES, check_clip, recordable
from storage import voice

JSONDict = dict[str, Any]
PROBLEMS = {
    "empty": "the file is empty",
    "too_big": f"the file is bigger than {MAX_BYTES // 1000} KB",
    "too_long": "the recording is longer than 5 minutes",
    "not_ogg": "not an OGG file: Telegram voice messages are OGG files with Opus sound",
    "not_opus": "an OGG file without Opus sound: Telegram voice messages need Opus",
}


async def clips(rt: Runtime, code: str) -> JSONDict:
    """Every text that can be read aloud in ``code``, in order, and whether it has a clip."""
    async with rt.db.read() as conn:
        done = await voice.recorded_keys(conn, code)
    texts = []
    for number, key in enumerate(recordable(rt.questionnaire), start=1):
        _text, what = text_to_read(rt, key, code)
        texts.append({"number": number, "key": key, "what": what, "has_clip": key in done})
    return {"language": code, "texts": texts}


async def upload(rt: Runtime, code: str, key: str, audio_base64: str) -> JSONDict:
    """Store ``audio_base64`` as the clip of ``key`` in ``code``; PlaygroundError naming what is
    wrong otherwise (nothing is stored then)."""
    if key not in recordable(rt.questionnaire):
        raise PlaygroundError(f"no text {key!r} to read aloud")
    try:
        audio = base64.b64decode(audio_base64, validate=True)
    except (binascii.Error, ValueError):
        raise PlaygroundError("audio: not base64") from None
    checked = check_clip(audio)
    if checked.problem is not None:
        raise PlaygroundError(f"audio: {PROBLEMS[checked.problem]}")
    async with rt.db.transaction() as conn:
        await voice.save_clip(
            conn,
            text_key=key,
            language=code,
            audio=audio,
            duration=checked.duration,
            file_id=None,  # uploaded to Telegram the first time a young person listens
            recorded_by=None,
            now=rt.clock.now(),
        )
    return {"key": key, "duration": checked.duration}
