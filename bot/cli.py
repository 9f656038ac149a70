"""The ``checkin-bot`` command line: run the bot, add staff, preview due prompts, and more.

Every command exits 0 on success, or non-zero with one line naming what was wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import build_application, build_runtime
from bot.check import check
from bot.due import preview
from bot.locales import completeness
from bot.playground import run_playground
from bot.polling import serve, until_stopped
from bot.webhook import serving, update_path
from conversations.digest import Scope
from conversations.digest_text import plain
from conversations.export import aggregate_rows, answer_rows, quarters
from conversations.reports import compose, describe_scope
from conversations.runtime import Runtime
from conversations.voiceclips import recordable
from core.errors import CheckinError
from core.i18n import LANGUAGES
from core.settings import Settings, load_settings
from storage import audit, digests, ledger, part_tallies, reach, staff, tally_rebuild, voice
from storage.invites import new_token
from storage.migrating import current_revision
from storage.staff import ROLES as STAFF_ROLES

log = logging.getLogger("bot.cli")

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


# Libraries whose records would carry the token (request URLs), message text (python-telegram-
# bot logs every update and every request's parameters at DEBUG) or stored words (SQL results):
# held at these levels whatever CHECKIN_LOG_LEVEL says, so DEBUG never puts a young person's
# words in the log (tests/test_privacy_logs.py proves it).
LIBRARY_LEVELS = {
    "telegram": logging.WARNING,  # its INFO (start and stop) is noise; its DEBUG holds updates
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "alembic": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "aiohttp": logging.WARNING,
}


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; the libraries in :data:`LIBRARY_LEVELS` never below theirs."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name, floor in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(floor)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="checkin-bot", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the bot (long polling), migrating the database first")
    sub.add_parser(
        "check", help="check settings, files, database and token; say what is fine and what is not"
    )
    sub.add_parser("migrate", help="bring the database to the newest schema, and stop")
    serve_parser = sub.add_parser(
        "serve", help="run the bot behind a Telegram webhook (see docs/deploy.md)"
    )
    serve_parser.add_argument("--port", type=_port, default=8081, help="port (default 8081)")
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    hook = sub.add_parser("webhook", help="tell Telegram where to post updates").add_subparsers(
        dest="webhook_command", required=True, metavar="ACTION"
    )
    hook.add_parser("set", help="setWebhook: CHECKIN_WEBHOOK_URL, with the secret")
    hook.add_parser("info", help="getWebhookInfo: the address, pending updates, the last error")
    hook.add_parser("delete", help="deleteWebhook (then `checkin-bot run` can poll again)")
    staff = sub.add_parser("staff", help="manage staff").add_subparsers(
        dest="staff_command", required=True, metavar="ACTION"
    )
    add = staff.add_parser("add", help="create a staff member and print their invite link")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=list(STAFF_ROLES))
    add.add_argument("--team", default=None)
    due = sub.add_parser("due", help="list the prompts that would be sent at a time (dry run)")
    due.add_argument("--at", type=_when, default=None, help="ISO-8601 time (default: now)")
    digest = sub.add_parser("digest", help="print the digest a manager (or the service) would get")
    digest.add_argument("--team", default=None, help="a team's digest (default: the service)")
    digest.add_argument("--since", type=_when, default=None, help="ISO date the period starts")
    export = sub.add_parser("export", help="anonymised export for evaluation (CSV)")
    export.add_argument("--out", required=True, help="the CSV file to write")
    export.add_argument(
        "--rows",
        action="store_true",
        help="row-level answers with pseudonymous ids (admins only: --admin-id)",
    )
    export.add_argument("--admin-id", type=int, default=None, help="the admin asking for --rows")
    sub.add_parser("languages", help="each language's completeness and review status")
    tally = sub.add_parser(
        "tallies", help="the answer tallies digests read (kept with every answer)"
    ).add_subparsers(dest="tallies_command", required=True, metavar="ACTION")
    tally.add_parser(
        "rebuild",
        help="recompute every tally from the stored answers",
    )
    backup_parser = sub.add_parser(
        "backup", help="copy the SQLite database, even while the bot runs (SQLite's online backup)"
    )
    backup_parser.add_argument("--out", required=True, help="the file to write the copy to")
    play = sub.add_parser(
        "playground", help="the bot against a local Bot API, with a web page (no Telegram needed)"
    )
    play.add_argument("--port", type=int, default=8080, help="web page port (default 8080)")
    play.add_argument("--database", default=None, help="SQLite file (default: a fresh temp one)")
    play.add_argument(
        "--demo-history",
        action="store_true",
        help="add a few dozen young people with three months of answers (a meaningful digest)",
    )
    return top


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return port


def one_line(message: str) -> str:
    """An operator's error as one line (a YAML parser's message spans several)."""
    return " ".join(message.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``checkin-bot``."""
    args = parser().parse_args(argv)
    if args.command == "check":  # reads the settings itself, to list every bad one
        configure_logging("WARNING")
        report = asyncio.run(check())
        print(report.text())
        return 1 if report.wrong else 0
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        if args.command == "run":
            return run(settings)
        if args.command == "serve":
            return serve_webhook(settings, host=args.host, port=args.port)
        if args.command == "playground":
            return run_playground(
                settings, port=args.port, database=args.database, demo_history=args.demo_history
            )
        command = COMMANDS[args.command]
        return asyncio.run(command(args, settings))
    except CheckinError as exc:
        print(f"checkin-bot: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the output was piped into something that stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run(settings: Settings) -> int:
    """Run the bot until interrupted (long polling that confirms updates once handled)."""
    rt = build_runtime(settings)
    app = build_application(rt)
    asyncio.run(_migrate_then_serve(rt, app))
    return 0


def serve_webhook(settings: Settings, *, host: str, port: int) -> int:
    """Run the bot behind a webhook until interrupted (updates confirmed once handled)."""
    secret = settings.secret()
    rt = build_runtime(settings)
    app = build_application(rt)
    path = update_path(settings.webhook_url)

    async def serve_until_stopped() -> None:
        async with serving(app, secret, host=host, port=port, path=path):
            await until_stopped()

    log.info("starting the bot (webhook)")
    try:
        asyncio.run(serve_until_stopped())
    except OSError as exc:
        raise CheckinError(f"--port: cannot listen on {host}:{port}: {exc.strerror}") from None
    return 0


async def migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate the database (once, before starting several ``serve`` processes)."""
    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        async with rt.db.read() as conn:
            revision = await current_revision(conn)
    finally:
        await rt.db.close()
    print(f"the database is at migration {revision}")
    return 0


async def tallies_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Recompute the answer tallies from the stored answers (``storage/tallies.py``), then the
    taking-part tallies of every quarter kept (``storage/part_tallies.py``)."""
    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        async with rt.db.transaction() as conn:
            await ledger.lock(conn)  # no digest decides while the tallies are rewritten
            counted = await tally_rebuild.rebuild(conn)
            await reach.catch_up(conn, rt.clock.now())  # any change of reach not yet recorded
            quarters = await part_tallies.rebuild(conn)  # after the answers' firsts
            await audit.record(
                conn, actor="cli", action="tallies_rebuild", scope="service", now=rt.clock.now()
            )
    finally:
        await rt.db.close()
    print(f"rebuilt the answer tallies: {counted} counted answers")
    print(
        f"rebuilt the taking-part tallies of {quarters} kept quarter{'' if quarters == 1 else 's'}"
    )
    return 0


async def webhook(args: argparse.Namespace, settings: Settings) -> int:
    """setWebhook, getWebhookInfo or deleteWebhook, and what Telegram said."""
    token = settings.token()
    if args.webhook_command == "set":
        url, secret = settings.public_url(), settings.secret()
    try:
        async with Bot(token, base_url=settings.telegram_api_url) as bot:
            if args.webhook_command == "set":
                await bot.set_webhook(
                    url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                    max_connections=settings.webhook_max_connections,
                )
                print(f"webhook set: Telegram posts updates to {url}")
            elif args.webhook_command == "delete":
                await bot.delete_webhook()
                print("webhook deleted: `checkin-bot run` can poll for updates")
            else:
                info = await bot.get_webhook_info()
                print(f"url: {info.url or '(none: polling)'}")
                print(f"pending updates: {info.pending_update_count}")
                print(f"max connections: {info.max_connections or '-'}")
                if info.last_error_message:
                    print(f"last error: {info.last_error_date}: {info.last_error_message}")
    except TelegramError as exc:
        raise CheckinError(
            f"webhook {args.webhook_command}: Telegram refused ({type(exc).__name__}: {exc})"
        ) from None
    return 0


async def _migrate_then_serve(rt: Runtime, app: Application) -> None:  # type: ignore[type-arg]
    """The database first: one that cannot be reached stops start-up with one line
    (``CHECKIN_DATABASE_URL`` and why) before Telegram is asked anything."""
    try:
        await rt.db.migrate()
    except CheckinError:
        await rt.db.close()
        raise
    await serve(app)


async def staff_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create a staff member and print a single-use staff invite link."""
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
            await staff.add_with_invite(
                conn,
                name=name,
                role=args.role,
                team=args.team.strip() if args.team else None,
                created_by=None,
                token=token,
                now=now,
                expires_at=now + timedelta(days=settings.invite_ttl_days),
            )
    finally:
        await rt.db.close()
    print(f"https://t.me/{username}?start={token}")
    return 0


async def _bot_username(settings: Settings) -> str:
    try:
        async with Bot(settings.token(), base_url=settings.telegram_api_url) as bot:
            return str(bot.username)
    except TelegramError as exc:
        raise CheckinError(
            f"CHECKIN_BOT_USERNAME: not set, and Telegram could not be asked ({type(exc).__name__})"
        ) from None


async def due(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the scheduler would do at ``--at``, without sending anything."""
    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        lines = await preview(rt, args.at or datetime.now(UTC))
    finally:
        await rt.db.close()
    print("\n".join(lines) if lines else "nothing is due")
    return 0


async def languages(args: argparse.Namespace, settings: Settings) -> int:
    """Print each language: translated / total, fuzzy, voice clips recorded / recordable, how
    many texts a fluent speaker has reviewed ("n of m reviewed"), and the catalogue's review
    status."""
    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        async with rt.db.read() as conn:
            clips = await voice.clips_per_language(conn)
    finally:
        await rt.db.close()
    recordable_texts = len(recordable(rt.questionnaire))
    print(
        f"{'code':<6} {'language':<18} {'translated':>11} {'fuzzy':>5} {'voice':>7}  "
        f"{'reviewed':<24} status"
    )
    for language in LANGUAGES:
        found = completeness(language.code, settings.locales_dir)
        override = settings.locales_override_dir
        if override is not None and (override / language.code).is_dir():
            found = completeness(language.code, override)
        ratio = f"{found.translated}/{found.total}"
        spoken = f"{clips.get(language.code, 0)}/{recordable_texts}"
        print(
            f"{language.code:<6} {language.english_name:<18} {ratio:>11} {found.fuzzy:>5} "
            f"{spoken:>7}  {found.review_count:<24} {found.status}"
        )
    return 0


async def digest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the digest for the service, or for ``--team``."""
    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        async with rt.db.read() as conn:
            teams = await digests.team_names(conn)
        if args.team is not None and args.team not in teams:
            raise CheckinError(
                f"--team: no team called {args.team!r} (teams: {', '.join(teams) or 'none yet'})"
            )
        scope = Scope.of_team(args.team) if args.team else Scope.service()
        now = rt.clock.now()
        if args.since is not None and args.since >= now:
            raise CheckinError("--since: must be in the past")
        report = await compose(
            rt, scope, rt.translator(settings.default_language), now, args.since, reader="cli"
        )
        async with rt.db.transaction() as conn:
            await audit.record(
                conn, actor="cli", action="digest", scope=describe_scope(scope), now=now
            )
    finally:
        await rt.db.close()
    print(plain(report.text).lstrip("\u200f"))
    return 0


async def export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the anonymised export."""
    rt = build_runtime(settings)
    try:
        await rt.db.migrate()
        now = rt.clock.now()
        actor = "cli"
        if args.rows:
            async with rt.db.read() as conn:
                admin = await staff.staff_by_id(conn, args.admin_id or 0)
            if admin is None or admin.role != "admin" or not admin.active:
                raise CheckinError("--rows: needs --admin-id of an active admin (see /staff)")
            actor = f"staff:{admin.id}"
        async with rt.db.transaction() as conn:
            await ledger.lock(conn)
            answers = await digests.answer_records(conn, now)
            teams = await digests.team_names(conn)
            people = await digests.population_records(conn, now - timedelta(days=3650), now)
            if args.rows:
                header, rows = answer_rows(answers)
            else:
                starts = [w.since for w in quarters(answers, now)]
                earlier = await ledger.released_since(conn, starts)
                header, rows, new = aggregate_rows(
                    answers, people, teams, now, settings.min_group_size, earlier
                )
                await ledger.record(conn, new)
        write_csv(args.out, header, rows)
        async with rt.db.transaction() as conn:
            await audit.record(
                conn,
                actor=actor,
                now=now,
                action="export_rows" if args.rows else "export",
                scope="service",
            )
    finally:
        await rt.db.close()
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


def write_csv(path: str, header: list[str], rows: list[list[object]]) -> None:
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    except OSError as exc:
        raise CheckinError(f"--out: cannot write {path}: {exc.strerror}") from None


async def backup(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the SQLite database to ``--out`` with SQLite's online backup: a consistent snapshot,
    taken while the bot keeps running; checked, then moved into place."""
    url = make_url(settings.database_url)
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:"):
        raise CheckinError(
            "CHECKIN_DATABASE_URL: backup copies a SQLite file; use pg_dump for PostgreSQL"
        )
    source, out = Path(name), Path(args.out)
    size = await asyncio.to_thread(_online_backup, source, out)
    print(f"backed up {source} to {out} ({size:,} bytes; integrity check ok)")
    return 0


def _online_backup(source: Path, out: Path) -> int:
    """SQLite's backup API in one step (a consistent snapshot), into a temporary file beside
    ``out`` that replaces it only once complete and checked."""
    if not source.is_file():
        raise CheckinError(f"CHECKIN_DATABASE_URL: there is no database file at {source}")
    if out.exists() and out.resolve() == source.resolve():
        raise CheckinError("--out: must not be the database itself")
    partial = out.with_name(out.name + ".partial")
    try:
        partial.unlink(missing_ok=True)
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
            finally:
                dst.close()
        finally:
            src.close()
        if verdict != "ok":
            raise CheckinError(f"--out: the copy failed its integrity check ({verdict})")
        os.replace(partial, out)
        return int(out.stat().st_size)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise CheckinError(f"backup failed: {exc}") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CheckinError(f"--out: cannot write {out}: {exc.strerror}") from None


COMMANDS: dict[str, Command] = {
    "backup": backup,
    "digest": digest,
    "export": export,
    "languages": languages,
    "staff": staff_add,
    "tallies": tallies_rebuild,
    "due": due,
    "migrate": migrate,
    "webhook": webhook,
}


if __name__ == "__main__":
    raise SystemExit(main())
