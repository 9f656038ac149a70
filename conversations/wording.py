"""Shared wording: the one place a checkpoint is named to a person (pure, no I/O).

Every text that names a checkpoint, to a young person or to staff, calls :func:`checkpoint_name`:
the prompt ("your 3 months check-in"), ``/mydata``, a shared check-in, ``/caseload``, digests and
their chart. ``start``, every ``N_months`` checkpoint (``3_months`` and the schedule's repeats,
``6_months``, ``9_months``...) and ``exit`` have translated names; any other name a service gives
a numbered checkpoint in its schedule file is shown as written, with spaces for ``_``.
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
