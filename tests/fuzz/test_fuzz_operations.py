"""Bad input for every operation of the API, over HTTP to a live `cognate serve`.

For each of the model's operations, Hypothesis generates request bodies from the input
shape (tests/support/model_strategies.py): valid ones (every constraint respected; naming
the fixture's pool, client, user, group, domain and tokens so that the handler goes past
"not found", then with generated names only), and valid ones with one member at any
depth made wrong (type, null, length, size, range, enum, pattern). Every member is also
given every bad value for its shape on its own, and malformed bodies (not JSON, not an
object, truncated, not UTF-8, nested 100,000 deep) and bodies over the server's limit
are sent. The properties are checked on every answer by tests/support/fuzzing.py: no
5xx, AWS-shaped errors with status 400, the server up, and no Traceback, ERROR or
undeclared-error line in its log. The web side is tests/fuzz/test_fuzz_web.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cognate.wire.endpoint import MAX_BODY_BYTES
from tests.support.fuzzing import (
    FUZZ,
    JSON_TYPE,
    OPERATIONS,
    PASSWORD,
    TARGET_PREFIX,
    Fuzzer,
    check_reply,
    hints_for,
    raw_request,
)
from tests.support.model_strategies import (
    MALFORMED_BODIES,
    input_shape,
    invalid_values,
    mutated_body,
    valid_body,
)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_valid_and_mutated_bodies(fuzz: Fuzzer, operation: str) -> None:
    """Bodies generated from the input shape, valid and with one member made wrong: naming
    the fixture's pool, client, user... (unless the operation would destroy them), then
    with generated names only."""
    hints = hints_for(fuzz, operation)

    @FUZZ
    @given(body=valid_body(operation, hints))
    def valid(body: dict[str, Any]) -> None:
        fuzz.send(operation, body)

    @FUZZ
    @given(body=mutated_body(operation, hints))
    def mutated(body: dict[str, Any]) -> None:
        fuzz.send(operation, body)

    @FUZZ
    @given(body=st.one_of(valid_body(operation, {}), mutated_body(operation, {})))
    def generated_names(body: dict[str, Any]) -> None:
        fuzz.send(operation, body)

    valid()
    mutated()
    generated_names()
    fuzz.assert_healthy()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_member_wrong(fuzz: Fuzzer, operation: str) -> None:
    """Each top-level member of the input, alone, given every bad value for its shape:
    wrong types, null, too long, too many, out of range (deterministic, no Hypothesis)."""
    shape = input_shape(operation)
    members = shape.members if shape is not None else {}
    for name, member in members.items():
        for value in invalid_values(member):
            fuzz.send(operation, {name: value})
    fuzz.assert_healthy()


def test_numbers_beyond_java_integers(fuzz: Fuzzer) -> None:
    """An integer member has Java's int range (long: 64 bits) even without a model maximum:
    a bigger number is a SerializationException, never a database overflow."""
    pool_id = fuzz.stable.pool_id
    for precedence in (2**31, 10**30, 1e300, -(2**31) - 1):
        response = fuzz.send(
            "CreateGroup", {"UserPoolId": pool_id, "GroupName": "big", "Precedence": precedence}
        )
        assert response.json()["__type"] == "SerializationException", precedence
    response = fuzz.send(
        "CreateGroup", {"UserPoolId": pool_id, "GroupName": "big", "Precedence": 2**31 - 1}
    )
    assert response.status_code == 200
    fuzz.assert_healthy()


def test_non_ascii_secrets(fuzz: Fuzzer) -> None:
    """A SECRET_HASH (or any compared secret) with non-ASCII characters is a wrong secret,
    not a crash (hmac.compare_digest refuses non-ASCII str)."""
    secret_client = fuzz.stable.secret_client_id
    refresh = fuzz.stable.tokens["RefreshToken"]
    for parameters, flow in (
        ({"USERNAME": "fuzzer", "PASSWORD": PASSWORD, "SECRET_HASH": "\u00e9t\u00e9"},
         "USER_PASSWORD_AUTH"),
        ({"REFRESH_TOKEN": refresh, "SECRET_HASH": "\u2603"}, "REFRESH_TOKEN_AUTH"),
    ):  # fmt: skip
        body = {"ClientId": secret_client, "AuthFlow": flow, "AuthParameters": parameters}
        response = fuzz.send("InitiateAuth", body)
        assert response.json()["__type"] == "NotAuthorizedException", response.text
    fuzz.assert_healthy()


@pytest.mark.parametrize("index", range(len(MALFORMED_BODIES)))
def test_malformed_bodies(fuzz: Fuzzer, index: int) -> None:
    """A body that is not a JSON object is a SerializationException, for every operation."""
    body = MALFORMED_BODIES[index]
    for operation in OPERATIONS:
        response = fuzz.send(operation, body)
        assert response.json()["__type"] == "SerializationException", operation
    fuzz.assert_healthy()


def test_protocol_garbage(fuzz: Fuzzer) -> None:
    """Requests that name no operation, or use the wrong method, are answered AWS-style."""
    cases: list[tuple[str, dict[str, str], bytes]] = [
        ("POST", {"Content-Type": JSON_TYPE}, b"{}"),
        ("POST", {"X-Amz-Target": "", "Content-Type": JSON_TYPE}, b"{}"),
        ("POST", {"X-Amz-Target": TARGET_PREFIX + ".", "Content-Type": JSON_TYPE}, b"{}"),
        ("POST", {"X-Amz-Target": TARGET_PREFIX + ".NoSuchThing"}, b"{}"),
        ("POST", {"X-Amz-Target": "Other.ListUserPools"}, b"{}"),
        ("POST", {"X-Amz-Target": TARGET_PREFIX + ".ListUserPools" + "x" * 10_000}, b"{}"),
        ("POST", {"X-Amz-Target": (TARGET_PREFIX + ".Li\u00dft").encode("latin-1")}, b"{}"),  # type: ignore[dict-item]
        ("PUT", {"X-Amz-Target": TARGET_PREFIX + ".ListUserPools"}, b"{}"),
        ("DELETE", {"X-Amz-Target": TARGET_PREFIX + ".ListUserPools"}, b""),
    ]
    for method, headers, content in cases:
        response = fuzz.http.request(method, "/", headers=headers, content=content)
        check_reply(response, f"{method} {headers}")
        assert response.json()["__type"] == "UnknownOperationException"
    # Any Content-Type, or none, is read as JSON (as Cognito does).
    for content_type in ("text/plain", "application/json", ""):
        headers = fuzz.headers("ListUserPools") | {"Content-Type": content_type}
        response = fuzz.http.post("/", headers=headers, content=b'{"MaxResults": 1}')
        check_reply(response, content_type)
    fuzz.assert_healthy()


def test_body_over_the_limit(fuzz: Fuzzer) -> None:
    """A body over MAX_BODY_BYTES is refused, declared or streamed, and nothing breaks."""
    # Declared: refused before the body is read.
    raw = raw_request(
        fuzz.server.port,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"X-Amz-Target: " + f"{TARGET_PREFIX}.ListUserPools".encode() + b"\r\n"
        b"Content-Type: application/x-amz-json-1.1\r\n"
        b"Content-Length: " + str(MAX_BODY_BYTES + 1).encode() + b"\r\n\r\n{",
    )
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:200]
    assert b"InvalidParameterException" in raw, raw[:500]

    # Streamed without a length (chunked): refused once the limit is passed.
    def chunks() -> Iterator[bytes]:
        yield b'{"MaxResults": 1, "Padding": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    try:
        response = fuzz.http.post("/", content=chunks(), headers=fuzz.headers("ListUserPools"))
    except httpx.TransportError:
        pass  # the server may close the connection before the client has sent it all
    else:
        check_reply(response, "chunked")
        assert response.json()["__type"] == "InvalidParameterException"

    # Just under the limit: parsed (and refused by validation, not by size).
    padding = "x" * (MAX_BODY_BYTES - 100)
    response = fuzz.send("ListUserPools", {"MaxResults": 1, "Padding": padding})
    assert response.status_code == 200
    fuzz.assert_healthy()
