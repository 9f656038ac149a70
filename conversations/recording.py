"""``/record``: staff (admins, and the voice role) record the texts young people read, aloud.

The flow names the text and the language, shows the text to read, takes a voice message (or an
OGG/Opus file), plays it back and asks "keep or redo". Keeping it moves on to the next text of
that language without a clip. The take in progress is stored, so a restart loses nothing.
"""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError

from conversations import account, buttons
from conversations.commands import ADMIN, VOICE
from conversations.presses import answer_stale, pressed
from conversations.runtime import Context, Runtime
from conversations.sending import answer_press, button_row, edit_or_send, send, tell
from conversations.texts import welcome
from conversations.voice import send_voice
from conversations.voiceclips import MAX_BYTES, MAX_SECONDS, WELCOME, check_clip, recordable
from core.i18n import BY_CODE, LANGUAGES, Translator
from storage import staff, voice
from storage.records import StaffMember

RECORDERS = (ADMIN, VOICE)


def language_name(code: str) -> str:
    language = BY_CODE[code]
    return f"{language.english_name} ({code})"


def text_to_read(rt: Runtime, key: str, code: str) -> tuple[str, str]:
    """What staff are asked to read (in ``code``), and how the text is named to them."""
    q, reader = rt.questionnaire, rt.translator(code)
    if key == WELCOME:
        return welcome(reader, rt.privacy_wording), "welcome"
    kind, _, ident = key.partition(".")
    if kind == "item":
        item = q.item(ident)
        n = [i.id for i in q.items].index(ident) + 1
        return reader.pgettext(q.context(ident), item.text), f"statement {n}"
    option = q.option(int(ident))
    assert option is not None
    label = reader.pgettext(q.context("scale"), option.label)
    return f"{option.emoji} {label}", f"answer {option.value}"


def coverage(t: Translator, rt: Runtime, counts: dict[str, int]) -> str:
    total = len(recordable(rt.questionnaire))
    lines = [
        t.pgettext(
            "staff",
            "/record language [number]: record the texts young people read, aloud, like "
            "/record fa (the next text without a clip) or /record fa 3 (text 3 again).",
        ),
        t.pgettext("staff", "Clips so far:"),
    ]
    lines += [
        f"• {language_name(lang.code)}: {counts.get(lang.code, 0)}/{total}" for lang in LANGUAGES
    ]
    return t.message("\n".join(lines))


async def record_command(
    update: Update, context: Context, rt: Runtime, member: StaffMember
) -> None:
    """``/record [language] [number]``: start recording a text, or show what is recorded."""
    t = rt.translator(member.language)
    assert member.chat_id is not None
    args = context.args or []
    keys = recordable(rt.questionnaire)
    async with rt.db.read() as conn:
        counts = dict(await voice.clips_per_language(conn))
        done = await voice.recorded_keys(conn, args[0]) if args else set()
    if not args:
        await send(context.bot, member.chat_id, coverage(t, rt, counts))
        return
    code = args[0]
    if code not in BY_CODE or len(args) > 2:
        codes = ", ".join(lang.code for lang in LANGUAGES)
        await tell(
            context.bot,
            member.chat_id,
            t,
            t.pgettext(
                "staff", "I don't know that language. Write its code, like /record fa: {codes}"
            ).format(codes=codes),
        )
        return
    if len(args) == 2:
        if not args[1].isdigit() or not 1 <= int(args[1]) <= len(keys):
            await tell(
                context.bot,
                member.chat_id,
                t,
                t.pgettext(
                    "staff", "There is no text {number}: the texts are numbered 1 to {total}."
                ).format(number=t.isolate(args[1][:10]), total=len(keys)),
            )
            return
        key: str | None = keys[int(args[1]) - 1]
    else:
        key = next((k for k in keys if k not in done), None)
    if key is None:
        await send(context.bot, member.chat_id, _all_done(t, code, len(keys)))
        return
    await _ask_for(rt, context, member, t, key, code)


def _all_done(t: Translator, code: str, total: int) -> str:
    return t.message(
        t.pgettext(
            "staff",
            "Every text in {language} has a clip. To record one again, send /record {code} "
            "and its number (1 to {total}).",
        ).format(language=language_name(code), code=code, total=total)
    )


async def _ask_for(
    rt: Runtime, context: Context, member: StaffMember, t: Translator, key: str, code: str
) -> None:
    """Start (or restart) a take of ``key`` in ``code`` and show what to read."""
    assert member.chat_id is not None
    keys = recordable(rt.questionnaire)
    async with rt.db.transaction() as conn:
        await voice.start_draft(conn, member.id, key, code, rt.clock.now())
    text, what = text_to_read(rt, key, code)
    intro = t.pgettext(
        "staff",
        "Recording in {language}, text {number} of {total} ({what}). Read this aloud, then send "
        "it as a voice message (or send an OGG file with Opus sound):",
    ).format(language=language_name(code), number=keys.index(key) + 1, total=len(keys), what=what)
    await send(context.bot, member.chat_id, t.message(intro) + "\n\n" + text)


