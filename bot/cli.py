"""The ``checkin-bot`` command line: run the bot, add staff, preview due prompts, and more.

Every command exits 0 on success, or non-zero with one line naming what was wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.errors import CheckinError
from bot.settings import Settings, load_settings

log = logging.getLogger("bot.cli")

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def configure_logging(level: str) -> None:
    """Log to stderr; httpx (which would log request URLs, and so the token) only warns."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="checkin-bot", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the bot (long polling), migrating the database first")
    staff = sub.add_parser("staff", help="manage staff").add_subparsers(
        dest="staff_command", required=True, metavar="ACTION"
    )
    add = staff.add_parser("add", help="create a staff member and print their invite link")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["key_worker", "manager", "admin"])
    add.add_argument("--team", default=None)
    due = sub.add_parser("due", help="list the prompts that would be sent at a time (dry run)")
    due.add_argument("--at", type=_when, default=None, help="ISO-8601 time (default: now)")
    sub.add_parser("languages", help="each language's completeness and review status")
    play = sub.add_parser(
        "playground", help="the bot against a local Bot API, with a web page (no Telegram needed)"
    )
    play.add_argument("--port", type=int, default=8080, help="web page port (default 8080)")
    play.add_argument("--database", default=None, help="SQLite file (default: a fresh temp one)")
    return top


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``checkin-bot``."""
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        if args.command == "run":
            return run(settings)
        if args.command == "playground":
            from bot.playground import run_playground

            return run_playground(settings, port=args.port, database=args.database)
        command = COMMANDS[args.command]
        return asyncio.run(command(args, settings))
    except CheckinError as exc:
        print(f"checkin-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run(settings: Settings) -> int:
    """Run the bot until interrupted."""
    from telegram import Update

    from bot.app import build_application, build_runtime

    rt = build_runtime(settings)
    app = build_application(rt)
    log.info("starting the bot")
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


async def staff_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create a staff member and print a single-use staff invite link."""
    from bot.app import build_runtime
    from conversations.enrolment import new_token
    from storage import invites, staff

    name = args.name.strip()
    if not name or len(name) > 80:
        raise CheckinError("--name: must be 1-80 characters")
    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        username = settings.bot_username or await _bot_username(settings)
        now = rt.clock.now()
        token = new_token()
        async with rt.db.transaction() as conn:
            team_id = await staff.ensure_team(conn, args.team.strip(), now) if args.team else None
            staff_id = await staff.add_staff(
                conn, name=name, role=args.role, team_id=team_id, now=now
            )
            await invites.create_invite(
                conn,
                kind="staff",
                token=token,
                created_by=None,
                staff_id=staff_id,
                now=now,
                expires_at=now + timedelta(days=settings.invite_ttl_days),
            )
    finally:
        await rt.db.close()
    print(f"https://t.me/{username}?start={token}")
    return 0


async def _bot_username(settings: Settings) -> str:
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.token(), base_url=settings.telegram_api_url) as bot:
            return str(bot.username)
    except TelegramError as exc:
        raise CheckinError(
            f"CHECKIN_BOT_USERNAME: not set, and Telegram could not be asked ({type(exc).__name__})"
        ) from None


async def due(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the scheduler would do at ``--at``, without sending anything."""
    from bot.app import build_runtime
    from bot.schedule import preview

    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        lines = await preview(rt, args.at or datetime.now(UTC))
    finally:
        await rt.db.close()
    print("\n".join(lines) if lines else "nothing is due")
    return 0


async def languages(args: argparse.Namespace, settings: Settings) -> int:
    """Print each language: translated / total, fuzzy, and the catalogue's review status."""
    from bot.i18n import LANGUAGES
    from bot.locales import completeness

    print(f"{'code':<6} {'language':<18} {'translated':>11} {'fuzzy':>5}  review status")
    for language in LANGUAGES:
        found = completeness(language.code, settings.locales_dir)
        override = settings.locales_override_dir
        if override is not None and (override / language.code).is_dir():
            found = completeness(language.code, override)
        ratio = f"{found.translated}/{found.total}"
        print(
            f"{language.code:<6} {language.english_name:<18} {ratio:>11} {found.fuzzy:>5}  "
            f"{found.status}"
        )
    return 0


COMMANDS: dict[str, Command] = {
    "languages": languages,
    "staff": staff_add,
    "due": due,
}


if __name__ == "__main__":
    raise SystemExit(main())
