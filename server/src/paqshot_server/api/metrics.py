"""Prometheus metrics at ``/metrics``: this API's requests, plus job, queue and webhook figures read from the
database at scrape time (the workers are other processes; the database holds what they did)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ..storage import stats
from .state import ApiState

DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


class DatabaseCollector(Collector):
    """Figures computed from the app database on each scrape."""

    def __init__(self, api: ApiState) -> None:
        self.api = api

    def collect(self) -> Iterator[Metric]:
        db = self.api.db.get()
        prefix = self.api.settings.brand.slug
        jobs = GaugeMetricFamily(f"{prefix}_jobs", "Jobs by state", labels=["state"])
        for state in ("queued", "running", "completed", "failed"):
            jobs.add_metric([state], stats.job_states(db).get(state, 0))
        yield jobs
        queue = GaugeMetricFamily(f"{prefix}_queue_depth", "Messages waiting in the job queue")
        queue.add_metric([], self.api.queue.pending())
        yield queue
        hist = HistogramMetricFamily(
            f"{prefix}_job_duration_seconds", "Run time of completed jobs", labels=["style", "engine"]
        )
        for style, engine, counts, total, n in stats.job_durations(db, DURATION_BUCKETS):
            buckets = [(str(b), c) for b, c in zip(DURATION_BUCKETS, counts, strict=True)] + [("+Inf", n)]
            hist.add_metric([style, engine], buckets, total)
        yield hist
        hooks = CounterMetricFamily(f"{prefix}_webhook_attempts", "Webhook delivery attempts", labels=["outcome"])
        for outcome, n in sorted(stats.webhook_attempts(db).items()):
            hooks.add_metric([outcome], n)
        yield hooks
        recoveries = CounterMetricFamily(f"{prefix}_lease_recoveries", "Jobs re-queued after a worker died")
        recoveries.add_metric([], stats.counter(db, "lease_recoveries"))
        yield recoveries


class Metrics:
    """Per-app registry (no global state: two apps in one process do not share counters)."""

    def __init__(self, api: ApiState) -> None:
        prefix = api.settings.brand.slug
        self.registry = CollectorRegistry()
        self.requests = Counter(
            f"{prefix}_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            f"{prefix}_http_request_duration_seconds", "HTTP request latency", ["route"], registry=self.registry
        )
        self.registry.register(DatabaseCollector(api))

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Count every HTTP request by route template and status, and time it by route.

        Each labelled child is looked up once and kept (prometheus_client's ``labels`` takes a lock and builds
        its key on every call): a request costs two dict lookups and the two updates.
        """
        counters: dict[tuple[str, str, int], Any] = {}
        timers: dict[str, Any] = {}

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def capture(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, capture)
            finally:
                route = scope.get("path_template") or "unmatched"  # the template keeps label cardinality bounded
                method = str(scope.get("method", ""))
                counter = counters.get((method, route, status))
                if counter is None:
                    counter = counters[method, route, status] = self.requests.labels(method, route, str(status))
                counter.inc()
                timer = timers.get(route)
                if timer is None:
                    timer = timers[route] = self.latency.labels(route)
                timer.observe(time.perf_counter() - started)

        return wrapped


class MetricsController(Controller):
    include_in_schema = False

    @get("/metrics")
    async def metrics(self, request: Request) -> Response[bytes]:
        """Prometheus text format."""
        registry = request.app.state["metrics"].registry
        body = await anyio.to_thread.run_sync(generate_latest, registry)
        return Response(body, media_type="text/plain; version=0.0.4")  # Litestar adds "; charset=utf-8" to text/*
