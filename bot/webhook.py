"""``checkin-bot serve``: Telegram posts updates here (a webhook), and they are confirmed only
after they have been handled, as :mod:`bot.polling` does.

Telegram sends each update as a POST with the secret given to ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header. A wrong or missing secret gets 401 and changes
nothing. Otherwise the update is handled completely (``Application.process_update``: the
handlers, and the error handler when one fails) and only then answered 200. A handler's error
still answers 200, so Telegram does not deliver a broken update again and again; a process that
dies mid-update answers nothing, and Telegram delivers the update again (perhaps to another
process), which changes nothing (:mod:`storage.handled`, and the compare-and-set of every press).

PTB's own ``run_webhook`` is not used: it answers 200 as soon as the update is queued, before any
handler ran. The same application also answers ``GET /healthz`` (database reachable and migrated:
200, else 503) and ``GET /metrics`` (Prometheus text format, :mod:`bot.metrics`).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.metrics import CONTENT_TYPE, Metrics
from bot.polling import handle, started
from conversations.runtime import Runtime
from storage import health

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
DEFAULT_PATH = "/telegram"
APP_KEY: web.AppKey[Application] = web.AppKey("checkin.application")  # type: ignore[type-arg]


def update_path(public_url: str | None) -> str:
    """The path updates are posted to: the path of ``CHECKIN_WEBHOOK_URL`` (``/telegram`` when
    it has none, or is not set)."""
    path = urlsplit(public_url).path if public_url else ""
    return path if path not in ("", "/") else DEFAULT_PATH


def make_web_app(app: Application, secret: str, path: str = DEFAULT_PATH) -> web.Application:  # type: ignore[type-arg]
    """The aiohttp application of ``serve``: the update route, ``/healthz`` and ``/metrics``."""
    expected = secret.encode()

    async def on_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("an update was refused: wrong or missing secret token")
            return web.Response(status=401)
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, app.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            log.warning("an update was refused: not a Telegram update")
            return web.Response(status=400)
        rt = Runtime.of(app)
        lost = rt.database_lost
        await handle(app, update)
        if rt.database_lost != lost:  # not handled: the database could not be reached
            log.warning("an update waits for the database; Telegram will deliver it again")
            return web.Response(status=503)
        return web.Response(status=200)

    web_app = web.Application(client_max_size=1024 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_post(path, on_update)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers and is at the newest migration; 503 (with the reason)
    otherwise."""
    rt = Runtime.of(request.app[APP_KEY])
    try:
        async with rt.db.read() as conn:
            current = await health.migrations_current(conn)
    except Exception as exc:  # any database failure means "not healthy", named, never raised
        log.warning("health check: the database is unreachable (%s)", type(exc).__name__)
        return web.Response(status=503, text="database unreachable\n")
    if not current:
        return web.Response(status=503, text="migrations not current\n")
    return web.Response(text="ok\n")


async def metrics(request: web.Request) -> web.Response:
    """The counters in Prometheus' text format, with prompts by status read now."""
    app = request.app[APP_KEY]
    counted = Metrics.of(app)
    try:
        async with Runtime.of(app).db.read() as conn:
            counted.set_prompt_counts(await health.prompt_counts(conn))
    except Exception as exc:  # the figures that need the database are left as they were
        log.warning("metrics: prompts could not be counted (%s)", type(exc).__name__)
    body = counted.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


@contextlib.asynccontextmanager
async def serving(
    app: Application,  # type: ignore[type-arg]
    secret: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8081,
    path: str = DEFAULT_PATH,
) -> AsyncIterator[int]:
    """Start the application (the one start sequence, :func:`bot.polling.started`), then listen
    on ``host:port``; the block receives the real port. On leaving, stop listening first (no
    update is taken that cannot be finished), then stop the application."""
    async with started(app):
        runner = web.AppRunner(
            make_web_app(app, secret, path), access_log=None, shutdown_timeout=10.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port, reuse_address=True)
            await site.start()
            real_port = int(runner.addresses[0][1]) if runner.addresses else port
            log.info("serving updates on %s:%d", host, real_port)
            yield real_port
        finally:
            await runner.cleanup()
