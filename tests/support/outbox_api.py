"""Read codes as a developer's test suite does: through the server's developer outbox API.

`GET /_cognate/outbox?pool_id=&username=` lists the messages a user was sent (oldest
first); `GET /_cognate/outbox/last-code?pool_id=&username=` gives the newest code.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

SIX_DIGITS = re.compile(r"[0-9]{6}")


def _get(endpoint: str, path: str, **params: str) -> Any:
    url = f"{endpoint}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def messages(endpoint: str, pool_id: str, username: str | None = None) -> list[dict[str, Any]]:
    """The messages of a pool (of one user, when given), oldest first."""
    params = {"pool_id": pool_id, **({"username": username} if username is not None else {})}
    found: list[dict[str, Any]] = _get(endpoint, "/_cognate/outbox", **params)["messages"]
    return found


def last_code(endpoint: str, pool_id: str, username: str) -> str:
    """The newest code sent to a user; fails the test when there is none."""
    code: str = _get(endpoint, "/_cognate/outbox/last-code", pool_id=pool_id, username=username)[
        "code"
    ]
    assert SIX_DIGITS.fullmatch(code), code
    return code


def no_code(endpoint: str, pool_id: str, username: str) -> bool:
    """True when the outbox holds no code for the user (the API answers 404)."""
    try:
        _get(endpoint, "/_cognate/outbox/last-code", pool_id=pool_id, username=username)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return True
        raise
    return False


def other_code(code: str) -> str:
    """A six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 10**6:06d}"
