"""A software passkey authenticator for tests: what a browser and a platform authenticator
together hand to a relying party.

`create(options, origin)` answers PublicKeyCredentialCreationOptionsJSON with a
RegistrationResponseJSON ("none" attestation, an ES256 key made for it), and
`get(options, origin)` answers PublicKeyCredentialRequestOptionsJSON with an
AuthenticationResponseJSON signed by that key. The flags and the signature counter can be
changed to test what a relying party must refuse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cose_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    numbers = key.public_key().public_numbers()
    return cbor2.dumps(
        {
            1: 2,  # kty: EC2
            3: -7,  # alg: ES256
            -1: 1,  # crv: P-256
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
    )


@dataclass
class Passkey:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftwareAuthenticator:
    user_verified: bool = True
    passkeys: list[Passkey] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        ).encode()

    def _flags(self) -> int:
        return FLAG_UP | (FLAG_UV if self.user_verified else 0)

    def create(
        self, options: dict[str, Any], origin: str, *, rp_id: str | None = None
    ) -> dict[str, Any]:
        """navigator.credentials.create(): a new passkey for options["rp"]["id"] (or rp_id,
        to make a credential for another relying party)."""
        rp = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential_id = os.urandom(32)
        passkey = Passkey(credential_id, key, rp, unb64url(options["user"]["id"]))
        self.passkeys.append(passkey)
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags() | FLAG_AT])
            + struct.pack(">I", 0)
            + AAGUID
            + struct.pack(">H", len(credential_id))
            + credential_id
            + _cose_key(key)
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self, options: dict[str, Any], origin: str, *, passkey: Passkey | None = None
    ) -> dict[str, Any]:
        """navigator.credentials.get(): an assertion by the passkey the options allow."""
        if passkey is None:
            allowed = {unb64url(c["id"]) for c in options.get("allowCredentials") or []}
            matching = [
                p
                for p in self.passkeys
                if p.rp_id == options["rpId"] and (not allowed or p.credential_id in allowed)
            ]
            assert matching, "no passkey for this relying party"
            passkey = matching[-1]
        passkey.sign_count += 1
        auth_data = (
            hashlib.sha256(passkey.rp_id.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", passkey.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = passkey.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(passkey.credential_id),
            "rawId": b64url(passkey.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(passkey.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
