"""Initial schema: teams, staff, invites, enrolments, check-ins, answers, contact requests, audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, comment="team name, set by an admin"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, comment="staff member's name, set by an admin"),
        sa.Column("role", sa.String(16), nullable=False, comment="key_worker, manager or admin"),
        sa.Column("team_id", sa.Integer, nullable=True),
        sa.Column("chat_id", sa.Integer, nullable=True, comment="to message the staff member"),
        sa.Column("language", sa.String(8), nullable=True, comment="staff member's chosen language"),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_staff_team_id_teams"),
        sa.UniqueConstraint("chat_id", name="uq_staff_chat_id"),
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False, comment="young_person or staff"),
        sa.Column("token_hash", sa.String(64), nullable=False, comment="SHA-256 of the token"),
        sa.Column("created_by", sa.Integer, nullable=True),
        sa.Column("staff_id", sa.Integer, nullable=True, comment="staff row a staff invite activates"),
        sa.Column("label", sa.String(32), nullable=True, comment="private label given by the key worker"),
        sa.Column("planned_end", sa.Date, nullable=True, comment="planned end of support, if known"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name="fk_invites_created_by_staff"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_invites_staff_id_staff"),
        sa.UniqueConstraint("token_hash", name="uq_invites_token_hash"),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pseudonym", sa.String(32), nullable=False, comment="random id for exports"),
        sa.Column("invite_id", sa.Integer, nullable=True),
        sa.Column("team_id", sa.Integer, nullable=True),
        sa.Column("key_worker_id", sa.Integer, nullable=True, comment="current key worker"),
        sa.Column("label", sa.String(32), nullable=True, comment="private label, seen by the team only"),
        sa.Column("chat_id", sa.Integer, nullable=True, comment="needed to message them"),
        sa.Column("language", sa.String(8), nullable=True, comment="chosen language"),
        sa.Column("timezone", sa.String(64), nullable=True, comment="time zone, if not the service's"),
        sa.Column("status", sa.String(16), nullable=False, comment="pending, active, stopped, exited, forgotten"),
        sa.Column("reachable", sa.Boolean, nullable=False, comment="false once they block the bot"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("enrolled_at", UTCDateTime, nullable=True, comment="when they agreed"),
        sa.Column("planned_end", sa.Date, nullable=True),
        sa.Column("exit_at", UTCDateTime, nullable=True, comment="when support ended"),
        sa.Column("stopped_at", UTCDateTime, nullable=True, comment="when they used /stop"),
        sa.PrimaryKeyConstraint("id", name="pk_enrolments"),
        sa.ForeignKeyConstraint(["invite_id"], ["invites.id"], name="fk_enrolments_invite_id_invites"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_enrolments_team_id_teams"),
        sa.ForeignKeyConstraint(["key_worker_id"], ["staff.id"], name="fk_enrolments_key_worker_id_staff"),
        sa.UniqueConstraint("pseudonym", name="uq_enrolments_pseudonym"),
        sa.UniqueConstraint("chat_id", name="uq_enrolments_chat_id"),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enrolment_id", sa.Integer, nullable=False),
        sa.Column("checkpoint", sa.String(32), nullable=False, comment="start, 3_months, exit, ..."),
        sa.Column("questionnaire_id", sa.String(32), nullable=False),
        sa.Column("questionnaire_version", sa.Integer, nullable=False),
        sa.Column("language", sa.String(8), nullable=False, comment="language the check-in is asked in"),
        sa.Column("step", sa.String(32), nullable=False, comment="current item id, comment, share or done"),
        sa.Column("status", sa.String(16), nullable=False, comment="open, paused, finished, closed"),
        sa.Column("team_id", sa.Integer, nullable=True, comment="team at the time"),
        sa.Column("key_worker_id", sa.Integer, nullable=True, comment="key worker at the time"),
        sa.Column("comment", sa.Text, nullable=True, comment="optional free text"),
        sa.Column("shared", sa.Boolean, nullable=False, comment="shared with key worker"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_checkins"),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolments.id"], name="fk_checkins_enrolment_id_enrolments", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_checkins_team_id_teams"),
        sa.ForeignKeyConstraint(["key_worker_id"], ["staff.id"], name="fk_checkins_key_worker_id_staff"),
    )
    op.create_index("ix_checkins_enrolment_status", "checkins", ["enrolment_id", "status"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("checkin_id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("item_version", sa.Integer, nullable=False),
        sa.Column("value", sa.Integer, nullable=True, comment="1-4 on the scale; NULL when skipped"),
        sa.Column("answered_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name="fk_answers_checkin_id_checkins", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("checkin_id", "item_id", name="uq_answers_checkin_id_item_id"),
    )
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enrolment_id", sa.Integer, nullable=False),
        sa.Column("key_worker_id", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_requests"),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name="fk_contact_requests_enrolment_id_enrolments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["key_worker_id"], ["staff.id"], name="fk_contact_requests_key_worker_id_staff"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False, comment="staff:<id>, cli or system"),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(128), nullable=False, comment="what was read or changed"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )


def downgrade() -> None:
    for table in ("audit_log", "contact_requests", "answers", "checkins", "enrolments", "invites", "staff", "teams"):
        op.drop_table(table)
