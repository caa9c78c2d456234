"""Operations endpoints: liveness, readiness and Prometheus metrics.

* `GET /health` (and the older `/_cognate/health`): the process answers; nothing else is
  checked, so an orchestrator restarts only a process that is really stuck.
* `GET /ready`: the database answers and its schema is at this code's revision
  (storage/migrate.py); 503 with `{"status": "unavailable", "reason": ..., "detail": ...}`
  otherwise (reason `database_unreachable` or `schema_not_current`), so that a load
  balancer sends no traffic to a process that could only fail it.
* `GET /metrics`: Prometheus text (metrics.py), with the outbox backlog read from the
  database at scrape time (`cognate_outbox_backlog{status}`; a database that does not
  answer leaves the gauge out and sets `cognate_outbox_backlog_up` to 0).

The readiness check and the scrape query the database: they are plain (synchronous)
handlers, which Starlette runs in its thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cognate import __version__, metrics
from cognate.storage import migrate
from cognate.storage.db import Database
from cognate.storage.repos import messages as messages_repo

log = logging.getLogger(__name__)


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": "cognate", "version": __version__})


class OutboxBacklog:
    """A collector: the outbox's undelivered messages, counted when scraped."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "cognate_outbox_backlog_up", "1 if the outbox backlog could be read at this scrape."
        )
        try:
            counts = self._db.read("outbox_backlog", messages_repo.backlog)
        except Exception as exc:  # noqa: BLE001 - a database that is down fails no scrape
            log.warning("metrics: outbox backlog not read: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        gauge = GaugeMetricFamily(
            "cognate_outbox_backlog",
            "Outbox messages not delivered yet, by status (pending: waiting for an attempt; "
            "sending: leased by a sender; held: no transport configured, kept for the "
            "developer outbox).",
            labels=["status"],
        )
        for status, count in sorted(counts.items()):
            gauge.add_metric([status], count)
        yield gauge


class HealthRoutes:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._backlog = OutboxBacklog(db)

    def routes(self) -> list[Route]:
        return [
            Route("/health", health, methods=["GET"]),
            Route("/ready", self.ready, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
        ]

    def ready(self, _request: Request) -> JSONResponse:
        try:
            migrate.require_current(self._db)
        except migrate.SchemaError as exc:
            return _unavailable("schema_not_current", str(exc))
        except Exception as exc:  # noqa: BLE001 - refused, gone, pool exhausted: not ready
            log.warning("readiness: the database did not answer: %s", type(exc).__name__)
            return _unavailable("database_unreachable", type(exc).__name__)
        revision = migrate.head_revision()
        return JSONResponse({"status": "ready", "schema_revision": revision})

    def metrics(self, _request: Request) -> Response:
        body = metrics.exposition(self._backlog)
        return Response(body, media_type=metrics.CONTENT_TYPE)


def _unavailable(reason: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"status": "unavailable", "reason": reason, "detail": detail}, status_code=503
    )
