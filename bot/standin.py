"""The bot pointed at the local Bot API stand-in (:mod:`local_bot_api`), written once.

The tests, the playground and the benchmarks all run the real bot against the stand-in: this
puts the stand-in's address, its fake token and the bot's username into the settings. Starting
the application is :func:`bot.polling.running`, exactly as ``checkin-bot run`` starts it.
"""

from __future__ import annotations

from pydantic import SecretStr

from core.settings import Settings, load_settings
from local_bot_api import LocalBotAPI


def standin_settings(
    api: LocalBotAPI, database_url: str, base: Settings | None = None, **overrides: object
) -> Settings:
    """``base`` (or the environment's settings), talking to ``api`` and storing in
    ``database_url``; ``overrides`` are further settings by name (``send_rate=1000``)."""
    pointed: dict[str, object] = {
        "telegram_api_url": api.base_url,
        "telegram_file_url": api.base_file_url,
        "bot_username": api.state.bot_user["username"],
        "database_url": database_url,
        **overrides,
    }
    if base is None:
        return load_settings(telegram_token=api.token, **pointed)
    return base.model_copy(update={"telegram_token": SecretStr(api.token), **pointed})
