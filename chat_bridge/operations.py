"""What the people who run the service look at: `/ready` (can it serve) and `/metrics` (Prometheus).

`/health` (liveness: the process answers) lives with the other routes. `/ready` answers 200 only when
every check passes (the database answers, its migrations are current, the turn workers run), else 503
naming the failed ones; a load balancer sends traffic to ready instances only. `/metrics` is the
Prometheus text format over a registry of this app's own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.workers.jobs import AgentJobs

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
TURN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class BridgeMetrics:
    """The service's Prometheus metrics: requests, agent turns and their duration, the queue, provider errors,
    batches."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("calendar_http_requests", "HTTP requests answered, by method, route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.turns = Counter("calendar_agent_turns", "Agent turns run by this instance, by agent and outcome",
                             ["kind", "outcome"], registry=self.registry)
        self.turn_seconds = Histogram("calendar_agent_turn_seconds", "Duration of the agent turns run here",
                                      ["kind"], buckets=TURN_BUCKETS, registry=self.registry)
        self.queue_jobs = Gauge("calendar_queue_jobs", "Open jobs of the work queue (every instance), by state",
                                ["state"], registry=self.registry)
        self.queue_age = Gauge("calendar_queue_oldest_job_seconds", "Age of the oldest open job",
                               registry=self.registry)
        self.provider_errors = Counter("calendar_provider_errors", "Language-model calls that failed after the "
                                       "SDK's retries, by provider and kind (unavailable, rejected)",
                                       ["provider", "kind"], registry=self.registry)
        self.batch_items = Histogram("calendar_batch_items", "Items per applied batch, by tool", ["tool"],
                                     buckets=(1, 5, 20, 100, 1000, 10_000, 100_000), registry=self.registry)

    def turn(self, kind: str, outcome: str, seconds: float) -> None:
        self.turns.labels(kind, outcome).inc()
        self.turn_seconds.labels(kind).observe(seconds)

    def provider_error(self, provider: str, kind: str) -> None:
        self.provider_errors.labels(provider, kind).inc()

    def batch(self, tool: str, items: int) -> None:
        self.batch_items.labels(tool).observe(items)

    async def render(self, jobs: AgentJobs) -> bytes:
        depth = await jobs.depth()
        self.queue_jobs.labels("queued").set(depth.queued)
        self.queue_jobs.labels("running").set(depth.running)
        self.queue_age.set(depth.oldest_seconds)
        return generate_latest(self.registry)


class RequestMetrics:
    """Counts every HTTP request by its route's template (`/customers/{wa_id}`, not each number)."""

    def __init__(self, app: ASGIApp, metrics: BridgeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"  # no label per invented method
            self.metrics.requests.labels(method, route, str(status[0])).inc()


async def readiness(request: Request[Any]) -> JSONResponse:
    checks: Mapping[str, Check] = request.state["checks"]
    results: dict[str, bool] = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            results[name] = await check()
        except Exception:
            logger.exception("readiness check %s failed", name)
            results[name] = False
        logger.debug("readiness check %s took %.3fs", name, time.perf_counter() - started)
    ok = all(results.values())
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": results}, status_code=200 if ok else 503)


async def prometheus_metrics(request: Request[Any]) -> Response:
    registry: BridgeMetrics = request.state["metrics"]
    body = await registry.render(request.state["workers"].jobs)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
