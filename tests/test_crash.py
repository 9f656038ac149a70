"""The crash test, short form: the bot as its own process, killed with SIGKILL mid-check-in.

Four kills at moments picked from: right after a button press is queued, once the bot has fetched
it, once it has answered the button, once it has edited the message. After each, the bot restarts
and every young person sends /checkin. bench/crash.py holds the harness and states the checks;
``python -m bench.crash --kills 30`` is the full run.
"""

from __future__ import annotations

from pathlib import Path

from bench.crash import CrashTest


async def test_killing_the_bot_mid_checkin_loses_and_doubles_nothing(tmp_path: Path) -> None:
    test = CrashTest(tmp_path, kills=4, people=2, seed=7, jitter=False, log=False)
    report = await test.run()  # raises CrashTestFailure when an invariant does not hold
    assert report.kills == 4
    assert report.answers == 2 * 9
    assert report.resumes_checked >= 4
    assert report.saved + report.refused + report.unacknowledged == report.presses
