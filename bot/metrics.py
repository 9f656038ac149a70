"""What a running bot counts, in Prometheus' text format (``/metrics`` of ``checkin-bot serve``).

Through the maintained client library (``prometheus_client``), one registry per application so
several bots in one process (the tests) never mix their figures:

- ``checkin_updates_handled_total``: updates handled completely (polling or webhook);
- ``checkin_handler_errors_total``: updates whose handler failed (the error handler answered);
- ``checkin_update_seconds``: how long handling one update took (a histogram);
- ``checkin_prompts{status}``: prompts by status (due, sending, sent, ...), read at each scrape;
- ``checkin_telegram_errors_total{kind}``: Bot API calls that failed, by kind (``retry_after``,
  ``forbidden``, ``bad_request``, ``server_error``, ``timed_out``, ``network``, ...), counted
  where every call passes: the HTTP request object the application is built with.

No label holds an identifier or text.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram.error import NetworkError, TimedOut
from telegram.ext import Application
from telegram.request import HTTPXRequest

from core.prompt_status import PromptStatus

CONTENT_TYPE = CONTENT_TYPE_LATEST
KEY = "checkin.metrics"
PROMPT_STATUSES = tuple(status.value for status in PromptStatus)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def error_kind(status: int) -> str:
    """The kind of a Bot API error answer, by its HTTP status."""
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        429: "retry_after",
    }.get(status, "server_error" if status >= 500 else f"http_{status}")


class Metrics:
    """The counters of one application; :meth:`render` is the ``/metrics`` answer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            "checkin_updates_handled",
            "Telegram updates handled completely (then confirmed to Telegram).",
            registry=self.registry,
        )
        self.handler_errors = Counter(
            "checkin_handler_errors",
            "Updates whose handler failed (the error handler answered the person).",
            registry=self.registry,
        )
        self.latency = Histogram(
            "checkin_update_seconds",
            "Time to handle one update completely, before it is confirmed to Telegram.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.prompts = Gauge(
            "checkin_prompts",
            "Prompts in the database, by status.",
            ["status"],
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "checkin_telegram_errors",
            "Bot API calls that failed, by kind.",
            ["kind"],
            registry=self.registry,
        )
        for kind in ("retry_after", "forbidden", "bad_request", "server_error", "timed_out"):
            self.telegram_errors.labels(kind)

    def request(self, *, polling: bool = False) -> CountingRequest:
        """The HTTP request object for ``ApplicationBuilder().request(...)`` (and, with
        ``polling``, ``get_updates_request``): PTB's own, counting failures."""
        return CountingRequest(self, connection_pool_size=1 if polling else 256)

    def set_prompt_counts(self, counts: dict[str, int]) -> None:
        for status in sorted({*PROMPT_STATUSES, *counts}):
            self.prompts.labels(status).set(counts.get(status, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def attach(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Keep these metrics in ``app``, where :meth:`of` finds them."""
        app.bot_data[KEY] = self

    @staticmethod
    def of(app: Application[Any, Any, Any, Any, Any, Any]) -> Metrics:
        metrics = app.bot_data[KEY]
        assert isinstance(metrics, Metrics), "build_application attaches the metrics"
        return metrics


class CountingRequest(HTTPXRequest):
    """PTB's HTTPX request, counting each failed Bot API call in :attr:`Metrics.telegram_errors`."""

    def __init__(self, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, payload = await super().do_request(*args, **kwargs)
        except TimedOut:
            self._metrics.telegram_errors.labels("timed_out").inc()
            raise
        except NetworkError:
            self._metrics.telegram_errors.labels("network").inc()
            raise
        if status >= 400:
            self._metrics.telegram_errors.labels(error_kind(status)).inc()
        return status, payload
