"""The conversations with young people and staff: pure decisions, and the thin handlers on them."""

import core  # noqa: F401  (sets PTB_TIMEDELTA before telegram is imported)
