"""The server's half of Cognito's SRP sign-in (USER_SRP_AUTH -> PASSWORD_VERIFIER).

Step 1 (InitiateAuth with SRP_A): the server draws b, sends B = k*v + g^b, the user's
salt and USER_ID_FOR_SRP (the internal username), and SECRET_BLOCK: the challenge
session's token, which carries b and A (sealed, server side) to step 2.

Step 2 (RespondToAuthChallenge PASSWORD_VERIFIER): the server derives the same 16-byte
key from A, B, b and the verifier and checks PASSWORD_CLAIM_SIGNATURE, an HMAC over the
pool name, the user id, the secret block and the client's TIMESTAMP. A wrong signature
is a wrong password. The timestamp must be Cognito's format (else InvalidParameterException
in Cognito's words); like Cognito, the server signs its own rendering of the parsed time,
so a zero-padded day or a wrong weekday fails as a wrong password does. It must be within
15 minutes of the server's clock.

Unknown users, when the client prevents user-existence errors, get a simulated challenge
(RFC 5054 2.5.1.3): a salt and a UUID user id derived from the username with a server
key, the same at every attempt, and a B from a fake verifier; step 2 then always fails
as a wrong password would.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from cognate.api.exceptions import InvalidParameterException, NotAuthorizedException
from cognate.domain import messages, srp

PASSWORD_VERIFIER = "PASSWORD_VERIFIER"
TIMESTAMP_SKEW = dt.timedelta(minutes=15)
_TIMESTAMP_FORMAT = "%a %b %d %H:%M:%S UTC %Y"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """The server's side of one SRP exchange, as it is kept between the two steps."""

    user_id: str  # USER_ID_FOR_SRP
    salt: int
    big_a: int
    big_b: int
    b: int

    def to_state(self) -> dict[str, str]:
        return {
            "user_id": self.user_id,
            "salt": format(self.salt, "x"),
            "A": format(self.big_a, "x"),
            "B": format(self.big_b, "x"),
            "b": format(self.b, "x"),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Ephemeral:
        return cls(
            state["user_id"],
            int(state["salt"], 16),
            int(state["A"], 16),
            int(state["B"], 16),
            int(state["b"], 16),
        )


def parse_a(srp_a: str) -> int:
    try:
        big_a = int(srp_a, 16)
    except ValueError:
        raise InvalidParameterException("SRP_A is not a hexadecimal number") from None
    if big_a % int(srp.N) == 0:
        raise InvalidParameterException("SRP_A is invalid")
    return big_a


def begin(user_id: str, salt: int, verifier: int, big_a: int) -> Ephemeral:
    b, big_b = srp.server_ephemeral(verifier)
    return Ephemeral(user_id, salt, big_a, big_b, b)


def simulated(key: bytes, pool_id: str, username: str, big_a: int) -> Ephemeral:
    """A stable-looking challenge for a user that does not exist."""
    digest = hmac.new(key, f"{pool_id}\x00{username}".encode(), hashlib.sha256).digest()
    user_id = str(uuid.UUID(bytes=digest[:16], version=4))
    salt = int.from_bytes(digest[16:32], "big")
    fake_verifier = srp.g_pow(int.from_bytes(hashlib.sha256(digest).digest(), "big"))
    return begin(user_id, salt, fake_verifier, big_a)


def challenge_parameters(exchange: Ephemeral, secret_block: str) -> dict[str, str]:
    return {
        "SALT": format(exchange.salt, "x"),
        "SRP_B": format(exchange.big_b, "x"),
        "SECRET_BLOCK": secret_block,
        "USERNAME": exchange.user_id,
        "USER_ID_FOR_SRP": exchange.user_id,
    }


def canonical_timestamp(text: str, now_ms: int) -> str:
    """The TIMESTAMP as the server renders it (what the signature must cover)."""
    try:
        stamp = dt.datetime.strptime(text, _TIMESTAMP_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise InvalidParameterException(
            "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
        ) from None
    now = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
    if abs(now - stamp) > TIMESTAMP_SKEW:
        raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
    return (
        f"{_DAYS[stamp.weekday()]} {_MONTHS[stamp.month - 1]} {stamp.day} "
        f"{stamp:%H:%M:%S} UTC {stamp.year}"
    )


def signature_matches(
    exchange: Ephemeral,
    group: str,
    verifier: int,
    secret_block: str,
    timestamp: str,
    signature: str,
) -> bool:
    """Whether PASSWORD_CLAIM_SIGNATURE proves knowledge of the password. `group` is the
    pool name (the part of the pool id after "_"), or a device's DeviceGroupKey."""
    try:
        key = srp.server_key(exchange.big_a, exchange.big_b, exchange.b, verifier)
        block = base64.b64decode(secret_block, validate=True)
    except (ValueError, binascii.Error):
        return False
    expected = srp.claim_signature(key, group, exchange.user_id, block, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())
