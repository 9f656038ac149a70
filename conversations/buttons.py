"""Button data: typed, versioned, at most 64 bytes, never translated text.

Each inline button carries one of the actions below, encoded as ``1:<kind>:<fields>``. The
leading ``1`` is the format version; anything that does not decode exactly (an old format, a
tampered or forged payload) decodes to ``None`` and is answered kindly without changing anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

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
)


def encode(action: Action) -> str:
    """The callback data for ``action``; raises ValueError if it would not fit in 64 bytes."""
    match action:
        case Answer(checkin_id, item_id, value):
            data = f"a:{checkin_id}:{item_id}:{value}"
        case Back(checkin_id, step):
            data = f"b:{checkin_id}:{step}"
        case Pause(checkin_id, step):
            data = f"p:{checkin_id}:{step}"
        case NoComment(checkin_id):
            data = f"n:{checkin_id}"
        case Share(checkin_id, share):
            data = f"s:{checkin_id}:{int(share)}"
        case Resume(checkin_id):
            data = f"r:{checkin_id}"
        case ChooseLanguage(code):
            data = f"l:{code}"
        case Consent(agree):
            data = f"g:{int(agree)}"
        case Forget(choice):
            data = f"f:{choice}"
        case ContactMe():
            data = "k"
        case ConfirmExit(enrolment_id, confirm):
            data = f"x:{enrolment_id}:{int(confirm)}"
        case AckAlert(alert_id):
            data = f"w:{alert_id}"
    encoded = f"{VERSION}:{data}"
    if len(encoded.encode()) > MAX_BYTES:
        raise ValueError(f"button data longer than {MAX_BYTES} bytes: {encoded!r}")
    return encoded


_PATTERNS: dict[str, re.Pattern[str]] = {
    "a": re.compile(rf"a:({_ID}):({_STEP}):([0-9])"),
    "b": re.compile(rf"b:({_ID}):({_STEP})"),
    "p": re.compile(rf"p:({_ID}):({_STEP})"),
    "n": re.compile(rf"n:({_ID})"),
    "s": re.compile(rf"s:({_ID}):([01])"),
    "r": re.compile(rf"r:({_ID})"),
    "l": re.compile(r"l:([a-z]{2,3}(?:_[A-Z]{2})?)"),
    "g": re.compile(r"g:([01])"),
    "f": re.compile(r"f:(keep|all|cancel)"),
    "k": re.compile(r"k"),
    "x": re.compile(rf"x:({_ID}):([01])"),
    "w": re.compile(rf"w:({_ID})"),
}


def decode(data: str | None) -> Action | None:
    """The action in ``data``, or None for anything that is not exactly a known action."""
    if not data or len(data.encode()) > MAX_BYTES or not data.startswith(f"{VERSION}:"):
        return None
    body = data[len(VERSION) + 1 :]
    pattern = _PATTERNS.get(body[:1])
    match = pattern.fullmatch(body) if pattern else None
    if match is None:
        return None
    g = match.groups()
    kind = body[:1]
    if kind == "a":
        return Answer(int(g[0]), g[1], int(g[2]))
    if kind in "bp":
        return (Back if kind == "b" else Pause)(int(g[0]), g[1])
    if kind == "n":
        return NoComment(int(g[0]))
    if kind == "s":
        return Share(int(g[0]), g[1] == "1")
    if kind == "r":
        return Resume(int(g[0]))
    if kind == "l":
        return ChooseLanguage(g[0])
    if kind == "g":
        return Consent(g[0] == "1")
    if kind == "f":
        return Forget(g[0])  # type: ignore[arg-type]
    if kind == "k":
        return ContactMe()
    if kind == "w":
        return AckAlert(int(g[0]))
    return ConfirmExit(int(g[0]), g[1] == "1")
