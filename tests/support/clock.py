"""A server clock that tests can move forward, without touching the server's code.

Cognate reads the time in one place (`SystemClock.now_ms`, from `time.time_ns()`). A server
started with `ShiftedClock.env()` imports a `sitecustomize` module that wraps
`time.time_ns` to add the offset written in a file; the test changes the offset at any
moment with `shift()`, and the next request sees the new time. Only `time.time_ns` is
wrapped: monotonic clocks (timeouts, pools) and logging are unaffected.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

SITECUSTOMIZE = '''\
"""Test hook: shift time.time_ns by the offset (ns) in $COGNATE_TEST_CLOCK_FILE."""
import os as _os
import time as _time

_path = _os.environ.get("COGNATE_TEST_CLOCK_FILE")
if _path:
    _real_time_ns = _time.time_ns

    def _shifted_time_ns():
        try:
            with open(_path) as _file:
                offset = int(_file.read() or 0)
        except (OSError, ValueError):
            offset = 0
        return _real_time_ns() + offset

    _time.time_ns = _shifted_time_ns
'''


class ShiftedClock:
    def __init__(self, directory: Path) -> None:
        self.site = directory / "clock-site"
        self.site.mkdir(parents=True, exist_ok=True)
        (self.site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        self.file = directory / "clock-offset"
        self.offset = dt.timedelta(0)
        self._write()

    def env(self) -> dict[str, str]:
        """Environment for the server process."""
        paths = [str(self.site)]
        if os.environ.get("PYTHONPATH"):
            paths.append(os.environ["PYTHONPATH"])
        return {"PYTHONPATH": os.pathsep.join(paths), "COGNATE_TEST_CLOCK_FILE": str(self.file)}

    def shift(self, **delta: float) -> None:
        """Move the server's clock forward (or back) by a timedelta's keyword arguments."""
        self.offset += dt.timedelta(**delta)
        self._write()

    def reset(self) -> None:
        self.offset = dt.timedelta(0)
        self._write()

    def now(self) -> dt.datetime:
        """The server's time now."""
        return dt.datetime.now(dt.UTC) + self.offset

    def _write(self) -> None:
        temporary = self.file.with_suffix(".tmp")
        nanoseconds = (self.offset // dt.timedelta(microseconds=1)) * 1000
        temporary.write_text(str(nanoseconds))
        temporary.replace(self.file)
