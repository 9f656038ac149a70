"""The language review loop: a fluent speaker corrects and marks texts, and downloads a reviewed
catalogue that the bot uses from ``CHECKIN_LOCALES_OVERRIDE_DIR``; and every script is drawn with
real glyphs. The whole loop runs in a real browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from babel.messages.pofile import read_po
from playwright.async_api import expect

from bot.locales import (
    completeness,
    forget_changed_reviews,
    po_path,
    review_status,
    set_text_review,
    text_review,
)
from bot.playground import Playground
from bot.playground.corrections import (
    Correction,
    CorrectionError,
    parse,
    problems,
    reviewed_catalogue,
)
from core.i18n import Catalogues
from core.settings import DEFAULT_LOCALES_DIR, load_settings
from tests.playground_client import ARTIFACTS, CHROMIUM, SPEC, START, browser_page
from tests.test_cli import checkin_bot

STATEMENT = "Statement {n} of {total}"
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


# ---- the checks, as typed and on the server -------------------------------------------------
def test_a_correction_keeps_placeholders_commands_and_markup() -> None:
    assert problems([STATEMENT], ["መግለጺ {n} ካብ {total}"]) == []
    assert problems([STATEMENT], ["መግለጺ {n} ካብ"]) == ["keep {total} exactly as in the English"]
    assert problems([STATEMENT], ["መግለጺ {n} ካብ {totl}"]) == [
        "keep {total} exactly as in the English",
        "{totl} is not in the English",
    ]
    assert problems([STATEMENT], ["መግለጺ {n} ካብ {total"]) == [
        "keep {total} exactly as in the English",
        "a lone { or }: placeholders are written like {n}",
    ]
    assert problems(["Send /stop now."], ["ስደዱ"]) == ["keep the command /stop"]
    assert problems(["Hello"], ["<b>ሰላም</b>"]) == [
        "markup must be exactly as in the English (none)"
    ]
    assert problems(["<b>Hi</b>"], ["<b>ሰላም</b>"]) == []
    assert problems(["{n} month", "{n} months"], ["{n} ወርሒ", " "]) == ["form 1: empty"]


def test_bad_input_from_the_page_is_refused_in_words() -> None:
    with pytest.raises(CorrectionError, match="enter your name"):
        parse([], "  ")
    with pytest.raises(CorrectionError, match="review must be"):
        parse([{"english": "x", "translation": ["y"], "review": "maybe"}], "Abeba")
    with pytest.raises(CorrectionError, match="list of texts"):
        parse([{"english": "x", "translation": "y"}], "Abeba")
    name, entries = parse([{"english": "x", "translation": ["y"], "review": None}], " Abeba  T ")
    assert name == "Abeba T"
    assert entries == [Correction(None, "x", ("y",), None)]


def overridden(tmp_path: Path, code: str, data: bytes) -> Path:
    target = po_path(code, tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    return target


def test_the_reviewed_catalogue_is_ready_for_the_override_directory(tmp_path: Path) -> None:
    source = po_path("ti")
    corrections = [
        Correction(None, STATEMENT, ("መግለጺ {n} ካብ {total} (ተረጋጊጹ)",), "reviewed"),
        Correction("quality_experience.scale", "Mostly", ("መብዛሕትኡ ግዜ",), "reviewed"),
        Correction(None, "Skip", ("ሕለፍ",), "needs work"),
    ]
    data = reviewed_catalogue(source, "ti", "Abeba T", corrections, NOW)
    path = overridden(tmp_path, "ti", data)
    text = path.read_text("utf-8")
    assert '"Last-Translator: Abeba T\\n"' in text
    assert "PO-Revision-Date: 2026-12-03 09:30+0000" in text
    total = completeness("ti").total
    assert review_status(path) == f"2 of {total} reviewed by Abeba T on 2026-12-03, 1 need work"
    assert "# review: reviewed by Abeba T on 2026-12-03" in text
    assert "# review: needs work, by Abeba T on 2026-12-03" in text
    done = completeness("ti", tmp_path)
    assert (done.reviewed, done.needs_work, done.translated) == (2, 1, total)
    assert done.review_count == f"2 of {total} reviewed, 1 need work"
    bot = Catalogues(DEFAULT_LOCALES_DIR, override_dir=tmp_path).get("ti")
    assert bot._(STATEMENT) == "መግለጺ {n} ካብ {total} (ተረጋጊጹ)"
    assert bot._("Skip") == "ሕለፍ"  # "needs work" keeps the draft in use, marked for a fix
    # msgfmt accepts it, as the catalogue tests require of every catalogue.
    msgfmt = shutil.which("msgfmt")
    assert msgfmt is not None
    import subprocess

    checked = subprocess.run(  # noqa: S603 - msgfmt on a file we wrote
        [msgfmt, "--check", "-o", "/dev/null", str(path)], capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stderr

    result = checkin_bot(tmp_path, "languages", CHECKIN_LOCALES_OVERRIDE_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("ti "))
    assert f"2 of {total} reviewed, 1 need work" in line
    assert "2 of" not in next(x for x in result.stdout.splitlines() if x.startswith("am "))


def test_a_catalogue_with_every_text_reviewed_says_so(tmp_path: Path) -> None:
    with po_path("so").open("rb") as handle:
        catalogue = read_po(handle, locale="so")
    everything = [
        Correction(
            m.context,
            str(m.id[0] if isinstance(m.id, tuple | list) else m.id),
            tuple(m.string) if isinstance(m.string, tuple | list) else (str(m.string),),
            "reviewed",
        )
        for m in catalogue
        if m.id
    ]
    data = reviewed_catalogue(po_path("so"), "so", "Hodan", everything, NOW)
    path = overridden(tmp_path, "so", data)
    assert review_status(path) == "reviewed by Hodan on 2026-12-03"
    done = completeness("so", tmp_path)
    assert done.reviewed == done.total


def test_a_broken_correction_writes_nothing() -> None:
    bad = [Correction(None, STATEMENT, ("መግለጺ {n}",), "reviewed")]
    with pytest.raises(CorrectionError, match=r"keep \{total\}"):
        reviewed_catalogue(po_path("ti"), "ti", "Abeba", bad, NOW)
    unknown = [Correction(None, "No such text", ("x",), "reviewed")]
    with pytest.raises(CorrectionError, match="not in this catalogue"):
        reviewed_catalogue(po_path("ti"), "ti", "Abeba", unknown, NOW)


def test_a_text_whose_english_changes_loses_its_review_mark() -> None:
    from babel.messages.catalog import Catalog

    old = Catalog(locale="ti")
    for english in ("Skip", "Back"):
        message = old.add(english, "ሕለፍ" if english == "Skip" else "ተመለስ")
        set_text_review(message, "reviewed by Abeba on 2026-12-03")
    template = Catalog()
    template.add("Skip")
    template.add("Go back")  # the English changed: Babel matches it to "Back", fuzzy
    old.update(template)
    forget_changed_reviews(old)
    skip, back = old.get("Skip"), old.get("Go back")
    assert skip is not None
    assert back is not None
    assert back.fuzzy
    assert text_review(skip) == "reviewed"
    assert text_review(back) is None


# ---- the endpoints --------------------------------------------------------------------------
@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    settings = load_settings(api_spec_path=SPEC)
    async with Playground(settings, port=0, database=tmp_path / "pg.db", start=START) as pg:
        yield pg


async def post(session: aiohttp.ClientSession, url: str, body: Any) -> aiohttp.ClientResponse:
    return await session.post(url, json=body)


async def test_the_endpoints_check_and_write_the_catalogue(playground: Playground) -> None:
    url = playground.url.rstrip("/")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/api/review/ti/check", json={"english": [STATEMENT], "translation": ["{n}"]}
        ) as response:
            assert (await response.json())["problems"] == ["keep {total} exactly as in the English"]
        entry = {"context": None, "english": STATEMENT, "translation": ["{n}"], "review": None}
        async with session.post(
            f"{url}/api/review/ti/po", json={"reviewer": "Abeba", "entries": [entry]}
        ) as response:
            assert response.status == 400
            assert "keep {total}" in (await response.json())["error"]
        entry["translation"] = ["መግለጺ {n} ካብ {total}"]
        async with session.post(
            f"{url}/api/review/ti/po", json={"reviewer": "", "entries": [entry]}
        ) as response:
            assert response.status == 400
            assert "enter your name" in (await response.json())["error"]
        async with session.post(
            f"{url}/api/review/ti/po", json={"reviewer": "Abeba", "entries": [entry]}
        ) as response:
            assert response.status == 200
            assert "ti-messages.po" in response.headers["Content-Disposition"]
            assert "Last-Translator: Abeba" in await response.text()
        async with session.get(f"{url}/fonts/NotoSansEthiopic-Regular.ttf") as response:
            assert response.status == 200
            assert (await response.read())[:4] == b"\x00\x01\x00\x00"  # a TrueType font
        async with session.get(f"{url}/fonts/..%2F..%2Fetc%2Fpasswd") as response:
            assert response.status == 404


# ---- the whole loop in a real browser -------------------------------------------------------
def translations_of(code: str) -> dict[str, str]:
    with po_path(code).open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle, locale=code) if m.id}


def folder_for(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


SLASH_PLACE = """(text) => {
  const box = document.createElement("div");
  box.dir = "rtl";
  box.style.cssText = "position:absolute;top:0;right:0;font-size:24px;white-space:nowrap";
  box.textContent = text;
  document.body.append(box);
  const node = box.firstChild;
  const left = (i) => {
    const range = document.createRange();
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    return range.getBoundingClientRect().left;
  };
  const slash = text.indexOf("/");
  const out = { slash: left(slash), last: left(text.indexOf("t", slash)) };
  box.remove();
  return out;
}"""
SUPPORT_HELP = "/support: people you can talk to, and asking your key worker to get in touch"
GLYPHS = """async ([family, text]) => {
  await document.fonts.load(`32px "${family}"`, text);
  const faces = [...document.fonts].filter((f) => f.family.replaceAll('"', '') === family);
  const canvas = document.createElement("canvas").getContext("2d");
  canvas.font = `32px "${family}"`;
  const width = (s) => canvas.measureText(s).width;
  return {
    loaded: faces.filter((f) => f.status === "loaded").length,
    check: document.fonts.check(`32px "${family}"`, text),
    text: width(text),
    notdef: width("\\u{10FFFD}".repeat([...text].length)),  // a code point no font has
    distinct: new Set([...text].map(width)).size,
  };
}"""


@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make system)"
)
async def test_a_fluent_speaker_reviews_tigrinya_in_the_browser(
    playground: Playground, tmp_path: Path
) -> None:
    expect.set_options(timeout=15_000)  # the machine may be busy: 308 rows per language
    total = completeness("ti").total
    folder_for(ARTIFACTS / "review-ti.png")
    async with browser_page(playground.url + "#review", {"width": 1400, "height": 1000}) as page:
        # Right to left, the reviewer edits the catalogue's text and sees it as sent too.
        await page.locator("#review-lang").select_option("ar")
        help_row = page.locator(f'tr[data-key="\u0004{SUPPORT_HELP}"]')
        await expect(help_row.locator("textarea")).to_have_value(
            translations_of("ar")[SUPPORT_HELP]
        )
        await expect(help_row.locator(".shown .string")).to_have_text(
            Catalogues(DEFAULT_LOCALES_DIR).get("ar")._(SUPPORT_HELP)
        )
        await page.locator("#review-lang").select_option("ti")
        await expect(page.locator("#review-summary")).to_contain_text("Tigrinya")
        await expect(page.locator("#review-progress")).to_contain_text("0 of")
        # The questionnaire comes first.
        first = page.locator("table.review").first
        await expect(first.locator("tr[data-key] code").first).to_have_text("title")

        # Ethiopic is drawn with the served Noto font: real, different glyphs, not boxes.
        ethiopic = await page.evaluate(GLYPHS, ["Checkin Ethiopic", "ሰላም ትግርኛ"])
        assert ethiopic["loaded"] >= 1, ethiopic
        assert ethiopic["check"] is True, ethiopic
        assert ethiopic["distinct"] >= 4, ethiopic  # .notdef boxes would all be alike
        assert abs(ethiopic["text"] - ethiopic["notdef"]) > 1, ethiopic
        arabic = await page.evaluate(GLYPHS, ["Checkin Arabic", "مرحبا"])
        assert arabic["loaded"] >= 1, arabic

        # A command inside Arabic text: as written in the catalogue, the browser shows
        # "support/"; as the bot sends it (isolated), "/support".
        raw = translations_of("ar")[SUPPORT_HELP]
        shown = Catalogues(DEFAULT_LOCALES_DIR).get("ar")._(SUPPORT_HELP)
        backwards = await page.evaluate(SLASH_PLACE, raw)
        assert backwards["slash"] > backwards["last"], backwards
        right = await page.evaluate(SLASH_PLACE, shown)
        assert right["slash"] < right["last"], right

        # "Only what needs work" shows every text not yet reviewed: here, all of them.
        await page.locator("#review-todo").check()
        await expect(page.locator("tr[data-key]").first).to_be_visible()
        await expect(page.get_by_text("Nothing to do here")).to_have_count(0)
        await page.locator("#review-todo").uncheck()

        # Correct a text; a broken placeholder is caught as it is typed.
        row = page.locator(f'tr[data-key="\u0004{STATEMENT}"]')
        box = row.locator("textarea")
        await box.fill("መግለጺ {n} ካብ {totl}")
        await expect(row.locator(".problems")).to_contain_text("keep {total}")
        await page.locator("#review-name").fill("Abeba T")
        await expect(page.locator("#review-download")).to_be_disabled()
        await box.fill("መግለጺ {n} ካብ {total}")
        await expect(row.locator(".problems")).to_be_empty()
        await row.get_by_role("button", name="✓ Reviewed").click()
        scale = page.locator('tr[data-key="quality_experience.scale\u0004Mostly"]')
        await scale.get_by_role("button", name="✓ Reviewed").click()
        skip = page.locator('tr[data-key="\u0004Skip"]')
        await skip.get_by_role("button", name="Needs work").click()
        await expect(page.locator("#review-progress")).to_contain_text(
            f"2 of {total} reviewed, 1 need work, 1 corrected"
        )

        # Only what needs work: the reviewed texts go, the one that needs work stays.
        await page.locator("#review-todo").check()
        await expect(page.locator(f'tr[data-key="\u0004{STATEMENT}"]')).to_have_count(0)
        await expect(skip).to_be_visible()
        await page.locator("#review-todo").uncheck()
        await page.screenshot(path=str(ARTIFACTS / "review-ti.png"))

        # The work survives a reload (kept in this browser until downloaded).
        await page.reload()
        await page.locator("#review-lang").select_option("ti")
        await expect(page.locator("#review-progress")).to_contain_text(
            f"2 of {total} reviewed", timeout=20_000
        )
        await expect(page.locator("#review-name")).to_have_value("Abeba T")

        async with page.expect_download() as waiting:
            await page.locator("#review-download").click()
        download = await waiting.value
        assert download.suggested_filename == "ti-messages.po"
        saved = folder_for(po_path("ti", tmp_path / "override"))
        await download.save_as(saved)

    text = saved.read_text("utf-8")
    assert '"Last-Translator: Abeba T\\n"' in text
    assert re.search(
        rf"X-Review-Status: 2 of {total} reviewed by Abeba T on \d{{4}}-\d\d-\d\d", text
    )
    assert "review: needs work, by Abeba T" in text
    bot = Catalogues(DEFAULT_LOCALES_DIR, override_dir=tmp_path / "override").get("ti")
    assert bot._(STATEMENT) == "መግለጺ {n} ካብ {total}"
    done = completeness("ti", tmp_path / "override")
    assert done.review_count == f"2 of {total} reviewed, 1 need work"
