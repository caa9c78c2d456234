"""`cognate clock` and `cognate fault`: the test controls on the command line.

Like `cognate outbox`, these work on the database directly (no server needed, no master
key), through the same services as the /_cognate/control API (domain/controls.py,
domain/faults.py); running servers pick a change up within REFRESH_S, and the commands
return only after PROPAGATION_S, so a script's next request sees it. They refuse to run
when the settings have test controls off (e.g. SMTP configured), so that a production
database is not given a moved clock by accident.

    cognate clock                      print the offset and the servers' time
    cognate clock advance 1h30m        move the clock forward (s, m, h, d; plain = seconds)
    cognate clock reset                back to real time
    cognate fault list
    cognate fault set InitiateAuth --error TooManyRequestsException --times 2
    cognate fault set SignUp --latency-ms 1500
    cognate fault clear [OPERATION]
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from typing import Any

from cognate.app import build_controls
from cognate.config import Settings
from cognate.domain.controls import PROPAGATION_S
from cognate.storage import migrate
from cognate.storage.db import Database, sqlite_path
from cognate.storage.migrate import SchemaError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")


def parse_duration(text: str) -> float:
    """Seconds in `3600`, `90s`, `15m`, `2h`, `1d12h`, `1.5h`; ValueError otherwise."""
    text = text.strip().lower()
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
        return float(text)
    if not text or not re.fullmatch(f"(?:{_PART.pattern})+", text):
        raise ValueError(f"{text!r} is not a duration like 3600, 90s, 15m, 2h or 1d12h")
    return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))


def _fault_line(fault: dict[str, Any]) -> str:
    times = "until cleared" if fault["remaining"] is None else f"{fault['remaining']} more"
    what = fault["error"] or "no error"
    latency = f", {fault['latency_ms']} ms latency" if fault["latency_ms"] else ""
    return f"{fault['operation']}: {what}{latency} ({times}; struck {fault['hits']})"


def run(settings: Settings, command: str, args: dict[str, Any]) -> int:
    if not settings.test_controls_enabled():
        print(
            "cognate: test controls are off in these settings (SMTP configured, or "
            "COGNATE_TEST_CONTROLS=off); set COGNATE_TEST_CONTROLS=on to use them",
            file=sys.stderr,
        )
        return 2
    path = sqlite_path(settings.db)
    if path is not None and not path.exists():
        raise SchemaError(f"there is no Cognate database at {path} (has a server run here?)")
    db = Database(settings.db, pool_size=1)
    try:
        migrate.require_current(db)
        _clock, controls = build_controls(db, None)
        action = args["action"]
        if command == "clock":
            if action == "advance":
                try:
                    seconds = parse_duration(args["duration"] or "")
                except ValueError as exc:
                    print(f"cognate: {exc}", file=sys.stderr)
                    return 2
                controls.clock.advance(seconds)
                time.sleep(PROPAGATION_S)
            elif action == "reset":
                controls.clock.reset()
                time.sleep(PROPAGATION_S)
            view = controls.clock.view()
            now = dt.datetime.fromtimestamp(view["now"], tz=dt.UTC)
            print(
                f"offset {view['offset_seconds']:g} s; server time "
                f"{now.strftime('%Y-%m-%dT%H:%M:%S')}Z"
            )
            return 0
        if action == "set":
            if not args["operation"]:
                print("cognate: fault set needs an OPERATION, e.g. InitiateAuth", file=sys.stderr)
                return 2
            fault = controls.faults.arm(
                args["operation"],
                error=args.get("error"),
                message=args.get("message"),
                times=args.get("times"),
                latency_ms=args.get("latency_ms") or 0,
            )
            time.sleep(PROPAGATION_S)
            print(_fault_line(fault))
        elif action == "clear":
            cleared = controls.faults.clear(args.get("operation"))
            print(f"cleared {cleared} fault{'s' if cleared != 1 else ''}")
        else:
            for fault in controls.faults.faults():
                print(_fault_line(fault))
        return 0
    finally:
        db.dispose()
