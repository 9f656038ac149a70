"""Plain records the storage layer returns: what the rest of the product sees of a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


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
