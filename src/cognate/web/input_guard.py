"""Refuse web requests carrying U+0000 in their path or query, before any route runs.

No name, id, token or form value of this server contains a null character, and
PostgreSQL's text columns cannot hold one: a lookup with it would fail in the database
instead of finding nothing. So a request whose decoded path holds one, or whose query
string holds `%00`, is answered 400 here. Form bodies are checked where they are read
(oauth/pages.py read_form).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import PlainTextResponse

_MESSAGE = "The request contains a null character."


class RefuseNulCharacters:
    """ASGI middleware for the web side (the API checks its JSON strings itself)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            await PlainTextResponse(_MESSAGE, status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)
