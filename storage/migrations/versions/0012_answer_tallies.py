"""Answer tallies kept with the answers (storage/tallies.py); release marks by queue position.

Fills the tallies from the answers already stored, and gives every release already recorded its
mark by position (counting who it counted by time, as it was decided), so old ledger rows stay
readable.

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime
from storage.tally_rebuild import rebuild_sync

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("release_blocks") as batch:
        batch.add_column(
            sa.Column(
                "through_pos",
                sa.Integer,
                nullable=True,
                comment="queue positions counted (answer_queue); NULL: older rows, marked by time",
            )
        )
    op.create_table(
        "answer_queue",
        sa.Column("quarter", UTCDateTime, nullable=False, comment="start of the quarter answered in"),
        sa.Column("team_id", sa.Integer, nullable=False, comment="the check-in's team (0: none)"),
        sa.Column(
            "key_worker_id",
            sa.Integer,
            nullable=False,
            comment="the check-in's key worker (0: none)",
        ),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column(
            "position",
            sa.Integer,
            nullable=False,
            comment="place in the key worker's queue, given when first counted with a value",
        ),
        sa.Column(
            "enrolment_id", sa.Integer, nullable=True, comment="whose answer; NULL once forgotten"
        ),
        sa.Column(
            "answered_at", UTCDateTime, nullable=True, comment="when the counted answer was given"
        ),
        sa.Column("counted_at", UTCDateTime, nullable=False, comment="when it was first counted"),
        sa.Column(
            "value", sa.Integer, nullable=True, comment="1-4; NULL: replaced, or a hole (forgotten)"
        ),
        sa.Column(
            "replaced_value",
            sa.Integer,
            nullable=True,
            comment="the value it held until replaced (a changed answer or a skip); NULL otherwise",
        ),
        sa.Column(
            "replaced_at", UTCDateTime, nullable=True, comment="when the replacement was counted"
        ),
        sa.Column("c1", sa.Integer, nullable=False, comment="value 1 given at positions 0..position"),
        sa.Column("c2", sa.Integer, nullable=False, comment="value 2 given at positions 0..position"),
        sa.Column("c3", sa.Integer, nullable=False, comment="value 3 given at positions 0..position"),
        sa.Column("c4", sa.Integer, nullable=False, comment="value 4 given at positions 0..position"),
        sa.PrimaryKeyConstraint(
            "quarter", "team_id", "key_worker_id", "checkpoint", "item_id", "position"
        ),
    )
    op.create_index(
        "ix_answer_queue_enrolment",
        "answer_queue",
        ["enrolment_id", "quarter", "checkpoint", "item_id"],
    )
    op.create_table(
        "answer_heads",
        sa.Column("quarter", UTCDateTime, nullable=False),
        sa.Column("team_id", sa.Integer, nullable=False),
        sa.Column("key_worker_id", sa.Integer, nullable=False),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("assigned", sa.Integer, nullable=False, comment="queue positions given so far"),
        sa.PrimaryKeyConstraint("quarter", "team_id", "key_worker_id", "checkpoint", "item_id"),
    )
    rebuild_sync(op.get_bind())


def downgrade() -> None:
    op.drop_table("answer_heads")
    op.drop_index("ix_answer_queue_enrolment", "answer_queue")
    op.drop_table("answer_queue")
    with op.batch_alter_table("release_blocks") as batch:
        batch.drop_column("through_pos")
