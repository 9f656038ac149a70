"""Issue 15's wording: a check-in named as "3-month check-in" in every language, and dates
formatted through Babel in the reader's language (never ISO dates in a message)."""

from __future__ import annotations

import re

import pytest

from conversations.checkpoints import EXIT, START, THREE_MONTHS, months_name
from conversations.wording import checkin_name
from core.i18n import LANGUAGES, Catalogues
from core.settings import DEFAULT_LOCALES_DIR
from tests.people import add_staff
from tests.world import World

CATALOGUES = Catalogues(DEFAULT_LOCALES_DIR)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def test_english_names_a_checkin_by_its_checkpoint() -> None:
    t = CATALOGUES.get("en")
    names = [checkin_name(t, c, staff=False) for c in (START, THREE_MONTHS, months_name(6), EXIT)]
    assert names == [
        "first check-in",
        "3-month check-in",
        "6-month check-in",
        "end-of-support check-in",
    ]
    assert checkin_name(t, EXIT, staff=True) == "exit check-in"
    assert checkin_name(t, "review_a", staff=False) == "review a check-in"


@pytest.mark.parametrize("code", [language.code for language in LANGUAGES if language.code != "en"])
def test_every_language_names_each_checkin_in_its_own_words(code: str) -> None:
    t, en = CATALOGUES.get(code), CATALOGUES.get("en")
    for checkpoint in (START, THREE_MONTHS, months_name(12), EXIT):
        name = checkin_name(t, checkpoint, staff=False)
        assert name != checkin_name(en, checkpoint, staff=False)
        assert "check-in" not in name
        assert "month" not in name
    assert "3" in checkin_name(t, THREE_MONTHS, staff=False)
    assert "12" in checkin_name(t, months_name(12), staff=False)


async def test_the_digest_period_is_a_date_in_the_readers_language(world: World) -> None:
    await add_staff(world, 900101)
    digest = "\n".join(m.content for m in await world.say(900101, "/digest"))
    assert "Jan 1, 2026 to Jan 5, 2026" in digest  # the digest's own period line (issue 12)
    assert ISO_DATE.search(digest) is None
