"""PostgreSQL as a first-class backend: 64-bit Telegram ids, and the send lease.

Telegram user and chat ids need up to 52 significant bits: every id column is 64-bit (SQLite
forgives a 32-bit declaration, PostgreSQL does not). ``leases`` holds named leases that several
bot processes share; the one in use (``fan_out``) lets one process at a time send prompts, so the
whole service keeps to one send budget.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID_COLUMNS = (
    ("staff", "to message the staff member"),
    ("enrolments", "needed to message them"),
)


def _alter_ids() -> bool:
    """SQLite's INTEGER is 64-bit already; changing the declared type there would rebuild the
    tables (``batch_alter_table``), which a database with rows referencing them refuses."""
    return op.get_bind().dialect.name != "sqlite"


def upgrade() -> None:
    for table, comment in ID_COLUMNS if _alter_ids() else ():
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "chat_id",
                type_=sa.BigInteger,
                existing_type=sa.Integer,
                existing_nullable=True,
                existing_comment=comment,
            )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(32), primary_key=True, comment="what the lease is for"),
        sa.Column(
            "holder", sa.String(64), nullable=False, comment="the bot process holding it"
        ),
        sa.Column("expires_at", UTCDateTime, nullable=False, comment="free for others after"),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    for table, comment in ID_COLUMNS if _alter_ids() else ():
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "chat_id",
                type_=sa.Integer,
                existing_type=sa.BigInteger,
                existing_nullable=True,
                existing_comment=comment,
            )
