"""Log delivery: a pool's LogConfigurations (Get/SetLogDeliveryConfiguration) and the logs
they name, shaped as Cognito exports them ("Exporting logs from Amazon Cognito user pools").

Cognito's rules, enforced by SetLogDeliveryConfiguration:

* `userNotification` logs (email and SMS delivery errors) are `ERROR` level and go only to a
  CloudWatch Logs log group; any feature plan.
* `userAuthEvents` logs (threat protection's user activity) are `INFO` level and go to one
  log group, Firehose stream or S3 bucket; the pool must be on the Plus feature plan
  (FeatureUnavailableInTierException otherwise).
* One configuration per event source, each with exactly one destination.

`emit_log(pool_pk, source, record)` is how the rest of Cognate writes a log: `source` is
`userNotification` or `userAuthEvents`, `record` the event's `message` object. If the pool
has a configuration for the source, the record is wrapped as Cognito's export wraps it
(eventTimestamp, eventSource USER_NOTIFICATION / USER_ACTIVITY, logLevel, message,
logSourceId) and handed to the installed sink with the destination's ARN; the sink
(delivery/log_export.py) writes it where the `log_destinations` setting maps that ARN.
Delivery is best effort, as Cognito's is: a log never fails the operation that caused it.
A pool's configuration is cached for two seconds per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import FeatureUnavailableInTierException, InvalidParameterException
from cognate.domain.clock import Clock
from cognate.domain.pools import require_pool
from cognate.storage.db import Database
from cognate.storage.repos import log_delivery as repo

log = logging.getLogger(__name__)

USER_NOTIFICATION = "userNotification"
USER_AUTH_EVENTS = "userAuthEvents"
_LEVEL = {USER_NOTIFICATION: "ERROR", USER_AUTH_EVENTS: "INFO"}
_EXPORTED_SOURCE = {USER_NOTIFICATION: "USER_NOTIFICATION", USER_AUTH_EVENTS: "USER_ACTIVITY"}
_DESTINATIONS = {
    "CloudWatchLogsConfiguration": ("LogGroupArn", "logs"),
    "S3Configuration": ("BucketArn", "s3"),
    "FirehoseConfiguration": ("StreamArn", "firehose"),
}
CACHE_SECONDS = 2.0

Sink = Callable[[str, dict[str, Any]], None]
"""Writes one exported record to the destination an ARN names."""


def _validate(configurations: list[dict[str, Any]], tier: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    result = []
    for config in configurations:
        source, level = config["EventSource"], config["LogLevel"]
        if source in seen:
            raise InvalidParameterException(
                f"Only one log configuration is allowed for the event source {source}."
            )
        seen.add(source)
        if level != _LEVEL[source]:
            raise InvalidParameterException(
                f"The {source} event source supports only the {_LEVEL[source]} log level."
            )
        destinations = [key for key in _DESTINATIONS if config.get(key)]
        if len(destinations) != 1:
            raise InvalidParameterException(
                "Each log configuration needs exactly one of CloudWatchLogsConfiguration, "
                "S3Configuration or FirehoseConfiguration."
            )
        key = destinations[0]
        member, service = _DESTINATIONS[key]
        arn = (config[key] or {}).get(member)
        if not arn:
            raise InvalidParameterException(f"{key} needs a {member}.")
        if arn.split(":")[2:3] != [service]:
            raise InvalidParameterException(f"{member} {arn} is not an ARN of {service}.")
        if source == USER_NOTIFICATION and key != "CloudWatchLogsConfiguration":
            raise InvalidParameterException(
                "userNotification logs can only be delivered to CloudWatch Logs."
            )
        if source == USER_AUTH_EVENTS and tier != "PLUS":
            raise FeatureUnavailableInTierException(
                "The userAuthEvents event source requires the PLUS feature plan; "
                f"this user pool is on {tier}."
            )
        result.append({"EventSource": source, "LogLevel": level, key: {member: arn}})
    return result


def destination_arn(config: dict[str, Any]) -> str:
    for key, (member, _service) in _DESTINATIONS.items():
        if config.get(key):
            return str(config[key][member])
    raise ValueError("a stored log configuration without a destination")


class LogDeliveryService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._sink: Sink | None = None
        self._cache: dict[int, tuple[float, tuple[str, list[dict[str, Any]]] | None]] = {}
        self._lock = threading.Lock()

    def use_sink(self, sink: Sink | None) -> None:
        self._sink = sink

    # ------------------------------------------------------------------ the API

    def get(self, region: str, pool_id: str) -> dict[str, Any]:
        def txn(conn: Connection) -> list[dict[str, Any]]:
            pool = require_pool(conn, region, pool_id)
            return repo.get(conn, pool.pk)

        configurations = self._db.read("get_log_delivery", txn)
        return {"UserPoolId": pool_id, "LogConfigurations": configurations}

    def set(
        self, region: str, pool_id: str, configurations: list[dict[str, Any]]
    ) -> dict[str, Any]:
        now = self._clock.now_ms()
        postgres = not self._db.is_sqlite

        def txn(conn: Connection) -> tuple[int, list[dict[str, Any]]]:
            pool = require_pool(conn, region, pool_id, for_update=True)
            valid = _validate(configurations, pool.settings.get("UserPoolTier", "ESSENTIALS"))
            repo.put(conn, pool.pk, valid, now, postgres=postgres)
            return pool.pk, valid

        pool_pk, stored = self._db.write("set_log_delivery", txn)
        with self._lock:
            self._cache.pop(pool_pk, None)
        return {"UserPoolId": pool_id, "LogConfigurations": stored}

    # ------------------------------------------------------------------ writing logs

    def emit(self, pool_pk: int, source: str, record: dict[str, Any]) -> bool:
        """Export `record` if the pool logs `source`; True if it was handed to the sink."""
        sink = self._sink
        if sink is None or source not in _LEVEL:
            return False
        try:
            found = self._configuration(pool_pk)
            if found is None:
                return False
            pool_id, configurations = found
            for config in configurations:
                if config["EventSource"] == source:
                    sink(destination_arn(config), self._exported(pool_id, source, record))
                    return True
        except Exception:  # best effort: a log must never fail the operation behind it
            log.exception("log delivery: could not export a %s record", source)
        return False

    def configured(self, pool_pk: int, source: str) -> bool:
        """Whether the pool exports `source` logs (and a sink is there to write them)."""
        if self._sink is None:
            return False
        try:
            found = self._configuration(pool_pk)
        except Exception:
            log.exception("log delivery: could not read a configuration")
            return False
        return found is not None and any(c["EventSource"] == source for c in found[1])

    def _exported(self, pool_id: str, source: str, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "eventTimestamp": str(self._clock.now_ms()),
            "eventSource": _EXPORTED_SOURCE[source],
            "logLevel": _LEVEL[source],
            "message": record,
            "logSourceId": {"userPoolId": pool_id},
        }

    def _configuration(self, pool_pk: int) -> tuple[str, list[dict[str, Any]]] | None:
        now = time.monotonic()
        cached = self._cache.get(pool_pk)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = self._db.read("log_delivery_config", lambda c: repo.with_pool_id(c, pool_pk))
        with self._lock:
            self._cache[pool_pk] = (now + CACHE_SECONDS, found)
        return found


_installed: LogDeliveryService | None = None


def install(service: LogDeliveryService | None) -> None:
    """Make `service` the one `emit_log` uses (done once per process by build_services)."""
    global _installed
    _installed = service


def logs(pool_pk: int, source: str) -> bool:
    """Whether a record of `source` for this pool would be exported (so a caller can skip
    building it)."""
    service = _installed
    return service.configured(pool_pk, source) if service is not None else False


def emit_log(pool_pk: int, source: str, record: dict[str, Any]) -> bool:
    """Export one log record of a pool (see the module docstring); never raises."""
    service = _installed
    return service.emit(pool_pk, source, record) if service is not None else False
