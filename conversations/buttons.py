"""Button data: typed, versioned, at most 64 bytes, never translated text.

Each inline button carries one of the actions below, encoded as ``1:<kind>:<fields>``. The
leading ``1`` is the format version; anything that does not decode exactly (an old format, a
tampered or forged payload) decodes to ``None`` and is answered kindly without changing anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

VERSION = "1"
MAX_BYTES = 64

_STEP = r"[a-z][a-z0-9_]{0,31}"
_ID = r"[1-9][0-9]{0,17}"


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to one item; ``value`` 0 means Skip."""

    checkin_id: int
    item_id: str
    value: int


@dataclass(frozen=True, slots=True)
class Back:
    """Go back from ``step`` to the statement before it."""

    checkin_id: int
    step: str


@dataclass(frozen=True, slots=True)
class Pause:
    checkin_id: int
    step: str


@dataclass(frozen=True, slots=True)
class NoComment:
    """Nothing to add at the "anything else?" step."""

    checkin_id: int


@dataclass(frozen=True, slots=True)
class Share:
    checkin_id: int
    share: bool


@dataclass(frozen=True, slots=True)
class Resume:
    """Start or carry on with a check-in from a prompt."""

    checkin_id: int


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    code: str


@dataclass(frozen=True, slots=True)
class Consent:
    agree: bool


@dataclass(frozen=True, slots=True)
class Forget:
    choice: Literal["keep", "all", "cancel"]


@dataclass(frozen=True, slots=True)
class ContactMe:
    """ "Please get in touch": tell the key worker, by label."""


@dataclass(frozen=True, slots=True)
class ConfirmExit:
    """A key worker confirms (or cancels) marking support as ended."""

    enrolment_id: int
    confirm: bool


@dataclass(frozen=True, slots=True)
class AckAlert:
    """A safeguarding lead acknowledges a safeguarding alert."""

    alert_id: int


@dataclass(frozen=True, slots=True)
class Listen:
    """ "🔊 Listen": send the clip of a text (``welcome`` or ``item.<id>``); changes nothing."""

    text: str


@dataclass(frozen=True, slots=True)
class KeepTake:
    """Keep (or redo) the take just played back, of ``text`` in ``language`` (``/record``)."""

    text: str
    language: str
    keep: bool


@dataclass(frozen=True, slots=True)
class Publish:
    """Send (or cancel) a previewed "you said, we did" update."""

    update_id: int
    confirm: bool


@dataclass(frozen=True, slots=True)
class Scope:
    """Who an admin's "you said, we did" update is for: a team, or (None) the whole service."""

    team_id: int | None


Action = (
    Answer
    | Back
    | Pause
    | NoComment
    | Share
    | Resume
    | ChooseLanguage
    | Consent
    | Forget
    | ContactMe
    | ConfirmExit
    | AckAlert
    | Listen
    | KeepTake
    | Publish
    | Scope
)


@dataclass(frozen=True, slots=True)
class _Field:
    """How one field of an action is written in button data, and read back."""

    regex: str
    parse: Callable[[str], Any]
    write: Callable[[Any], str] = str


_ID_FIELD = _Field(rf"{_ID}", int)
_STEP_FIELD = _Field(_STEP, str)
_FLAG_FIELD = _Field("[01]", lambda text: text == "1", lambda flag: str(int(flag)))
_LANGUAGE_FIELD = _Field(r"[a-z]{2,3}(?:_[A-Z]{2})?", str)
_SCOPE_FIELD = _Field(
    rf"all|{_ID}",
    lambda text: None if text == "all" else int(text),
    lambda team_id: "all" if team_id is None else str(team_id),
)
_TEXT_FIELD = _Field(r"welcome|item\.[a-z][a-z0-9_]{0,31}|option\.[0-9]", str)


@dataclass(frozen=True, slots=True)
class _Kind:
    """One kind of button: its letter in the data, its action and the action's fields in order."""

    letter: str
    action: type[Action]
    fields: tuple[_Field, ...]

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(":".join([self.letter, *(f"({f.regex})" for f in self.fields)]))


# Every kind of button, declared once: encode, decode and the handlers' patterns all read this.
KINDS: tuple[_Kind, ...] = (
    _Kind("a", Answer, (_ID_FIELD, _STEP_FIELD, _Field("[0-9]", int))),
    _Kind("b", Back, (_ID_FIELD, _STEP_FIELD)),
    _Kind("p", Pause, (_ID_FIELD, _STEP_FIELD)),
    _Kind("n", NoComment, (_ID_FIELD,)),
    _Kind("s", Share, (_ID_FIELD, _FLAG_FIELD)),
    _Kind("r", Resume, (_ID_FIELD,)),
    _Kind("l", ChooseLanguage, (_LANGUAGE_FIELD,)),
    _Kind("g", Consent, (_FLAG_FIELD,)),
    _Kind("f", Forget, (_Field("keep|all|cancel", str),)),
    _Kind("k", ContactMe, ()),
    _Kind("x", ConfirmExit, (_ID_FIELD, _FLAG_FIELD)),
    _Kind("w", AckAlert, (_ID_FIELD,)),
    _Kind("v", Listen, (_Field(r"welcome|item\.[a-z][a-z0-9_]{0,31}", str),)),
    _Kind("c", KeepTake, (_TEXT_FIELD, _LANGUAGE_FIELD, _FLAG_FIELD)),
    _Kind("u", Publish, (_ID_FIELD, _FLAG_FIELD)),
    _Kind("y", Scope, (_SCOPE_FIELD,)),
)
_BY_ACTION: dict[type[Action], _Kind] = {kind.action: kind for kind in KINDS}
_BY_LETTER: dict[str, tuple[_Kind, re.Pattern[str]]] = {k.letter: (k, k.regex) for k in KINDS}
_NAMES: dict[type[Action], tuple[str, ...]] = {
    k.action: tuple(f.name for f in fields(k.action)) for k in KINDS
}


def encode(action: Action) -> str:
    """The callback data for ``action``; raises ValueError if it would not fit in 64 bytes."""
    kind = _BY_ACTION[type(action)]
    values = [getattr(action, name) for name in _NAMES[type(action)]]
    data = ":".join([kind.letter, *(f.write(v) for f, v in zip(kind.fields, values, strict=True))])
    encoded = f"{VERSION}:{data}"
    if len(encoded.encode()) > MAX_BYTES:
        raise ValueError(f"button data longer than {MAX_BYTES} bytes: {encoded!r}")
    return encoded


def decode(data: str | None) -> Action | None:
    """The action in ``data``, or None for anything that is not exactly a known action."""
    if not data or len(data.encode()) > MAX_BYTES or not data.startswith(f"{VERSION}:"):
        return None
    body = data[len(VERSION) + 1 :]
    found = _BY_LETTER.get(body[:1])
    match = found[1].fullmatch(body) if found else None
    if found is None or match is None:
        return None
    kind = found[0]
    values = [f.parse(text) for f, text in zip(kind.fields, match.groups(), strict=True)]
    action: Action = kind.action(*values)
    return action


def pattern(*actions: type[Action]) -> str:
    """The callback-data pattern a handler of these kinds of button is registered with."""
    letters = "".join(_BY_ACTION[action].letter for action in actions)
    return rf"^{VERSION}:[{letters}](:|$)"
