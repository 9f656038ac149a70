"""Voice clips as data (pure): which texts can be read aloud, and whether a file is a voice clip.

A text is named by a key: ``welcome``, ``item.<item id>`` (a statement) or ``option.<value>``
(an answer label). A clip must be what Telegram plays as a voice message: an OGG file (``OggS``
pages) carrying Opus sound (its first packet is ``OpusHead``), at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.questionnaire import Questionnaire

WELCOME = "welcome"
KEY = re.compile(r"welcome|item\.[a-z][a-z0-9_]{0,31}|option\.[0-9]")
MAX_BYTES = 1_000_000
"""A read statement is a few seconds (about 10 KB a second of Opus voice); a megabyte is plenty."""
MAX_SECONDS = 300

_OGG_HEADER = 27
_OPUS_RATE = 48_000


def item_key(item_id: str) -> str:
    return f"item.{item_id}"


def option_key(value: int) -> str:
    return f"option.{value}"


def recordable(q: Questionnaire) -> list[str]:
    """Every text that can have a clip, in the order a young person meets them: the welcome,
    each statement, then each answer label."""
    return [
        WELCOME,
        *(item_key(item.id) for item in q.items),
        *(option_key(o.value) for o in q.scale),
    ]


@dataclass(frozen=True, slots=True)
class ClipCheck:
    """What a file turned out to be: ``problem`` None and its ``duration``, or the problem
    (``too_big``, ``empty``, ``not_ogg``, ``not_opus``, ``too_long``)."""

    problem: str | None
    duration: int = 0


def check_clip(data: bytes) -> ClipCheck:
    """Whether ``data`` is a voice clip Telegram plays: size, OGG pages, Opus sound, length."""
    if not data:
        return ClipCheck("empty")
    if len(data) > MAX_BYTES:
        return ClipCheck("too_big")
    if not data.startswith(b"OggS") or len(data) < _OGG_HEADER + 1:
        return ClipCheck("not_ogg")
    segments = data[_OGG_HEADER - 1]
    start = _OGG_HEADER + segments
    head = data[start : start + 19]
    if not head.startswith(b"OpusHead") or len(head) < 19:
        return ClipCheck("not_opus")
    pre_skip = int.from_bytes(head[10:12], "little")
    last = data.rfind(b"OggS")
    granule = int.from_bytes(data[last + 6 : last + 14], "little")
    samples = max(granule - pre_skip, 0) if granule != 2**64 - 1 else 0
    seconds = -(-samples // _OPUS_RATE)  # rounded up: a short clip is at least one second
    if seconds > MAX_SECONDS:
        return ClipCheck("too_long")
    return ClipCheck(None, max(seconds, 1))
