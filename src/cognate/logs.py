"""Process-wide logging set-up: one format for Cognate and uvicorn, level from settings.

Two formats (the `log_format` setting):

* `text` (default): `<time> <LEVEL> <pid> <logger> [<request id>]: <message>`, the request
  id only on lines written while a request is served;
* `json`: one JSON object a line: `time` (ISO 8601, UTC, milliseconds), `level`, `logger`,
  `process`, `message`, `request_id` (when serving a request) and `exception` (the
  formatted traceback, when there is one).

The request id is `request_id`, a context variable: the API endpoint sets it for the
request's handler thread (wire/endpoint.py), the web side for each web request (app.py).

Secrets never reach a log line: Cognate's own log calls name no password, code, token,
SRP value or client secret, SQL parameters are kept out of database errors
(storage/db.py), and the libraries that would log request bodies or SAML documents at
debug level (botocore, urllib3, httpx, multipart, saml2 ...) are held at WARNING whatever
the level.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar

import orjson

FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(name)s%(request_tag)s: %(message)s"

request_id: ContextVar[str | None] = ContextVar("cognate_request_id", default=None)

# Libraries whose debug (or info) output can carry request bodies, headers or documents.
_QUIET = (
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "httpx",
    "httpcore",
    "hpack",
    "multipart",
    "python_multipart",
    "saml2",
    "aws_encryption_sdk",
    "authlib",
    "uvicorn.access",
)


class _RequestTag(logging.Filter):
    """Adds `request_tag` (` [id]` or "") and `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        record.request_id = rid
        record.request_tag = f" [{rid}]" if rid else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def _iso(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(FORMAT)


def configure(level: str, log_format: str = "text") -> None:
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_cognate", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(_RequestTag())
        handler._cognate = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))
    root.setLevel(level.upper())
    # uvicorn's access log is per-request noise at info level; errors still show. The
    # others would log request bodies and documents (secrets) at debug level.
    for name in _QUIET:
        quiet = logging.getLogger(name)
        if quiet.level < logging.WARNING:  # NOTSET or lower; saml.py holds saml2 higher
            quiet.setLevel(logging.WARNING)
    # Alembic announces its dialect on every run; keep only real migration steps.
    logging.getLogger("alembic.runtime.migration").setLevel(
        logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG
    )
