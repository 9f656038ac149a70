"""Voice clips: recordings of the texts young people read, per language, and takes in progress.

Clips are the service's, not a young person's: nothing here is linked to a young person, and
neither ``/forgetme`` nor retention touches these tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.schema import voice_clips, voice_drafts


@dataclass(frozen=True, slots=True)
class Clip:
    """One stored clip: the audio itself and, once Telegram has it, its ``file_id``."""

    id: int
    text_key: str
    language: str
    audio: bytes
    duration: int
    file_id: str | None


@dataclass(frozen=True, slots=True)
class Draft:
    """A staff member's recording in progress: which text, which language, the take if any."""

    staff_id: int
    text_key: str
    language: str
    audio: bytes | None
    duration: int | None
    file_id: str | None


async def save_clip(
    conn: AsyncConnection,
    *,
    text_key: str,
    language: str,
    audio: bytes,
    duration: int,
    file_id: str | None,
    recorded_by: int | None,
    now: datetime,
) -> None:
    """Store the clip of ``text_key`` in ``language``, replacing an earlier one."""
    values = {
        "audio": audio,
        "duration": duration,
        "file_id": file_id,
        "recorded_by": recorded_by,
        "recorded_at": now,
    }
    statement = upsert(conn, voice_clips).values(text_key=text_key, language=language, **values)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=["text_key", "language"], set_=values)
    )


async def clip(conn: AsyncConnection, text_key: str, language: str) -> Clip | None:
    """The clip of ``text_key`` in ``language``, if one was recorded."""
    row = (
        (
            await conn.execute(
                select(voice_clips).where(
                    voice_clips.c.text_key == text_key, voice_clips.c.language == language
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return Clip(
        row["id"],
        row["text_key"],
        row["language"],
        bytes(row["audio"]),
        row["duration"],
        row["file_id"],
    )


async def recorded_keys(conn: AsyncConnection, language: str) -> set[str]:
    """The texts that have a clip in ``language``."""
    rows = await conn.execute(
        select(voice_clips.c.text_key).where(voice_clips.c.language == language)
    )
    return {str(key) for key in rows.scalars()}


async def clips_per_language(conn: AsyncConnection) -> Counter[str]:
    """How many clips each language has."""
    rows = await conn.execute(
        select(voice_clips.c.language, func.count()).group_by(voice_clips.c.language)
    )
    return Counter({str(language): int(n) for language, n in rows.all()})


async def count_clips(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.count()).select_from(voice_clips)) or 0)


async def set_file_id(conn: AsyncConnection, clip_id: int, file_id: str) -> None:
    """Remember Telegram's id of a clip just uploaded (for this bot token)."""
    await conn.execute(
        update(voice_clips).where(voice_clips.c.id == clip_id).values(file_id=file_id)
    )


async def start_draft(
    conn: AsyncConnection, staff_id: int, text_key: str, language: str, now: datetime
) -> None:
    """Begin (or restart) recording ``text_key`` in ``language``; any earlier take is dropped."""
    values = {
        "text_key": text_key,
        "language": language,
        "audio": None,
        "duration": None,
        "file_id": None,
        "started_at": now,
    }
    statement = upsert(conn, voice_drafts).values(staff_id=staff_id, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["staff_id"], set_=values))


async def draft_of(conn: AsyncConnection, staff_id: int) -> Draft | None:
    """The staff member's recording in progress, if any."""
    row = (
        (await conn.execute(select(voice_drafts).where(voice_drafts.c.staff_id == staff_id)))
        .mappings()
        .first()
    )
    if row is None:
        return None
    audio = row["audio"]
    return Draft(
        row["staff_id"],
        row["text_key"],
        row["language"],
        bytes(audio) if audio is not None else None,
        row["duration"],
        row["file_id"],
    )


async def keep_take(
    conn: AsyncConnection,
    staff_id: int,
    *,
    text_key: str,
    language: str,
    audio: bytes,
    duration: int,
    file_id: str | None,
) -> bool:
    """Hold a take of the draft (for ``text_key`` in ``language``) until keep or redo; False
    when the draft is no longer that text (a late message after a new /record)."""
    result = await conn.execute(
        update(voice_drafts)
        .where(
            voice_drafts.c.staff_id == staff_id,
            voice_drafts.c.text_key == text_key,
            voice_drafts.c.language == language,
        )
        .values(audio=audio, duration=duration, file_id=file_id)
    )
    return bool(result.rowcount)


async def clear_take(conn: AsyncConnection, staff_id: int) -> None:
    """Redo: drop the take, keep waiting for the same text."""
    await conn.execute(
        update(voice_drafts)
        .where(voice_drafts.c.staff_id == staff_id)
        .values(audio=None, duration=None, file_id=None)
    )


async def end_draft(conn: AsyncConnection, staff_id: int) -> None:
    await conn.execute(delete(voice_drafts).where(voice_drafts.c.staff_id == staff_id))


async def has_clip(conn: AsyncConnection, text_key: str, language: str) -> bool:
    """Whether ``text_key`` has a clip in ``language`` (without reading the audio)."""
    found = await conn.scalar(
        select(voice_clips.c.id).where(
            voice_clips.c.text_key == text_key, voice_clips.c.language == language
        )
    )
    return found is not None
