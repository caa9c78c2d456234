"""Identifiers in the formats Cognito uses, drawn from `secrets`.

* user pool id: `<region>_<9 alphanumerics>`, e.g. `us-east-1_AbCdEfGhI`;
* app client id: 26 lower-case alphanumerics, e.g. `4bgd5r70a8gtfe4d5d2us1gs6r`;
* generated client secret: 52 lower-case alphanumerics (within the 24-64 `[\\w+]+` the
  model allows for secrets);
* client secret id: `<client-id>--<epoch-create-time-ms>` (API reference).
"""

from __future__ import annotations

import base64
import secrets
import string

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits


def _random(alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly from `alphabet` (one call to the OS's CSPRNG)."""
    base = len(alphabet)
    # Enough random bits that the modulo bias is below 2**-64.
    number = secrets.randbits(int(length * base.bit_length()) + 64)
    chars = []
    for _ in range(length):
        number, index = divmod(number, base)
        chars.append(alphabet[index])
    return "".join(chars)


def new_user_pool_id(region: str) -> str:
    return f"{region}_{_random(_ALNUM, 9)}"


def new_client_id() -> str:
    return _random(_LOWER_ALNUM, 26)


def new_client_secret() -> str:
    return _random(_LOWER_ALNUM, 52)


def client_secret_id(client_id: str, created_ms: int) -> str:
    return f"{client_id}--{created_ms}"


def user_pool_arn(region: str, account_id: str, pool_id: str) -> str:
    return f"arn:aws:cognito-idp:{region}:{account_id}:userpool/{pool_id}"


def region_of_pool_id(pool_id: str) -> str | None:
    """The region a pool id names (the part before the last `_`), if it has one."""
    region, sep, _suffix = pool_id.rpartition("_")
    return region if sep and region else None


def new_key_id() -> str:
    """A key id as Cognito's look: 44 characters of standard base64 (32 random bytes)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()
