"""Migrations: Alembic's, numbered in ``storage/migrations/versions``, and where a database stands.

:func:`migrate` brings a database up to the newest migration (``Database.migrate`` calls it);
:func:`read_migration_state` says, in an operator's words, whether it is new, current, behind, or
migrated by a newer version (which is refused, never downgraded).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy import types as sa_types
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.errors import StorageError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def migrate(engine: AsyncEngine, target: str = "head") -> None:
    """Bring the database up to the newest migration (or to ``target``)."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade, target)
        await connection.commit()


def _upgrade(connection: Connection, target: str = "head") -> None:
    state = read_migration_state(connection)
    if state.status == "unknown":
        raise StorageError(state.explain())
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


@dataclass(frozen=True)
class MigrationState:
    """Where a database stands against the migrations this version of Check-in knows."""

    current: tuple[str, ...]  # the revisions recorded in alembic_version (none: a new database)
    known: tuple[str, ...]  # every revision this version has, oldest first
    head: str

    @property
    def status(self) -> Literal["new", "current", "behind", "unknown"]:
        if not self.current:
            return "new"
        if any(revision not in self.known for revision in self.current):
            return "unknown"
        return "current" if self.current == (self.head,) else "behind"

    def explain(self) -> str:
        """The state in words, for an operator."""
        shown = ", ".join(self.current)
        if self.status == "new":
            return f"no tables yet; 'checkin-bot run' creates them (migration {self.head})"
        if self.status == "unknown":
            return (
                f"the database was migrated by a newer version of Check-in (revision {shown}; "
                f"this version knows up to {self.head}): run that newer version, or restore a "
                "backup taken before the upgrade"
            )
        if self.status == "behind":
            return f"at migration {shown}; 'checkin-bot run' upgrades it to {self.head}"
        return f"up to date (migration {self.head})"


def read_migration_state(connection: Connection) -> MigrationState:
    script = ScriptDirectory.from_config(alembic_config())
    known = tuple(reversed([s.revision for s in script.walk_revisions()]))
    current = tuple(MigrationContext.configure(connection).get_current_heads())
    return MigrationState(current=current, known=known, head=str(script.get_current_head()))


def compare_type(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """Alembic's type comparison, except that on SQLite INTEGER and BIGINT are one type (an
    INTEGER column holds 64-bit values there; only PostgreSQL needs the 64-bit declaration)."""
    if context.dialect.name == "sqlite":
        integers = (sa_types.Integer,)
        if isinstance(inspected_type, integers) and isinstance(metadata_type, integers):
            return False
    return None


async def current_revision(connection: AsyncConnection) -> str | None:
    def _read(sync: Connection) -> str | None:
        return MigrationContext.configure(sync).get_current_revision()

    return await connection.run_sync(_read)
