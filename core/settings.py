"""Every setting of Check-in, in one pydantic-settings class.

Settings come from environment variables prefixed ``CHECKIN_`` or from a ``.env`` file in the
working directory. :func:`load_settings` turns a validation failure into a :class:`SettingsError`
whose one-line message names the bad setting; the token is a secret and is never echoed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import SettingsError
from core.i18n import N_

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LOCALES_DIR = PROJECT_ROOT / "locales"
DEFAULT_QUESTIONNAIRES_DIR = PROJECT_ROOT / "conversations" / "questionnaires"
DEFAULT_SCHEDULE_FILE = PROJECT_ROOT / "conversations" / "schedule.yaml"
DEFAULT_SPEC_PATH = PROJECT_ROOT.parent / "shared" / "telegram-bot-api" / "api.json"


class Helpline(BaseModel):
    """A helpline shown by /support; ``name`` and ``contact`` are translated when shown."""

    name: str = Field(min_length=1, max_length=80)
    contact: str = Field(min_length=1, max_length=120)
    english_only: bool = False  # answers only in English: /support says so in other languages


# The default (UK) helplines, defined only here; their words are marked so that they are in the
# catalogues (babel.cfg reads this file). A service's own helplines are shown as configured.
UK_HELPLINES: tuple[Helpline, ...] = (
    Helpline(name=N_("Childline (under 19)"), contact="0800 1111", english_only=True),
    Helpline(name=N_("Samaritans"), contact="116 123", english_only=True),
    Helpline(name=N_("Shout"), contact=N_("text SHOUT to 85258"), english_only=True),
    Helpline(name=N_("Emergency"), contact="999"),
)


class Settings(BaseSettings):
    """Check-in's settings. Each field is documented in the README's settings table."""

    model_config = SettingsConfigDict(
        env_prefix="CHECKIN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str | None = None
    bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
    database_url: str = "sqlite+aiosqlite:///checkin.db"
    timezone: str = "Europe/London"
    default_language: str = "en"
    locales_dir: Path = DEFAULT_LOCALES_DIR
    locales_override_dir: Path | None = None
    questionnaires_dir: Path = DEFAULT_QUESTIONNAIRES_DIR
    default_questionnaire: str = "quality_experience"
    invite_ttl_days: int = Field(default=14, ge=1, le=90)
    comment_max_chars: int = Field(default=1000, ge=50, le=3500)
    min_group_size: int = Field(default=5, ge=3)
    retention_months: int = Field(default=12, ge=1, le=120)
    silence_months: int = Field(default=12, ge=1, le=120)
    safeguarding_policy: Literal["signpost_only", "alert_lead"] = "signpost_only"
    alert_escalate_minutes: int = Field(default=60, ge=5, le=1440)
    risk_phrases_dir: Path | None = None
    immigration_note_file: Path | None = None
    helplines: tuple[Helpline, ...] = UK_HELPLINES
    api_spec_path: Path = DEFAULT_SPEC_PATH
    schedule_file: Path = DEFAULT_SCHEDULE_FILE
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// address Telegram posts updates to")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (not shown)")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// (or postgresql+asyncpg://)")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token(self) -> str:
        """The bot token; a :class:`SettingsError` when it is not set."""
        if self.telegram_token is None or not self.telegram_token.get_secret_value().strip():
            raise SettingsError("CHECKIN_TELEGRAM_TOKEN: is not set (the token from @BotFather)")
        return self.telegram_token.get_secret_value().strip()

    def secret(self) -> str:
        """The webhook's secret token; a :class:`SettingsError` when it is not set."""
        if self.webhook_secret is None:
            raise SettingsError(
                "CHECKIN_WEBHOOK_SECRET: is not set (1-256 characters of A-Z, a-z, 0-9, _ and -;"
                " e.g. from `openssl rand -hex 32`)"
            )
        return self.webhook_secret.get_secret_value()

    def public_url(self) -> str:
        """The webhook's public address; a :class:`SettingsError` when it is not set."""
        if self.webhook_url is None:
            raise SettingsError(
                "CHECKIN_WEBHOOK_URL: is not set (the public https:// address of `serve`)"
            )
        return self.webhook_url

    def file_url(self) -> str:
        if self.telegram_file_url:
            return self.telegram_file_url
        return self.telegram_api_url.removesuffix("/bot").rstrip("/") + "/file/bot"


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a bad one raises :class:`SettingsError` with a one-line message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(settings_problems(exc)[0]) from None


def settings_problems(exc: ValidationError) -> list[str]:
    """Every bad setting of a failed :class:`Settings`, one line each, naming it."""
    problems = []
    for error in exc.errors():
        name = "CHECKIN_" + "_".join(str(part) for part in error["loc"][:1]).upper()
        reason = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}: {reason}")
    return problems
