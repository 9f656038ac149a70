"""The digest chart is drawn once per content: the same figures in the same words give the same
PNG without drawing again; other figures, words or language draw a new one; the cache is
bounded."""

from __future__ import annotations

import pytest

from conversations import chart
from conversations.chart import ChartCache, ChartWords, draw_chart
from conversations.digest import Bar, ShareRange

WORDS = ChartWords("Title", "Axis", "Legend", "hidden", "too few")
NAMES = {"cares": "They care", "turn_to": "I can turn to them"}
CHECKPOINTS = {"start": "start", "exit": "exit"}


def bars(low: int) -> tuple[Bar, ...]:
    return (
        Bar("cares", "start", ShareRange(low, low + 20)),
        Bar("turn_to", "start", None, withheld=True),
        Bar("cares", "exit", ShareRange(40, 60)),
    )


def test_the_same_content_is_drawn_once_and_other_content_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = ChartCache(size=2)
    monkeypatch.setattr(chart, "CHARTS", cache)  # a fresh cache for this test only
    first = draw_chart(bars(10), NAMES, CHECKPOINTS, WORDS, language="en")
    assert first.startswith(b"\x89PNG")
    again = draw_chart(bars(10), dict(NAMES), dict(CHECKPOINTS), WORDS, language="en")
    assert again == first
    assert (cache.drawn, cache.reused) == (1, 1)
    other = draw_chart(bars(30), NAMES, CHECKPOINTS, WORDS, language="en")
    assert other != first
    draw_chart(bars(10), NAMES, CHECKPOINTS, WORDS, language="fa")  # another language
    words = ChartWords("Titre", "Axis", "Legend", "hidden", "too few")
    draw_chart(bars(10), NAMES, CHECKPOINTS, words, language="en")  # other words
    assert (cache.drawn, cache.reused) == (4, 1)
    assert len(cache.charts) == 2  # bounded: the least recently used went
    draw_chart(bars(10), NAMES, CHECKPOINTS, WORDS, language="en")
    assert cache.drawn == 5  # it had gone, so it was drawn again
