"""Delivery through a pool's CustomEmailSender / CustomSMSSender function.

A pool with one of these triggers does not send that medium's messages itself: Cognito
invokes the function (asynchronously, after the operation) with the code encrypted, and
the function delivers it however it likes. The outbox sender does the same when it takes
such a message: the event is

    {"version": "1", "triggerSource": "CustomEmailSender_SignUp", "region", "userPoolId",
     "userName", "callerContext": {"awsSdkVersion", "clientId"},
     "request": {"type": "customEmailSenderRequestV1", "code": "<base64>",
                 "clientMetadata": {...}, "userAttributes": {...}}, "response": {}}

(`customSMSSenderRequestV1` and `CustomSMSSender_*` for SMS). `code` is the code (or an
invitation's temporary password) encrypted as Cognito does it, in the AWS Encryption SDK
message format, with a raw AES-256 key from the sender key file in place of the pool's KMS
key: key namespace (provider id) `cognate`, key name the pool's `KMSKeyID` (or
`cognate-sender-key` when it has none). The algorithm suite is the non-committing
AES-256-GCM/HKDF-SHA384/ECDSA-P384 one, which is why Cognito's documentation decrypts with
the `REQUIRE_ENCRYPT_ALLOW_DECRYPT` commitment policy; functions written for Cognito decrypt
Cognate's codes once they use a raw AES keyring with this key (README, "Custom senders").

The key file (`--sender-key-file`, else `sender.key` beside the data) holds 32 random bytes
in base64 and is created on first use. The function's reply is ignored; a function that
fails or cannot be reached fails the delivery attempt, which the outbox retries as Lambda
retries an asynchronous invocation (three attempts in all).
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import (
    Algorithm,
    CommitmentPolicy,
    EncryptionKeyType,
    WrappingAlgorithm,
)
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey

from cognate.api.exceptions import (
    InvalidLambdaResponseException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from cognate.config import Settings
from cognate.delivery.transports import DeliveryError
from cognate.domain.secretbox import load_or_create_key_file
from cognate.domain.triggers import Triggers, trigger_arn
from cognate.storage.repos.pools import PoolRow

KEY_NAMESPACE = "cognate"
DEFAULT_KEY_NAME = "cognate-sender-key"
ALGORITHM = Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384
FUNCTION_ATTEMPTS = 3  # Lambda's asynchronous invocations: the first and two retries

_REQUEST_TYPE = {
    "CustomEmailSender": "customEmailSenderRequestV1",
    "CustomSMSSender": "customSMSSenderRequestV1",
}


def sender_key_path(settings: Settings) -> Path:
    if settings.sender_key_file:
        return Path(settings.sender_key_file)
    return settings.data_dir() / "sender.key"


class SenderKey:
    """The AES-256 key that stands in for the pools' KMS keys; read (or created) when the
    first code is encrypted."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._key: bytes | None = None
        self._lock = threading.Lock()
        self._client = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
        )

    def _material(self) -> bytes:
        with self._lock:
            if self._key is None:
                self._key = load_or_create_key_file(self._path, what="sender key")
            return self._key

    def encrypt(self, plaintext: str, key_name: str) -> str:
        """`plaintext` as a base64 AWS Encryption SDK message under this key."""
        master_key = RawMasterKey(
            provider_id=KEY_NAMESPACE,
            key_id=key_name.encode(),
            wrapping_key=WrappingKey(
                wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                wrapping_key=self._material(),
                wrapping_key_type=EncryptionKeyType.SYMMETRIC,
            ),
        )
        ciphertext, _header = self._client.encrypt(
            source=plaintext.encode(), key_provider=master_key, algorithm=ALGORITHM
        )
        return base64.b64encode(ciphertext).decode()


class CustomSenders:
    """Hands queued messages to the pools' custom sender functions."""

    def __init__(self, triggers: Triggers, key: SenderKey) -> None:
        self._triggers = triggers
        self._key = key

    def handles(self, pool: PoolRow, content: dict[str, Any]) -> bool:
        """Whether this message goes to a custom sender function: it was queued for one
        and the pool still has it."""
        sender = content.get("sender")
        return (
            isinstance(sender, dict) and trigger_arn(pool.settings, sender["trigger"]) is not None
        )

    def deliver(self, pool: PoolRow, content: dict[str, Any]) -> None:
        sender = content["sender"]
        trigger = str(sender["trigger"])
        key_name = (pool.settings.get("LambdaConfig") or {}).get("KMSKeyID") or DEFAULT_KEY_NAME
        request = {
            "type": _REQUEST_TYPE[trigger],
            "code": self._key.encrypt(str(content.get("code") or ""), str(key_name)),
            "clientMetadata": dict(sender.get("client_metadata") or {}),
            "userAttributes": dict(sender.get("user_attributes") or {}),
        }
        try:
            self._triggers.run(
                pool,
                trigger,
                str(sender["source"]),
                username=sender.get("username"),
                client_id=sender.get("client_id"),
                request=request,
            )
        except (UserLambdaValidationException, UnexpectedLambdaException) as exc:
            raise FunctionDeliveryError(exc.message) from None
        except InvalidLambdaResponseException:
            pass  # Cognito ignores what a custom sender returns


class FunctionDeliveryError(DeliveryError):
    """A custom sender function failed or could not be run."""
