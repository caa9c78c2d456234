"""Where exported user pool logs go: the `log_destinations` setting, and the writer thread.

A rule is `ARN=TARGET`; rules are separated by whitespace, and the first whose ARN pattern
matches the configuration's LogGroupArn / BucketArn / StreamArn wins (`*` matches anything,
as in the `triggers` setting). Targets:

* `file:/path/dir`: append each record as one JSON line to `<dir>/<name>.jsonl`, where
  `<name>` is the log group's, bucket's or stream's name (characters other than letters,
  digits, `.`, `_` and `-` become `_`);
* `http://…` or `https://…`: POST each record there as a JSON document.

Records are queued and written by one background thread per process, so a slow endpoint
never holds up a request; like Cognito's export this is best effort (a record that cannot
be written is logged as a warning and dropped, and a process that stops loses its queue).
A log whose ARN no rule maps is dropped (logged at debug level).
"""

from __future__ import annotations

import fnmatch
import logging
import queue
import re
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 5.0
QUEUE_SIZE = 10_000


class DestinationError(ValueError):
    """A log destination rule Cognate cannot use."""


@dataclass(frozen=True, slots=True)
class Destination:
    pattern: str
    target: str


def parse_destinations(text: str) -> list[Destination]:
    rules = []
    for item in text.split():
        pattern, sep, target = item.partition("=")
        if not sep or not pattern or not target:
            raise DestinationError(f"log destination rule {item!r} is not ARN=TARGET")
        if target.startswith("file:"):
            if not target[len("file:") :]:
                raise DestinationError(f"log destination {target!r} names no directory")
        elif not re.match(r"https?://\S+", target):
            raise DestinationError(
                f"log destination {target!r} is not file:/path/dir or an http(s) URL"
            )
        rules.append(Destination(pattern, target))
    return rules


def resource_name(arn: str) -> str:
    """The log group's, bucket's or stream's name in an ARN, safe as a file name."""
    parts = arn.split(":", 5)
    resource = parts[5] if len(parts) == 6 else arn
    for prefix in ("log-group:", "deliverystream/"):
        if resource.startswith(prefix):
            resource = resource[len(prefix) :]
    resource = resource.removesuffix(":*")
    return re.sub(r"[^A-Za-z0-9._-]", "_", resource).strip("_") or "log"


class LogExporter:
    """The sink of domain/log_delivery.py: maps an ARN to its target and writes records."""

    def __init__(self, rules: list[Destination]) -> None:
        self._rules = rules
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue(QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._file_lock = threading.Lock()

    def target_for(self, arn: str) -> str | None:
        for rule in self._rules:
            if fnmatch.fnmatchcase(arn, rule.pattern):
                return rule.target
        return None

    def __call__(self, arn: str, record: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait((arn, record))
        except queue.Full:
            log.warning("log export: queue full; a record for %s was dropped", arn)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cognate-log-export", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            arn, record = item
            try:
                self.write(arn, record)
            except Exception as exc:  # noqa: BLE001 - best effort, as Cognito's export
                log.warning("log export: a record for %s was not delivered: %s", arn, exc)

    def write(self, arn: str, record: dict[str, Any]) -> None:
        target = self.target_for(arn)
        if target is None:
            log.debug("log export: no log_destinations rule maps %s", arn)
            return
        line = orjson.dumps(record)
        if target.startswith("file:"):
            directory = Path(target[len("file:") :])
            directory.mkdir(parents=True, exist_ok=True)
            with self._file_lock, (directory / f"{resource_name(arn)}.jsonl").open("ab") as f:
                f.write(line + b"\n")
            return
        request = urllib.request.Request(  # noqa: S310 - the operator's own http(s) URL
            target, data=line, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
            response.read()
