"""Check-in's bottom layer: named errors, settings, the clock and languages.

It imports nothing else of Check-in; every other package may import it. The layers, bottom up:
``core`` -> ``storage`` -> ``conversations`` -> ``bot`` (``local_bot_api`` stands aside and imports
none of them); ``tests/test_layers.py`` fails on any import that runs the other way.
"""

import os

# Opt in now to python-telegram-bot's coming change: RetryAfter.retry_after as a timedelta. Set
# here, beneath every package that imports telegram, so it holds whichever is imported first.
os.environ.setdefault("PTB_TIMEDELTA", "1")
