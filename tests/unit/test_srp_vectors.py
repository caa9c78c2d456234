"""Cognate's SRP-6a against an independent client implementation (pycognito's aws_srp),
on fixed vectors: fixed a, b, salt, password, pool and user id.

The server half (cognate.domain.srp: verifier, B, the session key, the claim signature)
must derive exactly what the client half derives, byte for byte, including the padHex
corner cases (odd lengths, a top nibble of 8 or more) that make naive implementations
disagree once in a while.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import types
from typing import Any

import pytest
from pycognito import aws_srp

from cognate.api.exceptions import InvalidParameterException, NotAuthorizedException
from cognate.domain import srp
from cognate.domain.auth import srp_exchange

K_HEX = "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
N = int(aws_srp.N_HEX, 16)
POOL_ID = "us-east-1_AbCdEfGhI"


def fixed(label: str, bits: int) -> int:
    """A deterministic pseudo-random number of about `bits` bits."""
    out = b""
    counter = 0
    while len(out) * 8 < bits:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return int.from_bytes(out, "big") >> (len(out) * 8 - bits)


def test_k_has_its_known_value() -> None:
    assert format(int(srp.K), "064x") == K_HEX
    client = aws_srp.AWSSRP("u", "p", POOL_ID, "client", client=object())
    assert client.val_k == int(K_HEX, 16)
    assert int(srp.N) == N
    assert int(srp.G) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "00"),
        (1, "01"),
        (0xF, "0f"),
        (0x7F, "7f"),
        (0x80, "0080"),
        (0xFF, "00ff"),
        (0xABC, "0abc"),
        (0x1234, "1234"),
        (0x8000, "008000"),
        (0x7FFFFF, "7fffff"),
        (0x800000, "00800000"),
        (N, "00" + aws_srp.N_HEX.lower()),
    ],
)
def test_pad_hex(value: int, expected: str) -> None:
    assert srp.pad_hex(value) == expected
    assert aws_srp.pad_hex(value) == expected
    # pycognito pads hex strings (the SALT parameter) the same way
    assert aws_srp.pad_hex(format(value, "x")) == expected


def test_pool_name() -> None:
    assert srp.pool_name(POOL_ID) == "AbCdEfGhI"
    assert srp.pool_name("eu-west-1_x1") == "x1"


@pytest.mark.parametrize("exponent", [0, 1, 2, 255, 256, 2**255 + 12345, 2**256 - 1, 2**256])
def test_fixed_base_powers(exponent: int) -> None:
    assert srp.g_pow(exponent) == pow(2, exponent, N)


def test_fixed_base_powers_of_large_exponents() -> None:
    for label in ("x", "y", "z"):
        exponent = fixed(label, 3072)
        assert srp.g_pow(exponent) == pow(2, exponent, N)


def pycognito_client(user_id: str, password: str, small_a: int) -> Any:
    """pycognito's client with its random a replaced by a fixed one."""
    client = aws_srp.AWSSRP(user_id, password, POOL_ID, "clientid", client=object())
    client.small_a_value = small_a
    client.large_a_value = client.calculate_a()
    return client


VECTORS = [
    # user id, password, salt, a, b
    ("alice", "Passw0rd!", fixed("salt-1", 128), fixed("a-1", 1024), fixed("b-1", 256)),
    # a salt whose hex has a top nibble of 8 or more (padded with "00")
    ("bob", "Corr3ct-Horse!", 0x9F3A << 112 | 0x1234, fixed("a-2", 1024), fixed("b-2", 256)),
    # a salt whose hex has an odd length (padded with "0")
    ("carol", "p", 0xABC << 100 | 7, fixed("a-3", 1000), fixed("b-3", 255)),
    # a UUID user id (pools whose usernames are emails) and a non-ASCII password
    (
        "5d0f2a3e-6d1b-4c3f-9e1a-0b6f7c8d9e01",
        "pässwörd ✓ with spaces",
        fixed("salt-4", 127),
        fixed("a-4", 1024),
        fixed("b-4", 200),
    ),
]


