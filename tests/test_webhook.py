"""``checkin-bot serve``: updates by webhook, confirmed only once handled; redelivery changes
nothing, even to another process; ``/healthz`` and ``/metrics``; the webhook commands.

The real bot (``bot.webhook.serving``, the one start sequence) behind the local Bot API in its
webhook-delivery mode, which POSTs updates with the secret header and delivers again until it
gets a 2xx answer.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from telegram import Update
from telegram.ext import MessageHandler, filters

from bot import cli
from bot.app import build_application, build_runtime
from bot.metrics import Metrics
from bot.polling import running
from bot.standin import standin_settings
from bot.webhook import SECRET_HEADER, serving, update_path
from conversations.commands import Handler
from conversations.runtime import Context
from core.clock import ManualClock
from core.errors import CheckinError
from core.settings import Settings
from local_bot_api import LocalBotAPI
from storage.health import head_revision
from tests.people import add_staff, enrolled
from tests.test_cli import checkin_bot
from tests.world import BOT_USERNAME, SPEC, START, TOKEN, World

SECRET = "test-webhook_Secret-1"
ROOT = Path(__file__).resolve().parents[1]
YP, KW, ADMIN, LEAD = 1001, 900101, 900201, 900202
RISK = "some days I want to kill myself"


class ServedWorld(World):
    """The world of the end-to-end tests, with the bot run as ``serve``: updates arrive by
    webhook (several of these on one stand-in and one database are several processes)."""

    url = ""

    async def start(self) -> None:
        self.rt = build_runtime(self.settings, clock=self.clock)
        self.app = build_application(self.rt, tick_seconds=None)
        self._process = AsyncExitStack()
        port = await self._process.enter_async_context(serving(self.app, SECRET, port=0))
        self.url = f"http://127.0.0.1:{port}/telegram"

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        assert self.rt is not None
        async with self.rt.db.read() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]


@asynccontextmanager
async def served(
    database: Path | str, processes: int = 1, **overrides: object
) -> AsyncIterator[list[ServedWorld]]:
    """``processes`` bots on one database behind one stand-in, the webhook set and balanced
    across them (round-robin)."""
    clock = ManualClock(START)
    url = database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME, clock=clock) as api:
        settings = standin_settings(api, url, None, webhook_secret=SECRET, **overrides)
        worlds = [ServedWorld(api, settings, clock) for _ in range(processes)]
        try:
            for world in worlds:
                await world.start()
            assert worlds[0].app is not None
            await worlds[0].app.bot.set_webhook(worlds[0].url, secret_token=SECRET)
            api.webhook.balance([w.url for w in worlds])
            yield worlds
        finally:
            for world in worlds:
                await world.stop()
        api.assert_no_violations()


async def post(url: str, body: object, secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        return response.status


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def base(world: ServedWorld) -> str:
    return world.url.removesuffix("/telegram")


# ---- one process -----------------------------------------------------------------------------


def intercept(world: ServedWorld, pattern: str, handler: Handler) -> None:
    """``handler`` runs first for messages matching ``pattern`` (instead of the bot's own)."""
    assert world.app is not None
    world.app.add_handler(MessageHandler(filters.Regex(pattern), handler), group=-1)


def hold(world: ServedWorld, pattern: str) -> tuple[asyncio.Event, asyncio.Event]:
    """A handler that waits for messages matching ``pattern``: (entered, release) events, set
    once one is being handled, and set by the test to let it finish."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(update: Update, context: Context) -> None:
        entered.set()
        await release.wait()

    intercept(world, pattern, slow)
    return entered, release


def statuses(world: ServedWorld, update_id: int) -> list[int | None]:
    """The answers the webhook gave each delivery of this update, in order."""
    return [d.status for d in world.api.webhook.deliveries if d.update_id == update_id]


async def test_a_check_in_by_webhook_is_confirmed_only_once_handled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with served(tmp_path / "c.db") as (world,):
        api = world.api
        await enrolled(world, YP, KW)
        answered = await world.press(YP, "🙂", world.last(YP))
        assert api.buttons(answered[-1])  # the next statement

        # A handler that waits: the update stays unconfirmed until it has been handled.
        entered, release = hold(world, "^slow$")
        update = api.send_text(YP, "slow")
        await asyncio.wait_for(entered.wait(), timeout=5)
        assert api.webhook.in_flight == 1  # the stand-in waits for the answer
        assert [u["update_id"] for u in api.state.pending] == [update["update_id"]]
        assert all(d.update_id != update["update_id"] for d in api.webhook.deliveries)
        release.set()
        await world.idle()
        assert not api.state.pending
        assert statuses(world, update["update_id"]) == [200]
        # Every update was delivered once and answered 200: none was delivered again.
        ids = [d.update_id for d in api.webhook.deliveries]
        assert len(ids) == len(set(ids))
        assert {d.status for d in api.webhook.deliveries} == {200}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "serving updates on" in logged
    for secret_or_id in (SECRET, str(YP), str(KW)):
        assert secret_or_id not in logged


async def test_a_stopping_process_finishes_the_update_it_holds(tmp_path: Path) -> None:
    async with served(tmp_path / "g.db") as (world,):
        api = world.api
        await add_staff(world, KW)
        entered, release = hold(world, "^/invite")
        update = api.send_text(KW, "/invite GH")
        await asyncio.wait_for(entered.wait(), timeout=5)
        stopping = asyncio.create_task(world.stop())  # SIGTERM does the same
        await asyncio.sleep(0)
        assert not stopping.done()
        release.set()
        await asyncio.wait_for(stopping, timeout=15)
        assert statuses(world, update["update_id"]) == [200]
        assert "Invite for GH" in world.last(KW).content


async def test_a_wrong_or_missing_secret_gets_401_and_changes_nothing(tmp_path: Path) -> None:
    async with served(tmp_path / "s.db") as (world,):
        api = world.api
        await add_staff(world, KW)
        before = len(api.messages(KW))
        handled = await world.rows("SELECT update_id FROM handled_updates")
        await world.app.bot.delete_webhook()  # type: ignore[union-attr]
        update = api.send_text(KW, "/invite AB")
        api.state.forget_update(update["update_id"])
        for secret in (None, "", "wrong", SECRET + "x", SECRET[:-1]):
            assert await post(world.url, update, secret) == 401
        assert await world.rows("SELECT count(*) FROM invites WHERE kind = 'young_person'") == [
            (0,)
        ]
        assert await world.rows("SELECT update_id FROM handled_updates") == handled
        assert len(api.messages(KW)) == before

        # Telegram with a wrong secret: refused, delivered again, the error shown by
        # getWebhookInfo; with the right one, delivered once and handled.
        bot = world.app.bot  # type: ignore[union-attr]
        await bot.set_webhook(world.url, secret_token="not-the-secret")
        cd = api.send_text(KW, "/invite CD")["update_id"]
        await api.wait_until(lambda: len(statuses(world, cd)) >= 3)
        assert set(statuses(world, cd)) == {401}
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message == "Wrong response from the webhook: 401"
        assert len(api.messages(KW)) == before
        await bot.set_webhook(world.url, secret_token=SECRET)
        await world.idle()
        assert statuses(world, cd)[-1] == 200
        assert "Invite for CD" in world.last(KW).content


async def test_a_failing_handler_still_answers_200_once(tmp_path: Path) -> None:
    async with served(tmp_path / "f.db") as (world,):
        api = world.api
        await enrolled(world, YP, KW)

        async def boom(update: Update, context: Context) -> None:
            raise RuntimeError("a handler failed")

        intercept(world, "^boom$", boom)
        update = api.send_text(YP, "boom")
        await world.idle()
        assert statuses(world, update["update_id"]) == [200]
        assert count(world, YP, "Sorry, something went wrong on my side") == 1
        assert world.app is not None
        registry = Metrics.of(world.app).registry
        assert registry.get_sample_value("checkin_handler_errors_total") == 1.0


async def test_healthz_and_metrics(tmp_path: Path) -> None:
    async with served(tmp_path / "h.db") as (world,):
        api = world.api
        assert await get(base(world) + "/healthz") == (200, "ok\n")
        await enrolled(world, YP, KW)
        api.inject_fault("sendMessage", "blocked", chat_id=KW)
        await world.say(KW, "/caseload")
        status, body = await get(base(world) + "/metrics")
        assert status == 200
        handled = len({d.update_id for d in api.webhook.deliveries})
        assert f"checkin_updates_handled_total {float(handled)}" in body
        assert re.search(r"^checkin_update_seconds_count \d", body, re.M)
        by_status = dict(await world.rows("SELECT status, count(*) FROM prompts GROUP BY status"))
        assert by_status == {"sent": 1, "due": 1}  # the start check-in; the 3-month one waits
        for name in ("due", "sending", "sent", "uncertain", "answered", "expired"):
            assert f'checkin_prompts{{status="{name}"}} {float(by_status.get(name, 0))}' in body
        assert 'checkin_telegram_errors_total{kind="forbidden"} 1.0' in body
        assert 'checkin_telegram_errors_total{kind="retry_after"} 0.0' in body
        assert str(KW) not in body  # no identifier in any label

        assert world.rt is not None
        async with world.rt.db.transaction() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
        assert await get(base(world) + "/healthz") == (503, "migrations not current\n")
        async with world.rt.db.transaction() as conn:
            await conn.execute(text("DROP TABLE alembic_version"))
        assert (await get(base(world) + "/healthz"))[0] == 503

        # The database gone: unreachable, 503, and /metrics still answers.
        await world.rt.db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"h.db{suffix}").unlink(missing_ok=True)
        (tmp_path / "h.db").mkdir()
        assert await get(base(world) + "/healthz") == (503, "database unreachable\n")
        assert (await get(base(world) + "/metrics"))[0] == 200
        (tmp_path / "h.db").rmdir()


async def test_polling_stops_with_one_line_when_a_webhook_is_set(tmp_path: Path) -> None:
    clock = ManualClock(START)
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME, clock=clock) as api:
        settings = standin_settings(api, f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
        app = build_application(build_runtime(settings, clock=clock), tick_seconds=None)

        async def poll_while_a_webhook_is_set() -> None:
            async with running(app) as poller:
                await app.bot.set_webhook("https://bot.example.org/telegram", secret_token=SECRET)
                await asyncio.wait_for(asyncio.shield(poller), timeout=15)

        with pytest.raises(CheckinError, match="a webhook is set"):
            await poll_while_a_webhook_is_set()


def test_the_update_path_is_the_public_urls() -> None:
    assert update_path(None) == "/telegram"
    assert update_path("https://bot.example.org") == "/telegram"
    assert update_path("https://bot.example.org/") == "/telegram"
    assert update_path("https://bot.example.org/checkin/updates") == "/checkin/updates"


# ---- redelivery, to two processes ---------------------------------------------------------


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[list[ServedWorld]]:
    """Two processes; an admin, a key worker, a safeguarding lead, an enrolled young person;
    the policy alerts the lead."""
    async with served(tmp_path / "two.db", 2, safeguarding_policy="alert_lead") as worlds:
        world = worlds[0]
        await add_staff(world, ADMIN, role="admin", name="Ada")
        await add_staff(world, LEAD, role="manager", name="Lee")
        (lead_id,) = (await world.rows("SELECT id FROM staff WHERE chat_id = 900202"))[0]
        await world.say(ADMIN, f"/safeguarding {lead_id} lead")
        await enrolled(world, YP, KW)
        yield worlds


async def redeliver(worlds: list[ServedWorld], update: dict[str, Any]) -> None:
    """The update, already handled, delivered again: to every process one after the other,
    then to every process at once."""
    for world in worlds:
        assert await post(world.url, update) == 200
    statuses = await asyncio.gather(*(post(w.url, update) for w in worlds))
    assert statuses == [200] * len(worlds)
    await worlds[0].idle()


def count(world: World, chat: int, needle: str) -> int:
    return sum(needle in m for m in world.texts(chat))


async def test_invite_and_addstaff_redelivered_change_nothing(two: list[ServedWorld]) -> None:
    world = two[0]
    api = world.api
    update = api.send_text(KW, "/invite CD")
    await world.idle()
    assert count(world, KW, "Invite for CD") == 1
    await redeliver(two, update)
    assert count(world, KW, "Invite for CD") == 1
    assert await world.rows("SELECT count(*) FROM invites WHERE label = 'CD'") == [(1,)]

    update = api.send_text(ADMIN, "/addstaff key_worker North Kim Lee")
    await world.idle()
    await redeliver(two, update)
    assert count(world, ADMIN, "Added Kim Lee") == 1
    assert await world.rows("SELECT count(*) FROM staff WHERE name = 'Kim Lee'") == [(1,)]
    link = re.search(r"start=([A-Za-z0-9_-]+)", world.last(ADMIN).content)
    assert link is not None

    # The staff invite link, opened once and delivered again: one welcome, one staff member.
    update = api.send_text(900301, f"/start {link.group(1)}")
    await world.idle()
    assert count(world, 900301, "Welcome, ") == 1
    await redeliver(two, update)
    assert count(world, 900301, "Welcome, ") == 1
    assert not any("already belongs" in m or "no longer" in m for m in world.texts(900301))
    assert await world.rows("SELECT count(*) FROM staff WHERE chat_id = 900301") == [(1,)]


async def test_an_invite_delivered_to_two_processes_at_once_is_made_once(
    two: list[ServedWorld],
) -> None:
    world = two[0]
    api = world.api
    assert world.app is not None
    await world.app.bot.delete_webhook()  # the test delivers, to both at once
    update = api.send_text(KW, "/invite EF")
    api.state.forget_update(update["update_id"])
    statuses = await asyncio.gather(*(post(w.url, update) for w in two))
    assert statuses == [200, 200]
    await world.idle()
    assert count(world, KW, "Invite for EF") == 1
    assert await world.rows("SELECT count(*) FROM invites WHERE label = 'EF'") == [(1,)]


async def test_get_in_touch_and_a_safeguarding_alert_redelivered_change_nothing(
    two: list[ServedWorld],
) -> None:
    world = two[0]
    api = world.api
    support = (await world.say(YP, "/support"))[-1]
    button = next(data for label, data in api.buttons(support) if "get in touch" in label)
    update = api.press_button(YP, support.message_id, button)
    await world.idle()
    assert count(world, KW, "asked you to get in touch") == 1
    await redeliver(two, update)
    assert count(world, KW, "asked you to get in touch") == 1
    assert count(world, YP, "I've told your key worker") == 1
    assert await world.rows("SELECT count(*) FROM contact_requests") == [(1,)]

    update = api.send_text(YP, RISK)
    await world.idle()
    assert count(world, LEAD, "Safeguarding alert") == 1
    signposts = count(world, YP, "call 999")
    await redeliver(two, update)
    assert count(world, LEAD, "Safeguarding alert") == 1
    assert count(world, YP, "call 999") == signposts
    assert await world.rows("SELECT count(*) FROM alerts") == [(1,)]


async def test_a_shared_check_in_redelivered_reaches_the_key_worker_once(
    two: list[ServedWorld],
) -> None:
    world = two[0]
    api = world.api
    message = [m for m in api.messages(YP) if api.buttons(m)][-1]
    for _ in range(9):
        message = (await world.press(YP, "🙂", message))[-1]
    message = (await world.say(YP, "It has been good"))[-1]
    share = next(data for label, data in api.buttons(message) if label.startswith("🤝"))
    update = api.press_button(YP, message.message_id, share)
    await world.idle()
    assert count(world, KW, "shared their check-in") == 1
    await redeliver(two, update)
    assert count(world, KW, "shared their check-in") == 1


# ---- the commands and settings ------------------------------------------------------------


async def test_webhook_set_info_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clock = ManualClock(START)
    async with LocalBotAPI(SPEC, token=TOKEN, bot_username=BOT_USERNAME, clock=clock) as api:
        settings = standin_settings(
            api,
            f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
            webhook_url="https://bot.example.org/telegram",
            webhook_secret=SECRET,
            webhook_max_connections=7,
        )
        assert await cli.webhook(argparse.Namespace(webhook_command="set"), settings) == 0
        hook = api.state.webhook
        assert hook is not None
        assert (hook.url, hook.secret, hook.max_connections) == (
            "https://bot.example.org/telegram",
            SECRET,
            7,
        )
        assert api.state.allowed_updates == list(Update.ALL_TYPES)
        assert await cli.webhook(argparse.Namespace(webhook_command="info"), settings) == 0
        out = capsys.readouterr().out
        assert "url: https://bot.example.org/telegram" in out
        assert "max connections: 7" in out
        assert SECRET not in out
        assert await cli.webhook(argparse.Namespace(webhook_command="delete"), settings) == 0
        assert api.state.webhook is None
        api.assert_no_violations()


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({}, ["serve"], "CHECKIN_WEBHOOK_SECRET: is not set"),
        ({"CHECKIN_WEBHOOK_SECRET": "has space"}, ["serve"], "CHECKIN_WEBHOOK_SECRET: must be"),
        ({"CHECKIN_WEBHOOK_SECRET": "x" * 257}, ["serve"], "CHECKIN_WEBHOOK_SECRET: must be"),
        ({"CHECKIN_WEBHOOK_URL": "ftp://x"}, ["webhook", "set"], "CHECKIN_WEBHOOK_URL: must be"),
        ({"CHECKIN_WEBHOOK_SECRET": "abc"}, ["webhook", "set"], "CHECKIN_WEBHOOK_URL: is not set"),
        ({"CHECKIN_WEBHOOK_MAX_CONNECTIONS": "0"}, ["serve"], "CHECKIN_WEBHOOK_MAX_CONNECTIONS:"),
        ({}, ["serve", "--port", "99999"], "--port"),
    ],
)
def test_a_bad_webhook_setting_is_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], args: list[str], message: str
) -> None:
    result = checkin_bot(tmp_path, *args, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert message in lines[-1], result.stderr
    assert "Traceback" not in result.stderr
    assert "has space" not in result.stderr


def test_migrate_brings_the_database_to_the_newest_migration(tmp_path: Path) -> None:
    result = checkin_bot(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"the database is at migration {head_revision()}"
    again = checkin_bot(tmp_path, "migrate")
    assert again.stdout == result.stdout


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        f"CHECKIN_{name.upper()}"
        for name in Settings.model_fields
        if f"`CHECKIN_{name.upper()}`" not in readme
    ]
    assert not missing, f"settings missing from README's table: {missing}"


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("checkin-bot serve", "checkin-bot webhook set", "docs/deploy.md"):
        assert command in readme
