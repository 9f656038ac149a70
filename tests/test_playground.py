"""The playground: its JSON endpoints, and the page driven in a real headless browser.

The browser test uses Debian's chromium (``/usr/bin/chromium``, installed by ``make system``)
through Playwright's Python package, and saves screenshots under ``test-artifacts/``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from bot.playground import Playground
from conversations.questionnaire import DEFAULT_DIR, load_questionnaires
from tests.playground_client import (
    ARTIFACTS,
    CHROMIUM,
    KEY_WORKER,
    ROOT,
    SPEC,
    START,
    YOUNG_PERSON,
    Client,
    browser_page,
)


async def test_the_state_shows_the_demo_service(client: Client) -> None:
    state = await client.get("/api/state")
    titles = [phone["title"] for phone in state["phones"]]
    assert titles == ["Key worker · Sam (North)", "Young person 1"]
    assert {s["title"] for s in state["staff"]} == {
        "Key worker · Priya (South)",
        "Manager · Morgan (North)",
        "Admin · Alex",
    }
    assert state["clock"]["iso"] == START.isoformat()
    assert state["violations"] == []
    assert state["spec"] == str(SPEC)
    assert (await client.get("/api/violations"))["violations"] == []
    key_worker = await client.get(f"/api/phones/{KEY_WORKER}")
    assert "invite" in {c["command"] for c in key_worker["commands"]}
    young = await client.get(f"/api/phones/{YOUNG_PERSON}")
    assert "checkin" in {c["command"] for c in young["commands"]}
    assert young["messages"] == []


async def test_the_clock_moves_by_days_weeks_and_calendar_months(client: Client) -> None:
    answer = await client.post("/api/clock", {"step": "day"})
    assert answer["clock"]["iso"] == (START + timedelta(days=1)).isoformat()
    answer = await client.post("/api/clock", {"step": "week"})
    assert answer["clock"]["iso"] == (START + timedelta(days=8)).isoformat()
    answer = await client.post("/api/clock", {"step": "month"})
    assert answer["clock"]["iso"] == "2026-02-13T11:00:00+00:00"
    answer = await client.post("/api/clock", {"step": "next"})
    assert answer["note"].startswith("Nothing is scheduled")
    await client.post("/api/clock", {"step": "back"}, status=400)


async def test_an_invite_opens_on_a_young_persons_phone(
    client: Client, playground: Playground
) -> None:
    await client.post(f"/api/phones/{KEY_WORKER}/send", {"text": "/invite AB"})
    await playground.idle()
    invite = (await client.get(f"/api/phones/{KEY_WORKER}"))["messages"][-1]
    assert invite["photo"] is not None
    link = re.search(r"https://t\.me/\S+", invite["text"])
    assert link is not None
    await client.post(f"/api/phones/{YOUNG_PERSON}/open", {"link": link[0]})
    await playground.idle()
    chat = (await client.get(f"/api/phones/{YOUNG_PERSON}"))["messages"]
    assert chat[0]["text"] == "/start"  # as Telegram shows an opened invite link
    assert "Which language" in chat[-1]["text"]
    assert chat[-1]["buttons"][0][0]["text"] == "English"
    async with client.session.get(client.url + invite["photo"]) as photo:
        assert photo.content_type == "image/png"
        assert (await photo.read()).startswith(b"\x89PNG")
    await client.post(f"/api/phones/{YOUNG_PERSON}/open", {"link": "https://example.org"}, 400)


async def test_more_phones_can_be_added(client: Client) -> None:
    added = await client.post("/api/phones", {"kind": "young_person", "language_code": "ar"})
    assert added["phone"]["title"] == "Young person 2"
    assert added["phone"]["language_code"] == "ar"
    await client.post("/api/phones", {"kind": "staff", "user_id": 900002})
    state = await client.get("/api/state")
    assert [p["key"] for p in state["phones"]][-2:] == ["yp-100002", "staff-900002"]
    await client.post("/api/phones", {"kind": "young_person", "language_code": "xx"}, 400)


async def test_the_language_review_lists_every_text(client: Client) -> None:
    review = await client.get("/api/review/en")
    assert review["language"]["code"] == "en"
    assert review["catalogue"]["exists"] is True
    questionnaire = review["questionnaires"][0]
    assert questionnaire["id"] == "quality_experience"
    items = [row["item"] for row in questionnaire["rows"]]
    assert items[0] == "title"
    assert "power" in items
    assert "boundaries" in items
    assert {row["status"] for row in questionnaire["rows"] + review["messages"]} == {"translated"}
    assert any("It's time for your" in row["english"][0] for row in review["messages"])
    arabic = await client.get("/api/review/ar")
    assert arabic["language"]["rtl"] is True
    rows = arabic["questionnaires"][0]["rows"] + arabic["messages"]
    assert {row["status"] for row in rows} <= {"translated", "fuzzy", "missing"}
    assert len(rows) == len(questionnaire["rows"]) + len(review["messages"])
    languages = (await client.get("/api/languages"))["languages"]
    assert languages[0]["code"] == "en"
    assert languages[0]["translated"] == languages[0]["total"]
    await client.get("/api/review/xx", status=404)


def test_the_review_shows_a_catalogues_translations_and_their_status(tmp_path: Path) -> None:
    from bot.playground.review import review

    po = tmp_path / "ar" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: ar\\n"\n"X-Review-Status: reviewed\\n"\n\n'
        'msgctxt "quality_experience.scale"\nmsgid "Mostly"\nmsgstr "في الغالب"\n\n'
        '#, fuzzy\nmsgctxt "quality_experience.scale"\nmsgid "No"\nmsgstr "لا"\n',
        encoding="utf-8",
    )
    locales = ROOT / "locales"
    data = review("ar", locales, load_questionnaires(DEFAULT_DIR), override_dir=tmp_path)
    assert data["catalogue"]["review_status"] == "reviewed"
    scale = {r["english"][0]: r for r in data["questionnaires"][0]["rows"] if r["item"] == "scale"}
    assert scale["Mostly"]["translation"] == ["في الغالب"]
    assert scale["Mostly"]["status"] == "translated"
    assert scale["No"]["status"] == "fuzzy"
    assert scale["Not really"]["status"] == "missing"
    assert data["counts"]["translated"] == 1
    assert data["counts"]["fuzzy"] == 1


async def test_requests_from_other_sites_are_refused(client: Client) -> None:
    async with client.session.get(
        client.url + "/api/state", headers={"Host": "evil.example"}
    ) as response:
        assert response.status == 403
    async with client.session.post(client.url + "/api/clock", data="step=day") as response:
        assert response.status == 415


# ---- the page in a real browser -------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make system)"
)
async def test_a_young_person_joins_checks_in_and_gets_the_3_month_prompt(
    playground: Playground,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    async with browser_page(playground.url) as page:
        key_worker = page.locator(f'.phone[data-key="{KEY_WORKER}"]')
        young = page.locator(f'.phone[data-key="{YOUNG_PERSON}"]')

        # The key worker invites; the young person opens the invite with one click.
        await key_worker.locator("textarea").fill("/invite AB")
        await key_worker.get_by_role("button", name="Send").click()
        await expect(key_worker.locator("img.photo")).to_be_visible()
        await expect(key_worker.locator(".msg.bot").last).to_contain_text("Invite for AB")
        await key_worker.get_by_role("button", name="Open on Young person 1").click()

        # Language, consent, nine statements, no comment, keep private.
        await young.get_by_role("button", name="English").click()
        await young.get_by_role("button", name="Yes, let's go").click()
        for n in range(1, 10):
            last = young.locator(".msg.bot").last
            await expect(last).to_contain_text(f"Statement {n} of 9")
            await last.get_by_role("button", name="Mostly").click()
        await young.locator(".msg.bot").last.get_by_role("button", name="Nothing to add").click()
        await young.locator(".msg.bot").last.get_by_role("button", name="Keep them private").click()
        await expect(young.locator(".msg.bot").last).to_contain_text("Thank you!")

        # Three months later, the 3-month check-in arrives.
        month = page.get_by_role("button", name="+1 month")
        for expected in ("Thu, Feb 5, 2026", "Thu, Mar 5, 2026", "Sun, Apr 5, 2026"):
            await month.click()
            await expect(page.locator("#clock")).to_contain_text(expected)
            await expect(month).to_be_enabled()  # the scheduler has run at the new time
        prompt = young.locator(".msg.bot").last
        await expect(prompt).to_contain_text("It's time for your 3-month check-in")
        await expect(prompt.get_by_role("button", name="Start")).to_be_visible()
        await expect(page.locator("#violations")).to_be_hidden()
        await page.screenshot(path=str(ARTIFACTS / "playground.png"))

        # Right-to-left: the bot's messages in Arabic read right to left.
        await young.locator("textarea").fill("/language")
        await young.locator("textarea").press("Enter")
        await young.locator(".msg.bot").last.get_by_role("button", name="العربية").click()
        done = young.locator(".msg.bot .text", has_text="العربية").last
        await expect(done).to_contain_text("العربية")
        await expect(done).to_have_css("direction", "rtl")

        # The language review, in the same page.
        await page.get_by_role("tab", name="Language review").click()
        await page.locator("#review-lang").select_option("en")
        await expect(page.locator("#phones-view")).to_be_hidden()
        table = page.locator("table.review").first
        await expect(table).to_contain_text("I feel my key worker cares about how I'm doing.")
        await expect(page.locator("#review-summary")).to_contain_text("translated")
        await page.screenshot(path=str(ARTIFACTS / "playground-review.png"))