@pytest.mark.parametrize(("user_id", "password", "salt", "small_a", "small_b"), VECTORS)
def test_server_and_client_derive_the_same_key(
    user_id: str, password: str, salt: int, small_a: int, small_b: int
) -> None:
    pool = srp.pool_name(POOL_ID)
    # x and the verifier as pycognito derives them
    inner = aws_srp.hash_sha256(f"{pool}{user_id}:{password}".encode())
    x = aws_srp.hex_to_long(aws_srp.hex_hash(aws_srp.pad_hex(format(salt, "x")) + inner))
    assert srp.compute_x(pool, user_id, password, salt) == x
    verifier = srp.verifier(pool, user_id, password, salt)
    assert verifier == pow(2, x, N)

    client = pycognito_client(user_id, password, small_a)
    big_a = client.large_a_value
    big_b = (int(srp.K) * verifier + pow(2, small_b, N)) % N
    assert srp.scrambler(big_a, big_b) == aws_srp.calculate_u(big_a, big_b)

    server_key = srp.server_key(big_a, big_b, small_b, verifier)
    client_key = client.get_password_authentication_key(user_id, password, big_b, format(salt, "x"))
    assert len(server_key) == 16
    assert server_key == bytes(client_key)

    # and a wrong password derives another key
    wrong = client.get_password_authentication_key(
        user_id, password + "x", big_b, format(salt, "x")
    )
    assert bytes(wrong) != server_key


def test_key_derivation_step_by_step() -> None:
    """The HKDF of Cognito's SRP: PRK = HMAC(u, S), key = HMAC(PRK, info || 0x01)[:16]."""
    user_id, password, salt, small_a, small_b = VECTORS[0]
    pool = srp.pool_name(POOL_ID)
    verifier = srp.verifier(pool, user_id, password, salt)
    big_a = pow(2, small_a, N)
    big_b = (int(srp.K) * verifier + pow(2, small_b, N)) % N
    u = aws_srp.calculate_u(big_a, big_b)
    s = pow(big_a * pow(verifier, u, N), small_b, N)
    expected = aws_srp.compute_hkdf(
        bytearray.fromhex(aws_srp.pad_hex(s)), bytearray.fromhex(aws_srp.pad_hex(u))
    )
    assert srp.server_key(big_a, big_b, small_b, verifier) == bytes(expected)


@pytest.mark.parametrize(("user_id", "password", "salt", "small_a", "small_b"), VECTORS)
def test_claim_signature_matches_pycognito(
    monkeypatch: pytest.MonkeyPatch,
    user_id: str,
    password: str,
    salt: int,
    small_a: int,
    small_b: int,
) -> None:
    moment = dt.datetime(2019, 9, 3, 8, 5, 9)

    class FrozenDatetime(dt.datetime):
        @classmethod
        def utcnow(cls) -> dt.datetime:  # type: ignore[override]
            return moment

    monkeypatch.setattr(
        aws_srp, "datetime", types.SimpleNamespace(datetime=FrozenDatetime), raising=True
    )
    pool = srp.pool_name(POOL_ID)
    verifier = srp.verifier(pool, user_id, password, salt)
    client = pycognito_client(user_id, password, small_a)
    big_b = (int(srp.K) * verifier + pow(2, small_b, N)) % N
    secret_block = base64.b64encode(fixed(f"block-{user_id}", 512).to_bytes(64, "big")).decode()
    parameters = {
        "USER_ID_FOR_SRP": user_id,
        "USERNAME": user_id,
        "SALT": format(salt, "x"),
        "SRP_B": format(big_b, "x"),
        "SECRET_BLOCK": secret_block,
    }
    answer = client.process_challenge(parameters, {"USERNAME": user_id})
    assert answer["TIMESTAMP"] == "Tue Sep 3 08:05:09 UTC 2019"
    key = srp.server_key(client.large_a_value, big_b, small_b, verifier)
    expected = srp.claim_signature(
        key, pool, user_id, base64.b64decode(secret_block), answer["TIMESTAMP"]
    )
    assert answer["PASSWORD_CLAIM_SIGNATURE"] == expected

    # the server-side check accepts it, and nothing else
    exchange = srp_exchange.Ephemeral(user_id, salt, client.large_a_value, big_b, small_b)
    check = srp_exchange.signature_matches
    assert check(exchange, pool, verifier, secret_block, answer["TIMESTAMP"], expected)
    other_stamp = "Tue Sep 3 08:05:10 UTC 2019"
    assert not check(exchange, pool, verifier, secret_block, other_stamp, expected)
    other_block = base64.b64encode(b"another block").decode()
    assert not check(exchange, pool, verifier, other_block, answer["TIMESTAMP"], expected)
    other_pool = srp.pool_name("us-east-1_ZzZzZzZzZ")
    assert not check(exchange, other_pool, verifier, secret_block, answer["TIMESTAMP"], expected)


