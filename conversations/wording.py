"""Shared wording: the one place a checkpoint is named to a person (pure, no I/O).

Every text that names a checkpoint, to a young person or to staff, calls :func:`checkpoint_name`
(``/mydata``, a shared check-in, ``/caseload``, digests and their chart), or :func:`checkin_name`
where the check-in itself is named (the prompt: "your 3-month check-in"). ``start``, every
``N_months`` checkpoint (``3_months`` and the schedule's repeats, ``6_months``, ``9_months``...)
and ``exit`` have translated names; any other name a service gives a numbered checkpoint in its
schedule file is shown as written, with spaces for ``_``.
"""

from __future__ import annotations

from typing import Protocol

from conversations.checkpoints import EXIT, START, months_of


class Words(Protocol):
    """What naming needs from a translator (``core.i18n.Translator`` fits)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...

    def isolate(self, value: object) -> str: ...


def checkpoint_name(t: Words, checkpoint: str, *, staff: bool) -> str:
    """A checkpoint's name as a short noun phrase: "start", "3 months", "6 months", "exit".

    Only ``exit`` depends on who reads it: staff read "exit" everywhere (as in ``/exit`` and the
    digests), young people "end of support".
    """
    if checkpoint == START:
        return t.gettext("start")
    if checkpoint == EXIT:
        return t.gettext("exit") if staff else t.gettext("end of support")
    months = months_of(checkpoint)
    if months is not None:
        return t.ngettext("{n} month", "{n} months", months).format(n=months)
    return t.isolate(checkpoint.replace("_", " "))


def checkin_name(t: Words, checkpoint: str, *, staff: bool) -> str:
    """A check-in named by its checkpoint: "first check-in", "3-month check-in", "end-of-support
    check-in" (staff: "exit check-in"); a service's own name as "<name> check-in"."""
    if checkpoint == START:
        return t.gettext("first check-in")
    if checkpoint == EXIT:
        return t.gettext("exit check-in") if staff else t.gettext("end-of-support check-in")
    months = months_of(checkpoint)
    if months is not None:
        return t.ngettext("{n}-month check-in", "{n}-month check-in", months).format(n=months)
    return t.gettext("{name} check-in").format(name=t.isolate(checkpoint.replace("_", " ")))
