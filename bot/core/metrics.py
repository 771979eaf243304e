"""Prometheus metrics: what an operator graphs and alerts on.

A neutral module: the conversations code may import it (it knows no platform).
The metrics live in Tandem's own registry rather than prometheus_client's
global one, so libraries that register there cannot clash with these names;
``/metrics`` exposes this registry. Counters only ever grow, so tests compare
values before and after what they do and stay independent of each other.

Labels are bounded on purpose: routes are the app's route templates (an
unknown path counts as "unmatched"), outcomes are status classes or the
outbox's four results, kinds are the delivery kinds the code defines.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

#: Slack wants its ack within 3 s; the buckets resolve the range that matters.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)

requests = Counter(
    "tandem_http_requests", "HTTP requests answered, by route and status class",
    ["route", "outcome"], registry=REGISTRY,
)
ack_seconds = Histogram(
    "tandem_http_ack_seconds", "Time from a request's arrival to its HTTP response, by route",
    ["route"], buckets=ACK_BUCKETS, registry=REGISTRY,
)
deliveries = Counter(
    "tandem_deliveries", "Outbox deliveries by kind and outcome (sent, already, retry, "
    "unreachable)", ["kind", "outcome"], registry=REGISTRY,
)
delivery_retries = Counter(
    "tandem_delivery_retries", "Deliveries postponed to a later tick (Sent.RETRY)",
    ["kind"], registry=REGISTRY,
)
unreachable = Counter(
    "tandem_unreachable_recipients", "Deliveries given up for good (Sent.UNREACHABLE)",
    ["kind"], registry=REGISTRY,
)
scheduler_lag = Gauge(
    "tandem_scheduler_lag_seconds", "How late the last scheduler tick started after its "
    "scheduled time", registry=REGISTRY,
)
scheduler_lag_seen = Histogram(
    "tandem_scheduler_tick_lag_seconds", "How late scheduler ticks started",
    buckets=(0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0), registry=REGISTRY,
)
run_due_seconds = Gauge(
    "tandem_scheduler_run_due_seconds", "How long the last run_due took", registry=REGISTRY,
)
scheduler_failures = Counter(
    "tandem_scheduler_failed_ticks", "Scheduler ticks whose run_due raised", registry=REGISTRY,
)
scheduler_ticks = Counter(
    "tandem_scheduler_ticks", "Scheduler ticks whose run_due has ended (sent or failed)",
    registry=REGISTRY,
)


def delivery(kind: str, outcome: str) -> None:
    """Count one outbox result; ``outcome`` is a ``Sent`` value ("sent", "retry", ...)."""
    deliveries.labels(kind, outcome).inc()
    if outcome == "retry":
        delivery_retries.labels(kind).inc()
    elif outcome == "unreachable":
        unreachable.labels(kind).inc()


class _Outcome(Protocol):
    # A read-only property, so that an Enum with text values (``Sent``) fits.
    @property
    def value(self) -> str: ...


P = ParamSpec("P")
R = TypeVar("R", bound=_Outcome)


def counts_deliveries(send: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorates ``send_once(ctx, item, ...)``: counts each result by ``item.kind``;
    an exception counts as "error" and goes on up."""

    @functools.wraps(send)
    async def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        item: Any = args[1] if len(args) > 1 else kwargs["item"]
        try:
            result = await send(*args, **kwargs)
        except Exception:
            delivery(item.kind, "error")
            raise
        delivery(item.kind, result.value)
        return result

    return counted


def request(route: str, status: int, seconds: float) -> None:
    requests.labels(route, f"{status // 100}xx").inc()
    ack_seconds.labels(route).observe(seconds)


def tick(lag_seconds: float | None, duration_seconds: float, failed: bool) -> None:
    if lag_seconds is not None:
        scheduler_lag.set(lag_seconds)
        scheduler_lag_seen.observe(max(lag_seconds, 0.0))
    run_due_seconds.set(duration_seconds)
    scheduler_ticks.inc()
    if failed:
        scheduler_failures.inc()


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
