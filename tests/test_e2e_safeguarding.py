"""Risk in free text, alerts to safeguarding leads, /mydata and retention, end to end.

The real bot against the local Bot API; the clock is moved, never waited for; the database is
read to prove what was stored and what was deleted.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.app import run_periodic
from conversations.checkpoints import add_months
from conversations.safeguarding import CATEGORIES, match_risk
from core.i18n import LANGUAGES, RLM, Language
from tests.people import KEY_WORKER, YOUNG_PERSON, add_staff, enrolled, invite, join
from tests.test_e2e_admin import UNKNOWN
from tests.test_e2e_checkin import sent
from tests.world import World

YP, YP2 = YOUNG_PERSON, YOUNG_PERSON + 1
KW = KEY_WORKER
ADMIN, LEAD, SECOND = 900201, 900202, 900203
HELPLINES = "these are free and confidential"
NOT_WATCHED = "This chat is not watched all the time. If you are in danger now, call 999."
RISK = "some days I want to kill myself"


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def staff_ids(world: World) -> dict[int, int]:
    """Staff ids by chat id."""
    return {int(str(c)): int(str(i)) for c, i in await rows(world, "SELECT chat_id, id FROM staff")}


async def periodic(world: World) -> None:
    """One run of the periodic job (prompts, escalation, digests, retention) at the clock's time."""
    assert world.rt is not None
    assert world.app is not None
    await run_periodic(world.rt, world.app.bot)
    await world.idle()


async def to_comment_step(world: World, user: int = YP) -> None:
    message = [m for m in world.api.messages(user) if world.api.buttons(m)][-1]
    for _ in range(9):
        message = (await world.press(user, "🙂", message))[-1]
    assert "Nothing to add" in message.content or world.api.buttons(message)


def phrase_for(world: World, code: str, index: int) -> str:
    """A phrase of this language's list, from a different category for each language."""
    assert world.rt is not None
    risk_list = world.rt.risk_lists[code]
    category = CATEGORIES[index % len(CATEGORIES)]
    return risk_list.example(risk_list.phrases[category][0])


@pytest.mark.parametrize("index", range(len(LANGUAGES)), ids=[lang.code for lang in LANGUAGES])
async def test_a_risk_phrase_in_every_language_gets_the_helplines_in_that_language(
    world: World, index: int
) -> None:
    language: Language = LANGUAGES[index]
    assert world.rt is not None
    await add_staff(world, KW)
    token = await invite(world, KW)
    await join(world, YP, token, language=language.native_name)
    replies = await world.say(YP, f"{phrase_for(world, language.code, index)}!")
    assert len(replies) == 1  # the helplines, and no reminder about buttons after them
    reply = replies[0].content
    t = world.rt.translator(language.code)
    assert t._(NOT_WATCHED) in reply
    assert t._("If you need to talk to someone now, these are free and confidential:") in reply
    assert "116 123" in reply
    assert "999" in reply
    assert reply.startswith(RLM) == language.rtl
    assert await rows(world, "SELECT count(*) FROM alerts") == [(0,)]  # signpost_only


async def test_ordinary_answers_get_no_helplines_and_a_risky_comment_is_still_saved(
    world: World,
) -> None:
    await enrolled(world)
    for ordinary in ("I'm fine", "not really", "no", "mostly", "My key worker helped me"):
        replies = await world.say(YP, ordinary)
        assert len(replies) == 1
        assert HELPLINES not in replies[0].content
        assert "Please answer with the buttons" in replies[0].content
    await to_comment_step(world)
    replies = sent(await world.say(YP, "I'm scared to go home, he hits me"))
    assert HELPLINES in replies[0].content  # at once, before anything else
    assert NOT_WATCHED in replies[0].content
    assert "only a bot" in replies[0].content
    assert "📞 Ask my key worker to get in touch" in [b for b, _ in world.api.buttons(replies[0])]
    assert "saved" in replies[1].content
    assert "Would you like your key worker to see" in replies[-1].content
    assert await rows(world, "SELECT comment FROM checkins") == [
        ("I'm scared to go home, he hits me",)
    ]


async def test_a_stranger_is_signposted_and_nothing_is_stored(world: World) -> None:
    replies = await world.say(5555, "I am not safe")
    assert len(replies) == 1
    assert HELPLINES in replies[0].content
    assert await rows(world, "SELECT count(*) FROM alerts") == [(0,)]
    assert await rows(world, "SELECT count(*) FROM enrolments") == [(0,)]


