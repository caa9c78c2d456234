"""`cognate serve --seed FILE`: create pools, clients, users... at start, idempotently.

`run_seed` runs in the `cognate serve` parent process, after the migrations and before any
worker starts, so one process applies the seed however many workers follow. Several
`cognate serve` processes started at once on one database (separate machines) may race:
an item another process created at the same moment makes the seed run again, which then
finds it. Triggers do not run for the seed's calls (their functions are often not up yet
when the server starts; the seed states what exists, as an import would).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from typing import Any

from sqlalchemy.exc import IntegrityError

from cognate.app import master_key
from cognate.config import Settings
from cognate.delivery.sender import transports
from cognate.domain.clock import SystemClock
from cognate.domain.notifications import EMAIL, SMS, Notifier
from cognate.domain.secretbox import SecretBox
from cognate.domain.triggers import Triggers
from cognate.functions.router import FunctionRouter
from cognate.seed.apply import Seeder
from cognate.seed.document import SeedError, load
from cognate.services import build_services
from cognate.storage.db import Database

__all__ = ["SeedError", "run_seed"]

log = logging.getLogger(__name__)

_ATTEMPTS = 3
# What another process creating the same item at the same moment looks like.
_RACE_MARKERS = ("already exists", "Exists", "IntegrityError")


class _NoTriggers(Triggers):
    """Triggers for the seed's calls: none run."""

    def __init__(self) -> None:
        super().__init__(FunctionRouter([]), 1.0)

    def configured(self, pool: Any, trigger: str) -> bool:
        return False

    def run(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        return None

    def run_async(self, *args: Any, **kwargs: Any) -> None:
        return None


def run_seed(settings: Settings) -> str:
    """Apply the seed file `settings.seed`; a one-line summary of what it did."""
    seed = load(settings.seed)
    db = Database(settings.db, pool_size=2)
    box = SecretBox(master_key(settings))
    email, sms = transports(settings)
    held = frozenset(ch for ch, t in ((EMAIL, email), (SMS, sms)) if t is None)
    services = build_services(
        settings, db, box, SystemClock(), Notifier(box, held_channels=held), triggers=_NoTriggers()
    )
    try:
        for attempt in range(1, _ATTEMPTS + 1):
            seeder = Seeder(services, settings.region, seed)
            try:
                return _summary(seeder.apply())
            except (SeedError, IntegrityError) as exc:
                if attempt == _ATTEMPTS or not any(m in str(exc) for m in _RACE_MARKERS):
                    if isinstance(exc, IntegrityError):
                        raise SeedError(f"seed file {seed.source}: {exc.orig}") from None
                    raise
                log.info("the seed met items created concurrently; applying it again")
                time.sleep(random.uniform(0.05, 0.3))  # noqa: S311 - jitter, not crypto
    finally:
        services.outbound.close()
        db.dispose()
    raise AssertionError("unreachable")


def _summary(counts: Counter[str]) -> str:
    """E.g. "created 1 pool, 2 users; unchanged 3 groups"."""
    if not counts:
        return "nothing to do"
    by_outcome: dict[str, list[str]] = {o: [] for o in _OUTCOMES}
    for key, n in sorted(counts.items(), key=lambda item: item[0].lower()):
        kind, outcome = key.rsplit(" ", 1)
        by_outcome.setdefault(outcome, []).append(f"{n} {kind}{'s' if n != 1 else ''}")
    return "; ".join(f"{o} {', '.join(items)}" for o, items in by_outcome.items() if items)


_OUTCOMES = ("created", "updated", "replaced", "unchanged")
