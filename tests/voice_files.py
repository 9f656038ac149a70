"""Voice files for tests: well-formed OGG/Opus streams (real page structure and checksums; the
audio packets are placeholders, as nothing in the tests decodes sound) and wrong formats."""

from __future__ import annotations

import struct

_POLY = 0x04C11DB7


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def _crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def _page(payload: bytes, *, granule: int, sequence: int, flags: int, serial: int = 7) -> bytes:
    segments = [255] * (len(payload) // 255) + [len(payload) % 255]
    header = struct.pack(
        "<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(segments)
    )
    page = header + bytes(segments) + payload
    checksum = _crc(page)
    return page[:22] + struct.pack("<I", checksum) + page[26:]


def ogg_opus(seconds: float = 2.0, *, tag: bytes = b"take", pre_skip: int = 312) -> bytes:
    """An OGG/Opus stream lasting ``seconds`` (by its granule position); ``tag`` makes takes
    differ from each other."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48_000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    audio = b"\xfc" + tag + bytes(60)
    end = pre_skip + int(seconds * 48_000)
    return (
        _page(head, granule=0, sequence=0, flags=2)
        + _page(tags, granule=0, sequence=1, flags=0)
        + _page(audio, granule=end, sequence=2, flags=4)
    )


def ogg_vorbis() -> bytes:
    """An OGG file with Vorbis sound: OGG, but not what Telegram plays as a voice message."""
    return _page(b"\x01vorbis" + bytes(23), granule=0, sequence=0, flags=2)


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(200)
"""The start of an MP3 file."""
