"""Per-pool RSA signing keys, created on first use and kept (encrypted) in the database.

A key is generated the first time a pool needs one for a purpose, then reused by every
process: creation races are settled by the unique index on (pool, purpose) among active
keys, and the loser reads the winner's key. Private keys are sealed with the master key.

Token keys (`id`, `access`) are managed by `token_keys.py` on top of this service.

`saml` keys carry a self-signed X.509 certificate, valid for 10 years, which is what
GetSigningCertificate returns (base64 DER, as in a PEM body without its armour).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import ResourceNotFoundException
from cognate.domain import ids, messages
from cognate.domain.clock import Clock
from cognate.domain.pools import require_pool
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos import keys as keys_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.keys import KeyRow

SAML = "saml"
_CERT_VALIDITY = dt.timedelta(days=3650)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class KeyService:
    def __init__(self, db: Database, clock: Clock, box: SecretBox) -> None:
        self._db = db
        self._clock = clock
        self._box = box

    def signing_certificate(self, region: str, pool_id: str) -> str:
        key = self._active_key(region, pool_id, SAML)
        assert key.certificate is not None
        return key.certificate

    def _active_key(self, region: str, pool_id: str, purpose: str) -> KeyRow:
        def find(conn: Connection) -> tuple[int, KeyRow | None]:
            pool = require_pool(conn, region, pool_id)
            return pool.pk, keys_repo.active(conn, pool.pk, purpose)

        pool_pk, key = self._db.read("get_signing_key", find)
        return key if key is not None else self.create_key(pool_pk, pool_id, purpose)

    def active_key(self, pool_pk: int, pool_id: str, purpose: str) -> KeyRow:
        """The pool's active key for `purpose`, created if it has none."""
        key = self._db.read("get_signing_key", lambda c: keys_repo.active(c, pool_pk, purpose))
        return key if key is not None else self.create_key(pool_pk, pool_id, purpose)

    def create_key(
        self, pool_pk: int, pool_id: str, purpose: str, *, replace: bool = False
    ) -> KeyRow:
        """Create the pool's key for `purpose` (the active one's successor with `replace`);
        when another request created one first, that one is returned."""
        # Generate outside any transaction: RSA generation takes tens of milliseconds.
        material = self._generate(pool_id, purpose)

        def store(conn: Connection) -> KeyRow:
            if pools_repo.by_pk(conn, pool_pk, for_update=True) is None:
                raise ResourceNotFoundException(messages.user_pool_not_found(pool_id))
            if replace:
                keys_repo.retire(conn, pool_pk, purpose, material["now"])
            try:
                with conn.begin_nested():
                    keys_repo.insert(conn, pool_pk=pool_pk, purpose=purpose, **material)
            except IntegrityError:
                pass  # another request created the key first: use theirs
            stored = keys_repo.active(conn, pool_pk, purpose)
            assert stored is not None
            return stored

        return self._db.write("create_signing_key", store)

    def _generate(self, pool_id: str, purpose: str) -> dict[str, Any]:
        now = self._clock.now_ms()
        kid = ids.new_key_id()
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        numbers = private.public_key().public_numbers()
        jwk = {
            "alg": "RS256",
            "e": _b64url_uint(numbers.e),
            "kid": kid,
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "use": "sig",
        }
        certificate = None
        if purpose == SAML:
            certificate = self._certificate(private, pool_id, now)
        return {
            "kid": kid,
            "private_key_enc": self._box.seal(pem, f"signing-key/{kid}"),
            "public_jwk": json.dumps(jwk, separators=(",", ":")),
            "certificate": certificate,
            "now": now,
        }

    @staticmethod
    def _certificate(private: rsa.RSAPrivateKey, pool_id: str, now_ms: int) -> str:
        issued = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cognate"),
                x509.NameAttribute(NameOID.COMMON_NAME, pool_id),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(issued)
            .not_valid_after(issued + _CERT_VALIDITY)
            .sign(private, hashes.SHA256())
        )
        der = certificate.public_bytes(serialization.Encoding.DER)
        return base64.b64encode(der).decode()
