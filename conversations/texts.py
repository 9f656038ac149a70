"""The longer texts young people read, each built from whole translated sentences.

Every string here is a gettext message id (extracted by Babel from the ``t._(...)`` calls); values
are filled in with ``str.format`` after translation, never concatenated from fragments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from core.errors import SettingsError
from core.i18n import BY_CODE, Translator
from core.settings import Helpline, Settings

NOTE_MAX = 600


@dataclass(frozen=True)
class PrivacyWording:
    """What the service has decided, as the privacy texts must state it.

    ``immigration_notes`` is the service's own wording of the immigration sentence, by language
    code (from ``CHECKIN_IMMIGRATION_NOTE_FILE``). When it is set, a language it does not cover
    gets the service's default-language wording, never the built-in sentence: the service's words
    are its commitment, and a translated default could promise something different.
    """

    policy: Literal["signpost_only", "alert_lead"] = "signpost_only"
    retention_months: int = 12
    silence_months: int = 12
    immigration_notes: Mapping[str, str] = field(default_factory=dict)
    default_language: str = "en"

    @classmethod
    def from_settings(cls, settings: Settings) -> PrivacyWording:
        """The wording for these settings; reads and checks the immigration note file."""
        notes = {}
        if settings.immigration_note_file is not None:
            notes = load_immigration_notes(settings.immigration_note_file)
            if settings.default_language not in notes:
                raise SettingsError(
                    f"CHECKIN_IMMIGRATION_NOTE_FILE: needs a wording for the default language "
                    f"'{settings.default_language}'"
                )
        return cls(
            policy=settings.safeguarding_policy,
            retention_months=settings.retention_months,
            silence_months=settings.silence_months,
            immigration_notes=notes,
            default_language=settings.default_language,
        )

    def immigration_note(self, code: str) -> str | None:
        """The service's wording for this language, or None to use the catalogue's sentence."""
        if not self.immigration_notes:
            return None
        return self.immigration_notes.get(code) or self.immigration_notes[self.default_language]


def load_immigration_notes(path: Path) -> dict[str, str]:
    """``{language code: sentence}`` from a YAML file; a bad file is a :class:`SettingsError`."""
    name = "CHECKIN_IMMIGRATION_NOTE_FILE"
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{name}: cannot read {path} ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not data:
        raise SettingsError(f"{name}: {path} must map language codes to sentences")
    notes: dict[str, str] = {}
    for code, text in data.items():
        if str(code) not in BY_CODE:
            raise SettingsError(f"{name}: {path}: unknown language code '{code}'")
        if not isinstance(text, str) or not text.strip() or len(text) > NOTE_MAX:
            raise SettingsError(
                f"{name}: {path}: '{code}' must be a sentence of 1-{NOTE_MAX} characters"
            )
        notes[str(code)] = " ".join(text.split())
    return notes


def welcome(t: Translator, wording: PrivacyWording) -> str:
    """Shown after the language choice, in about 90 plain English words: what this is, who
    sees what, that it is optional, how to stop and delete. It stays in the chat after agreeing.

    It explains "key worker" once, in plain words, so that it is not taken for an immigration
    adviser; /privacy gives the longer version of the same points.
    """
    note = wording.immigration_note(t.code)
    if wording.policy == "alert_lead":
        safety = t._(
            "• If what you write makes us worried about your safety, a named member of staff "
            "will see it (the service's safeguarding lead), to check you are OK."
        )
    else:
        safety = t._(
            "• If you may be unsafe, I show you who can help. Nobody is told automatically."
        )
    points = (
        t._("Who sees what:"),
        t._(
            "• Your key worker sees only anonymous totals, not your answers, unless you share them."
        ),
        t._("• {note}").format(note=t.isolate(note))
        if note
        else t._(
            "• Nothing goes to the Home Office or affects an asylum claim, unless there is a "
            "risk to someone's safety."
        ),
        safety,
        t._(
            "• It's your choice: skip any question, stop with /stop, delete everything with "
            "/forgetme."
        ),
    )
    return t.message(
        "\n\n".join(
            (
                t._(
                    "Hello! I'm Check-in. Now and then I ask how things are with your key worker "
                    "(the person at your service who supports you)."
                ),
                "\n".join(points),
                t._("Is that OK?"),
            )
        )
    )


def privacy_points(t: Translator, wording: PrivacyWording) -> str:
    """Who sees what, in plain words (used by the welcome and by /privacy)."""
    note = wording.immigration_note(t.code)
    return "\n".join(
        (
            t._("Who sees what:"),
            t._(
                "• Your key worker and managers only see totals from many young people "
                "together, never your own answers, unless you choose to share a check-in."
            ),
            t._(
                "• In reports your answers are anonymous: no name or label is shown with them. "
                "Sharing a check-in with your key worker is always your choice."
            ),
            t._("• {note}").format(note=t.isolate(note))
            if note
            else t._(
                "• Nothing you say here is given to the Home Office or immigration officers, "
                "and it does not affect any asylum claim, unless there is a risk to someone's "
                "safety."
            ),
            safeguarding_point(t, wording.policy),
            t._(
                "• It is your choice. You can stop at any time with /stop, and delete "
                "everything with /forgetme."
            ),
        )
    )


def safeguarding_point(t: Translator, policy: str) -> str:
    """The service's safeguarding policy, as the young person agrees to it."""
    if policy == "alert_lead":
        return t._(
            "• If you write something that makes us worried about your safety, a named member "
            "of staff will see it (the service's safeguarding lead), so they can check you are "
            "OK. I will also show you who you can contact for help."
        )
    return t._(
        "• If you write something that makes us worried about your safety, I will show you "
        "who you can contact for help. Nobody is told automatically."
    )


