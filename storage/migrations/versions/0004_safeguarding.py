"""Safeguarding: alerts raised by risk phrases, and which staff are safeguarding leads.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column(
                "safeguarding_lead",
                sa.Integer,
                nullable=True,
                comment="1: safeguarding lead, 2: second lead (escalation); NULL: neither",
            )
        )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enrolment_id", sa.Integer, nullable=False),
        sa.Column(
            "category",
            sa.String(16),
            nullable=False,
            comment="self_harm, abuse, exploitation, missing or danger",
        ),
        sa.Column("source", sa.String(16), nullable=False, comment="comment or message"),
        sa.Column(
            "text",
            sa.Text,
            nullable=True,
            comment="the young person's words, for the lead; deleted by /forgetme and retention",
        ),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.Column("acknowledged_by", sa.Integer, nullable=True),
        sa.Column("escalated_at", UTCDateTime, nullable=True, comment="when the second lead was told"),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name="fk_alerts_enrolment_id_enrolments", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["staff.id"], name="fk_alerts_acknowledged_by_staff"),
    )
    op.create_index("ix_alerts_enrolment_id", "alerts", ["enrolment_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_enrolment_id", "alerts")
    op.drop_table("alerts")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("safeguarding_lead")
