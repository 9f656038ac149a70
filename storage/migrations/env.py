"""Alembic environment: migrations run on the connection that `storage.migrating.migrate` gives."""

from __future__ import annotations

from alembic import context

from storage.migrating import compare_type
from storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with 'checkin-bot run' or storage.migrating.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=compare_type,
)
with context.begin_transaction():
    context.run_migrations()
