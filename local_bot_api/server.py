"""The local Bot API server: aiohttp on 127.0.0.1, speaking Telegram's HTTP protocol.

Point python-telegram-bot at it with ``ApplicationBuilder().base_url(api.base_url)
.base_file_url(api.base_file_url)``. Requests arrive at ``/bot<TOKEN>/<method>`` as form,
multipart or JSON bodies; answers are ``{"ok": true, "result": ...}`` or Telegram's error
shape. Every request is checked against Telegram's limits and, when ``spec_path`` is given,
against the Bot API spec; a failed check answers 400 and is recorded in :attr:`violations`.
A client that goes away mid-request (a bot process killed, a request timed out) is a normal
event: one debug line, no answer, no traceback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from local_bot_api.faults import Fault, FaultPlan, SendRateLimiter
from local_bot_api.limits import check_limits
from local_bot_api.methods import BLOCKED, CONFLICT, SEND_METHODS, BotMethods
from local_bot_api.models import ApiError, Clock, FaultKind, RecordedError, UploadedFile
from local_bot_api.spec import ApiSpec, decode_params
from local_bot_api.state import TelegramState
from local_bot_api.users import UserSimulator
from local_bot_api.webhook import WebhookDelivery

log = logging.getLogger(__name__)

_MAX_BODY = 64 * 1024 * 1024


class LocalBotAPI(UserSimulator):
    """A Telegram Bot API stand-in plus the simulated users talking to the bot.

    Use as ``async with LocalBotAPI(spec_path) as api: ...`` or call :meth:`start`/:meth:`stop`.
    """

    def __init__(
        self,
        spec_path: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "123456:TEST",  # noqa: S107 - a fake token for the fake API
        bot_username: str = "checkin_test_bot",
        bot_id: int | None = None,
        clock: Clock | None = None,
        send_limit_per_second: float | None = None,
        enforce_per_chat_limit: bool = False,
        hang_seconds: float = 30.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.spec = ApiSpec.load(spec_path) if spec_path is not None else None
        self.host, self.port, self.token = host, port, token
        state = TelegramState(
            bot_id=bot_id if bot_id is not None else int(token.split(":", 1)[0]),
            bot_username=bot_username,
            clock=clock,
        )
        super().__init__(state, BotMethods(state))
        self.hang_seconds = hang_seconds
        self.webhook = WebhookDelivery(state, timeout=webhook_timeout)
        self.faults = FaultPlan()
        self.too_many_requests = 0
        self.request_counts: Counter[str] = Counter()
        self._limiter = SendRateLimiter(
            send_limit_per_second, enforce_per_chat_limit, lambda: asyncio.get_running_loop().time()
        )
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ---- lifecycle ----------------------------------------------------------------------
    def make_app(self) -> web.Application:
        """The aiohttp application (a playground can add its own routes to it)."""
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    async def start(self) -> None:
        """Start serving; :attr:`port` is the real port afterwards."""
        self._stopping.clear()
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = int(sock.getsockname()[1])  # the real port when port=0
        await web.SockSite(self._runner, sock).start()
        await self.webhook.start()

    async def stop(self) -> None:
        """Release waiting long polls and hung requests, then close the server."""
        self._stopping.set()
        self.state.updates_changed.notify()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: ``http://127.0.0.1:PORT/bot``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://{self.host}:{self.port}/file/bot"

    # ---- test helpers -------------------------------------------------------------------
    @property
    def violations(self) -> list[str]:
        """Every rejected invalid request, as ``"<method>: Bad Request: <what>"``."""
        return self.state.violations

    @property
    def errors(self) -> list[RecordedError]:
        """Every error answer (violations, faults, blocked, not found, ...)."""
        return self.state.errors

    def assert_no_violations(self) -> None:
        """Fail (``AssertionError``) when the bot made any invalid request."""
        if self.state.violations:
            listing = "\n  ".join(self.state.violations)
            raise AssertionError(f"the bot made invalid Bot API requests:\n  {listing}")

    def inject_fault(
        self,
        method: str,
        kind: FaultKind,
        *,
        times: int = 1,
        retry_after: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"``: any but getUpdates) fail.

        ``retry_after``: 429 with ``parameters.retry_after``; ``server_error``: 500;
        ``blocked``: 403 "bot was blocked by the user"; ``unauthorized``: 401, as for a revoked
        token; ``conflict``: 409, as when another process polls with the same token; ``hang``:
        hold the request for :attr:`hang_seconds` (or until :meth:`stop`), then process it
        normally (the client has usually timed out by then, as when Telegram's answer is lost);
        ``reset``: close the connection without an answer. ``chat_id`` limits the fault to
        requests for that chat.
        """
        self.faults.add(Fault(method.lower(), kind, times, retry_after, chat_id))

    # ---- HTTP ---------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = self._canonical(request.match_info["method"])
        if method is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        self.request_counts[method] += 1
        self.state.activity.notify()
        counted = int(method != "getUpdates")
        self.state.inflight += counted
        try:
            result = await self._process(method, request)
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            self.state.record_error(
                method, exc.error_code, exc.description, violation=exc.violation
            )
            return web.json_response(exc.to_json(), status=exc.error_code)
        except ConnectionResetError:  # aiohttp's "Connection lost", while the body was read
            log.debug("a client went away during %s", method)
            return web.Response(status=499)  # never sent: the connection is gone
        finally:
            self.state.inflight -= counted
            self.state.activity.notify()

    def _canonical(self, name: str) -> str | None:
        if self.spec is not None:
            return self.spec.canonical_method(name)
        for known in (*self._methods.handlers, "getUpdates"):
            if known.lower() == name.lower():
                return known
        return name  # without a spec every method name is accepted

    async def _process(self, method: str, request: web.Request) -> Any:
        """Read, validate, apply faults and limits, then run the method."""
        raw, files = await _read_params(request)
        field_types = self.spec.field_types(method) if self.spec is not None else None
        params = decode_params(raw, field_types)
        problems = self.spec.check_request(method, raw, files) if self.spec is not None else []
        problems += check_limits(method, params)
        if problems:
            raise ApiError(400, "Bad Request: " + "; ".join(problems), violation=True)
        fault = self.faults.take(method, params.get("chat_id"))
        if fault is not None:
            await self._apply_fault(fault, request)
        if method in SEND_METHODS:
            self._check_rate(params.get("chat_id"))
        if method == "getUpdates":
            return await self._methods.get_updates(params, self._stopping)
        return self._methods.call(method, params, files)

    def _check_rate(self, chat_id: object) -> None:
        retry_after = self._limiter.check(chat_id)
        if retry_after is not None:
            self.too_many_requests += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    async def _apply_fault(self, fault: Fault, request: web.Request) -> None:
        if fault.kind == "retry_after":
            raise ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                retry_after=fault.retry_after,
            )
        if fault.kind == "server_error":
            raise ApiError(500, "Internal Server Error")
        if fault.kind == "blocked":
            raise ApiError(403, BLOCKED)
        if fault.kind == "unauthorized":
            raise ApiError(401, "Unauthorized")
        if fault.kind == "conflict":
            raise ApiError(409, CONFLICT)
        if fault.kind == "hang":
            try:
                async with asyncio.timeout(self.hang_seconds):
                    await self._stopping.wait()
            except TimeoutError:
                return
            raise ApiError(502, "Bad Gateway: the local API is stopping")
        if request.transport is not None:  # "reset"
            request.transport.abort()
        raise asyncio.CancelledError  # end the handler without writing an answer

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        upload = self.state.files.get(file_id)
        if upload is None:
            raise web.HTTPNotFound
        return web.Response(body=upload.data, content_type=upload.content_type)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Query string + body (form, multipart or JSON) -> raw values and uploaded files."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, "Bad Request: the request body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: the JSON body must be an object")
        raw.update(body)
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                files[name] = UploadedFile(value.filename, value.content_type, data)
            else:
                raw[name] = str(value)
    return raw, files
