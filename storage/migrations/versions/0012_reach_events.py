"""Reach events: when each young person could, or could no longer, be reached, and with which
key worker (append-only), so reach figures are decided across releases.

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reach_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enrolment_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False, comment="from when this holds"),
        sa.Column(
            "reachable", sa.Boolean, nullable=False, comment="enrolled, not stopped, not blocked"
        ),
        sa.Column("team_id", sa.Integer, nullable=True, comment="team at the time"),
        sa.Column("key_worker_id", sa.Integer, nullable=True, comment="key worker then"),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name="fk_reach_events_enrolment_id_enrolments"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_reach_events_team_id_teams"),
        sa.ForeignKeyConstraint(
            ["key_worker_id"], ["staff.id"], name="fk_reach_events_key_worker_id_staff"
        ),
    )
    op.create_index("ix_reach_events_enrolment_id", "reach_events", ["enrolment_id"])
    # Everyone enrolled so far: their state today, from when they enrolled (no reach figure was
    # decided across releases before, so no earlier release depends on when it changed).
    op.execute(
        "INSERT INTO reach_events (enrolment_id, at, reachable, team_id, key_worker_id) "
        "SELECT id, enrolled_at, (reachable AND status = 'active'), team_id, key_worker_id "
        "FROM enrolments WHERE status != 'pending' AND enrolled_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_reach_events_enrolment_id", table_name="reach_events")
    op.drop_table("reach_events")
