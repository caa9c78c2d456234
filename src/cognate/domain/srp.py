"""Cognito's SRP-6a, as pure functions: the arithmetic clients and server must agree on.

Exactly what amazon-cognito-identity-js (`AuthenticationHelper.js`) and pycognito compute:

* the RFC 5054 3072-bit group with g = 2, hash SHA-256;
* big numbers are hashed through `pad_hex`, Cognito's sign-padding (prepend "0" to an
  odd-length hex string, "00" when the first nibble is 8 or more), not RFC 5054's
  fixed-width PAD;
* k = H(pad_hex(N) || pad_hex(g));
* x = H(pad_hex(salt) || H(poolName + userId + ":" + password)), where poolName is the
  part of the user pool id after "_" (for devices: DeviceGroupKey and DeviceKey);
* verifier v = g^x mod N;
* u = H(pad_hex(A) || pad_hex(B)); server S = (A * v^u)^b mod N;
* key = first 16 bytes of HMAC(HMAC(u, S), "Caldera Derived Key" || 0x01);
* PASSWORD_CLAIM_SIGNATURE = base64(HMAC(key, poolName || userId || secretBlock || timestamp)).

Powers of the fixed generator (the verifier, the server's g^b) use a precomputed
fixed-base table: 32 multiplications instead of ~256 squarings, which is what makes
creating users with passwords cheap. Modular arithmetic runs on gmpy2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

import gmpy2

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D226"
    "1AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = gmpy2.mpz(N_HEX, 16)
G = gmpy2.mpz(2)
INFO = b"Caldera Derived Key\x01"
_WINDOW_BITS = 8
_WINDOWS = 32  # the table covers exponents below 2**256


def pad_hex(value: int) -> str:
    """Cognito's padHex: the hex of a non-negative integer, sign-padded."""
    text = format(value, "x")
    if len(text) % 2 == 1:
        return "0" + text
    if text[0] in "89abcdef":
        return "00" + text
    return text


def hash_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hex_hash(hex_text: str) -> str:
    """SHA-256 of the bytes a hex string stands for, as hex."""
    return hash_hex(bytes.fromhex(hex_text))


K = gmpy2.mpz(hex_hash(pad_hex(int(N)) + pad_hex(int(G))), 16)


class _FixedBaseTable:
    """g^e mod N for e < 2**256 from precomputed g^(d * 256**j): 32 multiplications."""

    def __init__(self) -> None:
        self._rows: list[list[gmpy2.mpz]] | None = None
        self._lock = threading.Lock()

    def _build(self) -> list[list[gmpy2.mpz]]:
        rows: list[list[gmpy2.mpz]] = []
        base = G
        for _ in range(_WINDOWS):
            row = [gmpy2.mpz(1), base]
            for _digit in range(2, 1 << _WINDOW_BITS):
                row.append(row[-1] * base % N)
            rows.append(row)
            base = row[-1] * base % N  # g^(256**(j+1))
        return rows

    def power(self, exponent: int) -> gmpy2.mpz:
        if exponent >= 1 << (_WINDOW_BITS * _WINDOWS) or exponent < 0:
            return gmpy2.powmod(G, exponent, N)
        rows = self._rows
        if rows is None:
            with self._lock:
                if self._rows is None:
                    self._rows = self._build()
                rows = self._rows
        result = gmpy2.mpz(1)
        mask = (1 << _WINDOW_BITS) - 1
        for row in rows:
            digit = exponent & mask
            if digit:
                result = result * row[digit] % N
            exponent >>= _WINDOW_BITS
            if not exponent:
                break
        return result


_G_POW = _FixedBaseTable()


def g_pow(exponent: int) -> int:
    return int(_G_POW.power(exponent))


def compute_x(group: str, identity: str, password: str, salt: int) -> int:
    """x for a password: group is the pool name (or DeviceGroupKey), identity the user id."""
    inner = hash_hex(f"{group}{identity}:{password}".encode())
    return int(hex_hash(pad_hex(salt) + inner), 16)


def new_salt() -> int:
    return int.from_bytes(secrets.token_bytes(16), "big")


def verifier(group: str, identity: str, password: str, salt: int) -> int:
    return g_pow(compute_x(group, identity, password, salt))


def pool_name(user_pool_id: str) -> str:
    """The SRP "pool name": the part of the pool id after the underscore."""
    return user_pool_id.split("_", 1)[1]


# ----------------------------------------------------------------------------- server side


def server_ephemeral(v: int) -> tuple[int, int]:
    """A fresh server secret b and the public B = (k*v + g^b) mod N (never 0 mod N)."""
    while True:
        b = secrets.randbits(256)
        big_b = int((K * v + _G_POW.power(b)) % N)
        if big_b != 0:
            return b, big_b


def scrambler(big_a: int, big_b: int) -> int:
    return int(hex_hash(pad_hex(big_a) + pad_hex(big_b)), 16)


def server_key(big_a: int, big_b: int, b: int, v: int) -> bytes:
    """The 16-byte session key both sides derive; raises ValueError for a bad A or u."""
    if big_a % N == 0:
        raise ValueError("A mod N is zero")
    u = scrambler(big_a, big_b)
    if u == 0:
        raise ValueError("u is zero")
    s = gmpy2.powmod(gmpy2.mpz(big_a) * gmpy2.powmod(v, u, N) % N, b, N)
    prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(int(s))), hashlib.sha256)
    return hmac.new(prk.digest(), INFO, hashlib.sha256).digest()[:16]


def claim_signature(
    key: bytes, group: str, identity: str, secret_block: bytes, timestamp: str
) -> str:
    message = group.encode() + identity.encode() + secret_block + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
