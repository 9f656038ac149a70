"""Plain records the storage layer returns: what the rest of the product sees of a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# The checkpoint names the code relies on, stored in ``prompts`` and ``checkins`` (the schedule,
# conversations/checkpoints.py, explains them; it re-exports these). Defined here, the lowest layer
# that queries them; other numbered checkpoints are ``N_months`` or named by the schedule file.
START = "start"
THREE_MONTHS = "3_months"
EXIT = "exit"


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    name: str
    role: str
    team_id: int | None
    team_name: str | None
    chat_id: int | None
    language: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    kind: str
    created_by: int | None
    staff_id: int | None
    label: str | None
    planned_end: date | None
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Enrolment:
    id: int
    pseudonym: str
    invite_id: int | None
    team_id: int | None
    key_worker_id: int | None
    label: str | None
    chat_id: int | None
    language: str | None
    timezone: str | None
    status: str
    reachable: bool
    enrolled_at: datetime | None
    planned_end: date | None
    exit_at: datetime | None


@dataclass(frozen=True, slots=True)
class Checkin:
    id: int
    enrolment_id: int
    checkpoint: str
    questionnaire_id: str
    questionnaire_version: int
    language: str
    step: str
    status: str
    comment: str | None
    shared: bool
    created_at: datetime
    finished_at: datetime | None
    message_id: int | None = None
    """The one message that carries the check-in's live buttons (None: not recorded yet)."""


# What digests are built from (conversations/digest.py aggregates them; storage/digests.py reads
# them): pseudonymous, never a Telegram id or a label.


@dataclass(frozen=True)
class AnswerRecord:
    """One answer as stored. ``value`` is 1..4, or ``None`` for a skipped statement."""

    respondent: str  # pseudonymous id, never a Telegram id
    team: str
    key_worker: str  # key worker at the time of the check-in
    checkpoint: str
    item_id: str
    value: int | None
    answered_at: datetime  # aware, UTC
    counted_at: datetime | None = (
        None  # when its check-in was finished or closed (None: answered_at)
    )

    def __post_init__(self) -> None:
        if self.value is not None and self.value not in (1, 2, 3, 4):
            raise ValueError(f"answer value must be 1..4 or None, got {self.value!r}")


@dataclass(frozen=True)
class PopulationRecord:
    """A young person enrolled during the window, for response rates and reachability."""

    respondent: str
    team: str
    key_worker: str
    reachable: bool
    prompted_checkpoints: frozenset[str]
    prompted_at: tuple[tuple[str, datetime], ...] = ()
    """When each checkpoint was first sent (``(checkpoint, sent_at)``); absent: unknown."""
    reach: tuple[ReachChange, ...] = ()
    """Whether they could be reached, and under which key worker, from when (oldest first, up
    to the window's end; ``reach_events``); empty: ``reachable`` since the window's start."""


@dataclass(frozen=True)
class ReachChange:
    """From ``at`` on, the young person could (``reachable``) or could no longer be reached
    (blocked the bot, ``/stop``, left), with this key worker."""

    at: datetime
    reachable: bool
    team: str
    key_worker: str


@dataclass(frozen=True)
class CommentRecord:
    """A free-text comment; ``shared`` is the young person's choice to share the check-in."""

    respondent: str
    team: str
    key_worker: str
    text: str
    shared: bool
    written_at: datetime | None = None  # when given: window filter and block order


# The release ledger (storage/ledger.py): every figure shown to anyone, with its group and window.


@dataclass(frozen=True)
class ReleasedBlock:
    """Where one release stopped counting one key worker's young people: the last one counted
    (``through_at``, ``through_id``: when their check-in was counted, and their pseudonym), and
    how many were counted."""

    team: str
    key_worker: str
    through_at: datetime | None
    through_id: str | None
    size: int


@dataclass(frozen=True)
class ReleasedFigure:
    """What one release showed for one group (``team``/``key_worker`` ``None`` above them):
    its size, and bands (``None``: not shown) for positive answers and each scale value."""

    team: str | None
    key_worker: str | None
    status: str
    size: int
    positive: tuple[int, int] | None
    distribution: tuple[tuple[int, int], ...] | None  # values 1..4


@dataclass(frozen=True)
class ReleasedCell:
    """One release of one cell: a statement at a checkpoint (``kind`` ``answers``), or a
    taking-part figure (``response``: checkpoint; ``reach``), for the window starting at
    ``since``."""

    since: datetime
    kind: str
    checkpoint: str
    item_id: str
    released_at: datetime
    reader: str
    blocks: tuple[ReleasedBlock, ...]
    figures: tuple[ReleasedFigure, ...]
