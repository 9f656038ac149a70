"""Prompts: one row per (young person, checkpoint), the scheduler's durable state.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enrolment_id", sa.Integer, nullable=False),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column("questionnaire_id", sa.String(32), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False, comment="when the checkpoint fell due"),
        sa.Column(
            "status",
            sa.String(16),
            nullable=False,
            comment="due, sending, sent, uncertain, answered, expired, unreachable",
        ),
        sa.Column("next_check_at", UTCDateTime, nullable=True, comment="NULL once nothing is left to do"),
        sa.Column("claimed_by", sa.String(64), nullable=True, comment="the bot process that claimed it"),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.Column("reminded_at", UTCDateTime, nullable=True),
        sa.Column("checkin_id", sa.Integer, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prompts"),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name="fk_prompts_enrolment_id_enrolments", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name="fk_prompts_checkin_id_checkins", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("enrolment_id", "checkpoint", name="uq_prompts_enrolment_id_checkpoint"),
    )
    op.create_index("ix_prompts_next_check_at", "prompts", ["next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_prompts_next_check_at", "prompts")
    op.drop_table("prompts")
