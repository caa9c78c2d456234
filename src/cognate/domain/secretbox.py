"""Encryption at rest for secrets the server must be able to read back.

Client secrets (needed to verify SECRET_HASH) and private signing keys are stored
sealed with AES-256-GCM under the installation's master key, with the row's identity as
associated data so a sealed value cannot be moved to another row. The master key never
enters the database; a check value derived from it does, so a server started with the
wrong key refuses to run instead of failing later on every decryption.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1:"


class MasterKeyError(RuntimeError):
    """The master key is missing, malformed, or not the one the database was sealed with."""


class SecretBox:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise MasterKeyError("the master key must be 32 bytes (base64-encoded in config)")
        self._key = master_key
        self._aead = AESGCM(self._derive(b"cognate/secretbox/v1"))

    def _derive(self, label: bytes) -> bytes:
        return hmac.new(self._key, label, hashlib.sha256).digest()

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, token: str, context: str) -> str:
        if not token.startswith(_PREFIX):
            raise MasterKeyError("sealed value has an unknown format")
        raw = base64.b64decode(token[len(_PREFIX) :])
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def derived_key(self, label: str) -> bytes:
        """A key for another purpose (e.g. signing pagination tokens), derived from the master."""
        return self._derive(b"cognate/derived/" + label.encode())

    def check_value(self) -> str:
        """A value stored in the database to recognise this master key later."""
        return base64.b64encode(self._derive(b"cognate/key-check")).decode()


def load_or_create_key_file(path: Path, *, what: str = "master key") -> bytes:
    """Read the base64 key (the master key, or `what`) from `path`, creating it (mode 0600)
    if it does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        encoded = base64.b64encode(secrets.token_bytes(32)).decode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(encoded + "\n")
    for _ in range(100):  # a concurrent creator may not have written it yet
        text = path.read_text().strip()
        if text:
            return decode_key(text, source=str(path), what=what)
        time.sleep(0.02)
    raise MasterKeyError(f"the {what} file {path} is empty")


def decode_key(encoded: str, *, source: str, what: str = "master key") -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise MasterKeyError(f"the {what} in {source} is not valid base64") from exc
    if len(key) != 32:
        raise MasterKeyError(f"the {what} in {source} must decode to 32 bytes")
    return key
