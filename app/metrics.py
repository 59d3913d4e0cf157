"""Prometheus metrics of the service, in a registry of its own per application."""

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.batching import BatchStats

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter("sentiment_http_requests", "HTTP requests answered.", labels, registry=self.registry)
        self.request_seconds = Histogram(
            "sentiment_http_request_duration_seconds",
            "Time from receiving a request to sending its last byte.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = self._histogram("sentiment_batch_size", "Texts per model call.", _BATCH_BUCKETS)
        self.queue_depth = Gauge("sentiment_queue_depth", "Texts waiting for a model call.", registry=self.registry)
        self.queue_wait_seconds = self._histogram(
            "sentiment_queue_wait_seconds", "Time a text waits in the queue before its model call starts."
        )
        self.inference_seconds = self._histogram("sentiment_inference_seconds", "Duration of one model call.")
        self.explain_seconds = self._histogram(
            "sentiment_explain_seconds", "Duration of one call of the explain signature."
        )
        self.explain_batch_size = self._histogram(
            "sentiment_explain_batch_size", "Texts per explain call.", _BATCH_BUCKETS
        )
        self.model = Info("sentiment_model", "The model version being served.", registry=self.registry)

    def _histogram(self, name: str, documentation: str, buckets: tuple[float, ...] = _LATENCY_BUCKETS) -> Histogram:
        return Histogram(name, documentation, buckets=buckets, registry=self.registry)

    def observe_batch(self, stats: BatchStats) -> None:
        self.batch_size.observe(stats.size)
        self.inference_seconds.observe(stats.inference_s)
        for wait in stats.queue_waits_s:
            self.queue_wait_seconds.observe(wait)

    def observe_explain_batch(self, stats: BatchStats) -> None:
        self.explain_batch_size.observe(stats.size)
        self.explain_seconds.observe(stats.inference_s)


class RequestMetricsMiddleware:
    """Count and time every HTTP request by method, route template and status code."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            labels = (scope["method"], getattr(route, "path", "unmatched"), str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.request_seconds.labels(*labels).observe(time.perf_counter() - started)
