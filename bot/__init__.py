"""Check-in's top layer: the Telegram application (wiring, CLI, polling, job, playground)."""

import core  # noqa: F401  (sets PTB_TIMEDELTA before telegram is imported)
