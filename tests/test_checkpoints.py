"""Schedule arithmetic and prompt decisions: pure, with the clock passed in (no sleeping)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from conversations.checkpoints import (
    CheckpointRule,
    RepeatRule,
    ScheduleConfig,
    ScheduleError,
    SendWindow,
    add_months,
    load_schedule,
    parse_schedule,
)
from conversations.due_dates import PlannedCheckpoint, checkpoint_due_dates
from conversations.local_time import is_within_window, local_instant, next_send_time
from conversations.prompts import (
    EXPIRE,
    NOTHING,
    REMIND_NOW,
    SEND_NOW,
    Action,
    ActionKind,
    PromptState,
    decide,
    resolve_collision,
)
from core.prompt_status import PromptStatus

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")
DEFAULT_YAML = Path(__file__).resolve().parents[1] / "conversations" / "schedule.yaml"
WINDOW = SendWindow()
CONFIG = ScheduleConfig()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    """An instant given as local wall-clock fields (year, month, day, hour, minute) in ``tz``."""
    year, month, day, hour, minute = args
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).astimezone(UTC)


# --- month arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 3, date(2026, 4, 30)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@given(st.dates(date(1900, 1, 1), date(2200, 12, 31)), st.integers(0, 600))
def test_add_months_moves_whole_months(day: date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + timedelta(1)).day == 1)


# --- local time, DST and quiet hours -----------------------------------------------------------


def test_local_instant_in_gap_is_the_moment_clocks_jump() -> None:
    # London 2026-03-29: 01:00 GMT jumps to 02:00 BST; 01:30 never happens.
    assert local_instant(date(2026, 3, 29), time(1, 30), LONDON) == utc(2026, 3, 29, 1, 0)
    # New York 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    assert local_instant(date(2026, 3, 8), time(2, 30), NEW_YORK) == utc(2026, 3, 8, 7, 0)


def test_local_instant_in_fold_is_the_first_occurrence() -> None:
    # London 2026-10-25: 01:30 happens twice; first in BST (00:30 UTC).
    assert local_instant(date(2026, 10, 25), time(1, 30), LONDON) == utc(2026, 10, 25, 0, 30)


def test_local_instant_half_hour_dst_lord_howe() -> None:
    # Lord Howe 2026-10-04: 02:00 (+10:30) jumps to 02:30 (+11:00).
    jump = local_instant(date(2026, 10, 4), time(2, 15), LORD_HOWE)
    assert jump == utc(2026, 10, 3, 15, 30)
    assert jump.astimezone(LORD_HOWE).time() == time(2, 30)
    assert (jump - timedelta(seconds=1)).astimezone(LORD_HOWE).time() == time(1, 59, 59)


@pytest.mark.parametrize(
    ("due_local", "expected_local"),
    [
        ((2026, 6, 1, 22, 0), (2026, 6, 2, 10, 0)),
        ((2026, 6, 1, 9, 59), (2026, 6, 1, 10, 0)),
        ((2026, 6, 1, 18, 59), (2026, 6, 1, 18, 59)),
        ((2026, 6, 1, 19, 0), (2026, 6, 2, 10, 0)),
        ((2026, 6, 1, 10, 0), (2026, 6, 1, 10, 0)),
        ((2026, 6, 2, 0, 30), (2026, 6, 2, 10, 0)),
    ],
)
def test_quiet_hours(due_local: tuple[int, ...], expected_local: tuple[int, ...]) -> None:
    due = local(LONDON, *due_local)
    assert next_send_time(due, LONDON, WINDOW) == local(LONDON, *expected_local)


def test_quiet_hours_across_london_dst_changes() -> None:
    # Saturday evening in GMT -> Sunday 10:00 BST (09:00 UTC), and the reverse in October.
    assert next_send_time(utc(2026, 3, 28, 20), LONDON, WINDOW) == utc(2026, 3, 29, 9)
    assert next_send_time(utc(2026, 10, 24, 19), LONDON, WINDOW) == utc(2026, 10, 25, 10)
    # Due 02:30 BST on the gap day (01:30 UTC) waits for 10:00 BST.
    assert next_send_time(utc(2026, 3, 29, 1, 30), LONDON, WINDOW) == utc(2026, 3, 29, 9)
    # Due in the October fold (the second 01:30, GMT) waits for 10:00 GMT.
    second = local(LONDON, 2026, 10, 25, 1, 30, fold=1)
    assert next_send_time(second, LONDON, WINDOW) == utc(2026, 10, 25, 10)


def test_window_opening_inside_a_gap_opens_when_clocks_jump() -> None:
    window = SendWindow(start=time(1, 30), end=time(5, 0))
    assert next_send_time(utc(2026, 3, 28, 23), LONDON, window) == utc(2026, 3, 29, 1)


def test_a_skipped_day_moves_to_the_next_day() -> None:
    # Samoa skipped 30 December 2011 entirely.
    due = local(APIA, 2011, 12, 29, 20, 0)
    assert next_send_time(due, APIA, WINDOW) == local(APIA, 2011, 12, 31, 10, 0)


def test_is_within_window_uses_local_time() -> None:
    assert is_within_window(utc(2026, 7, 1, 9, 0), LONDON, WINDOW)  # 10:00 BST
    assert not is_within_window(utc(2026, 7, 1, 18, 0), LONDON, WINDOW)  # 19:00 BST
    assert is_within_window(utc(2026, 1, 1, 18, 59), LONDON, WINDOW)  # 18:59 GMT


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_send_time(datetime(2026, 1, 1, 12), LONDON, WINDOW)


ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Tehran",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
]
INSTANTS = st.datetimes(datetime(1990, 1, 1), datetime(2040, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@given(INSTANTS, st.sampled_from(ZONES))
def test_next_send_time_is_soon_inside_the_window_and_earliest(due: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    sent = next_send_time(due, tz, WINDOW)
    assert due <= sent <= due + timedelta(hours=25)
    assert is_within_window(sent, tz, WINDOW)
    assert sent == due or not is_within_window(sent - timedelta(seconds=1), tz, WINDOW)


@given(INSTANTS, st.sampled_from(ZONES), st.integers(0, 22 * 60), st.integers(30, 12 * 60))
def test_next_send_time_with_any_window(due: datetime, zone: str, start: int, width: int) -> None:
    tz = ZoneInfo(zone)
    end = min(start + width, 23 * 60 + 59)
    window = SendWindow(start=time(*divmod(start, 60)), end=time(*divmod(end, 60)))
    sent = next_send_time(due, tz, window)
    assert due <= sent <= due + timedelta(hours=49)
    assert is_within_window(sent, tz, window)
    assert sent == due or not is_within_window(sent - timedelta(seconds=1), tz, window)


# --- which checkpoints, and when ---------------------------------------------------------------


def names(plan: list[PlannedCheckpoint]) -> list[str]:
    return [checkpoint.name for checkpoint in plan]


def test_default_plan_start_at_enrolment_three_months_at_window_start() -> None:
    enrolled = utc(2026, 1, 31, 15, 20)
    plan = checkpoint_due_dates(CONFIG, enrolled, LONDON, now=enrolled)
    assert plan == [
        PlannedCheckpoint("start", "quality_experience", enrolled),
        PlannedCheckpoint("3_months", "quality_experience", utc(2026, 4, 30, 9), 3),  # 10:00 BST
    ]


def test_months_count_from_the_local_enrolment_date() -> None:
    # 03:00 UTC on 1 Feb is still 31 Jan in New York: 3 months -> 30 April 10:00 EDT.
    plan = checkpoint_due_dates(CONFIG, utc(2026, 2, 1, 3), NEW_YORK, now=utc(2026, 2, 1, 3))
    assert plan[1].due_at == utc(2026, 4, 30, 14)
    # 23:30 UTC on 31 Jan is already 1 Feb in Tokyo: 3 months -> 1 May 10:00 JST.
    tokyo = ZoneInfo("Asia/Tokyo")
    plan = checkpoint_due_dates(CONFIG, utc(2026, 1, 31, 23, 30), tokyo, now=utc(2026, 2, 1))
    assert plan[1].due_at == utc(2026, 5, 1, 1)


def test_exit_by_key_worker_cuts_later_checkpoints() -> None:
    enrolled, exit_at = utc(2026, 1, 10, 12), utc(2026, 3, 2, 16)
    plan = checkpoint_due_dates(CONFIG, enrolled, LONDON, exit_at=exit_at, now=exit_at)
    assert names(plan) == ["start", "exit"]
    assert plan[-1].due_at == exit_at


def test_exit_by_planned_end_date_is_at_window_start_that_day() -> None:
    enrolled = utc(2026, 1, 10, 12)
    plan = checkpoint_due_dates(
        CONFIG, enrolled, LONDON, planned_end=date(2026, 6, 30), now=utc(2026, 7, 1)
    )
    assert names(plan) == ["start", "3_months", "exit"]
    assert plan[-1].due_at == utc(2026, 6, 30, 9)
    # Whichever comes first: /exit before the planned end wins.
    early = utc(2026, 5, 1, 12)
    plan = checkpoint_due_dates(
        CONFIG, enrolled, LONDON, exit_at=early, planned_end=date(2026, 6, 30), now=early
    )
    assert plan[-1].due_at == early


def test_planned_end_before_enrolment_gives_exit_only() -> None:
    enrolled = utc(2026, 1, 10, 12)
    plan = checkpoint_due_dates(
        CONFIG, enrolled, LONDON, planned_end=date(2026, 1, 1), now=enrolled
    )
    assert plan == [PlannedCheckpoint("exit", "quality_experience", enrolled)]


def test_repeats_every_n_months_from_enrolment_until_exit() -> None:
    config = CONFIG.model_copy(
        update={"repeat": RepeatRule(every_months=3, questionnaire="belonging")}
    )
    enrolled = utc(2026, 1, 31, 12)
    plan = checkpoint_due_dates(config, enrolled, LONDON, now=utc(2026, 11, 1))
    assert names(plan) == ["start", "3_months", "6_months", "9_months", "12_months"]
    assert [c.due_at.date() for c in plan[2:]] == [
        date(2026, 7, 31),
        date(2026, 10, 31),
        date(2027, 1, 31),  # the first one still to come is listed; none after it
    ]
    assert plan[2].questionnaire == "belonging"
    plan = checkpoint_due_dates(
        config, enrolled, LONDON, exit_at=utc(2026, 8, 5), now=utc(2027, 6, 1)
    )
    assert names(plan) == ["start", "3_months", "6_months", "exit"]


def test_disabled_checkpoints_are_not_planned() -> None:
    config = ScheduleConfig(
        checkpoints=(
            CheckpointRule(name="start", questionnaire="q", enabled=False),
            CheckpointRule(name="3_months", questionnaire="q", after_months=3),
            CheckpointRule(name="exit", questionnaire="q", enabled=False),
        )
    )
    enrolled = utc(2026, 1, 10, 12)
    plan = checkpoint_due_dates(config, enrolled, LONDON, exit_at=utc(2026, 2, 1), now=enrolled)
    assert plan == []


# --- decisions for one prompt ------------------------------------------------------------------


def due(due_at: datetime, checkpoint: str = "3_months") -> PromptState:
    return PromptState(checkpoint, PromptStatus.DUE, due_at)


def sent(sent_at: datetime, **changes: object) -> PromptState:
    state = PromptState("3_months", PromptStatus.SENT, sent_at, sent_at=sent_at)
    return replace(state, **changes)  # type: ignore[arg-type]


def test_due_prompt_waits_sends_in_window_and_waits_for_morning() -> None:
    due_at = utc(2026, 4, 30, 9)  # 10:00 BST
    assert decide(due(due_at), utc(2026, 4, 29, 12), CONFIG, LONDON) == Action.wait_until(due_at)
    assert decide(due(due_at), due_at, CONFIG, LONDON) == SEND_NOW
    night = utc(2026, 4, 30, 21)  # 22:00 BST
    assert decide(due(due_at), night, CONFIG, LONDON) == Action.wait_until(utc(2026, 5, 1, 9))


def test_catch_up_after_downtime_within_the_close_window() -> None:
    due_at = utc(2026, 4, 30, 9)
    back = due_at + timedelta(days=5, hours=4)  # bot back at 14:00 BST five days later
    assert decide(due(due_at), back, CONFIG, LONDON) == SEND_NOW
    back_at_night = due_at + timedelta(days=5, hours=12)  # 22:00 BST
    action = decide(due(due_at), back_at_night, CONFIG, LONDON)
    assert action == Action.wait_until(utc(2026, 5, 6, 9))


def test_prompt_whose_window_closed_is_expired_not_dropped() -> None:
    due_at = utc(2026, 4, 30, 9)
    assert decide(due(due_at), due_at + timedelta(days=14), CONFIG, LONDON) == EXPIRE
    # Last chance at night: wait only until the deadline, then expire.
    evening = due_at + timedelta(days=13, hours=11)  # 21:00 BST, deadline 10:00 BST next day
    action = decide(due(due_at), evening, CONFIG, LONDON)
    assert action == Action.wait_until(due_at + timedelta(days=14))
    assert decide(due(due_at), action.until or evening, CONFIG, LONDON) == EXPIRE


def test_late_enrolment_sends_what_is_still_open_and_expires_the_rest() -> None:
    enrolled = utc(2026, 1, 5, 12)
    now = utc(2026, 4, 10, 13)  # enrolled in the bot ~95 days after support began
    plan = checkpoint_due_dates(CONFIG, enrolled, LONDON, planned_end=date(2026, 4, 8), now=now)
    assert names(plan) == ["start", "3_months", "exit"]
    actions = [decide(due(c.due_at, c.name), now, CONFIG, LONDON) for c in plan]
    assert actions == [EXPIRE, SEND_NOW, SEND_NOW]


def run_reminders(state: PromptState, until: datetime, config: ScheduleConfig) -> list[Action]:
    """Step the clock hour by hour, applying each reminder; return the non-wait actions."""
    taken: list[Action] = []
    now = state.sent_at or state.due_at
    while now <= until:
        action = decide(state, now, config, LONDON)
        if action == REMIND_NOW:
            assert is_within_window(now, LONDON, config.send_window)
            state = replace(state, reminded_at=now)
        if action.kind is not ActionKind.WAIT:
            taken.append(action)
        if action == EXPIRE:
            return taken
        now += timedelta(hours=1)
    return taken


def test_exactly_one_reminder_then_closed_after_14_days() -> None:
    sent_at = utc(2026, 5, 1, 17)  # 18:00 BST: reminder at 18:00 BST three days later
    assert decide(sent(sent_at), sent_at, CONFIG, LONDON) == Action.wait_until(
        sent_at + timedelta(days=3)
    )
    assert run_reminders(sent(sent_at), sent_at + timedelta(days=20), CONFIG) == [
        REMIND_NOW,
        EXPIRE,
    ]
    assert decide(sent(sent_at), sent_at + timedelta(days=14), CONFIG, LONDON) == EXPIRE


def test_reminder_due_at_night_waits_for_the_morning() -> None:
    sent_at = utc(2026, 5, 1, 17, 30)  # 18:30 BST; +3 days is 18:30 BST, +3 days 1h is 19:30
    late = sent_at + timedelta(days=3, hours=1)
    assert decide(sent(sent_at), late, CONFIG, LONDON) == Action.wait_until(utc(2026, 5, 5, 9))


def test_started_but_unfinished_is_reminded_finished_is_not() -> None:
    sent_at = utc(2026, 5, 1, 10)
    later = sent_at + timedelta(days=3)
    assert decide(sent(sent_at, started=True), later, CONFIG, LONDON) == REMIND_NOW
    assert decide(sent(sent_at, started=True, finished=True), later, CONFIG, LONDON) == NOTHING


def test_uncertain_send_is_never_reminded_but_closes() -> None:
    sent_at = utc(2026, 5, 1, 10)
    state = sent(sent_at, status=PromptStatus.UNCERTAIN)
    closes = sent_at + timedelta(days=14)
    assert decide(state, sent_at + timedelta(days=3), CONFIG, LONDON) == Action.wait_until(closes)
    assert decide(state, closes, CONFIG, LONDON) == EXPIRE


def test_reminder_missed_during_downtime_goes_when_back_or_not_at_all() -> None:
    sent_at = utc(2026, 5, 1, 10)
    assert decide(sent(sent_at), sent_at + timedelta(days=12), CONFIG, LONDON) == REMIND_NOW
    assert decide(sent(sent_at), sent_at + timedelta(days=15), CONFIG, LONDON) == EXPIRE


@pytest.mark.parametrize(
    "status",
    [PromptStatus.SENDING, PromptStatus.ANSWERED, PromptStatus.EXPIRED, PromptStatus.UNREACHABLE],
)
def test_settled_or_in_flight_prompts_need_nothing(status: PromptStatus) -> None:
    state = PromptState("start", status, utc(2026, 1, 1), sent_at=utc(2026, 1, 1))
    assert decide(state, utc(2026, 3, 1, 12), CONFIG, LONDON) == NOTHING


def test_sent_prompt_needs_sent_at() -> None:
    with pytest.raises(ValueError, match="sent_at"):
        PromptState("start", PromptStatus.SENT, utc(2026, 1, 1))


def test_collision_rule() -> None:
    assert resolve_collision("start", "3_months") == "wait"
    assert resolve_collision("3_months", "6_months") == "wait"
    assert resolve_collision("3_months", "exit") == "replace"
    assert resolve_collision("exit", "exit") == "wait"
    open_state = sent(utc(2026, 5, 1, 10))
    assert open_state.is_open
    assert not sent(utc(2026, 5, 1, 10), finished=True).is_open


# --- configuration -----------------------------------------------------------------------------


def test_default_yaml_is_the_default_config() -> None:
    config = load_schedule(DEFAULT_YAML)
    assert config == ScheduleConfig()
    assert config.send_window == SendWindow(start=time(10), end=time(19))
    assert [rule.name for rule in config.checkpoints] == ["start", "3_months", "exit"]
    assert config.questionnaire_ids == {"quality_experience"}
    assert config.repeat is None


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        CONFIG.close_after_days = 20  # type: ignore[misc]


START_AND = "checkpoints:\n  - {name: start, questionnaire: q}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            START_AND + "  - {name: 3_months, questionnaire: q, after_months: 0}\n",
            "checkpoints[1].after_months: must be at least 1",
        ),
        (
            START_AND + "  - {name: start, questionnaire: q}\n",
            "checkpoints[1].name: 'start' is already used by checkpoints[0]",
        ),
        (
            START_AND + "  - {name: Three, questionnaire: q, after_months: 3}\n",
            "checkpoints[1].name: must use only a-z, 0-9 and _ (got 'Three')",
        ),
        (
            START_AND + "  - {name: check, questionnaire: q}\n",
            "checkpoints[1].after_months: is required (months after enrolment)",
        ),
        (
            START_AND + "  - {name: exit, questionnaire: q, after_months: 2}\n",
            "checkpoints[1].after_months: not allowed for 'exit'",
        ),
        (
            START_AND + "  - {name: 3_months, questionnaire: q, after_months: 4}\n",
            "checkpoints[1].after_months: must be 3 for '3_months'",
        ),
        (
            START_AND
            + "  - {name: a, questionnaire: q, after_months: 3}\n"
            + "  - {name: b, questionnaire: q, after_months: 3}\n",
            "checkpoints[2].after_months: 3 is already used by checkpoints[1]",
        ),
        (
            START_AND + "  - {name: x, questionnaire: q, after_months: 3, colour: red}\n",
            "checkpoints[1].colour: is not a known setting",
        ),
        ('send_window: {start: "19:00", end: "10:00"}\n', "send_window.end: must be later"),
        (
            "send_window: {start: 10:00, end: 19:00}\n",
            "send_window.start: must be a time in quotes",
        ),
        (
            "reminder_after_days: 14\n",
            "reminder_after_days: must be less than close_after_days (14)",
        ),
        ("close_after_days: 0\n", "close_after_days: must be at least 1"),
        (
            "repeat: {every_months: 0, questionnaire: q}\n",
            "repeat.every_months: must be at least 1",
        ),
        ("repeat: {every_months: 3}\n", "repeat.questionnaire: is required"),
    ],
)
def test_invalid_config_names_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError) as caught:
        load_schedule(path)
    assert str(caught.value).startswith(f"{path}: {message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "must be a mapping"), ("- a\n- b\n", "must be a mapping"), ("a: [\n", "not valid YAML")],
)
def test_unusable_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError, match=message):
        load_schedule(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="cannot read"):
        load_schedule(tmp_path / "nope.yaml")


def test_parse_schedule_accepts_a_mapping() -> None:
    config = parse_schedule({"close_after_days": 21, "reminder_after_days": 5})
    assert (config.reminder_after_days, config.close_after_days) == (5, 21)
