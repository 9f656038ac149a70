"""Webhook delivery, as Telegram does it: after ``setWebhook``, updates are POSTed to the bot.

Each update goes as a JSON body with the secret given to ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header. Updates of one chat go one at a time, in order: the
next waits until the previous was answered 2xx. An update is confirmed (forgotten) only by a 2xx
answer; any other answer, a closed connection, or no answer within :attr:`timeout` is recorded as
the webhook's last error and the update is delivered again after :attr:`retry_seconds`. At most
``max_connections`` deliveries are in flight at once. :meth:`WebhookDelivery.balance` spreads
deliveries over several URLs in turn (round-robin), as a load balancer in front of several bot
processes would; without it every delivery goes to the URL given to ``setWebhook``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from local_bot_api.models import Webhook
from local_bot_api.state import TelegramState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
__all__ = ["SECRET_HEADER", "Delivery", "Webhook", "WebhookDelivery", "chat_key"]


@dataclass(frozen=True)
class Delivery:
    """One POST of an update: where to, and the answer's status (None: no answer in time, or
    the connection failed)."""

    update_id: int
    url: str
    status: int | None

    @property
    def confirmed(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def chat_key(update: dict[str, Any]) -> object:
    """The chat an update belongs to (updates of one chat are delivered one at a time); an
    update without a chat is its own key."""
    payload = next(value for key, value in update.items() if key != "update_id")
    if isinstance(payload, dict):
        for holder in (payload, payload.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return holder["chat"].get("id")
        sender = payload.get("from")
        if isinstance(sender, dict):
            return sender.get("id")
    return ("update", update["update_id"])


class WebhookDelivery:
    """Delivers pending updates while a webhook is set; runs as one task of the stand-in."""

    def __init__(
        self, state: TelegramState, *, timeout: float = 10.0, retry_seconds: float = 0.05
    ) -> None:
        self.state = state
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.deliveries: list[Delivery] = []
        self.targets: list[str] = []
        self._turn = 0
        self._inflight: dict[int, object] = {}  # update id -> chat key
        self._inflight_url: dict[int, str] = {}
        self._retry_at: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def balance(self, urls: list[str]) -> None:
        """Deliver to these URLs in turn instead of the webhook's own (a load balancer)."""
        self.targets = list(urls)
        self.state.updates_changed.notify()

    @property
    def in_flight(self) -> int:
        """Deliveries waiting for their answer."""
        return len(self._inflight)

    def in_flight_to(self, url: str) -> list[int]:
        """The updates delivered to ``url`` and waiting for their answer."""
        return sorted(update for update, target in self._inflight_url.items() if target == url)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._runner = asyncio.create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while True:
            self._dispatch()
            pending = {u["update_id"] for u in self.state.pending}
            self._retry_at = {u: at for u, at in self._retry_at.items() if u in pending}
            # Woken by every new update, setWebhook and each delivery's end; a delivery to
            # try again is looked at after retry_seconds.
            await self.state.updates_changed.wait_once(self.retry_seconds if self._retry_at else 60)

    def _dispatch(self) -> None:
        hook = self.state.webhook
        if hook is None:
            return
        now = asyncio.get_running_loop().time()
        busy = set(self._inflight.values())
        for update in self.state.take_batch(len(self.state.pending)):
            if len(self._inflight) >= hook.max_connections:
                return
            update_id, chat = update["update_id"], chat_key(update)
            if chat in busy:
                continue  # an earlier update of this chat is not confirmed yet
            busy.add(chat)
            if self._retry_at.get(update_id, 0.0) > now:
                continue
            self._inflight[update_id] = chat
            task = asyncio.create_task(self._deliver(hook, update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self.state.activity.notify()

    def _next_url(self, hook: Webhook) -> str:
        if not self.targets:
            return hook.url
        url = self.targets[self._turn % len(self.targets)]
        self._turn += 1
        return url

    async def _deliver(self, hook: Webhook, update: dict[str, Any]) -> None:
        assert self._session is not None
        update_id = update["update_id"]
        url = self._next_url(hook)
        self._inflight_url[update_id] = url
        self.state.activity.notify()
        headers = {"Content-Type": "application/json"}
        if hook.secret:
            headers[SECRET_HEADER] = hook.secret
        status: int | None = None
        try:
            async with self._session.post(
                url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = None
        finally:
            self._inflight.pop(update_id, None)
            self._inflight_url.pop(update_id, None)
        delivery = Delivery(update_id, url, status)
        self.deliveries.append(delivery)
        if delivery.confirmed:
            self._retry_at.pop(update_id, None)
            self.state.forget_update(update_id)
        else:
            hook.last_error_date = self.state.now()
            hook.last_error_message = (
                f"Wrong response from the webhook: {status}"
                if status is not None
                else "Connection timed out or was closed"
            )
            self._retry_at[update_id] = asyncio.get_running_loop().time() + self.retry_seconds
        self.state.updates_changed.notify()
        self.state.activity.notify()
