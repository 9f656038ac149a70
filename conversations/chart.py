"""The digest chart: a PNG of positive shares per statement and checkpoint.

Each bar runs to the lower end of the shown range, with the rest of the range drawn lighter
(shares are ranges, never exact small counts); a statement whose figures are withheld gets no
bar, only the word "hidden". Matplotlib cannot shape Arabic-script or draw Ethiopic text with its
bundled font, so labels in those scripts fall back to English.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from conversations.digest import Bar, checkpoint_order

COLOURS = ("#5b8def", "#f0a23b", "#3bb273", "#a06cd5", "#e05263")
DRAWABLE = frozenset({"en", "om", "so", "sq", "vi", "uk"})


def draw_chart(
    bars: tuple[Bar, ...],
    item_names: Mapping[str, str],
    checkpoint_names: Mapping[str, str],
    *,
    title: str,
    hidden: str,
) -> bytes:
    """The chart as PNG bytes; ``item_names`` gives the order of statements (top to bottom).

    Matplotlib (about 40 MB) is imported on the first chart, not when the bot starts.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    checkpoints = sorted({bar.checkpoint for bar in bars}, key=checkpoint_order)
    items = [item for item in item_names if any(bar.item_id == item for bar in bars)]
    by_key = {(bar.item_id, bar.checkpoint): bar for bar in bars}
    height = 0.8 / max(len(checkpoints), 1)
    figure, axes = plt.subplots(
        figsize=(8, 1.0 + 0.55 * max(len(items), 1) * max(1, len(checkpoints) / 2))
    )
    try:
        for column, checkpoint in enumerate(checkpoints):
            colour = COLOURS[column % len(COLOURS)]
            for row, item in enumerate(items):
                y = row + column * height
                bar = by_key.get((item, checkpoint))
                if bar is None or bar.share is None:
                    axes.text(1, y, hidden, va="center", fontsize=7, color="#888")
                    continue
                label = checkpoint_names.get(checkpoint, checkpoint) if row == 0 else None
                axes.barh(y, bar.share.low, height=height * 0.9, color=colour, label=label)
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
        axes.set_xlabel("%")
        axes.set_title(title, fontsize=10)
        if checkpoints:
            axes.legend(
                fontsize=8,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.08),
                ncol=len(checkpoints),
                frameon=False,
            )
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110)
        return buffer.getvalue()
    finally:
        plt.close(figure)
