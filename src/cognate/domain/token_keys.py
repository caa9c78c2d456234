"""The RSA keys that sign a pool's ID and access tokens, and the pool's JWKS.

Each pool has two active keys, one for ID tokens and one for access tokens (Cognito's JWKS
also lists two), created on first use by `KeyService` and kept sealed in the database.
`cognate rotate-keys` gives pools new keys; a retired key stays in the JWKS for a day
(the longest token validity) plus the time processes may keep signing with it, so every
token still valid can be verified.

Processes keep the decrypted signing key for a minute (then re-read, which picks up a
rotation made elsewhere) and public keys by key id for good (a key id never changes
meaning).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import RSAKey

from cognate.domain.clock import Clock
from cognate.domain.keys import KeyService
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos import keys as keys_repo

ID = "id"
ACCESS = "access"
PURPOSES = (ID, ACCESS)
SIGNER_CACHE_SECONDS = 60.0
MAX_TOKEN_SECONDS = 86_400
RETIRED_KEY_PUBLISHED_MS = int((MAX_TOKEN_SECONDS + 2 * SIGNER_CACHE_SECONDS) * 1000)


@dataclass(frozen=True, slots=True)
class Signer:
    kid: str
    key: RSAKey


@dataclass(frozen=True, slots=True)
class VerificationKey:
    pool_pk: int
    purpose: str
    key: RSAKey


class TokenKeys:
    def __init__(self, db: Database, keys: KeyService, box: SecretBox, clock: Clock) -> None:
        self._db = db
        self._keys = keys
        self._box = box
        self._clock = clock
        self._signers: dict[tuple[int, str], tuple[float, Signer]] = {}
        self._public: dict[str, VerificationKey] = {}
        self._lock = threading.Lock()

    def signer(self, pool_pk: int, pool_id: str, purpose: str) -> Signer:
        """The key that signs the pool's tokens of `purpose` now."""
        now = time.monotonic()
        cached = self._signers.get((pool_pk, purpose))
        if cached is not None and cached[0] > now:
            return cached[1]
        row = self._keys.active_key(pool_pk, pool_id, purpose)
        pem = self._box.open(row.private_key_enc, f"signing-key/{row.kid}")
        signer = Signer(row.kid, RSAKey.import_key(pem))
        with self._lock:
            self._signers[(pool_pk, purpose)] = (now + SIGNER_CACHE_SECONDS, signer)
        return signer

    def verification_key(self, kid: str) -> VerificationKey | None:
        """The public key with this key id, or None for an unknown id."""
        found = self._public.get(kid)
        if found is not None:
            return found
        row = keys_repo.by_kid(self._db.fetch, kid)
        if row is None or row.purpose not in PURPOSES:
            return None
        public = RSAKey.import_key(json.loads(row.public_jwk))
        found = VerificationKey(row.pool_pk, row.purpose, public)
        with self._lock:
            self._public[kid] = found
        return found

    def jwks(self, pool_pk: int, pool_id: str) -> dict[str, Any]:
        """The pool's JSON Web Key Set: its active token keys and recently retired ones."""
        rows = self._published(pool_pk)
        active = {r.purpose for r in rows if r.retired_at is None}
        if active != set(PURPOSES):
            for purpose in PURPOSES:
                if purpose not in active:
                    self._keys.active_key(pool_pk, pool_id, purpose)
            rows = self._published(pool_pk)
        # Cognito lists the ID token key first, then the access token key.
        rows.sort(key=lambda r: (r.retired_at is not None, PURPOSES.index(r.purpose)))
        return {"keys": [json.loads(r.public_jwk) for r in rows]}

    def rotate(self, pool_pk: int, pool_id: str) -> list[str]:
        """New ID and access token keys for the pool; returns their key ids."""
        kids = [
            self._keys.create_key(pool_pk, pool_id, purpose, replace=True).kid
            for purpose in PURPOSES
        ]
        with self._lock:
            for purpose in PURPOSES:
                self._signers.pop((pool_pk, purpose), None)
        return kids

    def _published(self, pool_pk: int) -> list[keys_repo.PublishedKey]:
        since = self._clock.now_ms() - RETIRED_KEY_PUBLISHED_MS
        return keys_repo.published(self._db.fetch, pool_pk, PURPOSES, since)
