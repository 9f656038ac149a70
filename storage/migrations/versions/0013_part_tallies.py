"""Taking-part tallies (storage/part_tallies.py): response and reach queues kept at write time.

Creates the tables only. Which quarters are kept is recorded in ``part_quarters``; a quarter's
rows are computed for everyone the first time a digest of that quarter is made (a new quarter
starts with everyone prompted before it "not yet answered" and everyone's reach at its start,
which no write makes), and kept up to date by every write after that, so an existing database
gets its rows from the same code as a new one, under the release ledger's lock.

Revision ID: 0013
Revises: 0012
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_LEAF = ("quarter", "team_id", "key_worker_id", "checkpoint", "item_id")
_COUNTS = ("c1", "c2", "c3", "c4")


def _leaf_columns(team: str, worker: str) -> list[sa.Column[Any]]:
    return [
        sa.Column("quarter", sa.DateTime, nullable=False, comment="start of the quarter"),
        sa.Column("team_id", sa.Integer, nullable=False, comment=team),
        sa.Column("key_worker_id", sa.Integer, nullable=False, comment=worker),
    ]


def upgrade() -> None:
    op.create_index("ix_checkins_shared_finished_at", "checkins", ["shared", "finished_at"])
    op.create_table(
        "part_queue",
        sa.Column("id", sa.Integer, nullable=False),
        *_leaf_columns("the team then (0: none)", "the key worker then (0: none)"),
        sa.Column(
            "checkpoint", sa.String(32), nullable=False, comment="response: checkpoint; reach: ''"
        ),
        sa.Column("item_id", sa.String(32), nullable=False, comment="'answered' or 'unreachable'"),
        sa.Column("enrolment_id", sa.Integer, nullable=False, comment="whose state it is"),
        sa.Column(
            "pseudonym", sa.String(64), nullable=False, comment="their pseudonym (order of ties)"
        ),
        sa.Column(
            "value",
            sa.Integer,
            nullable=False,
            comment="1: not yet / reachable; 4: answered / not",
        ),
        sa.Column(
            "first_at", sa.DateTime, nullable=False, comment="when this state was first counted"
        ),
        *[
            sa.Column(
                c,
                sa.Integer,
                nullable=False,
                comment=f"running count of value {c[1]} through this one",
            )
            for c in _COUNTS
        ],
        sa.Column("total", sa.Integer, nullable=False, comment="running count through this one"),
        sa.PrimaryKeyConstraint("id", name="pk_part_queue"),
    )
    op.create_index(
        "ux_part_queue_order", "part_queue", [*_LEAF, "first_at", "pseudonym"], unique=True
    )
    op.create_index("ix_part_queue_total", "part_queue", [*_LEAF, "total"])
    op.create_index(
        "ix_part_queue_enrolment", "part_queue", ["enrolment_id", "quarter", "checkpoint"]
    )
    op.create_table(
        "part_versions",
        sa.Column("id", sa.Integer, nullable=False),
        *_leaf_columns("the replaced state's team (0: none)", "its key worker (0: none)"),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("enrolment_id", sa.Integer, nullable=False, comment="whose state it was"),
        sa.Column(
            "pseudonym", sa.String(64), nullable=False, comment="their pseudonym (order of ties)"
        ),
        sa.Column("value", sa.Integer, nullable=False, comment="the value it held"),
        sa.Column("first_at", sa.DateTime, nullable=False, comment="when it was first counted"),
        sa.Column(
            "replaced_at", sa.DateTime, nullable=False, comment="when its replacement counted"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_part_versions"),
    )
    op.create_index(
        "ix_part_versions_quarter",
        "part_versions",
        ["quarter", "checkpoint", "item_id", "replaced_at"],
    )
    op.create_index(
        "ix_part_versions_enrolment", "part_versions", ["enrolment_id", "quarter", "checkpoint"]
    )
    op.create_table(
        "part_heads",
        sa.Column("quarter", sa.DateTime, nullable=False),
        sa.Column("team_id", sa.Integer, nullable=False),
        sa.Column("key_worker_id", sa.Integer, nullable=False),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        *[
            sa.Column(c, sa.Integer, nullable=False, comment=f"value {c[1]} that counts now")
            for c in _COUNTS
        ],
        sa.Column("total", sa.Integer, nullable=False, comment="states that count now"),
        sa.PrimaryKeyConstraint(*_LEAF, name="pk_part_heads"),
    )
    op.create_table(
        "part_quarters",
        sa.Column("quarter", sa.DateTime, nullable=False, comment="a quarter whose rows are kept"),
        sa.Column("made_at", sa.DateTime, nullable=False, comment="when they were first computed"),
        sa.PrimaryKeyConstraint("quarter", name="pk_part_quarters"),
    )


def downgrade() -> None:
    for index, table in (
        ("ux_part_queue_order", "part_queue"),
        ("ix_part_queue_total", "part_queue"),
        ("ix_part_queue_enrolment", "part_queue"),
        ("ix_part_versions_quarter", "part_versions"),
        ("ix_part_versions_enrolment", "part_versions"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_index("ix_checkins_shared_finished_at", table_name="checkins")
    for table in ("part_quarters", "part_heads", "part_versions", "part_queue"):
        op.drop_table(table)