def test_server_ephemeral_is_k_v_plus_g_b() -> None:
    verifier = srp.verifier("AbCdEfGhI", "alice", "Passw0rd!", fixed("salt", 128))
    small_b, big_b = srp.server_ephemeral(verifier)
    assert 0 < small_b < 2**256
    assert big_b == (int(srp.K) * verifier + pow(2, small_b, N)) % N
    assert big_b % N != 0


def test_server_key_refuses_a_zero_a() -> None:
    verifier = srp.verifier("AbCdEfGhI", "alice", "Passw0rd!", 1)
    for bad in (0, N, 2 * N):
        with pytest.raises(ValueError, match="A mod N"):
            srp.server_key(bad, 5, 7, verifier)


# ----------------------------------------------------------------------------- TIMESTAMP


def ms(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (dt.datetime(2019, 9, 3, 8, 5, 9), "Tue Sep 3 08:05:09 UTC 2019"),
        (dt.datetime(2026, 11, 26, 23, 59, 59), "Thu Nov 26 23:59:59 UTC 2026"),
        (dt.datetime(2024, 2, 29, 0, 0, 0), "Thu Feb 29 00:00:00 UTC 2024"),
    ],
)
def test_timestamp_format(moment: dt.datetime, text: str) -> None:
    assert aws_srp.AWSSRP.get_cognito_formatted_timestamp(moment) == text
    assert srp_exchange.canonical_timestamp(text, ms(moment)) == text


def test_timestamp_is_rendered_again_by_the_server() -> None:
    now = ms(dt.datetime(2019, 9, 3, 8, 5, 9))
    # a zero-padded day or a wrong weekday parse, but are signed as Cognito renders them
    assert srp_exchange.canonical_timestamp("Tue Sep 03 08:05:09 UTC 2019", now) == (
        "Tue Sep 3 08:05:09 UTC 2019"
    )
    assert srp_exchange.canonical_timestamp("Wed Sep 3 08:05:09 UTC 2019", now) == (
        "Tue Sep 3 08:05:09 UTC 2019"
    )


@pytest.mark.parametrize(
    "text",
    [
        "2019-09-03T08:05:09Z",
        "Tue Sep 3 08:05:09 2019",
        "Tue Sep 3 08:05:09 GMT+1 2019",
        "Tuesday September 3 08:05:09 UTC 2019",
        "",
    ],
)
def test_malformed_timestamps(text: str) -> None:
    with pytest.raises(InvalidParameterException) as exc:
        srp_exchange.canonical_timestamp(text, ms(dt.datetime(2019, 9, 3, 8, 5, 9)))
    assert exc.value.message == "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."


def test_timestamp_far_from_now_is_a_failed_proof() -> None:
    with pytest.raises(NotAuthorizedException):
        srp_exchange.canonical_timestamp(
            "Tue Sep 3 08:05:09 UTC 2019", ms(dt.datetime(2019, 9, 4, 8, 5, 9))
        )
