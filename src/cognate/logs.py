"""Process-wide logging set-up (one format for Cognate and uvicorn, level from settings)."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s: %(message)s"


def configure(level: str) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_cognate", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._cognate = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's access log is per-request noise at info level; errors still show.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # Alembic announces its dialect on every run; keep only real migration steps.
    logging.getLogger("alembic.runtime.migration").setLevel(
        logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG
    )
