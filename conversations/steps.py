"""What a check-in shows at each step: the statement and its answer buttons, the "anything
else?" and share questions, and the thank-you that says truthfully what comes next.

Rendering is a pure function of the stored check-in (its ``step``) and the translator; every button
carries the check-in and the step it was shown for (see :mod:`conversations.answers`).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations import buttons
from conversations.checkpoints import EXIT
from conversations.questionnaire import (
    COMMENT,
    DONE,
    SHARE,
    SKIPPED,
    Questionnaire,
    previous_step,
    step_number,
)
from conversations.voice import listen_row
from conversations.voiceclips import item_key
from core.i18n import Translator
from storage.records import Checkin


def render_step(
    q: Questionnaire,
    checkin: Checkin,
    t: Translator,
    previous: int | None = None,
    *,
    listen: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons that show ``checkin`` at its current step; ``listen``: the
    statement has a voice clip in the check-in's language, so it gets "🔊 Listen"."""
    step, cid = checkin.step, checkin.id
    back = _back_row(q, checkin, t)
    if step == COMMENT:
        text = "\n\n".join(
            (
                t._(
                    "Is there anything else you'd like to say about working with your key "
                    'worker? Write it in a message, or press "Nothing to add".'
                ),
                t._(
                    "This chat is not watched all the time. If you are in danger now, call 999. "
                    "Send /support for people you can talk to."
                ),
            )
        )
        rows = [
            [
                InlineKeyboardButton(
                    t._("Nothing to add"), callback_data=_data(buttons.NoComment(cid))
                )
            ]
        ]
        return t.message(text), InlineKeyboardMarkup(rows + back)
    if step == SHARE:
        text = t._(
            "Would you like your key worker to see your answers from this check-in? If "
            "you keep them private, staff only ever see totals from many young people "
            "together."
        )
        rows = [
            [
                InlineKeyboardButton(
                    t._("🔒 Keep them private"),
                    callback_data=_data(buttons.Share(cid, share=False)),
                )
            ],
            [
                InlineKeyboardButton(
                    t._("🤝 Share with my key worker"),
                    callback_data=_data(buttons.Share(cid, share=True)),
                )
            ],
        ]
        return t.message(text), InlineKeyboardMarkup(rows)
    if step == DONE:
        return t.message(t._("This check-in is finished. Thank you!")), None
    item = q.item(step)
    n, total = step_number(q, checkin.checkpoint, step)
    parts = [
        t._("Statement {n} of {total}").format(n=t.number(n), total=t.number(total)),
        t.pgettext(q.context(item.id), item.text),
    ]
    option = q.option(previous) if previous else None
    if option is not None:
        parts.append(
            t._("Your answer was: {answer}").format(
                answer=f"{option.emoji} {t.pgettext(q.context('scale'), option.label)}"
            )
        )
    rows = [
        [
            InlineKeyboardButton(
                f"{o.emoji} {t.pgettext(q.context('scale'), o.label)}",
                callback_data=_data(buttons.Answer(cid, item.id, o.value)),
            )
        ]
        for o in q.scale
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t._("Skip"), callback_data=_data(buttons.Answer(cid, item.id, SKIPPED))
            )
        ]
    )
    if listen:
        rows.insert(0, listen_row(t, item_key(item.id)))
    return t.message("\n\n".join(parts)), InlineKeyboardMarkup(rows + back)


def _back_row(
    q: Questionnaire, checkin: Checkin, t: Translator
) -> list[list[InlineKeyboardButton]]:
    row = []
    if previous_step(q, checkin.checkpoint, checkin.step) is not None:
        row.append(
            InlineKeyboardButton(
                t._("⬅️ Back"), callback_data=_data(buttons.Back(checkin.id, checkin.step))
            )
        )
    if checkin.step not in (SHARE, DONE):
        row.append(
            InlineKeyboardButton(
                t._("⏸ Pause"), callback_data=_data(buttons.Pause(checkin.id, checkin.step))
            )
        )
    return [row] if row else []


def _data(action: buttons.Action) -> str:
    return buttons.encode(action)


NEXT, END_OF_SUPPORT, LAST = "next", "end_of_support", "last"


def what_comes_next(checkpoint: str, planned: bool, exit_enabled: bool) -> str:
    """After a finished check-in: another one is ``planned`` (a prompt waits), the exit
    check-in will come when support ends, or this was the last one."""
    if checkpoint == EXIT:
        return LAST
    if planned:
        return NEXT
    return END_OF_SUPPORT if exit_enabled else LAST


def thanks(t: Translator, shared: bool, after: str = NEXT) -> str:
    """The thank-you after the last step: saved, who sees it, and what is true about what next."""
    lines = [t._("Thank you! Your answers are saved.")]
    if shared:
        lines.append(t._("Your key worker will see this check-in."))
    else:
        lines.append(
            t._("Your answers stay private: staff only see totals from many young people together.")
        )
    if after == NEXT:
        lines.append(
            t._(
                "I'll message you when the next check-in is ready. You don't need to do "
                "anything until then."
            )
        )
    elif after == END_OF_SUPPORT:
        lines.append(
            t._(
                "I'll message you once more, when your support ends. You don't need to do "
                "anything until then."
            )
        )
    else:
        lines.append(t._("That was your last check-in. Thank you for taking part."))
    return t.message("\n\n".join(lines))
