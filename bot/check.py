"""``checkin-bot check``: what is fine and what is wrong, for a new operator, before ``run``.

It reads the settings (every bad one, not only the first), each file the bot loads at start-up
(questionnaires, schedule, risk phrases, catalogues, the immigration note), the database
(reachable, writable, where it stands against the migrations) and the token (Telegram's getMe),
and prints one line for each: ``ok``, ``note`` (worth knowing, not a fault) or ``WRONG``. It
changes nothing: no database is created or migrated. Exit 0 when nothing is wrong, else 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError
from telegram import Bot
from telegram.error import TelegramError

from bot.locales import completeness
from bot.polling import trouble
from conversations.checkpoints import ScheduleError, load_schedule
from conversations.questionnaire import load_questionnaires
from conversations.safeguarding import RiskListError, load_risk_lists
from conversations.texts import PrivacyWording
from core.errors import CheckinError
from core.i18n import LANGUAGES, Catalogues
from core.settings import DEFAULT_LOCALES_DIR, Settings, settings_problems
from storage.db import Database
from storage.health import inspect

Verdict = Literal["ok", "note", "WRONG"]


@dataclass
class Report:
    """The lines of a check, in order."""

    lines: list[tuple[Verdict, str]] = field(default_factory=list)

    def add(self, verdict: Verdict, what: str) -> None:
        self.lines.append((verdict, what))

    @property
    def wrong(self) -> int:
        return sum(verdict == "WRONG" for verdict, _ in self.lines)

    def text(self) -> str:
        body = [f"{verdict:<5} {what}" for verdict, what in self.lines]
        if self.wrong:
            things = "thing is" if self.wrong == 1 else "things are"
            body.append(
                f"{self.wrong} {things} wrong: fix the WRONG lines, then run 'checkin-bot check' "
                "again."
            )
        else:
            body.append("Nothing is wrong: 'checkin-bot run' can start.")
        return "\n".join(body)


async def check(environment: Callable[[], Settings] = Settings) -> Report:
    """Every check, in the order an operator would fix things."""
    report = Report()
    try:
        settings = environment()
    except ValidationError as exc:
        for problem in settings_problems(exc):
            report.add("WRONG", problem)
        report.add("note", "the files, database and token are checked once the settings are right")
        return report
    report.add("ok", "settings: every CHECKIN_ setting is well formed")
    check_files(settings, report)
    await check_database(settings, report)
    await check_token(settings, report)
    return report


def check_files(settings: Settings, report: Report) -> None:
    """Questionnaires, schedule, risk phrases, catalogues, the immigration note."""
    try:
        questionnaires = load_questionnaires(settings.questionnaires_dir)
    except CheckinError as exc:
        report.add("WRONG", f"CHECKIN_QUESTIONNAIRES_DIR: {exc}")
    else:
        names = ", ".join(sorted(questionnaires))
        report.add("ok", f"CHECKIN_QUESTIONNAIRES_DIR: {settings.questionnaires_dir} ({names})")
        if settings.default_questionnaire not in questionnaires:
            report.add(
                "WRONG",
                "CHECKIN_DEFAULT_QUESTIONNAIRE: no questionnaire "
                f"'{settings.default_questionnaire}'",
            )
    try:
        schedule = load_schedule(settings.schedule_file)
    except ScheduleError as exc:
        report.add("WRONG", f"CHECKIN_SCHEDULE_FILE: {' '.join(str(exc).split())}")
    else:
        kept = ", ".join(checkpoint.name for checkpoint in schedule.checkpoints)
        report.add("ok", f"CHECKIN_SCHEDULE_FILE: {settings.schedule_file} ({kept})")
    _check_catalogues(settings, report)
    _check_risk_phrases(settings, report)
    if settings.immigration_note_file is not None:
        try:
            PrivacyWording.from_settings(settings)
        except CheckinError as exc:
            report.add("WRONG", str(exc))
        else:
            report.add("ok", f"CHECKIN_IMMIGRATION_NOTE_FILE: {settings.immigration_note_file}")


def _check_catalogues(settings: Settings, report: Report) -> None:
    english = settings.locales_dir / "en" / "LC_MESSAGES" / "messages.po"
    if not english.is_file():
        report.add("WRONG", f"CHECKIN_LOCALES_DIR: {settings.locales_dir} has no {english.name}")
        return
    override = settings.locales_override_dir
    if override is not None and not override.is_dir():
        report.add("WRONG", f"CHECKIN_LOCALES_OVERRIDE_DIR: {override} is not a folder")
        return
    try:
        Catalogues(settings.locales_dir, override)
    except (OSError, ValueError) as exc:
        report.add("WRONG", f"CHECKIN_LOCALES_DIR: a catalogue cannot be read ({exc})")
        return
    incomplete = []
    for language in LANGUAGES:
        root = settings.locales_dir
        if override is not None and (override / language.code).is_dir():
            root = override
        found = completeness(language.code, root)
        if not found.complete:
            incomplete.append(f"{language.code} {found.translated}/{found.total}")
    report.add("ok", f"CHECKIN_LOCALES_DIR: {settings.locales_dir} ({len(LANGUAGES)} languages)")
    if incomplete:
        report.add(
            "note",
            "catalogues not complete (a check-in in these comes in "
            f"CHECKIN_DEFAULT_LANGUAGE): {', '.join(incomplete)}",
        )


def _check_risk_phrases(settings: Settings, report: Report) -> None:
    extra = settings.risk_phrases_dir
    if extra is not None and not extra.is_dir():
        report.add("WRONG", f"CHECKIN_RISK_PHRASES_DIR: {extra} is not a folder")
        return
    try:
        lists = load_risk_lists(
            [language.code for language in LANGUAGES],
            settings.locales_dir,
            DEFAULT_LOCALES_DIR,
            extra,
        )
    except RiskListError as exc:
        report.add("WRONG", f"risk phrases: {exc}")
        return
    for code, phrase_list in lists.items():
        try:  # the bot compiles a list on its language's first message; check does it now
            phrase_list.compiled()
        except re.error as exc:
            report.add("WRONG", f"risk phrases ({code}): a rule does not compile: {exc}")
            return
    where = f" with additions from CHECKIN_RISK_PHRASES_DIR {extra}" if extra else ""
    report.add("ok", f"risk phrases: {len(lists)} languages{where}")


async def check_database(settings: Settings, report: Report) -> None:
    """Reachable, writable, migration state; nothing is created or migrated."""
    name = "CHECKIN_DATABASE_URL"
    try:
        db = Database(settings.database_url)
    except CheckinError as exc:
        report.add("WRONG", str(exc))
        return
    try:
        health = await inspect(db)
    finally:
        await db.close()
    where = f"{name} ({db.where})"
    if health.problem is not None:
        report.add("WRONG", f"{where}: {health.problem}")
    elif health.state is None:
        report.add("note", f"{where}: {health.note}")
    elif health.state.status == "unknown":
        report.add("WRONG", f"{where}: {health.state.explain()}")
    elif health.state.status == "current":
        report.add("ok", f"{where}: reachable and writable, {health.state.explain()}")
    else:
        report.add("ok", f"{where}: reachable and writable")
        report.add("note", f"{where}: {health.state.explain()}")


async def check_token(settings: Settings, report: Report) -> None:
    """Telegram knows the token (getMe), and it is the bot CHECKIN_BOT_USERNAME names."""
    try:
        token = settings.token()
    except CheckinError as exc:
        report.add("WRONG", str(exc))
        return
    try:
        async with Bot(token, base_url=settings.telegram_api_url) as bot:
            username = bot.username
    except TelegramError as exc:
        report.add("WRONG", trouble(exc).line)
        return
    report.add("ok", f"CHECKIN_TELEGRAM_TOKEN: Telegram knows it as @{username}")
    if settings.bot_username is not None and settings.bot_username != username:
        report.add(
            "WRONG",
            f"CHECKIN_BOT_USERNAME: is @{settings.bot_username}, but the token is @{username}'s "
            "(invite links would open the wrong bot)",
        )
