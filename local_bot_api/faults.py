"""Injected faults and Telegram's flood limits (sliding windows, O(1) amortised per send)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from local_bot_api.models import FaultKind

ANY_METHOD = "*"


@dataclass
class Fault:
    """A fault waiting to hit the next matching request(s)."""

    method: str  # lower-case method name, or "*" for any method except getUpdates
    kind: FaultKind
    remaining: int
    retry_after: int
    chat_id: int | None


class FaultPlan:
    """Faults to apply, in the order they were injected."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        self.faults.append(fault)

    def take(self, method: str, chat_id: object) -> Fault | None:
        """The first fault matching this request, consuming one of its ``times``."""
        name = method.lower()
        for fault in self.faults:
            if fault.method == ANY_METHOD and name == "getupdates":
                continue
            if fault.method not in (name, ANY_METHOD):
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault."""
        self.faults.clear()


class SendRateLimiter:
    """Telegram-like flood control for sends.

    Global: at most ``per_second`` sends in any sliding 1-second window. Per chat (optional):
    at most one send per chat per second. :meth:`check` returns ``retry_after`` seconds when a
    send must be refused, else records the send and returns ``None``.
    """

    def __init__(self, per_second: float | None, per_chat: bool, now: Callable[[], float]) -> None:
        self.per_second = per_second
        self.per_chat = per_chat
        self._now = now
        self._recent: deque[float] = deque()
        self._last_by_chat: dict[object, float] = {}

    def check(self, chat_id: object) -> int | None:
        """``None`` if the send may go ahead (and count it), else seconds to wait."""
        now = self._now()
        if self.per_second is not None:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.per_second:
                return max(1, math.ceil(self._recent[0] + 1.0 - now))
        if self.per_chat:
            last = self._last_by_chat.get(chat_id)
            if last is not None and now - last < 1.0:
                return max(1, math.ceil(last + 1.0 - now))
            self._last_by_chat[chat_id] = now
        if self.per_second is not None:
            self._recent.append(now)
        return None
