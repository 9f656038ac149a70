"""Voice prompts: recorded clips of the texts, per language, and recordings in progress.

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0011"
down_revision = "0007"
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


def downgrade() -> None:
    op.drop_table("voice_drafts")
    op.drop_table("voice_clips")
