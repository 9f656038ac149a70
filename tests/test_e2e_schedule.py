"""Checkpoint prompts end to end: the job, the clock moved forward, Telegram's answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from tests.backends import on_both_backends  # noqa: F401 - the fixture: every test on both
from tests.people import KEY_WORKER, YOUNG_PERSON, add_staff, enrolled, invite, join
from tests.world import World

YP = YOUNG_PERSON
KW = KEY_WORKER
KW2 = 7_000_900_102
PROMPT = "It's time for your 3-month check-in"


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def finish_start_checkin(world: World, user: int = YP) -> None:
    message = world.last(user)
    for _ in range(9):
        message = (await world.press(user, "Mostly", message))[-1]
    message = (await world.press(user, "Nothing to add", message))[-1]
    await world.press(user, "Keep them private", message)


def prompts_seen(world: World, user: int, needle: str = PROMPT) -> int:
    return sum(needle in t for t in world.texts(user))


async def test_three_months_later_the_prompt_arrives_once_even_after_a_restart(
    world: World,
) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 4, 5, 8, 0, tzinfo=UTC))  # 09:00 BST: before the window
    assert (await world.tick()).sent == 0
    world.clock.set(datetime(2026, 4, 5, 9, 0, tzinfo=UTC))  # 10:00 BST
    report = await world.tick()
    assert report.sent == 1
    assert prompts_seen(world, YP) == 1
    assert "call 999" in world.last(YP).content
    await world.restart()
    await world.tick()
    world.clock.advance(timedelta(hours=1))
    await world.tick()
    assert prompts_seen(world, YP) == 1
    first = await world.press(YP, "Start")
    assert first[-1].content.startswith("Statement 1 of 9")
    assert await rows(world, "SELECT checkpoint, status FROM prompts ORDER BY id") == [
        ("start", "answered"),
        ("3_months", "sent"),
    ]


async def test_catch_up_after_downtime_and_quiet_hours(world: World) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    # The bot was down for the whole day the prompt fell due; it comes back at 22:00.
    world.clock.set(datetime(2026, 4, 6, 21, 0, tzinfo=UTC))
    assert (await world.tick()).sent == 0
    assert prompts_seen(world, YP) == 0
    world.clock.set(datetime(2026, 4, 7, 9, 0, tzinfo=UTC))  # 10:00 BST next morning
    assert (await world.tick()).sent == 1
    assert prompts_seen(world, YP) == 1


async def test_one_reminder_then_the_checkin_closes_and_is_recorded_as_expired(
    world: World,
) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 4, 5, 12, 0, tzinfo=UTC))
    await world.tick()
    for _ in range(6):
        world.clock.advance(timedelta(days=1))
        await world.tick()
    assert prompts_seen(world, YP, "A gentle reminder") == 1
    world.clock.advance(timedelta(days=8))
    report = await world.tick()
    assert report.expired == 1
    assert await rows(world, "SELECT checkpoint, status FROM prompts ORDER BY id") == [
        ("start", "answered"),
        ("3_months", "expired"),
    ]
    assert await rows(world, "SELECT checkpoint, status FROM checkins ORDER BY id") == [
        ("start", "finished"),
        ("3_months", "closed"),
    ]
    assert prompts_seen(world, YP, "A gentle reminder") == 1


async def test_a_prompt_whose_window_closed_while_down_is_expired_not_dropped(
    world: World,
) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))  # 26 days late
    report = await world.tick()
    assert (report.sent, report.expired) == (0, 1)
    assert await rows(world, "SELECT status FROM prompts WHERE checkpoint = '3_months'") == [
        ("expired",)
    ]


async def test_exit_by_command_needs_confirmation_and_only_for_your_own(world: World) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    await add_staff(world, KW2, name="Kim")
    refused = await world.say(KW2, "/exit AB")
    assert "can't find anyone with the label" in refused[-1].content
    unknown = await world.say(KW, "/exit ZZ")
    assert "can't find anyone with the label" in unknown[-1].content
    ask = (await world.say(KW, "/exit ab"))[-1]
    assert "Mark support as ended for" in ask.content
    # Someone else's key worker replaying the confirmation button changes nothing.
    await world.press_data(KW2, ask, world.api.buttons(ask)[0][1], verify=False)
    assert await rows(world, "SELECT exit_at FROM enrolments") == [(None,)]
    await world.press(KW, "Yes, support has ended", ask)
    assert "marked as ended" in world.last(KW).content
    world.clock.advance(timedelta(minutes=1))
    assert (await world.tick()).sent == 1
    assert prompts_seen(world, YP, "Your support is coming to an end") == 1
    assert await rows(world, "SELECT checkpoint FROM prompts ORDER BY id") == [
        ("start",),
        ("exit",),
    ]  # the 3-month checkpoint will not be asked after exit


async def test_exit_on_the_planned_end_date(world: World) -> None:
    await add_staff(world, KW)
    token = await invite(world, KW, "GH 2026-02-20")
    await join(world, YP, token)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 2, 20, 9, 0, tzinfo=UTC))
    assert (await world.tick()).sent == 0  # 09:00 GMT: before the window
    world.clock.set(datetime(2026, 2, 20, 10, 0, tzinfo=UTC))
    assert (await world.tick()).sent == 1
    assert prompts_seen(world, YP, "Your support is coming to an end") == 1
    assert (await rows(world, "SELECT exit_at FROM enrolments"))[0][0] is not None


async def test_exit_replaces_an_open_checkin(world: World) -> None:
    await enrolled(world)  # the start check-in stays open, unanswered
    ask = (await world.say(KW, "/exit AB"))[-1]
    await world.press(KW, "Yes", ask)
    await world.tick()
    assert await rows(world, "SELECT checkpoint, status FROM checkins ORDER BY id") == [
        ("start", "closed"),
        ("exit", "open"),
    ]
    assert await rows(world, "SELECT checkpoint, status FROM prompts ORDER BY id") == [
        ("start", "expired"),
        ("exit", "sent"),
    ]


async def test_stop_holds_prompts_and_blocking_makes_them_unreachable(world: World) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    await world.say(YP, "/stop")
    world.clock.set(datetime(2026, 4, 5, 12, 0, tzinfo=UTC))
    report = await world.tick()
    assert (report.sent, report.held) == (0, 1)
    await world.say(YP, "/start")  # back again: the held prompt goes at the next look
    world.clock.set(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))  # next morning, 10:00 BST
    assert (await world.tick()).sent == 1
    world.api.block_bot(YP)
    await world.idle()
    assert await rows(world, "SELECT reachable FROM enrolments") == [(0,)]
    assert await rows(world, "SELECT status FROM prompts WHERE checkpoint = '3_months'") == [
        ("unreachable",)
    ]


async def test_retry_after_is_honoured_and_a_timeout_is_never_resent(world: World) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 4, 5, 12, 0, tzinfo=UTC))
    world.api.inject_fault("sendMessage", "retry_after", retry_after=30)
    report = await world.tick()
    assert (report.sent, report.retried) == (0, 1)
    world.clock.advance(timedelta(seconds=10))
    assert (await world.tick()).sent == 0  # still waiting out "retry after"
    world.clock.advance(timedelta(seconds=25))
    assert (await world.tick()).sent == 1
    assert prompts_seen(world, YP) == 1


async def test_a_send_that_times_out_is_uncertain_and_not_resent(world: World) -> None:
    world.api.hang_seconds = 1.5  # then the stand-in delivers it anyway, like a lost answer
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 4, 5, 12, 0, tzinfo=UTC))
    assert world.app is not None
    world.api.inject_fault("sendMessage", "hang")
    world.app.bot._request[1]._client.timeout = httpx.Timeout(0.5)
    report = await world.tick()
    assert report.uncertain == 1
    for _ in range(5):
        world.clock.advance(timedelta(days=1))
        await world.tick()
    assert await rows(world, "SELECT status FROM prompts WHERE checkpoint = '3_months'") == [
        ("uncertain",)
    ]
    assert prompts_seen(world, YP, "A gentle reminder") == 0


async def test_a_server_error_is_retried_with_back_off(world: World) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 4, 5, 12, 0, tzinfo=UTC))
    world.api.inject_fault("sendMessage", "server_error", times=2)
    assert (await world.tick()).retried == 1
    world.clock.advance(timedelta(minutes=3))
    assert (await world.tick()).retried == 1
    world.clock.advance(timedelta(minutes=5))
    assert (await world.tick()).sent == 1
    assert prompts_seen(world, YP) == 1


async def test_blocked_answer_marks_unreachable(world: World) -> None:
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 4, 5, 12, 0, tzinfo=UTC))
    world.api.inject_fault("sendMessage", "blocked")
    assert (await world.tick()).unreachable == 1
    assert await rows(world, "SELECT reachable FROM enrolments") == [(0,)]


async def test_the_due_command_previews_without_sending(world: World) -> None:
    import os
    import subprocess
    import sys

    await enrolled(world)
    await finish_start_checkin(world)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKIN_")}
    env.update(
        CHECKIN_DATABASE_URL=world.settings.database_url, CHECKIN_BOT_USERNAME="checkin_test_bot"
    )

    def due(at: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own CLI, under this Python, no shell
            [sys.executable, "-m", "bot.cli", "due", "--at", at],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        return result.stdout

    early = due("2026-04-05T08:00:00+00:00")  # 09:00 in London: before the window opens
    assert (
        early.strip()
        == "AB\t3_months\ten\theld: quiet hours or waiting, until 2026-04-05 09:00 UTC"
    )
    night = due("2026-04-05T22:00:00+00:00")
    assert (
        night.strip()
        == "AB\t3_months\ten\theld: quiet hours or waiting, until 2026-04-06 09:00 UTC"
    )
    morning = due("2026-04-06T10:00:00+01:00")
    assert morning.strip() == "AB\t3_months\ten\tsend"
    late = due("2026-05-01T12:00:00+00:00")
    assert late.strip() == "AB\t3_months\ten\texpire (its window has closed)"
    assert prompts_seen(world, YP) == 0


async def test_a_repeat_checkpoint_is_named_in_words_never_by_its_id(
    world: World, tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        "checkpoints:\n"
        "  - {name: start, questionnaire: quality_experience}\n"
        "  - {name: 3_months, questionnaire: quality_experience, after_months: 3}\n"
        "  - {name: exit, questionnaire: quality_experience}\n"
        "repeat: {every_months: 3, questionnaire: quality_experience}\n",
        encoding="utf-8",
    )
    world.settings = world.settings.model_copy(update={"schedule_file": schedule})
    await world.restart()
    await enrolled(world)
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 4, 5, 9, 0, tzinfo=UTC))  # 3 months, 10:00 BST
    assert (await world.tick()).sent == 1
    await world.press(YP, "Start")
    await finish_start_checkin(world)
    world.clock.set(datetime(2026, 7, 5, 9, 0, tzinfo=UTC))  # 6 months, the first repeat
    assert (await world.tick()).sent == 1
    assert prompts_seen(world, YP, "It's time for your 6-month check-in") == 1
    copy = "\n".join(m.content for m in await world.say(YP, "/mydata"))
    assert "• 6 months:" in copy
    assert not [t for t in world.texts(YP) if "_months" in t]
