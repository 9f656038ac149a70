"""The database schema, as SQLAlchemy Core tables.

The migrations in ``storage/migrations/versions`` create exactly this schema; a test compares
the two. Every time is stored in UTC (see :class:`UTCDateTime`). Column comments say why each
field is kept; ``docs/privacy.md`` lists them for a service's data protection officer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored as a naive UTC timestamp on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True, comment="team name, set by an admin"),
    Column("created_at", UTCDateTime, nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False, comment="staff member's name, set by an admin"),
    Column("role", String(16), nullable=False, comment="key_worker, manager or admin"),
    Column("team_id", ForeignKey("teams.id"), nullable=True),
    Column(
        "chat_id", BigInteger, nullable=True, unique=True, comment="to message the staff member"
    ),
    Column("language", String(8), nullable=True, comment="staff member's chosen language"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

invites = Table(
    "invites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False, comment="young_person or staff"),
    Column("token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the token"),
    Column("created_by", ForeignKey("staff.id"), nullable=True),
    Column(
        "staff_id",
        ForeignKey("staff.id"),
        nullable=True,
        comment="staff row a staff invite activates",
    ),
    Column("label", String(32), nullable=True, comment="private label given by the key worker"),
    Column("planned_end", Date, nullable=True, comment="planned end of support, if known"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

enrolments = Table(
    "enrolments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pseudonym", String(32), nullable=False, unique=True, comment="random id for exports"),
    Column("invite_id", ForeignKey("invites.id"), nullable=True),
    Column("team_id", ForeignKey("teams.id"), nullable=True),
    Column("key_worker_id", ForeignKey("staff.id"), nullable=True, comment="current key worker"),
    Column("label", String(32), nullable=True, comment="private label, seen by the team only"),
    Column("chat_id", BigInteger, nullable=True, unique=True, comment="needed to message them"),
    Column("language", String(8), nullable=True, comment="chosen language"),
    Column("timezone", String(64), nullable=True, comment="time zone, if not the service's"),
    Column(
        "status", String(16), nullable=False, comment="pending, active, stopped, exited, forgotten"
    ),
    Column(
        "reachable", Boolean, nullable=False, default=True, comment="false once they block the bot"
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("enrolled_at", UTCDateTime, nullable=True, comment="when they agreed"),
    Column("planned_end", Date, nullable=True),
    Column("exit_at", UTCDateTime, nullable=True, comment="when support ended"),
    Column("stopped_at", UTCDateTime, nullable=True, comment="when they used /stop"),
    Column(
        "left_at",
        UTCDateTime,
        nullable=True,
        comment="when /forgetme or retention removed them, to tell their key worker",
    ),
)

checkins = Table(
    "checkins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrolment_id", ForeignKey("enrolments.id", ondelete="CASCADE"), nullable=False),
    Column("checkpoint", String(32), nullable=False, comment="start, 3_months, exit, ..."),
    Column("questionnaire_id", String(32), nullable=False),
    Column("questionnaire_version", Integer, nullable=False),
    Column("language", String(8), nullable=False, comment="language the check-in is asked in"),
    Column("step", String(32), nullable=False, comment="current item id, comment, share or done"),
    Column("status", String(16), nullable=False, comment="open, paused, finished, closed"),
    Column("team_id", ForeignKey("teams.id"), nullable=True, comment="team at the time"),
    Column(
        "key_worker_id", ForeignKey("staff.id"), nullable=True, comment="key worker at the time"
    ),
    Column("comment", Text, nullable=True, comment="optional free text"),
    Column("shared", Boolean, nullable=False, default=False, comment="shared with key worker"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column(
        "message_id",
        Integer,
        nullable=True,
        comment="the one message that carries this check-in's live buttons",
    ),
    Index("ix_checkins_enrolment_status", "enrolment_id", "status"),
    Index("ix_checkins_shared_finished_at", "shared", "finished_at"),
)

answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("checkin_id", ForeignKey("checkins.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", String(32), nullable=False),
    Column("item_version", Integer, nullable=False),
    Column("value", Integer, nullable=True, comment="1-4 on the scale; NULL when skipped"),
    Column("answered_at", UTCDateTime, nullable=False),
    UniqueConstraint("checkin_id", "item_id"),
)

contact_requests = Table(
    "contact_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrolment_id", ForeignKey("enrolments.id", ondelete="CASCADE"), nullable=False),
    Column("key_worker_id", ForeignKey("staff.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False, comment="staff:<id>, cli or system"),
    Column("action", String(32), nullable=False),
    Column("scope", String(128), nullable=False, comment="what was read or changed"),
)

prompts = Table(
    "prompts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrolment_id", ForeignKey("enrolments.id", ondelete="CASCADE"), nullable=False),
    Column("checkpoint", String(32), nullable=False),
    Column("questionnaire_id", String(32), nullable=False),
    Column("due_at", UTCDateTime, nullable=False, comment="when the checkpoint fell due"),
    Column(
        "status",
        String(16),
        nullable=False,
        comment="due, sending, sent, uncertain, answered, expired, unreachable",
    ),
    Column("next_check_at", UTCDateTime, nullable=True, comment="NULL once nothing is left to do"),
    Column("claimed_by", String(64), nullable=True, comment="the bot process that claimed it"),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("reminded_at", UTCDateTime, nullable=True),
    Column("checkin_id", ForeignKey("checkins.id", ondelete="SET NULL"), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("enrolment_id", "checkpoint"),
    Index("ix_prompts_next_check_at", "next_check_at"),
)

# Added by migration 0003: scheduled digests, per staff member.
staff.append_column(
    Column(
        "digest_frequency",
        String(8),
        nullable=False,
        server_default="weekly",
        comment="weekly, monthly or off",
    )
)
staff.append_column(Column("timezone", String(64), nullable=True, comment="staff time zone"))
staff.append_column(Column("last_digest_at", UTCDateTime, nullable=True))

# Added by migration 0004: safeguarding alerts, and which staff are safeguarding leads.
staff.append_column(
    Column(
        "safeguarding_lead",
        Integer,
        nullable=True,
        comment="1: safeguarding lead, 2: second lead (escalation); NULL: neither",
    )
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrolment_id", ForeignKey("enrolments.id", ondelete="CASCADE"), nullable=False),
    Column(
        "category",
        String(16),
        nullable=False,
        comment="self_harm, abuse, exploitation, missing or danger",
    ),
    Column("source", String(16), nullable=False, comment="comment or message"),
    Column(
        "text",
        Text,
        nullable=True,
        comment="the young person's words, for the lead; deleted by /forgetme and retention",
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", ForeignKey("staff.id"), nullable=True),
    Column("escalated_at", UTCDateTime, nullable=True, comment="when the second lead was told"),
    Index("ix_alerts_enrolment_id", "enrolment_id"),
)

# Added by migration 0006: the updates whose effects are done, so a redelivery changes nothing.
handled_updates = Table(
    "handled_updates",
    metadata,
    Column(
        "update_id",
        BigInteger,
        primary_key=True,
        autoincrement=False,
        comment="Telegram's update id, recorded with the effect it caused; kept 7 days",
    ),
    Column("handled_at", UTCDateTime, nullable=False),
)

# Added by migration 0009: which risk rule raised an alert (its id, never the words).
alerts.append_column(
    Column(
        "rule",
        String(40),
        nullable=True,
        comment="id of the risk rule that matched, e.g. en.self_harm.3fa2b1 (no words)",
    )
)

# Added by migration 0005: Telegram ids are 64-bit (above), and named leases shared by several
# bot processes (``fan_out``: one process at a time sends prompts, one send budget).
leases = Table(
    "leases",
    metadata,
    Column("name", String(32), primary_key=True, comment="what the lease is for"),
    Column("holder", String(64), nullable=False, comment="the bot process holding it"),
    Column("expires_at", UTCDateTime, nullable=False, comment="free for others after"),
)

voice_clips = Table(
    "voice_clips",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "text_key",
        String(64),
        nullable=False,
        comment="which text is read: welcome, item.<item id> or option.<answer value>",
    ),
    Column("language", String(8), nullable=False, comment="the language it is read in"),
    Column("audio", LargeBinary, nullable=False, comment="the OGG/Opus recording itself"),
    Column("duration", Integer, nullable=False, comment="seconds, as recorded"),
    Column(
        "file_id",
        String(255),
        nullable=True,
        comment="Telegram's id of the uploaded clip, for sending; re-uploaded when refused",
    ),
    Column("recorded_by", ForeignKey("staff.id"), nullable=True, comment="who recorded it"),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("text_key", "language"),
)

voice_drafts = Table(
    "voice_drafts",
    metadata,
    Column("staff_id", ForeignKey("staff.id"), primary_key=True),
    Column("text_key", String(64), nullable=False, comment="the text being recorded"),
    Column("language", String(8), nullable=False, comment="the language it is recorded in"),
    Column("audio", LargeBinary, nullable=True, comment="the take waiting for keep or redo"),
    Column("duration", Integer, nullable=True),
    Column("file_id", String(255), nullable=True, comment="Telegram's id of the take"),
    Column("started_at", UTCDateTime, nullable=False),
)

# Added by migration 0007: the release ledger, every figure shown to anyone (storage/ledger.py).
releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("since", UTCDateTime, nullable=False, comment="start of the window (a quarter)"),
    Column("kind", String(16), nullable=False, comment="answers, response or reach"),
    Column("checkpoint", String(32), nullable=False),
    Column("item_id", String(32), nullable=False, comment="empty for taking part"),
    Column("released_at", UTCDateTime, nullable=False),
    Column("reader", String(64), nullable=False, comment="staff:<id>, cli or export"),
    Index("ix_releases_since_kind", "since", "kind"),
)

release_blocks = Table(
    "release_blocks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("release_id", ForeignKey("releases.id", ondelete="CASCADE"), nullable=False),
    Column("team", String(200), nullable=False),
    Column("key_worker", String(32), nullable=False),
    Column("through_at", UTCDateTime, nullable=True, comment="last counted: when"),
    Column("through_id", String(64), nullable=True, comment="last counted: pseudonym"),
    Column("size", Integer, nullable=False, comment="how many were counted"),
    Index("ix_release_blocks_release_id", "release_id"),
)

release_figures = Table(
    "release_figures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("release_id", ForeignKey("releases.id", ondelete="CASCADE"), nullable=False),
    Column("team", String(200), nullable=True, comment="NULL: the whole service"),
    Column("key_worker", String(32), nullable=True, comment="NULL: a team or more"),
    Column("status", String(16), nullable=False),
    Column("size", Integer, nullable=False),
    Column("positive", String(24), nullable=True, comment="lo-hi; NULL: not shown"),
    Column("distribution", String(96), nullable=True, comment="lo-hi of 1..4; NULL: not shown"),
    Index("ix_release_figures_release_id", "release_id"),
)

# Added by migration 0010: "you said, we did" updates (storage/updates.py).
updates = Table(
    "updates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("author_id", ForeignKey("staff.id"), nullable=False, comment="who wrote it"),
    Column("team_id", ForeignKey("teams.id"), nullable=True, comment="its team; NULL: service"),
    Column(
        "facts",
        String(400),
        nullable=False,
        comment="the 'you said' part as item:level pairs, from figures released to staff",
    ),
    Column("we_did", Text, nullable=True, comment="the 'we did' part, cleaned, default language"),
    Column("status", String(16), nullable=False, comment="draft, sending, sent or cancelled"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("recipients", Integer, nullable=False, default=0, comment="young people it is for"),
    Column("reached", Integer, nullable=False, default=0, comment="young people it reached"),
)

update_texts = Table(
    "update_texts",
    metadata,
    Column("update_id", ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("text", Text, nullable=False, comment="the 'we did' part in this language, cleaned"),
)

update_recipients = Table(
    "update_recipients",
    metadata,
    Column("update_id", ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True),
    Column("enrolment_id", ForeignKey("enrolments.id", ondelete="CASCADE"), primary_key=True),
    Column("claimed_at", UTCDateTime, nullable=True, comment="taken for sending (at most once)"),
    Column("sent_at", UTCDateTime, nullable=True, comment="when Telegram took it"),
    Index("ix_update_recipients_enrolment_id", "enrolment_id"),
)


# Added by migration 0011: answer tallies kept in the same transaction as the answers they count
# (storage/tallies.py), so a digest reads a few rows per cell and key worker, not every answer.
_LEAF = ("quarter", "team_id", "key_worker_id", "checkpoint", "item_id")

answer_queue = Table(
    "answer_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("quarter", UTCDateTime, nullable=False, comment="start of the quarter answered in"),
    Column("team_id", Integer, nullable=False, comment="the latest answer's team (0: none)"),
    Column(
        "key_worker_id", Integer, nullable=False, comment="the latest answer's key worker (0: none)"
    ),
    Column("checkpoint", String(32), nullable=False),
    Column("item_id", String(32), nullable=False),
    Column("enrolment_id", Integer, nullable=False, comment="whose answer it is"),
    Column("pseudonym", String(64), nullable=False, comment="their pseudonym (order of ties)"),
    Column("value", Integer, nullable=False, comment="the answer that counts now, 1-4"),
    Column("first_at", UTCDateTime, nullable=False, comment="when this value was first counted"),
    Column("c1", Integer, nullable=False, comment="running count of value 1 through this one"),
    Column("c2", Integer, nullable=False, comment="running count of value 2 through this one"),
    Column("c3", Integer, nullable=False, comment="running count of value 3 through this one"),
    Column("c4", Integer, nullable=False, comment="running count of value 4 through this one"),
    Column("total", Integer, nullable=False, comment="running count of answers through this one"),
    Index("ux_answer_queue_order", *_LEAF, "first_at", "pseudonym", unique=True),
    Index("ix_answer_queue_total", *_LEAF, "total"),
    Index("ix_answer_queue_enrolment", "enrolment_id", "quarter", "checkpoint"),
)

answer_versions = Table(
    "answer_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("quarter", UTCDateTime, nullable=False, comment="start of the quarter answered in"),
    Column("team_id", Integer, nullable=False, comment="the replaced answer's team (0: none)"),
    Column(
        "key_worker_id",
        Integer,
        nullable=False,
        comment="the replaced answer's key worker (0: none)",
    ),
    Column("checkpoint", String(32), nullable=False),
    Column("item_id", String(32), nullable=False),
    Column("enrolment_id", Integer, nullable=False, comment="whose answer it was"),
    Column("pseudonym", String(64), nullable=False, comment="their pseudonym (order of ties)"),
    Column("value", Integer, nullable=False, comment="the value it held, 1-4"),
    Column("first_at", UTCDateTime, nullable=False, comment="when that value was first counted"),
    Column("replaced_at", UTCDateTime, nullable=False, comment="when its replacement was counted"),
    Index("ix_answer_versions_quarter", "quarter", "checkpoint", "item_id"),
    Index("ix_answer_versions_enrolment", "enrolment_id", "quarter", "checkpoint"),
)

answer_heads = Table(
    "answer_heads",
    metadata,
    Column("quarter", UTCDateTime, nullable=False),
    Column("team_id", Integer, nullable=False),
    Column("key_worker_id", Integer, nullable=False),
    Column("checkpoint", String(32), nullable=False),
    Column("item_id", String(32), nullable=False),
    Column("c1", Integer, nullable=False, comment="answers value 1 that count now"),
    Column("c2", Integer, nullable=False, comment="answers value 2 that count now"),
    Column("c3", Integer, nullable=False, comment="answers value 3 that count now"),
    Column("c4", Integer, nullable=False, comment="answers value 4 that count now"),
    Column("total", Integer, nullable=False, comment="answers that count now"),
    PrimaryKeyConstraint(*_LEAF),
)

answer_firsts = Table(
    "answer_firsts",
    metadata,
    Column("enrolment_id", Integer, nullable=False, comment="who answered"),
    Column("quarter", UTCDateTime, nullable=False, comment="start of the quarter answered in"),
    Column("checkpoint", String(32), nullable=False),
    Column("answered_at", UTCDateTime, nullable=False, comment="their first answer (skips too)"),
    Column("counted_at", UTCDateTime, nullable=False, comment="when its check-in was counted"),
    PrimaryKeyConstraint("enrolment_id", "quarter", "checkpoint"),
    Index("ix_answer_firsts_quarter", "quarter"),
)

# Added by migration 0012: an append-only history of whether each young person could be reached
# (not blocked, not stopped, not gone) and with which key worker, for reach figures decided
# across releases (conversations/reach.py). No chat id: only the enrolment.
reach_events = Table(
    "reach_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enrolment_id", ForeignKey("enrolments.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False, comment="from when this holds"),
    Column("reachable", Boolean, nullable=False, comment="enrolled, not stopped, not blocked"),
    Column("team_id", ForeignKey("teams.id"), nullable=True, comment="team at the time"),
    Column("key_worker_id", ForeignKey("staff.id"), nullable=True, comment="key worker then"),
    Index("ix_reach_events_enrolment_id", "enrolment_id"),
)

# Added by migration 0013: taking-part tallies (storage/part_tallies.py), the response ("who
# answered", item "answered" per checkpoint) and reach (checkpoint "", item "unreachable")
# queues kept like the answer tallies, per quarter, team, key worker and checkpoint, in the same
# transaction as every write that changes them; ``part_quarters`` names the quarters kept.
part_queue = Table(
    "part_queue",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("quarter", UTCDateTime, nullable=False, comment="start of the quarter"),
    Column("team_id", Integer, nullable=False, comment="the team then (0: none)"),
    Column("key_worker_id", Integer, nullable=False, comment="the key worker then (0: none)"),
    Column("checkpoint", String(32), nullable=False, comment="response: checkpoint; reach: ''"),
    Column("item_id", String(32), nullable=False, comment="'answered' or 'unreachable'"),
    Column("enrolment_id", Integer, nullable=False, comment="whose state it is"),
    Column("pseudonym", String(64), nullable=False, comment="their pseudonym (order of ties)"),
    Column("value", Integer, nullable=False, comment="1: not yet / reachable; 4: answered / not"),
    Column("first_at", UTCDateTime, nullable=False, comment="when this state was first counted"),
    Column("c1", Integer, nullable=False, comment="running count of value 1 through this one"),
    Column("c2", Integer, nullable=False, comment="running count of value 2 through this one"),
    Column("c3", Integer, nullable=False, comment="running count of value 3 through this one"),
    Column("c4", Integer, nullable=False, comment="running count of value 4 through this one"),
    Column("total", Integer, nullable=False, comment="running count through this one"),
    Index("ux_part_queue_order", *_LEAF, "first_at", "pseudonym", unique=True),
    Index("ix_part_queue_total", *_LEAF, "total"),
    Index("ix_part_queue_enrolment", "enrolment_id", "quarter", "checkpoint"),
)

part_versions = Table(
    "part_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("quarter", UTCDateTime, nullable=False, comment="start of the quarter"),
    Column("team_id", Integer, nullable=False, comment="the replaced state's team (0: none)"),
    Column("key_worker_id", Integer, nullable=False, comment="its key worker (0: none)"),
    Column("checkpoint", String(32), nullable=False),
    Column("item_id", String(32), nullable=False),
    Column("enrolment_id", Integer, nullable=False, comment="whose state it was"),
    Column("pseudonym", String(64), nullable=False, comment="their pseudonym (order of ties)"),
    Column("value", Integer, nullable=False, comment="the value it held"),
    Column("first_at", UTCDateTime, nullable=False, comment="when it was first counted"),
    Column("replaced_at", UTCDateTime, nullable=False, comment="when its replacement counted"),
    Index("ix_part_versions_quarter", "quarter", "checkpoint", "item_id", "replaced_at"),
    Index("ix_part_versions_enrolment", "enrolment_id", "quarter", "checkpoint"),
)

part_heads = Table(
    "part_heads",
    metadata,
    Column("quarter", UTCDateTime, nullable=False),
    Column("team_id", Integer, nullable=False),
    Column("key_worker_id", Integer, nullable=False),
    Column("checkpoint", String(32), nullable=False),
    Column("item_id", String(32), nullable=False),
    Column("c1", Integer, nullable=False, comment="value 1 that counts now"),
    Column("c2", Integer, nullable=False, comment="value 2 that counts now"),
    Column("c3", Integer, nullable=False, comment="value 3 that counts now"),
    Column("c4", Integer, nullable=False, comment="value 4 that counts now"),
    Column("total", Integer, nullable=False, comment="states that count now"),
    PrimaryKeyConstraint(*_LEAF),
)

part_quarters = Table(
    "part_quarters",
    metadata,
    Column("quarter", UTCDateTime, primary_key=True, comment="a quarter whose rows are kept"),
    Column("made_at", UTCDateTime, nullable=False, comment="when they were first computed"),
)
