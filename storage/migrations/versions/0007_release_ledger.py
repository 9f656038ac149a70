"""The release ledger: every figure shown to anyone, with its group, window and bounds.

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("since", UTCDateTime, nullable=False, comment="start of the window (a quarter)"),
        sa.Column("kind", sa.String(16), nullable=False, comment="answers, response or reach"),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False, comment="empty for taking part"),
        sa.Column("released_at", UTCDateTime, nullable=False),
        sa.Column("reader", sa.String(64), nullable=False, comment="staff:<id>, cli or export"),
    )
    op.create_index("ix_releases_since_kind", "releases", ["since", "kind"])
    op.create_table(
        "release_blocks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "release_id",
            sa.Integer,
            sa.ForeignKey("releases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("team", sa.String(200), nullable=False),
        sa.Column("key_worker", sa.String(32), nullable=False),
        sa.Column("through_at", UTCDateTime, nullable=True, comment="last counted: when"),
        sa.Column("through_id", sa.String(64), nullable=True, comment="last counted: pseudonym"),
        sa.Column("size", sa.Integer, nullable=False, comment="how many were counted"),
        sa.Index("ix_release_blocks_release_id", "release_id"),
    )
    op.create_table(
        "release_figures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "release_id",
            sa.Integer,
            sa.ForeignKey("releases.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("team", sa.String(200), nullable=True, comment="NULL: the whole service"),
        sa.Column("key_worker", sa.String(32), nullable=True, comment="NULL: a team or more"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("positive", sa.String(24), nullable=True, comment="lo-hi; NULL: not shown"),
        sa.Column(
            "distribution", sa.String(96), nullable=True, comment="lo-hi of 1..4; NULL: not shown"
        ),
        sa.Index("ix_release_figures_release_id", "release_id"),
    )


def downgrade() -> None:
    op.drop_table("release_figures")
    op.drop_table("release_blocks")
    op.drop_index("ix_releases_since_kind", "releases")
    op.drop_table("releases")
