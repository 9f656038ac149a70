"""Button data: every action round-trips, fits in 64 bytes, and anything else decodes to None."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations import buttons

ACTIONS: list[buttons.Action] = [
    buttons.Answer(12, "turn_to", 4),
    buttons.Answer(99999999999, "a" * 32, 0),
    buttons.Back(3, "respected"),
    buttons.Pause(3, "comment"),
    buttons.NoComment(7),
    buttons.Share(7, share=True),
    buttons.Share(7, share=False),
    buttons.Resume(8),
    buttons.ChooseLanguage("fa_AF"),
    buttons.ChooseLanguage("ckb"),
    buttons.Consent(agree=True),
    buttons.Forget("keep"),
    buttons.Forget("cancel"),
    buttons.ContactMe(),
    buttons.ConfirmExit(5, confirm=False),
    buttons.Publish(3, confirm=True),
    buttons.Scope(None),
    buttons.Scope(42),
]


@pytest.mark.parametrize("action", ACTIONS)
def test_round_trip_within_64_bytes(action: buttons.Action) -> None:
    data = buttons.encode(action)
    assert 1 <= len(data.encode()) <= 64
    assert buttons.decode(data) == action


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "a:1:power:4",
        "2:a:1:power:4",
        "1:a:0:power:4",
        "1:a:1:Power:4",
        "1:a:1:power:44",
        "1:z",
        "1:f:maybe",
        "1:g:2",
        "1:a:1:power:4:extra",
        "1:l:english",
        "1:k:1",
        "1:y:0",
        "1:y:everyone",
        "1:y:",
        "1:" + "x" * 70,
    ],
)
def test_tampered_or_old_data_decodes_to_none(data: str | None) -> None:
    assert buttons.decode(data) is None


def test_too_long_data_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        buttons.encode(buttons.Back(10**17, "x" * 60))


@given(st.text(max_size=80))
def test_random_data_never_raises(data: str) -> None:
    action = buttons.decode(data)
    if action is not None:
        assert buttons.encode(action) == data
