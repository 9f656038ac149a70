"""Live updates for the page: the stand-in's events and the playground's own, to every listener.

One subscription to the local Bot API's event queue is shared by all open pages; each page
(one Server-Sent Events connection) gets its own queue of JSON-ready dicts. ``None`` in a queue
means "the playground is stopping".
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from local_bot_api import ApiEvent, LocalBotAPI

Event = dict[str, Any]


class Broadcaster:
    """Fans events out to the listening pages."""

    def __init__(self, api: LocalBotAPI) -> None:
        self.api = api
        self.listeners: list[asyncio.Queue[Event | None]] = []
        self._source: asyncio.Queue[ApiEvent] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Subscribe to the stand-in and start forwarding."""
        self._source = self.api.subscribe()
        self._task = asyncio.get_running_loop().create_task(self._forward(self._source))

    async def _forward(self, source: asyncio.Queue[ApiEvent]) -> None:
        while True:
            event = await source.get()
            if event.kind == "update_queued":
                continue  # the page learns of the person's own actions from the playground
            self.publish(_slim(event))

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every listening page."""
        for queue in self.listeners:
            queue.put_nowait(event)

    def listen(self) -> asyncio.Queue[Event | None]:
        """A new listener's queue."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.listeners.append(queue)
        return queue

    def forget(self, queue: asyncio.Queue[Event | None]) -> None:
        """Stop delivering to ``queue`` (its page went away)."""
        if queue in self.listeners:
            self.listeners.remove(queue)

    def close(self) -> None:
        """Tell every listening page that the playground is stopping."""
        for queue in self.listeners:
            queue.put_nowait(None)

    async def aclose(self) -> None:
        """Stop forwarding and drop the subscription."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._source is not None:
            self.api.unsubscribe(self._source)
            self._source = None


def _slim(event: ApiEvent) -> Event:
    """The event without the message body: the page fetches the chat again anyway."""
    out = event.to_dict()
    out.pop("message", None)
    return out
