"""What every handler needs, built once at start-up and kept in ``application.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.clock import Clock
from bot.i18n import Catalogues, Translator
from bot.settings import Settings
from conversations.questionnaire import Questionnaire
from storage.db import Database

KEY = "checkin.runtime"

Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]


@dataclass
class Runtime:
    """The settings, database, clock, catalogues and questionnaires of a running bot."""

    settings: Settings
    db: Database
    clock: Clock
    catalogues: Catalogues
    questionnaires: dict[str, Questionnaire]
    bot_username: str = "checkin_bot"
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def questionnaire(self) -> Questionnaire:
        """The service's default questionnaire."""
        return self.questionnaires[self.settings.default_questionnaire]

    def translator(self, language: str | None) -> Translator:
        return self.catalogues.get(language or self.settings.default_language)

    def deep_link(self, token: str) -> str:
        return f"https://t.me/{self.bot_username}?start={token}"


def runtime(context: Context) -> Runtime:
    """The :class:`Runtime` of the application handling this update."""
    return cast(Runtime, context.application.bot_data[KEY])
