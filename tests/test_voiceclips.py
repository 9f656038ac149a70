"""Voice clips as data: what counts as a voice clip Telegram plays, and which texts have one."""

from __future__ import annotations

from conversations.questionnaire import load_questionnaires
from conversations.voiceclips import MAX_BYTES, check_clip, recordable
from core.settings import load_settings
from tests.voice_files import MP3, ogg_opus, ogg_vorbis


def test_an_ogg_opus_stream_is_a_clip_with_its_length() -> None:
    assert check_clip(ogg_opus(2.0)) == check_clip(ogg_opus(2.0, tag=b"other"))
    assert check_clip(ogg_opus(2.0)).problem is None
    assert check_clip(ogg_opus(2.0)).duration == 2
    assert check_clip(ogg_opus(7.4)).duration == 8  # rounded up
    assert check_clip(ogg_opus(0.2)).duration == 1


def test_wrong_formats_sizes_and_lengths_are_named() -> None:
    assert check_clip(b"").problem == "empty"
    assert check_clip(MP3).problem == "not_ogg"
    assert check_clip(ogg_vorbis()).problem == "not_opus"
    assert check_clip(b"OggS").problem == "not_ogg"
    assert check_clip(ogg_opus(301)).problem == "too_long"
    assert check_clip(ogg_opus(2.0) + bytes(MAX_BYTES)).problem == "too_big"


def test_every_statement_answer_label_and_the_welcome_can_have_a_clip() -> None:
    settings = load_settings()
    q = load_questionnaires(settings.questionnaires_dir)[settings.default_questionnaire]
    keys = recordable(q)
    assert keys[0] == "welcome"
    assert [k for k in keys if k.startswith("item.")] == [f"item.{i.id}" for i in q.items]
    assert [k for k in keys if k.startswith("option.")] == [f"option.{o.value}" for o in q.scale]
    assert len(keys) == 1 + len(q.items) + len(q.scale)
