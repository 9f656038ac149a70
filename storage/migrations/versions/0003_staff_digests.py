"""Scheduled digests: each staff member's frequency, time zone and last digest.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column(
                "digest_frequency",
                sa.String(8),
                nullable=False,
                server_default="weekly",
                comment="weekly, monthly or off",
            )
        )
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True, comment="staff time zone"))
        batch.add_column(sa.Column("last_digest_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("last_digest_at")
        batch.drop_column("timezone")
        batch.drop_column("digest_frequency")
