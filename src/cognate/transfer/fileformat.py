"""The export file: JSON lines, optionally encrypted with a passphrase, written 0600.

Line 1 is a plain JSON header: `{"format": "cognate-pool-export", "version": 1,
"encryption": null | {...}}`. Every further line is one record, in order: `{"pool": ...}`
(what was exported), `{"t": TABLE, "r": ROW}` per row, and `{"end": {TABLE: COUNT}}`,
whose absence means the file was cut short. With a passphrase, each record is instead a
JSON string: base64 of a 12-byte nonce and its AES-256-GCM ciphertext under a key derived
from the passphrase by scrypt (the salt and cost in the header), with the record's line
number as associated data, so records cannot be dropped, reordered or moved between files
unnoticed. Without a passphrase the file holds the pool's secrets in plain text (client
secrets, TOTP secrets, private signing keys, password verifiers).
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "cognate-pool-export"
VERSION = 1
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class TransferError(RuntimeError):
    """Export or import cannot go on (the message says why)."""


def read_passphrase(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise TransferError(f"passphrase file {path}: {exc.strerror}") from None
    if not text:
        raise TransferError(f"passphrase file {path} is empty")
    return text.encode()


def _key(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> AESGCM:
    return AESGCM(Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase))


class Writer:
    """Writes records to a new file readable by its owner only (or to stdout for `-`)."""

    def __init__(self, path: str, passphrase: bytes | None) -> None:
        self.path = path
        if path == "-":
            self._out: IO[bytes] = sys.stdout.buffer
        else:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            except OSError as exc:
                raise TransferError(f"cannot write {path}: {exc.strerror}") from None
            os.fchmod(fd, 0o600)  # also when the file existed with wider permissions
            self._out = os.fdopen(fd, "wb")
        encryption = None
        self._aead: AESGCM | None = None
        if passphrase is not None:
            salt = os.urandom(16)
            encryption = {"kdf": "scrypt", "salt": base64.b64encode(salt).decode(), **_SCRYPT}
            encryption["cipher"] = "AES-256-GCM"
            self._aead = _key(passphrase, salt, **_SCRYPT)
        header = {"format": FORMAT, "version": VERSION, "encryption": encryption}
        self._out.write(orjson.dumps(header) + b"\n")
        self._line = 1

    def write(self, record: dict[str, Any]) -> None:
        self._line += 1
        data = orjson.dumps(record)
        if self._aead is not None:
            nonce = os.urandom(12)
            sealed = self._aead.encrypt(nonce, data, str(self._line).encode())
            data = orjson.dumps(base64.b64encode(nonce + sealed).decode())
        self._out.write(data + b"\n")

    def close(self) -> None:
        self._out.flush()
        if self.path != "-":
            self._out.close()


def read(path: str, passphrase: bytes | None) -> Iterator[dict[str, Any]]:
    """The file's records, checked (header, decryption, the end record)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, the generator may stop early
    except OSError as exc:
        raise TransferError(f"cannot read {path}: {exc.strerror}") from None
    try:
        try:
            header = orjson.loads(handle.readline())
        except orjson.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise TransferError(f"{path} is not a Cognate pool export")
        if header.get("version") != VERSION:
            raise TransferError(
                f"{path} has export format version {header.get('version')}; this Cognate "
                f"reads version {VERSION}"
            )
        aead = _reader_key(path, header.get("encryption"), passphrase)
        line = 1
        ended = False
        for raw in handle:
            line += 1
            if ended:
                raise TransferError(f"{path}: records after the end record (line {line})")
            record = _record(path, raw, line, aead)
            ended = "end" in record
            yield record
        if not ended:
            raise TransferError(f"{path} is incomplete (no end record): was it cut short?")
    finally:
        handle.close()


def _reader_key(path: str, encryption: Any, passphrase: bytes | None) -> AESGCM | None:
    if encryption is None:
        if passphrase is not None:
            raise TransferError(f"{path} is not encrypted: leave out --passphrase-file")
        return None
    if passphrase is None:
        raise TransferError(f"{path} is encrypted: give its passphrase (--passphrase-file)")
    try:
        salt = base64.b64decode(encryption["salt"])
        return _key(
            passphrase, salt, int(encryption["n"]), int(encryption["r"]), int(encryption["p"])
        )
    except (KeyError, TypeError, ValueError):
        raise TransferError(f"{path}: unreadable encryption header") from None


def _record(path: str, raw: bytes, line: int, aead: AESGCM | None) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
        if aead is not None:
            blob = base64.b64decode(value)
            value = orjson.loads(aead.decrypt(blob[:12], blob[12:], str(line).encode()))
    except InvalidTag:
        raise TransferError(
            f"{path}: line {line} does not decrypt: wrong passphrase, or the file was changed"
        ) from None
    except (orjson.JSONDecodeError, TypeError, ValueError):
        raise TransferError(f"{path}: line {line} is not a valid record") from None
    if not isinstance(value, dict):
        raise TransferError(f"{path}: line {line} is not a valid record")
    return value
