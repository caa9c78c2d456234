"""The admin console's credential and cookies: the password check, the signed session
cookie, and the signed one-shot "flash" cookie that carries an action's outcome across
its redirect (post/redirect/get).

The password comes from the settings (`admin_password`, environment only, or
`admin_password_file`); it is compared as SHA-256 digests with `hmac.compare_digest`, so
neither its value nor its length shows in the timing. A signed-in browser holds
`cognate_admin` = `<expiry>.<nonce>.<HMAC-SHA256>`: HttpOnly, SameSite=Strict, scoped to
/admin, Secure when the server's public URL is https, valid for SESSION_SECONDS. The
HMAC key is derived from the master key *and* the password, so changing the password
ends every session; nothing is stored on the server (signing out clears the cookie).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

BASE = "/admin"
SESSION_COOKIE = "cognate_admin"
FLASH_COOKIE = "cognate_admin_flash"
SESSION_SECONDS = 8 * 3600
FLASH_SECONDS = 60
_FLASH_LIMIT = 1500  # characters of a message kept in the flash cookie


@dataclass(frozen=True, slots=True)
class Flash:
    """An action's outcome, shown once on the page the action redirected to."""

    ok: bool
    text: str


class AdminAuth:
    def __init__(self, secret: str, derived_key: bytes, *, secure: bool) -> None:
        self._digest = hashlib.sha256(secret.encode("utf-8")).digest()
        self._key = hmac.new(derived_key, self._digest, hashlib.sha256).digest()
        self._secure = secure

    # ------------------------------------------------------------------ password

    def password_ok(self, given: str) -> bool:
        candidate = hashlib.sha256(given.encode("utf-8", "replace")).digest()
        return hmac.compare_digest(candidate, self._digest)

    # ------------------------------------------------------------------ session

    def signed_in(self, request: Request) -> bool:
        payload = self._unsign(request.cookies.get(SESSION_COOKIE) or "")
        if payload is None:
            return False
        expiry, _, _nonce = payload.partition(".")
        return expiry.isdigit() and int(expiry) > time.time()

    def start_session(self, response: Response) -> None:
        expiry = int(time.time()) + SESSION_SECONDS
        value = self._sign(f"{expiry}.{secrets.token_urlsafe(16)}")
        self._cookie(response, SESSION_COOKIE, value, SESSION_SECONDS)

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path=BASE, secure=self._secure, httponly=True, samesite="strict"
        )

    # ------------------------------------------------------------------ flash

    def set_flash(self, response: Response, flash: Flash) -> None:
        body = json.dumps({"ok": flash.ok, "text": flash.text[:_FLASH_LIMIT]})
        encoded = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        self._cookie(response, FLASH_COOKIE, self._sign(encoded), FLASH_SECONDS)

    def flash(self, request: Request) -> Flash | None:
        """The flash the request carries, if any and genuine (`clear_flash` ends it)."""
        payload = self._unsign(request.cookies.get(FLASH_COOKIE) or "")
        if payload is None:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return Flash(bool(data["ok"]), str(data["text"]))
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None

    def clear_flash(self, request: Request, response: Response) -> None:
        if FLASH_COOKIE in request.cookies:
            response.delete_cookie(
                FLASH_COOKIE, path=BASE, secure=self._secure, httponly=True, samesite="strict"
            )

    # ------------------------------------------------------------------ signing

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return payload + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def _unsign(self, value: str) -> str | None:
        payload, _, mac = value.rpartition(".")
        if not payload or not mac:
            return None
        expected = self._sign(payload).rpartition(".")[2]
        return payload if hmac.compare_digest(expected.encode(), mac.encode()) else None

    def _cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=BASE,
            secure=self._secure,
            httponly=True,
            samesite="strict",
        )