def _problem(t: Translator, problem: str, size: int) -> str:
    if problem == "too_big":
        return t.pgettext(
            "staff",
            "That recording is too big ({size} KB): the most I keep is {most} KB. Please "
            "record it again, shorter.",
        ).format(size=size // 1000, most=MAX_BYTES // 1000)
    if problem == "too_long":
        return t.pgettext(
            "staff",
            "That recording is longer than {minutes} minutes. Please record it again, shorter.",
        ).format(minutes=MAX_SECONDS // 60)
    return t.pgettext(
        "staff",
        "That file is not a voice recording I can use. Telegram voice messages are OGG files "
        "with Opus sound: record a voice message in Telegram, or convert the file to .ogg "
        "(Opus) and send it again.",
    )


async def on_recording(update: Update, context: Context) -> None:
    """A voice message, audio or file: a take, when its sender is recording; else the usual
    "I can only read buttons and text" answer."""
    rt = context.runtime
    message, chat = update.effective_message, update.effective_chat
    assert message is not None
    assert chat is not None
    async with rt.db.read() as conn:
        member = await staff.staff_by_chat(conn, chat.id)
        draft = await voice.draft_of(conn, member.id) if member is not None else None
    attachment = message.voice or message.audio or message.document
    if member is None or member.role not in RECORDERS or draft is None or attachment is None:
        await account.on_other(update, context)
        return
    t = rt.translator(member.language)
    size = attachment.file_size or 0
    data = b""
    if size <= MAX_BYTES:
        found = await context.bot.get_file(attachment.file_id)
        data = bytes(await found.download_as_bytearray())
    checked = check_clip(data) if size <= MAX_BYTES else check_clip(b"\0" * (MAX_BYTES + 1))
    if checked.problem is not None:
        await tell(context.bot, chat.id, t, _problem(t, checked.problem, size))
        return
    _text, what = text_to_read(rt, draft.text_key, draft.language)
    text_key, language = draft.text_key, draft.language
    markup = button_row(
        (t.pgettext("staff", "✅ Keep"), buttons.KeepTake(text_key, language, keep=True)),
        (t.pgettext("staff", "🔁 Redo"), buttons.KeepTake(text_key, language, keep=False)),
    )
    caption = t.pgettext("staff", "This is how it sounds: {what}, {language}. Keep it?").format(
        what=what, language=language_name(draft.language)
    )
    played = await send_voice(
        context.bot, chat.id, data, duration=checked.duration, caption=caption, markup=markup
    )
    file_id = played.voice.file_id if played is not None and played.voice is not None else None
    async with rt.db.transaction() as conn:
        await voice.keep_take(
            conn,
            member.id,
            text_key=draft.text_key,
            language=draft.language,
            audio=data,
            duration=checked.duration,
            file_id=file_id,
        )


async def on_keep(update: Update, context: Context) -> None:
    """ "✅ Keep" stores the take as the text's clip and moves on; "🔁 Redo" asks again."""
    rt = context.runtime
    read = await pressed(rt, update, buttons.KeepTake)
    if read is None:
        return
    press, action = read
    async with rt.db.transaction() as conn:
        member = await staff.staff_by_chat(conn, press.chat_id)
        draft = await voice.draft_of(conn, member.id) if member is not None else None
        current = (
            draft is not None
            and draft.audio is not None
            and (draft.text_key, draft.language) == (action.text, action.language)
        )
        if member is None or member.role not in RECORDERS or draft is None or not current:
            draft = None
        elif action.keep:
            assert draft.audio is not None
            await voice.save_clip(
                conn,
                text_key=draft.text_key,
                language=draft.language,
                audio=draft.audio,
                duration=draft.duration or 1,
                file_id=draft.file_id,
                recorded_by=member.id,
                now=rt.clock.now(),
            )
            await voice.end_draft(conn, member.id)
        else:
            await voice.clear_take(conn, member.id)
        done = await voice.recorded_keys(conn, action.language)
    if member is None or draft is None:
        await answer_stale(rt, press)
        return
    t = rt.translator(member.language)
    await answer_press(press.query)
    said = t.pgettext("staff", "Kept.") if action.keep else t.pgettext("staff", "Let's try again.")
    await edit_or_send_caption(context, press.chat_id, press.message_id, said)
    if not action.keep:
        await _ask_for(rt, context, member, t, action.text, action.language)
        return
    keys = recordable(rt.questionnaire)
    after = keys[keys.index(action.text) + 1 :] + keys[: keys.index(action.text)]
    following = next((k for k in after if k not in done), None)
    if following is None:
        await send(context.bot, press.chat_id, _all_done(t, action.language, len(keys)))
        return
    await _ask_for(rt, context, member, t, following, action.language)


async def edit_or_send_caption(
    context: Context, chat_id: int, message_id: int | None, text: str
) -> None:
    """Replace the caption of the played-back take (and drop its buttons)."""
    if message_id is None:
        await send(context.bot, chat_id, text)
        return
    try:
        await context.bot.edit_message_caption(chat_id, message_id, caption=text)
    except TelegramError:  # the caption is a courtesy: the take is already decided
        await edit_or_send(context.bot, chat_id, None, text)
