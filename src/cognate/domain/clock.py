"""Time as the domain sees it. Injected so that expiry can be tested (and, later, moved)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


def ms_to_seconds(ms: int) -> float:
    """Epoch milliseconds as the API's epoch seconds (what Cognito serializes)."""
    return ms / 1000.0