@pytest.fixture
async def lead_world(world: World) -> World:
    """A service whose policy is alert_lead, with an admin, a lead and a second lead."""
    world.settings = world.settings.model_copy(update={"safeguarding_policy": "alert_lead"})
    await world.restart()
    await add_staff(world, ADMIN, role="admin", name="Ada")
    await add_staff(world, LEAD, role="manager", name="Lee")
    await add_staff(world, SECOND, role="manager", name="Sol")
    ids = await staff_ids(world)
    await world.say(ADMIN, f"/safeguarding {ids[LEAD]} lead")
    listed = (await world.say(ADMIN, f"/safeguarding {ids[SECOND]} second"))[-1].content
    assert "Lee, lead" in listed
    assert "Sol, second lead" in listed
    return world


async def test_under_alert_lead_the_lead_gets_the_alert_and_acknowledges_it(
    lead_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world = lead_world
    caplog.set_level(logging.INFO)
    await add_staff(world, KW)
    picker = await world.say(YP, f"/start {await invite(world, KW)}")
    welcome = (await world.press(YP, "English", picker[-1]))[-1]
    assert "a named member of staff will see it" in welcome.content
    await world.press(YP, "✅", welcome)
    privacy = (await world.say(YP, "/privacy"))[-1].content
    assert "a named member of staff will see it" in privacy
    assert "unless there is a risk to someone's safety" in privacy

    replies = await world.say(YP, RISK)
    assert "safeguarding lead will see it" in replies[0].content
    alert = world.last(LEAD)
    assert "⚠️ Safeguarding alert" in alert.content
    assert "Young person: AB" in alert.content
    assert "Key worker: Sam" in alert.content
    assert "Time: Jan 5, 2026 11:00" in alert.content
    assert RISK in alert.content
    assert not any("Safeguarding alert" in m for m in world.texts(SECOND))
    assert await rows(world, "SELECT category, source, text, acknowledged_at FROM alerts") == [
        ("self_harm", "message", RISK, None)
    ]
    # Why it fired: the rule's id is stored with the alert and shown to the lead, with the rule.
    [(rule_id,)] = await rows(world, "SELECT rule FROM alerts")
    assert re.fullmatch(r"en\.self_harm\.[0-9a-f]{6}", str(rule_id))
    found = match_risk(RISK, "en", world.rt.risk_lists if world.rt else {})
    assert found is not None
    assert found.rule == rule_id
    assert f"Why: risk rule {rule_id}: {found.source}" in alert.content
    assert any(str(rule_id) in record.getMessage() for record in caplog.records)

    # Only a lead can acknowledge: a key worker replaying the button changes nothing.
    data = world.api.buttons(alert)[0][1]
    refused = await world.press_data(KW, world.last(KW), data, verify=False)
    assert not refused
    assert await rows(world, "SELECT acknowledged_by FROM alerts") == [(None,)]
    await world.press(LEAD, "Acknowledge", alert)
    assert "You acknowledged this alert" in world.last(LEAD).content
    lead_id = (await staff_ids(world))[LEAD]
    assert await rows(world, "SELECT acknowledged_by FROM alerts") == [(lead_id,)]

    # Acknowledged: never escalated, however long it waits.
    world.clock.advance(timedelta(hours=3))
    await periodic(world)
    assert not any("Safeguarding alert" in m for m in world.texts(SECOND))
    actions = [
        (str(a), str(s)) for a, s in await rows(world, "SELECT action, scope FROM audit_log")
    ]
    assert ("alert_acknowledged", "alert:1") in actions
    assert [a for a, _ in actions if a.startswith("alert_")] == [
        "alert_created",
        "alert_acknowledged",
    ]
    assert all(RISK not in scope for _, scope in actions)
    assert all(RISK not in record.getMessage() for record in caplog.records)


async def test_an_unacknowledged_alert_is_repeated_to_the_second_lead(lead_world: World) -> None:
    world = lead_world
    await enrolled(world)
    await to_comment_step(world)
    replies = sent(await world.say(YP, "they took my passport and I have to work for no money"))
    assert HELPLINES in replies[0].content
    assert "saved" in replies[1].content
    assert "In their answer to" in world.last(LEAD).content

    world.clock.advance(timedelta(minutes=59))
    await periodic(world)
    assert not any("Safeguarding alert" in m for m in world.texts(SECOND))
    assert await rows(world, "SELECT escalated_at FROM alerts") == [(None,)]

    world.clock.advance(timedelta(minutes=2))
    await periodic(world)
    escalated = world.last(SECOND)
    assert "not yet acknowledged by anyone" in escalated.content
    assert "Young person: AB" in escalated.content
    await periodic(world)  # once only
    assert sum("Safeguarding alert" in m for m in world.texts(SECOND)) == 1

    await world.press(SECOND, "Acknowledge", escalated)
    assert "Sol acknowledged the safeguarding alert" in world.last(LEAD).content
    second_id = (await staff_ids(world))[SECOND]
    assert await rows(world, "SELECT acknowledged_by FROM alerts") == [(second_id,)]
    again = await world.press(LEAD, "Acknowledge", world.api.messages(LEAD)[-2])
    assert not again  # only a toast: "Already acknowledged by Sol."
    actions = [str(a) for (a,) in await rows(world, "SELECT action FROM audit_log ORDER BY id")]
    assert [a for a in actions if a.startswith("alert_")] == [
        "alert_created",
        "alert_escalated",
        "alert_acknowledged",
    ]


async def test_someone_who_has_not_agreed_is_signposted_without_an_alert(
    lead_world: World,
) -> None:
    world = lead_world
    await add_staff(world, KW)
    token = await invite(world, KW)
    await world.say(YP, f"/start {token}")  # opened the invite; has not agreed yet
    replies = await world.say(YP, "I want to die")
    assert HELPLINES in replies[0].content
    assert "safeguarding lead" not in replies[0].content
    assert await rows(world, "SELECT count(*) FROM alerts") == [(0,)]


@pytest.mark.parametrize("choice", ["keep", "all"])
async def test_forgetme_removes_the_words_of_alerts(lead_world: World, choice: str) -> None:
    world = lead_world
    await enrolled(world)
    await world.say(YP, RISK)
    ask = (await world.say(YP, "/forgetme"))[-1]
    label = "keep my answers" if choice == "keep" else "Delete everything"
    await world.press(YP, label, ask)
    expected = [("self_harm", None)] if choice == "keep" else []
    assert await rows(world, "SELECT category, text FROM alerts") == expected
    assert await rows(world, "SELECT label FROM invites WHERE kind = 'young_person'") == [(None,)]


async def test_after_forgetme_an_escalated_alert_names_its_rule_only_by_id(
    lead_world: World,
) -> None:
    world = lead_world
    await enrolled(world)
    await world.say(YP, RISK)
    first = world.last(LEAD).content
    [(rule_id,)] = await rows(world, "SELECT rule FROM alerts")
    assert f"Why: risk rule {rule_id}: " in first
    ask = (await world.say(YP, "/forgetme"))[-1]
    await world.press(YP, "keep my answers", ask)
    assert await rows(world, "SELECT rule, text FROM alerts") == [(rule_id, None)]
    world.clock.advance(timedelta(minutes=61))
    await periodic(world)
    escalated = world.last(SECOND).content
    assert "(they have since deleted what they wrote)" in escalated
    assert f"Why: risk rule {rule_id}" in escalated
    assert f"Why: risk rule {rule_id}: " not in escalated  # not the rule, a hint of the words
    assert "kill" not in escalated


async def test_an_edited_message_is_checked_again(lead_world: World) -> None:
    world = lead_world
    await enrolled(world)
    sent = world.api.send_text(YP, "see you tomorrow")
    await world.idle()
    assert HELPLINES not in world.last(YP).content
    assert await rows(world, "SELECT count(*) FROM alerts") == [(0,)]
    before = len(world.texts(YP))
    world.api.edit_text(YP, sent["message"]["message_id"], "i dont really want to live any more")
    await world.idle()
    replies = world.texts(YP)[before:]
    assert len(replies) == 1
    assert HELPLINES in replies[0]
    assert await rows(world, "SELECT category, source, text FROM alerts") == [
        ("self_harm", "message", "i dont really want to live any more")
    ]
    assert "i dont really want to live any more" in world.last(LEAD).content
    # An edit to harmless words changes nothing.
    world.api.edit_text(YP, sent["message"]["message_id"], "they beat me at football lol")
    await world.idle()
    assert len(world.texts(YP)) == before + 1
    assert await rows(world, "SELECT count(*) FROM alerts") == [(1,)]


async def finish_with(world: World, user: int, comment: str, share: bool) -> None:
    await to_comment_step(world, user)
    replies = await world.say(user, comment)
    await world.press(user, "🤝" if share else "🔒", replies[-1])


async def test_mydata_returns_everything_and_nothing_of_anyone_else(world: World) -> None:
    await enrolled(world)
    token = await invite(world, KW, "CD")
    await join(world, YP2, token, language="العربية")
    await finish_with(world, YP, "My key worker helped me find a course", share=True)
    await finish_with(world, YP2, "secret words of the second person", share=False)
    replies = await world.say(YP, "/mydata")
    copy = "\n".join(m.content for m in replies)
    assert "Everything I keep about you" in copy
    assert f"Your Telegram chat number (so I can message you): {YP}" in copy
    assert "Your language: English" in copy
    assert "You agreed to take part on Jan 5, 2026" in copy
    assert "The label your key worker uses for you: AB" in copy
    assert "Your key worker's team: North" in copy
    assert "Check-in (start), finished on Jan 5, 2026:" in copy
    assert copy.count("🙂 Mostly") == 9
    assert "You wrote: My key worker helped me find a course" in copy
    assert "Shared with your key worker: yes" in copy
    assert "Sam" not in copy  # "your key worker", never their name
    for other in ("CD", "secret words", str(YP2), "Shared with your key worker: no"):
        assert other not in copy

    other = "\n".join(m.content for m in await world.say(YP2, "/mydata"))
    assert "secret words of the second person" in other
    assert "AB" not in other
    assert "My key worker helped me" not in other
    assert "العربية" in other
    assert (await world.say(5555, "/mydata"))[-1].content == "I don't have anything about you."


async def test_retention_after_silence_deletes_exactly_what_it_should_on_the_day(
    world: World,
) -> None:
    await enrolled(world)
    await to_comment_step(world)
    await world.say(YP, "Thanks for everything")
    await world.press(YP, "Keep them private")
    support = (await world.say(YP, "/support"))[-1]
    await world.press(YP, "Ask my key worker to get in touch", support)
    answered_at = (await rows(world, "SELECT max(answered_at) FROM answers"))[0][0]
    assert answered_at is not None
    due_day = add_months(world.clock.now().date(), 12)

    world.clock.advance(timedelta(days=(due_day - world.clock.now().date()).days - 1))
    await periodic(world)
    assert await rows(world, "SELECT chat_id, label, status FROM enrolments") == [
        (YP, "AB", "active")
    ]
    world.clock.advance(timedelta(days=1))
    await periodic(world)
    assert await rows(world, "SELECT chat_id, label, language, status FROM enrolments") == [
        (None, None, None, "forgotten")
    ]
    assert await rows(world, "SELECT comment, shared FROM checkins WHERE checkpoint = 'start'") == [
        (None, 0)
    ]
    assert await rows(world, "SELECT count(*) FROM answers") == [(9,)]  # kept, anonymous
    assert await rows(world, "SELECT count(*) FROM contact_requests") == [(0,)]
    assert await rows(world, "SELECT label FROM invites WHERE kind = 'young_person'") == [(None,)]
    assert await rows(world, "SELECT actor, scope FROM audit_log WHERE action = 'retention'") == [
        (
            "system",
            "removed: 1 people, 1 comments, 0 alert texts, 1 contact requests, 0 invite labels",
        )
    ]


async def test_retention_after_exit_uses_the_exit_date(world: World) -> None:
    world.settings = world.settings.model_copy(update={"silence_months": 24})
    await world.restart()
    await enrolled(world)
    token = await invite(world, KW, "CD")
    await join(world, YP2, token)
    world.clock.advance(timedelta(days=31))
    ask = (await world.say(KW, "/exit AB"))[-1]
    await world.press(KW, "Yes, support has ended", ask)
    exit_day = world.clock.now().date()

    world.clock.advance(timedelta(days=(add_months(exit_day, 12) - exit_day).days - 1))
    await periodic(world)
    assert await rows(world, "SELECT label FROM enrolments WHERE chat_id IS NOT NULL") == [
        ("AB",),
        ("CD",),
    ]
    world.clock.advance(timedelta(days=1))
    await periodic(world)
    assert await rows(world, "SELECT label, status FROM enrolments ORDER BY id") == [
        (None, "forgotten"),
        ("CD", "active"),  # no exit, and 24 months of silence not yet reached
    ]


async def test_only_admins_name_safeguarding_leads(world: World) -> None:
    await enrolled(world)
    await add_staff(world, LEAD, role="manager", name="Lee")
    lee = (await staff_ids(world))[LEAD]
    for caller in (KW, LEAD, YP, 5555):
        reply = (await world.say(caller, f"/safeguarding {lee} lead"))[-1].content
        assert reply == UNKNOWN
    assert await rows(world, "SELECT count(*) FROM staff WHERE safeguarding_lead IS NOT NULL") == [
        (0,)
    ]
    await add_staff(world, ADMIN, role="admin", name="Ada")
    assert "nobody yet" in (await world.say(ADMIN, "/safeguarding"))[-1].content
    assert "/safeguarding id lead" in (await world.say(ADMIN, "/safeguarding x"))[-1].content
    assert "no staff member" in (await world.say(ADMIN, "/safeguarding 99 lead"))[-1].content
    await world.say(ADMIN, f"/safeguarding {lee} second")
    await world.say(ADMIN, f"/safeguarding {lee} off")
    assert await rows(world, "SELECT scope FROM audit_log WHERE action = 'safeguarding_lead'") == [
        (f"staff:{lee} second",),
        (f"staff:{lee} off",),
    ]
