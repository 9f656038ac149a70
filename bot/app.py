"""build_application(): every handler of the bot, in order, with what it is for.

Update -> handler (conversations/) -> pure decision -> storage/ -> reply. The scheduler job is the
only other entry point. Every handler is registered in python-telegram-bot's default group, so
for each update only the first handler that matches runs, in the order they are added below.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.commands import COMMANDS
from bot.error_handler import handle_error
from bot.metrics import Metrics
from bot.schedule import release_fan_out, tick
from conversations import (
    account,
    alerts,
    answers,
    buttons,
    enrolment,
    presses,
    recording,
    reports,
    staff,
    texts,
    update_scope,
    updates,
    voice,
)
from conversations.checkpoints import ScheduleConfig, ScheduleError, load_schedule
from conversations.menu import set_default_menus
from conversations.questionnaire import load_questionnaires
from conversations.retention import run_retention
from conversations.runtime import Context, Runtime
from conversations.safeguarding import RiskListError, load_risk_lists
from core.clock import Clock, SystemClock
from core.errors import SettingsError
from core.i18n import LANGUAGES, Catalogues
from core.settings import DEFAULT_LOCALES_DIR, Settings
from storage import enrolments, prompts
from storage.db import Database

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
TICK_SECONDS = 30.0


def build_runtime(
    settings: Settings, clock: Clock | None = None, schedule: ScheduleConfig | None = None
) -> Runtime:
    """Load and validate everything the bot needs; a broken file stops start-up here with a
    :class:`SettingsError` naming the setting and the file."""
    questionnaires = load_questionnaires(settings.questionnaires_dir)
    if settings.default_questionnaire not in questionnaires:
        raise SettingsError(
            f"CHECKIN_DEFAULT_QUESTIONNAIRE: no questionnaire '{settings.default_questionnaire}'"
        )
    try:
        schedule = schedule or load_schedule(settings.schedule_file)
    except ScheduleError as exc:
        raise SettingsError(f"CHECKIN_SCHEDULE_FILE: {exc}") from None
    _check_directories(settings)
    try:
        risk_lists = load_risk_lists(
            [language.code for language in LANGUAGES],
            settings.locales_dir,
            DEFAULT_LOCALES_DIR,
            settings.risk_phrases_dir,
        )
    except RiskListError as exc:
        raise SettingsError(f"risk phrases: {exc}") from None
    return Runtime(
        settings=settings,
        db=Database(settings.database_url),
        clock=clock or SystemClock(),
        catalogues=Catalogues(settings.locales_dir, settings.locales_override_dir),
        questionnaires=questionnaires,
        schedule=schedule,
        risk_lists=risk_lists,
        privacy_wording=texts.PrivacyWording.from_settings(settings),
        commands=COMMANDS,
        bot_username=settings.bot_username or "checkin_bot",
    )


def _check_directories(settings: Settings) -> None:
    """The catalogue and risk phrase folders a setting names must be there (a wrong path
    would otherwise quietly show every text in English, or add no phrases)."""
    english = settings.locales_dir / "en" / "LC_MESSAGES" / "messages.po"
    if not english.is_file():
        raise SettingsError(
            f"CHECKIN_LOCALES_DIR: {settings.locales_dir} holds no catalogues "
            f"({english} is missing)"
        )
    for name, folder in (
        ("CHECKIN_LOCALES_OVERRIDE_DIR", settings.locales_override_dir),
        ("CHECKIN_RISK_PHRASES_DIR", settings.risk_phrases_dir),
    ):
        if folder is not None and not folder.is_dir():
            raise SettingsError(f"{name}: {folder} is not a folder")


def build_application(rt: Runtime, *, tick_seconds: float | None = TICK_SECONDS) -> Application:  # type: ignore[type-arg]
    """The Telegram application with every handler, in order, counting in :class:`Metrics`."""
    settings = rt.settings
    metrics = Metrics()
    app = (
        ApplicationBuilder()
        .token(settings.token())
        .request(metrics.request())
        .get_updates_request(metrics.request(polling=True))
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.file_url())
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.send_rate, max_retries=0))
        .context_types(ContextTypes(context=Context))
        .post_init(prepare)
        .post_shutdown(finish)
        .build()
    )
    rt.attach(app)
    metrics.attach(app)

    # 1. Every command, from the one table (bot/commands.py), private chats only; staff
    #    commands check the caller's role on every call.
    for command in rt.commands:
        app.add_handler(CommandHandler(command.name, command.handler, filters=PRIVATE))

    # 2. Buttons, by the kind in their (versioned) data (conversations/buttons.py declares every
    #    kind once); anything else is stale or tampered.
    for handler, kinds in (
        (enrolment.on_language, (buttons.ChooseLanguage,)),
        (enrolment.on_consent, (buttons.Consent,)),
        (answers.on_checkin_button, answers.BUTTON_KINDS),
        (account.on_forget, (buttons.Forget,)),
        (account.on_contact_me, (buttons.ContactMe,)),
        (staff.on_confirm_exit, (buttons.ConfirmExit,)),
        (alerts.on_acknowledge, (buttons.AckAlert,)),
        (voice.on_listen, (buttons.Listen,)),
        (recording.on_keep, (buttons.KeepTake,)),
        (updates.on_publish, (buttons.Publish,)),
        (update_scope.on_scope, (buttons.Scope,)),
    ):
        app.add_handler(CallbackQueryHandler(handler, pattern=buttons.pattern(*kinds)))
    app.add_handler(CallbackQueryHandler(presses.on_stale_button))

    # 3. Everything else in a private chat: unknown commands, free text, media.
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, account.on_unknown_command))
    app.add_handler(
        MessageHandler(PRIVATE & filters.TEXT & ~filters.UpdateType.EDITED, account.on_text)
    )
    app.add_handler(  # an edited message is checked for risk again (nothing else happens)
        MessageHandler(
            PRIVATE & filters.TEXT & filters.UpdateType.EDITED_MESSAGE, account.on_edited_text
        )
    )
    recordings = filters.VOICE | filters.AUDIO | filters.Document.ALL
    app.add_handler(
        MessageHandler(PRIVATE & ~filters.UpdateType.EDITED & recordings, recording.on_recording)
    )
    app.add_handler(
        MessageHandler(PRIVATE & ~filters.UpdateType.EDITED & ~filters.TEXT, account.on_other)
    )

    # 4. Blocked or unblocked: the bot's own membership in a private chat.
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))

    # The one error handler, and the one periodic job.
    app.add_error_handler(handle_error)
    if tick_seconds is not None and app.job_queue is not None:
        app.job_queue.run_repeating(_tick_job, interval=tick_seconds, first=1.0, name="prompts")
    return app


async def on_my_chat_member(update: Update, context: Context) -> None:
    """A young person blocked (or unblocked) the bot: mark them unreachable (or reachable)."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    rt = context.runtime
    blocked = change.new_chat_member.status in ("kicked", "left")
    async with rt.db.transaction() as conn:
        await enrolments.set_reachable(conn, change.chat.id, not blocked, rt.clock.now())
        if blocked:
            person = await enrolments.by_chat(conn, change.chat.id)
            if person is not None:
                await prompts.stop_all(conn, person.id, rt.clock.now())
    log.info("a young person %s the bot", "blocked" if blocked else "unblocked")


