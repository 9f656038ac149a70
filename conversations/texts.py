"""The longer texts young people read, each built from whole translated sentences.

Every string here is a gettext message id (extracted by Babel from the ``t._(...)`` calls); values
are filled in with ``str.format`` after translation, never concatenated from fragments.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Translator
from bot.settings import Helpline


def welcome(t: Translator) -> str:
    """Shown after the language choice: what this is, who sees what, that it is optional."""
    return t.message(
        "\n\n".join(
            (
                t._(
                    "Hello! I'm Check-in, a short and private way to tell your service how "
                    "things feel with your key worker."
                ),
                t._(
                    "A few times (when you start, after 3 months, and when your support ends) I "
                    "will ask you some short questions. Each check-in takes about a minute. You "
                    "answer with buttons, and you can skip any question."
                ),
                privacy_points(t),
                t._("Is it OK to go on?"),
            )
        )
    )


def privacy_points(t: Translator) -> str:
    """Who sees what, in plain words (used by the welcome and by /privacy)."""
    return "\n".join(
        (
            t._("Who sees what:"),
            t._(
                "• Your key worker and managers only see totals from many young people "
                "together, never your own answers, unless you choose to share a check-in."
            ),
            t._(
                "• Nothing you say here is passed to the Home Office, and it does not affect "
                "any asylum claim."
            ),
            t._(
                "• It is your choice. You can stop at any time with /stop, and delete "
                "everything with /forgetme."
            ),
        )
    )


def privacy(t: Translator, retention_months: int) -> str:
    """/privacy: who sees what, what is kept, for how long, and how to delete it."""
    return t.message(
        "\n\n".join(
            (
                privacy_points(t),
                t._(
                    "What I keep: your Telegram chat number (so I can message you), your "
                    "language, the dates you started and finished, your answers, and anything "
                    "you choose to write. I don't keep your name or phone number."
                ),
                t.ngettext(
                    "Your answers are kept while you get support and for {n} month after it "
                    "ends, then deleted.",
                    "Your answers are kept while you get support and for {n} months after it "
                    "ends, then deleted.",
                    retention_months,
                ).format(n=t.number(retention_months)),
                t._("To delete everything now, send /forgetme."),
            )
        )
    )


def help_text(t: Translator) -> str:
    return t.message(
        "\n".join(
            (
                t._("Here is what I can do:"),
                t._("/checkin: start or carry on with a check-in"),
                t._("/language: change your language"),
                t._("/privacy: who sees what, and how long it is kept"),
                t._("/support: people you can talk to, and asking your key worker to get in touch"),
                t._("/stop: no more check-ins"),
                t._("/forgetme: delete everything about you"),
            )
        )
    )


def support(t: Translator, helplines: Sequence[Helpline]) -> str:
    lines = [t._("If you need to talk to someone now, these are free and confidential:")]
    lines += [
        t._("• {name}: {contact}").format(
            name=t.isolate(t.gettext(h.name)), contact=t.isolate(t.gettext(h.contact))
        )
        for h in helplines
    ]
    lines.append(t._("This chat is not watched all the time. If you are in danger now, call 999."))
    lines.append(t._("You can also ask your key worker to get in touch with you."))
    return t.message("\n".join(lines))


def N_(message: str) -> str:
    """Mark a text for translation where it is defined; it is translated where it is shown."""
    return message


# The default (UK) helplines, so that their names are in the catalogues; a service's own
# helplines are shown as configured.
DEFAULT_HELPLINE_TEXTS = (
    N_("Childline (under 19)"),
    N_("Samaritans"),
    N_("Shout"),
    N_("text SHOUT to 85258"),
    N_("Emergency"),
)


def not_enrolled(t: Translator) -> str:
    return t.message(
        t._(
            "Hi! This bot is used by services that support young people. To join, ask your "
            "key worker for an invite link."
        )
    )


def unknown_command(t: Translator) -> str:
    return t.message(t._("Sorry, I don't know that command. Send /help to see what I can do."))
