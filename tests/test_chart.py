"""The digest chart is drawn in the reader's language and script: real, shaped glyphs."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")
from matplotlib import _text_helpers, font_manager
from matplotlib.font_manager import FontProperties, get_font

from conversations.chart import ChartWords, draw_chart, font_families, register_fonts
from conversations.digest import Bar, ShareRange

LABELS = {
    "ar": ("يمكنني اللجوء إلى المرشد", "البداية", "مخفي"),
    "fa": ("می‌توانم به مددکارم رو بیاورم", "شروع", "پنهان"),
    "ti": ("ናብ ሰራሕተኛይ ክቐርብ ይኽእል", "መጀመርታ", "ዝተሓብአ"),
}


def glyphs(text: str, language: str) -> list[tuple[int, str]]:
    """How Matplotlib lays *text* out for *language*: (glyph index, font family) per glyph.
    Glyph index 0 is the font's .notdef box."""
    assert register_fonts(font_manager) == [], "fonts-noto-core is missing (make system)"
    props = FontProperties(family=font_families(language))
    font = get_font(font_manager.fontManager._find_fonts_by_props(props))
    font.set_size(10, 72)
    return [
        (item.glyph_index, item.ft_object.family_name)
        for item in _text_helpers.layout(text, font)
        if not item.char.isspace()
    ]


@pytest.mark.parametrize("language", sorted(LABELS))
def test_labels_are_drawn_with_real_glyphs(language: str) -> None:
    for label in LABELS[language]:
        laid_out = glyphs(label, language)
        assert laid_out, label
        assert all(index != 0 for index, _ in laid_out), (label, laid_out)
        assert all("Last Resort" not in family for _, family in laid_out), (label, laid_out)


def test_arabic_letters_are_joined() -> None:
    """Shaping: the same letter takes a different (joined) glyph inside a word than alone."""
    alone = glyphs("ب", "ar")
    joined = glyphs("ببب", "ar")
    assert len(joined) == 3
    assert len({index for index, _ in joined}) == 3  # initial, medial and final forms
    assert alone[0][0] not in {index for index, _ in joined[1:2]}


@pytest.mark.parametrize("language", sorted(LABELS))
def test_the_chart_draws_in_every_script(language: str) -> None:
    item, start, hidden = LABELS[language]
    bars = (
        Bar("turn_to", "start", ShareRange(40, 60)),
        Bar("cares", "start", None, withheld=True),
    )
    png = draw_chart(
        bars,
        {"turn_to": item, "cares": item},
        {"start": start},
        ChartWords(title=item, axis=item, legend=item, hidden=hidden, too_few=hidden),
        language=language,
    )
    assert png.startswith(b"\x89PNG")
    assert len(png) > 5_000


def test_the_glyph_check_sees_boxes() -> None:
    """Without the Noto fonts (DejaVu Sans alone), Ethiopic has no real glyphs: the check
    above would fail."""
    font = get_font(
        font_manager.fontManager._find_fonts_by_props(FontProperties(family="DejaVu Sans"))
    )
    font.set_size(10, 72)
    laid_out = [
        (item.glyph_index, item.ft_object.family_name)
        for item in _text_helpers.layout(LABELS["ti"][0], font)
        if not item.char.isspace()
    ]
    assert any(index == 0 or "Last Resort" in family for index, family in laid_out)
