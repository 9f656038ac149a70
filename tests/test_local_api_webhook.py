"""The local Bot API stand-in's webhook delivery, as Telegram does it, through the real
python-telegram-bot HTTP stack (``setWebhook`` and friends) and plain aiohttp receivers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot as PTBBot
from telegram.error import Conflict

from local_bot_api import LocalBotAPI
from local_bot_api.webhook import SECRET_HEADER, chat_key
from tests.test_local_api import SPEC, TOKEN

SECRET = "s3cret_-token"
Answer = Callable[[dict[str, Any]], Awaitable[int]]


class Receiver:
    """A web server standing in for a bot process: records each POST, answers what ``answer``
    says (200 by default)."""

    def __init__(self, notify: Callable[[], None]) -> None:
        self.notify = notify
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.answer: Answer | None = None
        self.active = 0
        self.most_active = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _post(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.received.append((body, request.headers.get(SECRET_HEADER)))
        self.notify()  # the test's waits re-check their condition
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            status = 200 if self.answer is None else await self.answer(body)
        finally:
            self.active -= 1
        return web.Response(status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._post)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def ids(self) -> list[int]:
        return [body["update_id"] for body, _ in self.received]


@pytest.fixture
async def api() -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI(SPEC, token=TOKEN, webhook_timeout=0.5) as server:
        yield server


@pytest.fixture
async def bot(api: LocalBotAPI) -> AsyncIterator[PTBBot]:
    async with PTBBot(TOKEN, base_url=api.base_url) as client:
        yield client


@pytest.fixture
async def receivers(api: LocalBotAPI) -> AsyncIterator[list[Receiver]]:
    started = [Receiver(api.state.activity.notify) for _ in range(3)]
    for receiver in started:
        await receiver.start()
    yield started
    for receiver in started:
        await receiver.stop()


async def test_updates_are_posted_with_the_secret_and_get_updates_is_refused(
    api: LocalBotAPI, bot: PTBBot, receivers: list[Receiver]
) -> None:
    hook = receivers[0]
    api.send_text(11, "before")
    assert await bot.set_webhook(hook.url, secret_token=SECRET, max_connections=5)
    api.send_text(11, "after")
    await api.wait_until(lambda: not api.state.pending)
    assert [body["message"]["text"] for body, _ in hook.received] == ["before", "after"]
    assert {secret for _, secret in hook.received} == {SECRET}
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == (hook.url, 0, 5)
    assert info.last_error_message is None

    assert await bot.delete_webhook()
    api.send_text(11, "polled")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["polled"]
    assert len(hook.received) == 2
    api.assert_no_violations()


async def test_a_chats_updates_go_one_at_a_time_and_other_chats_do_not_wait(
    api: LocalBotAPI, bot: PTBBot, receivers: list[Receiver]
) -> None:
    hook = receivers[0]
    release = asyncio.Event()

    async def hold_first(body: dict[str, Any]) -> int:
        if body["message"]["text"] == "a1":
            await release.wait()
        return 200

    hook.answer = hold_first
    api.webhook.timeout = 10.0
    await bot.set_webhook(hook.url, secret_token=SECRET)
    api.send_text(21, "a1")
    api.send_text(21, "a2")
    api.send_text(22, "b1")
    await api.wait_until(lambda: len(hook.received) == 2)
    texts = [body["message"]["text"] for body, _ in hook.received]
    assert texts == ["a1", "b1"]  # a2 waits for a1's answer; b1 does not
    await api.wait_until(lambda: api.webhook.in_flight == 1)
    assert [u["message"]["text"] for u in api.state.pending] == ["a1", "a2"]
    release.set()
    await api.wait_until(lambda: not api.state.pending)
    assert [body["message"]["text"] for body, _ in hook.received] == ["a1", "b1", "a2"]


async def test_a_non_2xx_answer_or_a_timeout_is_delivered_again(
    api: LocalBotAPI, bot: PTBBot, receivers: list[Receiver]
) -> None:
    hook = receivers[0]
    answers = iter([500, 401, "hang", 200])

    async def flaky(body: dict[str, Any]) -> int:
        answer = next(answers)
        if answer == "hang":
            await asyncio.sleep(5)  # longer than the stand-in's 0.5 s timeout: no answer
            return 200
        assert isinstance(answer, int)
        return answer

    hook.answer = flaky
    await bot.set_webhook(hook.url, secret_token=SECRET)
    update = api.send_text(31, "again")
    await api.wait_until(lambda: not api.state.pending, timeout=10)
    assert hook.ids() == [update["update_id"]] * 4
    statuses = [d.status for d in api.webhook.deliveries]
    assert statuses == [500, 401, None, 200]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Connection timed out or was closed"
    assert info.last_error_date is not None


async def test_deliveries_are_spread_round_robin_within_max_connections(
    api: LocalBotAPI, bot: PTBBot, receivers: list[Receiver]
) -> None:
    release = asyncio.Event()

    async def held(body: dict[str, Any]) -> int:
        await release.wait()
        return 200

    for receiver in receivers:
        receiver.answer = held
    api.webhook.timeout = 10.0
    await bot.set_webhook(receivers[0].url, secret_token=SECRET, max_connections=4)
    api.webhook.balance([r.url for r in receivers])
    for chat in range(41, 47):
        api.send_text(chat, "hello")
    await api.wait_until(lambda: sum(len(r.received) for r in receivers) == 4)
    assert api.webhook.in_flight == 4  # at most max_connections at once
    release.set()
    await api.wait_until(lambda: not api.state.pending)
    assert [len(r.received) for r in receivers] == [2, 2, 2]
    delivered = sorted(i for r in receivers for i in r.ids())
    assert len(delivered) == len(set(delivered)) == 6


async def test_a_bad_webhook_is_refused(api: LocalBotAPI, bot: PTBBot) -> None:
    with pytest.raises(Exception, match="unallowed characters"):
        await bot.set_webhook("https://example.org/hook", secret_token="no spaces")
    assert api.state.webhook is None


def test_the_chat_of_an_update() -> None:
    message = {"update_id": 1, "message": {"chat": {"id": 5}, "from": {"id": 5}}}
    press = {"update_id": 2, "callback_query": {"from": {"id": 6}, "message": {"chat": {"id": 7}}}}
    member = {"update_id": 3, "my_chat_member": {"chat": {"id": 8}, "from": {"id": 8}}}
    assert [chat_key(message), chat_key(press), chat_key(member)] == [5, 7, 8]
    assert chat_key({"update_id": 4, "poll": {"id": "x"}}) == ("update", 4)
