"""Shared wording: every checkpoint named in words, the same way in every view and language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.checkpoints import EXIT, START, THREE_MONTHS, months_name, months_of
from conversations.digest import Finding, ShareRange
from conversations.digest_text import finding_sentence
from conversations.mydata import _checkin_heading
from conversations.staff import caseload_line
from conversations.wording import checkpoint_name
from core.i18n import LANGUAGES, Catalogues, Translator
from core.settings import DEFAULT_LOCALES_DIR
from storage.records import Enrolment

CATALOGUES = Catalogues(DEFAULT_LOCALES_DIR)
CODES = [language.code for language in LANGUAGES]
NAMES = (START, THREE_MONTHS, months_name(6), months_name(12), EXIT)


def translator(code: str) -> Translator:
    return CATALOGUES.get(code)


def person() -> Enrolment:
    return Enrolment(
        id=1,
        pseudonym="p",
        invite_id=None,
        team_id=None,
        key_worker_id=1,
        label="AB",
        chat_id=1,
        language=None,
        timezone=None,
        status="active",
        reachable=True,
        enrolled_at=datetime(2026, 1, 5, tzinfo=UTC),
        planned_end=None,
        exit_at=None,
    )


def test_months_names_round_trip() -> None:
    assert months_name(6) == "6_months"
    assert months_of(THREE_MONTHS) == 3
    assert months_of(months_name(24)) == 24
    assert months_of(START) is None
    assert months_of("review") is None


def test_english_names() -> None:
    t = translator("en")
    assert [checkpoint_name(t, name, staff=False) for name in NAMES] == [
        "start",
        "3 months",
        "6 months",
        "12 months",
        "end of support",
    ]
    assert checkpoint_name(t, EXIT, staff=True) == "exit"
    assert checkpoint_name(t, "mid_point", staff=True) == "mid point"


@pytest.mark.parametrize("code", [c for c in CODES if c != "en"])
@pytest.mark.parametrize("staff", [False, True])
def test_every_checkpoint_has_a_translated_name(code: str, staff: bool) -> None:
    t, en = translator(code), translator("en")
    for name in NAMES:
        words = checkpoint_name(t, name, staff=staff)
        assert "_" not in words
        assert "{" not in words
        assert words != checkpoint_name(en, name, staff=staff), (code, name)


@pytest.mark.parametrize("code", CODES)
def test_staff_read_the_same_name_in_caseloads_and_digests(code: str) -> None:
    t = translator(code)
    done = {EXIT, months_name(6), START, THREE_MONTHS}
    line = caseload_line(t, person(), done, months_name(9))
    names = ", ".join(checkpoint_name(t, name, staff=True) for name in (*NAMES[:3], EXIT))
    assert names in line  # in the schedule's order, not the ids' alphabetical one
    assert checkpoint_name(t, months_name(9), staff=True) in line
    assert checkpoint_name(t, EXIT, staff=False) not in line
    finding = Finding("vs_previous_period", "x", EXIT, "same", ShareRange(0, 10), ShareRange(0, 10))
    assert checkpoint_name(t, EXIT, staff=True) in finding_sentence(finding, t, "item")


@pytest.mark.parametrize("code", CODES)
def test_young_people_read_end_of_support(code: str) -> None:
    t = translator(code)
    heading = _checkin_heading(t, EXIT, "finished", datetime(2026, 3, 1, tzinfo=UTC), None)
    assert checkpoint_name(t, EXIT, staff=False) in heading
    assert t.gettext("end of support") == checkpoint_name(t, EXIT, staff=False)
