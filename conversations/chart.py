"""The digest chart: a PNG of positive shares per statement and checkpoint, in the reader's words.

Each bar runs to the lower end of the shown range, with the rest of the range drawn lighter
(shares are ranges, never exact small counts); a statement whose figures are withheld gets no
bar, only the word for "hidden". The axis, the title and a line under the legend say all that in
words. Every language is drawn in its own script: Matplotlib 3.11 and later shape text through
libraqm (joined Arabic letters, right to left), and the Noto fonts (Debian ``fonts-noto-core``,
installed by ``make system``) cover Arabic script and Ethiopic, with DejaVu Sans for the rest.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from conversations.digest import Bar, checkpoint_order

COLOURS = ("#5b8def", "#f0a23b", "#3bb273", "#a06cd5", "#e05263")
ARABIC_SCRIPT = frozenset({"ar", "fa", "fa_AF", "ps", "ckb"})
ETHIOPIC = frozenset({"ti", "am"})
FONT_FILES = {
    "Noto Sans Arabic": "NotoSansArabic-Regular.ttf",
    "Noto Sans Ethiopic": "NotoSansEthiopic-Regular.ttf",
}
FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/noto"))


@dataclass(frozen=True)
class ChartWords:
    """The chart's words, already translated."""

    title: str
    axis: str
    legend: str
    hidden: str
    too_few: str


def font_families(language: str) -> list[str]:
    """The fonts to draw *language* with, first choice first (each character takes the first
    font that has it)."""
    if language in ARABIC_SCRIPT:
        return ["Noto Sans Arabic", "DejaVu Sans", "Noto Sans Ethiopic"]
    if language in ETHIOPIC:
        return ["Noto Sans Ethiopic", "DejaVu Sans", "Noto Sans Arabic"]
    return ["DejaVu Sans", "Noto Sans Arabic", "Noto Sans Ethiopic"]


def register_fonts(font_manager: object, dirs: Sequence[Path] = FONT_DIRS) -> list[str]:
    """Make the Noto fonts known to Matplotlib even if its font cache predates them; returns
    the families that are missing from the machine (``make system`` installs them)."""
    known = {entry.name for entry in font_manager.fontManager.ttflist}  # type: ignore[attr-defined]
    missing = []
    for family, filename in FONT_FILES.items():
        if family in known:
            continue
        found = next((d / filename for d in dirs if (d / filename).is_file()), None)
        if found is None:
            missing.append(family)
        else:
            font_manager.fontManager.addfont(str(found))  # type: ignore[attr-defined]
    return missing


CACHED_CHARTS = 32
"""How many charts :func:`draw_chart` keeps in memory (about 30-60 kB each)."""


class ChartCache:
    """The last charts drawn, by content (bars, names, words, language): the same figures in
    the same words give the same PNG without drawing again. Least recently used goes first."""

    def __init__(self, size: int = CACHED_CHARTS) -> None:
        self.size = size
        self.charts: OrderedDict[Hashable, bytes] = OrderedDict()
        self.drawn = 0
        self.reused = 0

    def get(self, key: Hashable) -> bytes | None:
        found = self.charts.get(key)
        if found is not None:
            self.charts.move_to_end(key)
            self.reused += 1
        return found

    def put(self, key: Hashable, png: bytes) -> None:
        self.drawn += 1
        self.charts[key] = png
        while len(self.charts) > self.size:
            self.charts.popitem(last=False)


CHARTS = ChartCache()


def draw_chart(
    bars: tuple[Bar, ...],
    item_names: Mapping[str, str],
    checkpoint_names: Mapping[str, str],
    words: ChartWords,
    *,
    language: str = "en",
) -> bytes:
    """The chart as PNG bytes; ``item_names`` gives the order of statements (top to bottom).
    Drawn once per content (:data:`CHARTS`)."""
    key = (bars, tuple(item_names.items()), tuple(checkpoint_names.items()), words, language)
    found = CHARTS.get(key)
    if found is None:
        found = _draw(bars, item_names, checkpoint_names, words, language)
        CHARTS.put(key, found)
    return found


def _draw(
    bars: tuple[Bar, ...],
    item_names: Mapping[str, str],
    checkpoint_names: Mapping[str, str],
    words: ChartWords,
    language: str,
) -> bytes:
    """Draw the chart. Matplotlib (about 40 MB) is imported on the first chart, not when the
    bot starts."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    register_fonts(font_manager)
    checkpoints = sorted({bar.checkpoint for bar in bars}, key=checkpoint_order)
    items = [item for item in item_names if any(bar.item_id == item for bar in bars)]
    by_key = {(bar.item_id, bar.checkpoint): bar for bar in bars}
    height = 0.8 / max(len(checkpoints), 1)
    rows = max(len(items), 1) * max(1, len(checkpoints) / 2)
    with matplotlib.rc_context({"font.family": font_families(language)}):
        figure, axes = plt.subplots(figsize=(8, 1.9 + 0.55 * rows))
        try:
            for column, checkpoint in enumerate(checkpoints):
                colour = COLOURS[column % len(COLOURS)]
                for row, item in enumerate(items):
                    y = row + column * height
                    bar = by_key.get((item, checkpoint))
                    if bar is None or bar.share is None:
                        why = words.hidden if bar is not None and bar.withheld else words.too_few
                        axes.text(1, y, why, va="center", fontsize=7, color="#555")
                        continue
                    axes.barh(y, bar.share.low, height=height * 0.9, color=colour)
                    axes.barh(
                        y,
                        max(bar.share.high - bar.share.low, 1),
                        left=bar.share.low,
                        height=height * 0.9,
                        color=colour,
                        alpha=0.35,
                    )
            axes.set_yticks([r + height * (len(checkpoints) - 1) / 2 for r in range(len(items))])
            axes.set_yticklabels([item_names[i] for i in items], fontsize=8)
            axes.invert_yaxis()
            axes.set_xlim(0, 100)
            axes.set_xlabel(words.axis, fontsize=8)
            axes.set_title(words.title, fontsize=10)
            handles = [
                Patch(color=COLOURS[i % len(COLOURS)], label=checkpoint_names.get(c, c))
                for i, c in enumerate(checkpoints)
            ]
            figure.legend(
                handles=handles,
                fontsize=8,
                loc="lower center",
                bbox_to_anchor=(0.5, 0.035),
                ncol=max(len(checkpoints), 1),
                frameon=False,
            )
            figure.text(0.5, 0.01, words.legend, ha="center", va="bottom", fontsize=7, wrap=True)
            figure.tight_layout(rect=(0, 0.07, 1, 1))
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=110)
            return buffer.getvalue()
        finally:
            plt.close(figure)