async def _tick_job(context: Context) -> None:
    await run_periodic(context.runtime, context.bot)


async def run_periodic(rt: Runtime, bot: ExtBot[None]) -> None:
    """The one periodic job: checkpoint prompts, alert escalation, digests, retention."""
    report = await tick(rt, bot)
    if report.standby:
        return  # another process holds the fan-out lease and runs the periodic work
    if report.sent or report.expired or report.reminded:
        log.info("prompts: %s", report)
    escalated = await alerts.escalate_due(rt, bot)
    if escalated:
        log.info("safeguarding alerts escalated: %d", escalated)
    await reports.send_scheduled(rt, bot)
    await run_retention(rt)  # at most once an hour


async def prepare(app: Application) -> None:  # type: ignore[type-arg]
    """Migrate the database, learn the bot's username, and set the command menu."""
    rt = Runtime.of(app)
    await rt.db.migrate()
    me = await app.bot.get_me()
    rt.bot_username = rt.settings.bot_username or me.username or rt.bot_username
    await set_default_menus(app.bot, rt.catalogues, rt.commands)


async def finish(app: Application) -> None:  # type: ignore[type-arg]
    """After shutting down: give up the fan-out lease (another process takes it at once) and
    close the database."""
    rt = Runtime.of(app)
    try:
        await release_fan_out(rt)
    except Exception as exc:  # the database is gone: the lease expires on its own
        log.warning("the fan-out lease was not released (%s)", type(exc).__name__)
    await rt.db.close()
