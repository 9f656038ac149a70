"""Where one (young person, checkpoint) prompt stands: the one list of prompt statuses.

Storage writes these strings into ``prompts.status``; the scheduler's pure decision
(``conversations/prompts.py``) reads them back; metrics count them. Written once, here.
"""

from __future__ import annotations

from enum import StrEnum


class PromptStatus(StrEnum):
    """Where one (young person, checkpoint) prompt stands."""

    DUE = "due"
    SENDING = "sending"
    SENT = "sent"
    UNCERTAIN = "uncertain"
    ANSWERED = "answered"
    EXPIRED = "expired"
    UNREACHABLE = "unreachable"


ACTIVE_STATUSES = (
    PromptStatus.DUE,
    PromptStatus.SENDING,
    PromptStatus.SENT,
    PromptStatus.UNCERTAIN,
)
"""Statuses of a prompt the scheduler still has work for (or that is out with the young person)."""
