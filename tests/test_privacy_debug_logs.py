"""No message text in logs, even at ``CHECKIN_LOG_LEVEL=DEBUG``.

python-telegram-bot logs every update it receives and every request's parameters at DEBUG, so a
young person's words (and the alert that carries them to a lead) would land in the log.
``checkin-bot`` holds the libraries that would log them at INFO or WARNING whatever the level
(``bot.cli.LIBRARY_LEVELS``). The test first shows the words do reach a DEBUG log without that
(so it can fail), then sends risky sentences through the real stack, under ``alert_lead`` (so
the words also travel to a lead), and finds them in no record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot import cli
from core.settings import load_settings
from tests.people import KEY_WORKER, YOUNG_PERSON, add_staff, enrolled
from tests.test_e2e_safeguarding import to_comment_step
from tests.world import World

YP, KW, ADMIN, LEAD = YOUNG_PERSON, KEY_WORKER, 900102, 900103
SENTENCE = "honestly zq i dont want to live any more"
COMMENT = "they took my passport zq and i work for no money"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.levelname} {record.name}: {record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def debug_capture() -> Iterator[Capture]:
    root = logging.getLogger()
    names = ("", *cli.LIBRARY_LEVELS)
    saved = {name: logging.getLogger(name).level for name in names}
    capture = Capture()
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


async def test_debug_logging_never_holds_what_a_young_person_wrote(
    world: World, debug_capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.settings = world.settings.model_copy(update={"safeguarding_policy": "alert_lead"})
    await world.restart()
    await add_staff(world, ADMIN, role="admin", name="Ada")
    await add_staff(world, LEAD, role="manager", name="Lee")
    await world.say(ADMIN, "/safeguarding 2 lead")
    await enrolled(world)
    await to_comment_step(world)

    # Without the cap, python-telegram-bot's DEBUG records carry the words: the test can fail.
    logging.getLogger("telegram").setLevel(logging.DEBUG)
    await world.say(YP, "uncapped zq words")
    assert any("uncapped zq words" in line for line in debug_capture.lines)

    # As checkin-bot sets logging up with CHECKIN_LOG_LEVEL=DEBUG.
    monkeypatch.setenv("CHECKIN_LOG_LEVEL", "DEBUG")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    cli.configure_logging(settings.log_level)
    logging.getLogger().setLevel(logging.DEBUG)  # basicConfig leaves pytest's root alone
    debug_capture.lines.clear()

    await world.say(YP, COMMENT)
    assert COMMENT in world.last(LEAD).content  # the lead did get the words
    replies = await world.say(YP, SENTENCE)
    assert "safeguarding lead will see it" in replies[0].content
    assert SENTENCE in world.last(LEAD).content

    lines = debug_capture.lines
    assert any("a risk rule matched" in line for line in lines), "is the capture working?"
    for line in lines:
        assert "zq" not in line, f"a log record holds the young person's words: {line}"
