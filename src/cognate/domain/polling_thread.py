"""A background thread that runs rounds of work: at once while a round did something,
otherwise after a poll interval or as soon as it is woken (the outbox sender and the CSV
import runner: each process runs one of each, sharing the work through database leases).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PollingThread:
    def __init__(
        self,
        name: str,
        round_of_work: Callable[[], object],
        *,
        wake: threading.Event | None = None,
        poll_seconds: float,
        failure: str,
    ) -> None:
        """`round_of_work` returns something truthy when it did work (another round follows
        at once); an exception out of it is logged with `failure` and retried later."""
        self._name = name
        self._round = round_of_work
        self._wake = wake or threading.Event()
        self._poll = poll_seconds
        self._failure = failure
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = bool(self._round())
            except Exception:
                log.exception(self._failure)
                worked = False
            if not worked:
                self._wake.wait(self._poll)
                self._wake.clear()
