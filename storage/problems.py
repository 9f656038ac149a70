"""What an operator reads when the database fails: one line for each problem we know.

:func:`describe` turns an exception met while opening, migrating or using the database into one
line that says what is wrong and what to do, or ``None`` for an error we do not know (which then
propagates as it is, so nothing is hidden). The rules are data, tried in order:

- generic ones (the URL names a driver that is not installed, or no known database),
- SQLite's, matched on the message SQLite gives (it has no error codes through aiosqlite),
- then any other dialect's: add a list of :class:`Rule` to :data:`RULES` (PostgreSQL's would
  match the SQLSTATE in ``exc.orig.sqlstate``), and its messages are used everywhere at once:
  at start-up, in ``checkin-bot check``, and while running.

A rule marked ``transient`` is a problem that may pass by itself (a lock held by another
process); :class:`storage.db.Database` retries those with back-off before giving up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

Match = Callable[[BaseException], bool]


@dataclass(frozen=True)
class Rule:
    """When ``match`` holds for an exception, the operator reads ``message``."""

    match: Match
    message: str | Callable[[BaseException], str]
    transient: bool = False

    def text(self, exc: BaseException) -> str:
        return self.message if isinstance(self.message, str) else self.message(exc)


def driver_says(*fragments: str) -> Match:
    """A database error whose driver message contains any of ``fragments`` (case-insensitive)."""

    def match(exc: BaseException) -> bool:
        if isinstance(exc, DBAPIError):
            said = str(exc.orig).lower()
        elif isinstance(exc, sqlite3.Error):  # the standard library's own, before the engine
            said = str(exc).lower()
        else:
            return False
        return any(fragment in said for fragment in fragments)

    return match


def _missing_driver(exc: BaseException) -> str:
    name = exc.name if isinstance(exc, ImportError) and exc.name else str(exc)
    return f"its database driver '{name}' is not installed (pip install {name})"


def _is_import_error(exc: BaseException) -> bool:
    return isinstance(exc, ImportError)


def _is_unknown_dialect(exc: BaseException) -> bool:
    return isinstance(exc, NoSuchModuleError)


def _is_bad_url(exc: BaseException) -> bool:
    return isinstance(exc, ArgumentError)


def _is_os_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError)


def _os_error(exc: BaseException) -> str:
    assert isinstance(exc, OSError)
    return f"cannot create {exc.filename}: {exc.strerror or exc}"


GENERIC: list[Rule] = [
    Rule(_is_import_error, _missing_driver),
    Rule(_is_os_error, _os_error),
    Rule(_is_unknown_dialect, "names a database or driver SQLAlchemy does not know"),
    Rule(_is_bad_url, "is not a database URL (e.g. sqlite+aiosqlite:///checkin.db)"),
]

LOCKED = "the database is locked by another process; nothing was changed, try again"

SQLITE: list[Rule] = [
    Rule(
        driver_says("file is not a database"),
        "the file is not a SQLite database (it may be damaged, encrypted or another kind of file)",
    ),
    Rule(
        driver_says("database disk image is malformed"),
        "the database file is damaged (database disk image is malformed); restore a backup",
    ),
    Rule(driver_says("locked", "busy"), LOCKED, transient=True),
    Rule(
        driver_says("database or disk is full", "disk is full"),
        "the disk is full: the database could not be written; nothing was changed",
    ),
    Rule(
        driver_says("disk i/o error"),
        "the database file could not be written (disk I/O error); nothing was changed",
    ),
    Rule(
        driver_says("readonly", "read-only"), "the database file is read-only; nothing was changed"
    ),
    Rule(
        driver_says("unable to open database file"),
        "the database file cannot be opened or created: its directory is missing or cannot be "
        "written",
    ),
]

RULES: list[Rule] = [*GENERIC, *SQLITE]


def rule_for(exc: BaseException) -> Rule | None:
    """The first rule that matches ``exc``, or None."""
    for rule in RULES:
        if rule.match(exc):
            return rule
    return None


def describe(exc: BaseException) -> str | None:
    """What an operator should read for a database problem we know, or None for any other."""
    rule = rule_for(exc)
    return rule.text(exc) if rule is not None else None


def is_transient(exc: BaseException) -> bool:
    """A problem that may pass by itself (worth retrying with back-off)."""
    rule = rule_for(exc)
    return rule is not None and rule.transient
