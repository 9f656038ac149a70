"""Check-in: the Telegram application (wiring, handlers, scheduler job, CLI)."""

import os

# Opt in now to python-telegram-bot's coming change: RetryAfter.retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")
