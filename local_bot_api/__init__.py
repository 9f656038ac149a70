"""A local stand-in for the Telegram Bot API, used by the tests and the playground.

:class:`LocalBotAPI` is an aiohttp server speaking Telegram's HTTP protocol (point
python-telegram-bot at :attr:`LocalBotAPI.base_url`) plus an in-process API to simulate users
and observe what the bot sends.
"""

from local_bot_api.models import ApiEvent, BotMessage, MessageSnapshot, RecordedError, UploadedFile
from local_bot_api.server import LocalBotAPI
from local_bot_api.spec import ApiSpec

__all__ = [
    "ApiEvent",
    "ApiSpec",
    "BotMessage",
    "LocalBotAPI",
    "MessageSnapshot",
    "RecordedError",
    "UploadedFile",
]