def privacy(t: Translator, wording: PrivacyWording) -> str:
    """/privacy: who sees what, what is kept, for how long, and how to delete it."""
    retention_months = wording.retention_months
    return t.message(
        "\n\n".join(
            (
                privacy_points(t, wording),
                t._(
                    "What I keep: your Telegram chat number (so I can message you), your "
                    "language, the label your key worker uses for you, your key worker's team, "
                    "a random code used instead of your name in anonymous exports, the dates "
                    "you started and finished, your answers, and anything you choose to write. "
                    "I don't keep your name or phone number."
                ),
                t.ngettext(
                    "Everything that could identify you is kept while you get support and for "
                    "{n} month after it ends, then deleted. Your answers then stay only in "
                    "anonymous totals.",
                    "Everything that could identify you is kept while you get support and for "
                    "{n} months after it ends, then deleted. Your answers then stay only in "
                    "anonymous totals.",
                    retention_months,
                ).format(n=t.number(retention_months)),
                t.ngettext(
                    "If you don't use Check-in for {n} month, I delete everything that could "
                    "identify you.",
                    "If you don't use Check-in for {n} months, I delete everything that could "
                    "identify you.",
                    wording.silence_months,
                ).format(n=t.number(wording.silence_months)),
                t._("To see everything I keep about you, send /mydata."),
                t._("To delete everything now, send /forgetme."),
            )
        )
    )


def support(t: Translator, helplines: Sequence[Helpline]) -> str:
    """/support: the helplines, and that this chat is not watched all the time."""
    return t.message(support_lines(t, helplines))


def support_lines(t: Translator, helplines: Sequence[Helpline]) -> str:
    lines = [t._("If you need to talk to someone now, these are free and confidential:")]
    for h in helplines:
        # A helpline that answers only in English says so to someone reading another language.
        line = (
            t._("• {name}: {contact} (in English only)")
            if h.english_only and t.code != "en"
            else t._("• {name}: {contact}")
        )
        lines.append(
            line.format(name=t.isolate(t.gettext(h.name)), contact=t.isolate(t.gettext(h.contact)))
        )
    lines.append(t._("This chat is not watched all the time. If you are in danger now, call 999."))
    lines.append(t._("You can also ask your key worker to get in touch with you."))
    return "\n".join(lines)


def risk_reply(t: Translator, helplines: Sequence[Helpline], policy: str) -> str:
    """The reply to a message with a risk phrase: caring, honest that this is a bot, helplines."""
    parts = [
        t._(
            "Thank you for telling me. I'm sorry things are hard right now. I'm only a bot, so I "
            "can't talk this through with you, but people can help you today."
        ),
        support_lines(t, helplines),
    ]
    if policy == "alert_lead":
        parts.append(
            t._(
                "Because what you wrote makes us worried about your safety, the service's "
                "safeguarding lead will see it, so they can check you are OK."
            )
        )
    return t.message("\n\n".join(parts))


def not_enrolled(t: Translator) -> str:
    return t.message(
        t._(
            "Hi! This bot is used by services that support young people. To join, ask your "
            "key worker for an invite link."
        )
    )


def unknown_command(t: Translator) -> str:
    return t.message(t._("Sorry, I don't know that command. Send /help to see what I can do."))
