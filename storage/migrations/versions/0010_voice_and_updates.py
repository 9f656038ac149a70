"""Voice prompts (recorded clips of the texts per language, recordings in progress) and
"you said, we did" updates (their texts, and each recipient, sent at most once).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_clips",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "text_key",
            sa.String(64),
            nullable=False,
            comment="which text is read: welcome, item.<item id> or option.<answer value>",
        ),
        sa.Column("language", sa.String(8), nullable=False, comment="the language it is read in"),
        sa.Column("audio", sa.LargeBinary, nullable=False, comment="the OGG/Opus recording itself"),
        sa.Column("duration", sa.Integer, nullable=False, comment="seconds, as recorded"),
        sa.Column(
            "file_id",
            sa.String(255),
            nullable=True,
            comment="Telegram's id of the uploaded clip, for sending; re-uploaded when refused",
        ),
        sa.Column("recorded_by", sa.Integer, nullable=True, comment="who recorded it"),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voice_clips"),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name="fk_voice_clips_recorded_by_staff"),
        sa.UniqueConstraint("text_key", "language", name="uq_voice_clips_text_key_language"),
    )
    op.create_table(
        "voice_drafts",
        sa.Column("staff_id", sa.Integer, nullable=False),
        sa.Column("text_key", sa.String(64), nullable=False, comment="the text being recorded"),
        sa.Column("language", sa.String(8), nullable=False, comment="the language it is recorded in"),
        sa.Column("audio", sa.LargeBinary, nullable=True, comment="the take waiting for keep or redo"),
        sa.Column("duration", sa.Integer, nullable=True),
        sa.Column("file_id", sa.String(255), nullable=True, comment="Telegram's id of the take"),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("staff_id", name="pk_voice_drafts"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name="fk_voice_drafts_staff_id_staff"),
    )


    op.create_table(
        "updates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer, nullable=False, comment="who wrote it"),
        sa.Column("team_id", sa.Integer, nullable=True, comment="its team; NULL: service"),
        sa.Column(
            "facts",
            sa.String(400),
            nullable=False,
            comment="the 'you said' part as item:level pairs, from figures released to staff",
        ),
        sa.Column("we_did", sa.Text, nullable=True, comment="the 'we did' part, cleaned, default language"),
        sa.Column("status", sa.String(16), nullable=False, comment="draft, sending, sent or cancelled"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("confirmed_at", UTCDateTime, nullable=True),
        sa.Column("recipients", sa.Integer, nullable=False, comment="young people it is for"),
        sa.Column("reached", sa.Integer, nullable=False, comment="young people it reached"),
        sa.PrimaryKeyConstraint("id", name="pk_updates"),
        sa.ForeignKeyConstraint(["author_id"], ["staff.id"], name="fk_updates_author_id_staff"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_updates_team_id_teams"),
    )
    op.create_table(
        "update_texts",
        sa.Column("update_id", sa.Integer, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False, comment="the 'we did' part in this language, cleaned"),
        sa.PrimaryKeyConstraint("update_id", "language", name="pk_update_texts"),
        sa.ForeignKeyConstraint(
            ["update_id"], ["updates.id"], name="fk_update_texts_update_id_updates", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "update_recipients",
        sa.Column("update_id", sa.Integer, nullable=False),
        sa.Column("enrolment_id", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=True, comment="taken for sending (at most once)"),
        sa.Column("sent_at", UTCDateTime, nullable=True, comment="when Telegram took it"),
        sa.PrimaryKeyConstraint("update_id", "enrolment_id", name="pk_update_recipients"),
        sa.ForeignKeyConstraint(
            ["update_id"], ["updates.id"], name="fk_update_recipients_update_id_updates", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name="fk_update_recipients_enrolment_id_enrolments",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_update_recipients_enrolment_id", "update_recipients", ["enrolment_id"])


def downgrade() -> None:
    op.drop_index("ix_update_recipients_enrolment_id", "update_recipients")
    op.drop_table("update_recipients")
    op.drop_table("update_texts")
    op.drop_table("updates")
    op.drop_table("voice_drafts")
    op.drop_table("voice_clips")
