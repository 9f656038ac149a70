"""Answer tallies kept with the answers (storage/tallies.py), filled from the answers stored.

Self-contained: the tables and the standing-answer rule (storage.records.latest_answers) are copied here
as they were when this migration was written, so later changes to the application do not change
what it does.

Revision ID: 0011
Revises: 0010
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_LEAF = ("quarter", "team_id", "key_worker_id", "checkpoint", "item_id")
_COUNTS = ("c1", "c2", "c3", "c4")


def _leaf_columns(whose: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "quarter", sa.DateTime, nullable=False, comment="start of the quarter answered in"
        ),
        sa.Column("team_id", sa.Integer, nullable=False, comment=f"{whose} team (0: none)"),
        sa.Column(
            "key_worker_id", sa.Integer, nullable=False, comment=f"{whose} key worker (0: none)"
        ),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
    ]


def _count_columns(what: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(c, sa.Integer, nullable=False, comment=f"{what.format(f'value {c[1]}')}")
        for c in _COUNTS
    ]


def upgrade() -> None:
    queue = op.create_table(
        "answer_queue",
        sa.Column("id", sa.Integer, nullable=False),
        *_leaf_columns("the latest answer's"),
        sa.Column("enrolment_id", sa.Integer, nullable=False, comment="whose answer it is"),
        sa.Column(
            "pseudonym", sa.String(64), nullable=False, comment="their pseudonym (order of ties)"
        ),
        sa.Column("value", sa.Integer, nullable=False, comment="the answer that counts now, 1-4"),
        sa.Column(
            "first_at", sa.DateTime, nullable=False, comment="when this value was first counted"
        ),
        *_count_columns("running count of {} through this one"),
        sa.Column(
            "total", sa.Integer, nullable=False, comment="running count of answers through this one"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_answer_queue"),
    )
    op.create_index(
        "ux_answer_queue_order", "answer_queue", [*_LEAF, "first_at", "pseudonym"], unique=True
    )
    op.create_index("ix_answer_queue_total", "answer_queue", [*_LEAF, "total"])
    op.create_index(
        "ix_answer_queue_enrolment", "answer_queue", ["enrolment_id", "quarter", "checkpoint"]
    )
    versions = op.create_table(
        "answer_versions",
        sa.Column("id", sa.Integer, nullable=False),
        *_leaf_columns("the replaced answer's"),
        sa.Column("enrolment_id", sa.Integer, nullable=False, comment="whose answer it was"),
        sa.Column(
            "pseudonym", sa.String(64), nullable=False, comment="their pseudonym (order of ties)"
        ),
        sa.Column("value", sa.Integer, nullable=False, comment="the value it held, 1-4"),
        sa.Column(
            "first_at", sa.DateTime, nullable=False, comment="when that value was first counted"
        ),
        sa.Column(
            "replaced_at",
            sa.DateTime,
            nullable=False,
            comment="when its replacement was counted",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_answer_versions"),
    )
    op.create_index(
        "ix_answer_versions_quarter", "answer_versions", ["quarter", "checkpoint", "item_id"]
    )
    op.create_index(
        "ix_answer_versions_enrolment", "answer_versions", ["enrolment_id", "quarter", "checkpoint"]
    )
    heads = op.create_table(
        "answer_heads",
        *[sa.Column(n, c.type, nullable=False) for n, c in zip(_LEAF, _leaf_columns(""), strict=True)],
        *_count_columns("answers {} that count now"),
        sa.Column("total", sa.Integer, nullable=False, comment="answers that count now"),
        sa.PrimaryKeyConstraint(*_LEAF, name="pk_answer_heads"),
    )
    firsts = op.create_table(
        "answer_firsts",
        sa.Column("enrolment_id", sa.Integer, nullable=False, comment="who answered"),
        sa.Column(
            "quarter", sa.DateTime, nullable=False, comment="start of the quarter answered in"
        ),
        sa.Column("checkpoint", sa.String(32), nullable=False),
        sa.Column(
            "answered_at", sa.DateTime, nullable=False, comment="their first answer (skips too)"
        ),
        sa.Column(
            "counted_at", sa.DateTime, nullable=False, comment="when its check-in was counted"
        ),
        sa.PrimaryKeyConstraint("enrolment_id", "quarter", "checkpoint", name="pk_answer_firsts"),
    )
    op.create_index("ix_answer_firsts_quarter", "answer_firsts", ["quarter"])
    _fill(queue, versions, heads, firsts)


def _quarter(at: datetime) -> datetime:
    return datetime(at.year, (at.month - 1) // 3 * 3 + 1, 1)


def _fill(queue: sa.Table, versions: sa.Table, heads: sa.Table, firsts: sa.Table) -> None:
    """The tallies of the answers already stored: per young person, quarter, checkpoint and
    statement the latest answer stands (ties: the higher value), its value first counted when
    the run of equal values it ends began; earlier values replaced are versions; per young
    person, quarter and checkpoint, the first answer (and when its check-in was counted)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT e.pseudonym, c.team_id, c.key_worker_id, c.checkpoint, a.item_id, a.value,"
            " a.answered_at, c.finished_at, c.enrolment_id FROM answers a"
            " JOIN checkins c ON a.checkin_id = c.id JOIN enrolments e ON c.enrolment_id = e.id"
            " WHERE c.status IN ('finished', 'closed')"
        ).columns(answered_at=sa.DateTime, finished_at=sa.DateTime)
    ).all()
    per_key: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    first_rows: dict[tuple[Any, ...], tuple[datetime, datetime]] = {}
    for pseudonym, team, worker, checkpoint, item, value, at, counted, person in rows:
        key = (person, pseudonym, _quarter(at), checkpoint, item)
        per_key[key].append((at, value or 0, value, counted or at, team or 0, worker or 0))
        spot = (person, _quarter(at), checkpoint)
        first_rows[spot] = min(first_rows.get(spot, (at, counted or at)), (at, counted or at))
    queues: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    version_rows: list[dict[str, Any]] = []
    for (person, pseudonym, quarter, checkpoint, item), found in per_key.items():
        found.sort(key=lambda f: (f[0], f[1]))
        held: int | None = None
        first: datetime | None = None
        at_leaf: tuple[Any, Any] | None = None
        replaced: list[tuple[int, datetime, datetime, tuple[Any, Any]]] = []
        for _, _, new, counted, team, worker in found:
            if new == held and (at_leaf is None or at_leaf == (team, worker)):
                continue
            if held is not None and first is not None and at_leaf is not None:
                replaced.append((held, first, counted, at_leaf))  # under its own key worker
            held, first = new, counted if new is not None else None
            at_leaf = (team, worker)
        last = found[-1]
        leaf = (quarter, last[4], last[5], checkpoint, item)
        where = dict(zip(_LEAF, leaf, strict=True))
        if held is not None and first is not None:
            queues[leaf].append((first, pseudonym, held, person))
        for old, since, until, (team, worker) in replaced:
            version_rows.append(
                dict(
                    where,
                    team_id=team,
                    key_worker_id=worker,
                    enrolment_id=person,
                    pseudonym=pseudonym,
                    value=old,
                    first_at=since,
                    replaced_at=until,
                )
            )
    queue_rows: list[dict[str, Any]] = []
    head_rows: list[dict[str, Any]] = []
    for leaf, entries in queues.items():
        where = dict(zip(_LEAF, leaf, strict=True))
        counts = [0, 0, 0, 0]
        for total, (first_at, pseudonym, value, person) in enumerate(sorted(entries), start=1):
            counts[value - 1] += 1
            queue_rows.append(
                dict(
                    where,
                    enrolment_id=person,
                    pseudonym=pseudonym,
                    value=value,
                    first_at=first_at,
                    total=total,
                    **dict(zip(_COUNTS, counts, strict=True)),
                )
            )
        head_rows.append(dict(where, total=len(entries), **dict(zip(_COUNTS, counts, strict=True))))
    made_firsts = [
        dict(enrolment_id=e, quarter=q, checkpoint=c, answered_at=at, counted_at=counted)
        for (e, q, c), (at, counted) in first_rows.items()
    ]
    tables = (
        (queue, queue_rows),
        (versions, version_rows),
        (heads, head_rows),
        (firsts, made_firsts),
    )
    for table, made in tables:
        for start in range(0, len(made), 5000):
            op.bulk_insert(table, made[start : start + 5000])


def downgrade() -> None:
    op.drop_index("ix_answer_firsts_quarter", "answer_firsts")
    op.drop_table("answer_firsts")
    op.drop_table("answer_heads")
    op.drop_index("ix_answer_versions_enrolment", "answer_versions")
    op.drop_index("ix_answer_versions_quarter", "answer_versions")
    op.drop_table("answer_versions")
    op.drop_index("ix_answer_queue_enrolment", "answer_queue")
    op.drop_index("ix_answer_queue_total", "answer_queue")
    op.drop_index("ux_answer_queue_order", "answer_queue")
    op.drop_table("answer_queue")
