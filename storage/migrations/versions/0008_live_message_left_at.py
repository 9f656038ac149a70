"""The one message that carries a check-in's live buttons; when a young person left.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkins") as batch:
        batch.add_column(
            sa.Column(
                "message_id",
                sa.Integer,
                nullable=True,
                comment="the one message that carries this check-in's live buttons",
            )
        )
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(
            sa.Column(
                "left_at",
                UTCDateTime,
                nullable=True,
                comment="when /forgetme or retention removed them, to tell their key worker",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("left_at")
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("message_id")
