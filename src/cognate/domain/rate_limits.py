"""Request-rate limits per API category, enforced across every process sharing the
database, and the provisioned values GetProvisionedLimit / UpdateProvisionedLimit read
and change.

With the `rate_limits` setting `off` (the default) nothing is counted. With `cognito`,
every API request of a category (domain/quotas.py) counts against the category's rate in
its region: Cognito's default, or the value UpdateProvisionedLimit set. Past it the request
is answered TooManyRequestsException ("Too many requests"), as Cognito does.

Counting is a fixed one-second window per scope, kept in `rate_counters` (one row per scope
and window). A process does not write a row per request: it reserves a batch of requests
at once (an UPSERT adding the batch to the window's count, returning the new count) and
spends the batch in memory; the database count is never allowed past the limit, so the
processes together admit at most the limit per second. A batch is a tenth of the limit, so
a process that reserves and then goes quiet can leave at most that much of a window
unused. Once a window is full, the process refuses the rest of it without touching the
database. The provisioned values are cached for a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    TooManyRequestsException,
)
from cognate.domain.clock import Clock
from cognate.domain.quotas import (
    CATEGORIES,
    MAX_MULTIPLIER,
    OPERATION_CATEGORY,
    PER_POOL_OPERATION_RPS,
    RESPOND_MULTIPLIER,
    RESPOND_OPERATIONS,
    Category,
)
from cognate.storage.db import Database
from cognate.storage.repos import rate_limits as repo

MODES = ("off", "cognito")  # `cognito*N`: every default rate times N
BATCH_DIVISOR = 10
VALUES_TTL_S = 1.0
PURGE_EVERY_S = 60


@dataclass(slots=True)
class _Window:
    window: int
    tokens: int = 0
    full: bool = False


class RateCounters:
    """Fixed one-second windows shared through the database, spent in batches."""

    def __init__(self, db: Database, now: Callable[[], float] = time.time) -> None:
        self._db = db
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._postgres = not db.is_sqlite
        self._next_purge = 0.0

    def take(self, scope: str, limit: int) -> bool:
        """Count one request of `scope`; False when its window already has `limit`."""
        now = self._now()
        second = int(now)
        with self._lock:
            state = self._windows.get(scope)
            if state is None or state.window != second:
                state = self._windows[scope] = _Window(second)
            if state.tokens > 0:
                state.tokens -= 1
                return True
            if state.full:
                return False
            batch = max(1, limit // BATCH_DIVISOR)
            total = self._db.write(
                "rate_count",
                lambda c: repo.add(c, scope, second, batch, postgres=self._postgres),
            )
            granted = min(batch, max(0, limit - (total - batch)))
            if granted < batch or total >= limit:
                state.full = True
            if now >= self._next_purge:
                self._next_purge = now + PURGE_EVERY_S
                self._db.write("rate_purge", lambda c: repo.purge(c, second - 2))
                self._windows = {k: v for k, v in self._windows.items() if v.window == second}
            if granted == 0:
                return False
            state.tokens = granted - 1
            return True


class RateLimits:
    """The provisioned limits of each region, and the per-request check."""

    def __init__(self, db: Database, clock: Clock, mode: str) -> None:
        name, _, factor = mode.partition("*")
        if name not in MODES or (factor and name != "cognito"):
            raise ValueError(f"rate limits must be off, cognito or cognito*N, not {mode!r}")
        self.enabled = name == "cognito"
        self.scale = int(factor or 1)
        self._db = db
        self._clock = clock
        self._counters = RateCounters(db)
        self._values: dict[str, tuple[float, dict[str, int]]] = {}
        self._values_lock = threading.Lock()

    # ------------------------------------------------------------------ the check

    def check(self, region: str, operation: str, params: dict[str, Any]) -> None:
        """TooManyRequestsException if this request goes past its category's rate."""
        category = OPERATION_CATEGORY.get(operation)
        if category is None:
            return
        limit = self._limit(region, category)
        scope = f"{region}|{category}"
        # RespondToAuthChallenge: its own allowance first; only the excess counts below.
        respond = operation in RESPOND_OPERATIONS
        if respond and self._counters.take(scope + "|respond", limit * RESPOND_MULTIPLIER):
            return
        if not self._counters.take(scope, limit):
            raise TooManyRequestsException("Too many requests")
        if CATEGORIES[category].per_pool:
            pool_id = params.get("UserPoolId")
            if isinstance(pool_id, str):
                key = f"{region}|{pool_id}|{operation}"
                if not self._counters.take(key, PER_POOL_OPERATION_RPS):
                    raise TooManyRequestsException("Too many requests")

    def _limit(self, region: str, category: str) -> int:
        return self._region_values(region).get(category) or self._default(CATEGORIES[category])

    def _default(self, category: Category) -> int:
        return category.default_rps * self.scale

    def _region_values(self, region: str) -> dict[str, int]:
        now = time.monotonic()
        cached = self._values.get(region)
        if cached is not None and cached[0] > now:
            return cached[1]
        values = self._db.read("provisioned_limits", lambda c: repo.values(c, region))
        with self._values_lock:
            self._values[region] = (now + VALUES_TTL_S, values)
        return values

    # ------------------------------------------------------------------ the API

    def get(self, region: str, definition: dict[str, Any]) -> dict[str, Any]:
        category = _category(definition)
        value = self._region_values_fresh(region).get(category.name, self._default(category))
        return _limit_view(category, value, self._default(category))

    def update(self, region: str, definition: dict[str, Any], requested: int) -> dict[str, Any]:
        category = _category(definition)
        if not category.adjustable:
            raise InvalidParameterException(
                f"The {category.name} category limit is not adjustable."
            )
        default = self._default(category)
        if requested < default:
            raise InvalidParameterException(
                f"RequestedLimitValue must be at least the default limit of "
                f"{default} for {category.name}."
            )
        maximum = default * MAX_MULTIPLIER
        if requested > maximum:
            raise ServiceQuotaExceededException(
                f"RequestedLimitValue {requested} exceeds the account-level maximum of "
                f"{maximum} for {category.name}."
            )
        now = self._clock.now_ms()
        postgres = not self._db.is_sqlite

        def txn(conn: Connection) -> None:
            repo.set_value(conn, region, category.name, requested, now, postgres=postgres)

        self._db.write("update_provisioned_limit", txn)
        with self._values_lock:
            self._values.pop(region, None)
        return _limit_view(category, requested, default)

    def _region_values_fresh(self, region: str) -> dict[str, int]:
        with self._values_lock:
            self._values.pop(region, None)
        return self._region_values(region)


def _category(definition: dict[str, Any]) -> Category:
    if definition.get("LimitClass") != "API_CATEGORY":
        raise InvalidParameterException("LimitClass must be API_CATEGORY.")
    attributes = definition.get("Attributes") or {}
    unknown = sorted(set(attributes) - {"Category"})
    if unknown:
        raise InvalidParameterException(
            f"Unknown limit attribute {unknown[0]}: API_CATEGORY limits take only Category."
        )
    name = attributes.get("Category")
    if not name:
        raise InvalidParameterException("Attributes must name the Category of the limit.")
    category = CATEGORIES.get(name)
    if category is None:
        raise ResourceNotFoundException(
            f"Unknown API category {name}. Valid categories: {', '.join(CATEGORIES)}."
        )
    return category


def _limit_view(category: Category, value: int, free: int) -> dict[str, Any]:
    return {
        "LimitDefinition": {
            "LimitClass": "API_CATEGORY",
            "Attributes": {"Category": category.name},
        },
        "ProvisionedLimitValue": value,
        "FreeLimitValue": free,
    }
