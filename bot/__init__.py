"""Check-in: the Telegram application (wiring, handlers, scheduler job, CLI)."""
