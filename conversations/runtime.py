"""What every handler needs, built once at start-up, and the typed context that carries it.

:class:`Runtime` holds the settings, database, clock, catalogues, questionnaires, schedule, risk
phrase lists and privacy wording of a running bot, each a typed field. PTB builds a
:class:`Context` for every update and job (``ContextTypes(context=Context)``, as in PTB's
``contexttypesbot.py`` example); ``context.runtime`` is the one place that reads it back.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from conversations.checkpoints import ScheduleConfig
from conversations.commands import Command
from conversations.questionnaire import Questionnaire
from conversations.safeguarding import PhraseList
from conversations.sending import Pacer
from conversations.texts import PrivacyWording
from core.clock import Clock
from core.i18n import Catalogues, Translator
from core.settings import Settings
from storage.db import Database

KEY = "checkin.runtime"


def process_name() -> str:
    """A name for this bot process, unique across the service's machines and restarts: host,
    process id and a random part (it holds leases and claims, never personal data)."""
    return f"{os.uname().nodename[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Runtime:
    """Everything a running bot loaded and validated at start-up (``bot.app.build_runtime``);
    ``commands`` is the command table (``bot/commands.py``)."""

    settings: Settings
    db: Database
    clock: Clock
    catalogues: Catalogues
    questionnaires: dict[str, Questionnaire]
    schedule: ScheduleConfig
    risk_lists: dict[str, PhraseList]
    privacy_wording: PrivacyWording
    commands: tuple[Command, ...] = ()
    bot_username: str = "checkin_bot"
    pacer: Pacer = field(init=False)
    retention_last_run: datetime | None = None
    worker: str = field(default_factory=process_name)
    """This process, as it holds the fan-out lease and claims prompts (``bot/schedule.py``)."""
    send_held_until: datetime | None = None
    """Telegram said "retry after": no prompt goes out before this time."""
    database_lost: int = 0
    """Updates whose handling found the database unreachable (``bot/error_handler.py``); the
    polling loop leaves such an update unconfirmed and tries it again after a pause."""
    send_steps: Callable[[str], None] | None = None
    """Fault injection for the tests: called at each step of a prompt's send
    (``bot/prompt_sending.py``, ``STEPS``); raising there is the process dying at that step."""

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.settings.send_rate)

    @property
    def questionnaire(self) -> Questionnaire:
        """The service's default questionnaire."""
        return self.questionnaires[self.settings.default_questionnaire]

    def translator(self, language: str | None) -> Translator:
        return self.catalogues.get(language or self.settings.default_language)

    def deep_link(self, token: str) -> str:
        return f"https://t.me/{self.bot_username}?start={token}"

    def attach(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Keep this runtime in ``app``, where :attr:`Context.runtime` finds it."""
        app.bot_data[KEY] = self

    @staticmethod
    def of(app: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
        """The runtime :meth:`attach` kept in ``app``."""
        rt = app.bot_data[KEY]
        assert isinstance(rt, Runtime), "build_application attaches the runtime"
        return rt


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context of every handler and job, with the bot's :class:`Runtime` as a typed property."""

    @property
    def runtime(self) -> Runtime:
        return Runtime.of(self.application)
