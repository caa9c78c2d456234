"""Prometheus metrics: what the process counts, and the text the `/metrics` route serves.

Counted here (prometheus_client; names and labels are the README's "Health, readiness and
metrics" section):

* API requests by operation, their error answers by operation and error type, and their
  latency (wire/endpoint.py: one call per request, the label children cached per
  operation so that the hot path pays a dict lookup, two increments and one observation);
* sign-ins by flow and result: `sign_in_attempt` wraps the domain's sign-in entry points
  (InitiateAuth, RespondToAuthChallenge, the hosted login page, GetTokensFromRefreshToken)
  and counts an exception as a failure; `signed_in` (called where tokens are issued:
  auth_events.signed_in and the refresh service) counts a success under the attempt's flow;
* trigger function latency by triggerSource (domain/triggers.py).

The outbox backlog is not kept here: it is read from the database at scrape time
(web/health.py), so it is the same whichever process answers the scrape.

Several worker processes (`--workers N`): the server sets PROMETHEUS_MULTIPROC_DIR (an
empty directory) before the workers start (server.py), so prometheus_client keeps every
value in a memory-mapped file per process, and a scrape sums the files of every process,
the exited ones included (counters never go back). One process: plain in-memory values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST
MULTIPROCESS = values.ValueClass is not values.MutexValue
"""Whether values live in PROMETHEUS_MULTIPROC_DIR (decided when prometheus_client was
imported, from the environment the server set up)."""

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # no _created

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TRIGGER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's metrics (what a single-process server exposes)."""

API_REQUESTS = Counter(
    "cognate_api_requests",
    "API requests answered, by operation (`unknown`: no valid X-Amz-Target).",
    ["operation"],
    registry=REGISTRY,
)
API_ERRORS = Counter(
    "cognate_api_errors",
    "API requests answered with an error, by operation and error type (the __type).",
    ["operation", "error_type"],
    registry=REGISTRY,
)
API_LATENCY = Histogram(
    "cognate_api_request_duration_seconds",
    "Time from a request's arrival to its answer, by operation.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
SIGN_INS = Counter(
    "cognate_sign_ins",
    "Sign-in requests by flow (AuthFlow, answered ChallengeName, HOSTED_UI, "
    "GetTokensFromRefreshToken) and result (success: tokens issued; failure: refused).",
    ["flow", "result"],
    registry=REGISTRY,
)
TRIGGER_LATENCY = Histogram(
    "cognate_trigger_duration_seconds",
    "Time a Lambda trigger function took (failures and timeouts included), by triggerSource.",
    ["trigger_source"],
    buckets=_TRIGGER_BUCKETS,
    registry=REGISTRY,
)

_api: dict[str, tuple[Any, Any]] = {}


def api_request(operation: str, error_type: str | None, seconds: float) -> None:
    """One answered API request (the hot path: cached label children)."""
    children = _api.get(operation)
    if children is None:
        children = _api.setdefault(
            operation, (API_REQUESTS.labels(operation), API_LATENCY.labels(operation))
        )
    children[0].inc()
    children[1].observe(seconds)
    if error_type is not None:
        API_ERRORS.labels(operation, error_type).inc()


# ---------------------------------------------------------------------- sign-ins


class _Attempt:
    __slots__ = ("counted", "flow")

    def __init__(self, flow: str) -> None:
        self.flow = flow
        self.counted = False


_attempt: ContextVar[_Attempt | None] = ContextVar("cognate_sign_in_attempt", default=None)


@contextmanager
def sign_in_attempt(flow: str) -> Iterator[None]:
    """Around one sign-in request: an exception out of it is a failed sign-in (once);
    `signed_in` inside it counts a success under `flow`. Nested attempts (the hosted page
    answering through RespondToAuthChallenge) count as the outermost one."""
    if _attempt.get() is not None:
        yield
        return
    attempt = _Attempt(flow)
    token = _attempt.set(attempt)
    try:
        yield
    except BaseException:
        if not attempt.counted:
            attempt.counted = True
            SIGN_INS.labels(flow, "failure").inc()
        raise
    finally:
        _attempt.reset(token)


def signed_in() -> None:
    """Tokens were issued for a sign-in (or a refresh)."""
    attempt = _attempt.get()
    if attempt is None:
        SIGN_INS.labels("OTHER", "success").inc()
        return
    if not attempt.counted:
        attempt.counted = True
        SIGN_INS.labels(attempt.flow, "success").inc()


# ---------------------------------------------------------------------- triggers


def trigger_call(source: str, call: Callable[[], Any]) -> Any:
    """Run a trigger function's invocation, timing it."""
    started = time.perf_counter()
    try:
        return call()
    finally:
        TRIGGER_LATENCY.labels(source).observe(time.perf_counter() - started)


# ---------------------------------------------------------------------- exposition


def exposition(*extra: Any) -> bytes:
    """The Prometheus text of every process's metrics, plus `extra` collectors (read at
    scrape time, e.g. the outbox backlog)."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    if not extra:
        return bytes(generate_latest(registry))
    combined = CollectorRegistry(auto_describe=False)
    combined.register(_Chain(registry, extra))
    return bytes(generate_latest(combined))


class _Chain:
    """One collector yielding a registry's metrics and then some more collectors'."""

    def __init__(self, registry: CollectorRegistry, extra: tuple[Any, ...]) -> None:
        self._registry = registry
        self._extra = extra

    def collect(self) -> Iterator[Any]:
        yield from self._registry.collect()
        for collector in self._extra:
            yield from collector.collect()
