"""The few named errors of Check-in.

Every error the product raises on purpose is a :class:`CheckinError`::

    CheckinError
    ├── SettingsError        a setting is missing or malformed (the message names it)
    ├── QuestionnaireError   a questionnaire file is broken (file, item and field)
    └── StorageError         the database could not do what was asked
        └── DatabaseUnavailable   it cannot be reached (refused, lost, wrong password, ...)

Operators see the message as one line (the CLI prints it and exits non-zero). Young people never
see it: the application's one error handler (``bot/error_handler.py``) answers them with a
short, kind sentence in the language they chose, and logs no message text or ids.
"""

from __future__ import annotations


class CheckinError(Exception):
    """Base of every error Check-in raises on purpose."""


class SettingsError(CheckinError):
    """A setting is missing or malformed; the message names it."""


class QuestionnaireError(CheckinError):
    """A questionnaire file is broken; the message names the file, item and field."""


class StorageError(CheckinError):
    """The database could not do what was asked (locked for too long, disk full, ...)."""


class DatabaseUnavailable(StorageError):
    """The database server cannot be reached, or refuses the connection (PostgreSQL); the
    message names ``CHECKIN_DATABASE_URL`` and the reason, never the password."""
