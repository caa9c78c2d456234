"""wire/sigv4.py against botocore's own signer, the AWS SigV4 test suite's vanilla example,
and each of the checks AWS makes before the signature (with its wording)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cognate.api.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from cognate.wire import sigv4

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.UTC)
BODY = b'{"UserPoolId": "eu-west-1_abcdefghi"}'


def signed(
    *,
    at: dt.datetime = NOW,
    body: bytes = BODY,
    service: str = "cognito-idp",
    region: str = "eu-west-1",
    url: str = "http://127.0.0.1:9230/",
    secret: str = SECRET,
    extra: dict[str, str] | None = None,
) -> tuple[sigv4.RequestParts, dict[str, str]]:
    """A request signed by botocore at `at`, as the server would receive it."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.DescribeUserPool",
            "Content-Type": "application/x-amz-json-1.1",
            **(extra or {}),
        },
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        SigV4Auth(Credentials(KEY_ID, secret), service, region).add_auth(request)
    prepared = request.prepare()
    headers = {
        "host": prepared.url.split("/")[2],
        **{k.lower(): v for k, v in prepared.headers.items()},
    }
    path, _, query = prepared.url.split("/", 3)[3].partition("?")
    parts = sigv4.RequestParts(
        "POST",
        "/" + path,
        query,
        [(k.encode(), str(v).encode()) for k, v in headers.items()],
    )
    return parts, headers


def verify(parts: sigv4.RequestParts, headers: dict[str, str], **kw: Any) -> sigv4.Verified:
    secrets = {KEY_ID: SECRET}
    return sigv4.verify(
        parts,
        kw.get("body", BODY),
        kw.get("authorization", headers.get("authorization")),
        secrets.get,
        kw.get("now", NOW),
    )


def test_vanilla_example_of_the_aws_test_suite() -> None:
    """get-vanilla from the AWS Signature Version 4 test suite (service `service`)."""
    parts = sigv4.RequestParts(
        "GET",
        "/",
        "",
        [(b"host", b"example.amazonaws.com"), (b"x-amz-date", b"20150830T123600Z")],
    )
    canonical = sigv4.canonical_request(parts, b"", "host;x-amz-date")
    assert canonical == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    to_sign = sigv4.string_to_sign(
        "20150830T123600Z", "20150830/us-east-1/service/aws4_request", canonical
    )
    assert sigv4.signature(SECRET, "20150830", "us-east-1", "service", to_sign) == (
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_botocore_signatures_verify() -> None:
    parts, headers = signed()
    assert verify(parts, headers) == sigv4.Verified(KEY_ID, "eu-west-1")
    # a query string, repeated and oddly spaced headers are canonicalized as botocore does
    parts, headers = signed(
        url="http://localhost:9230/?b=2&a=1%20x", extra={"X-Custom": "  two   spaces "}
    )
    assert verify(parts, headers).access_key_id == KEY_ID


def test_within_the_skew_window_on_both_sides() -> None:
    parts, headers = signed(at=NOW - dt.timedelta(minutes=4, seconds=59))
    assert verify(parts, headers).region == "eu-west-1"
    parts, headers = signed(at=NOW + dt.timedelta(minutes=4, seconds=59))
    assert verify(parts, headers).region == "eu-west-1"


def test_expired_and_future_signatures() -> None:
    parts, headers = signed(at=NOW - dt.timedelta(minutes=20))
    with pytest.raises(InvalidSignatureException) as error:
        verify(parts, headers)
    assert error.value.message == (
        "Signature expired: 20150830T121600Z is now earlier than 20150830T123100Z "
        "(20150830T123600Z - 5 min.)"
    )
    parts, headers = signed(at=NOW + dt.timedelta(minutes=6))
    with pytest.raises(InvalidSignatureException) as error:
        verify(parts, headers)
    assert error.value.message == (
        "Signature not yet current: 20150830T124200Z is still later than 20150830T124100Z "
        "(20150830T123600Z + 5 min.)"
    )


def test_wrong_secret_and_changed_body() -> None:
    parts, headers = signed(secret="not-the-secret")
    with pytest.raises(InvalidSignatureException) as error:
        verify(parts, headers)
    assert error.value.message.startswith(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method."
    )
    assert "The Canonical String for this request should have been\n'POST\n/\n" in (
        error.value.message
    )
    assert SECRET not in error.value.message
    parts, headers = signed()
    with pytest.raises(InvalidSignatureException):
        verify(parts, headers, body=BODY.replace(b"abc", b"xyz"))


def test_missing_and_incomplete_authorization() -> None:
    parts, headers = signed()
    for authorization in (None, "", "Bearer abc", "AWS3 whatever"):
        with pytest.raises(MissingAuthenticationTokenException) as missing:
            verify(parts, headers, authorization=authorization)
        assert missing.value.message == "Missing Authentication Token"
    with pytest.raises(IncompleteSignatureException) as incomplete:
        verify(parts, headers, authorization="AWS4-HMAC-SHA256 Credential=a/b")
    assert incomplete.value.message == (
        "Authorization header requires 'Signature' parameter. Authorization header requires "
        "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=a/b"
    )
    auth = headers["authorization"]
    with pytest.raises(IncompleteSignatureException) as algorithm:
        verify(parts, headers, authorization=auth.replace("SHA256", "SHA512"))
    assert algorithm.value.message == (
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). "
    )
    no_date = sigv4.RequestParts(
        "POST", "/", "", [h for h in parts.headers if h[0] != b"x-amz-date"]
    )
    with pytest.raises(IncompleteSignatureException) as dateless:
        verify(no_date, headers)
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in (
        dateless.value.message
    )
    bad_date = sigv4.RequestParts(
        "POST",
        "/",
        "",
        [(k, b"2015-08-30" if k == b"x-amz-date" else v) for k, v in parts.headers],
    )
    with pytest.raises(IncompleteSignatureException) as iso:
        verify(bad_date, headers)
    assert iso.value.message == (
        "Date must be in ISO-8601 'basic format'. Got '2015-08-30'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def test_scope_checks() -> None:
    parts, headers = signed(service="dynamodb")
    with pytest.raises(InvalidSignatureException) as service:
        verify(parts, headers)
    assert service.value.message == "Credential should be scoped to correct service: 'cognito-idp'."
    auth = headers["authorization"]
    with pytest.raises(InvalidSignatureException) as day:
        verify(
            parts,
            headers,
            authorization=auth.replace(
                "/20150830/eu-west-1/dynamodb/", "/20150829/eu-west-1/cognito-idp/"
            ),
        )
    assert day.value.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '20150829' != '20150830', from '20150830T123600Z'."
    )
    with pytest.raises(IncompleteSignatureException) as short:
        verify(parts, headers, authorization=auth.replace("/aws4_request", ""))
    assert short.value.message.startswith("Credential must have exactly 5 slash-delimited")
    unsigned_host = auth.replace("SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
    with pytest.raises(InvalidSignatureException) as host:
        verify(parts, headers, authorization=unsigned_host)
    assert host.value.message == "'Host' must be a 'SignedHeader' in the AWS Authorization."


def test_unknown_key_and_session_tokens() -> None:
    parts, headers = signed()
    with pytest.raises(UnrecognizedClientException) as unknown:
        verify(parts, headers, authorization=headers["authorization"].replace(KEY_ID, "AKIDOTHER"))
    assert unknown.value.message == "The security token included in the request is invalid."
    parts, headers = signed(extra={"X-Amz-Security-Token": "session"})
    with pytest.raises(UnrecognizedClientException):
        verify(parts, headers)


def test_an_http_date_header_works_in_place_of_x_amz_date() -> None:
    parts, headers = signed()
    stamp = "Sun, 30 Aug 2015 12:36:00 GMT"
    parts = sigv4.RequestParts(
        "POST",
        "/",
        "",
        [(b"date", stamp.encode()) if k == b"x-amz-date" else (k, v) for k, v in parts.headers],
    )
    names = headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    names = names.replace("x-amz-date", "date")
    canonical = sigv4.canonical_request(parts, BODY, ";".join(sorted(names.split(";"))))
    scope = "20150830/eu-west-1/cognito-idp/aws4_request"
    to_sign = sigv4.string_to_sign("20150830T123600Z", scope, canonical)
    sig = sigv4.signature(SECRET, "20150830", "eu-west-1", "cognito-idp", to_sign)
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, "
        f"SignedHeaders={';'.join(sorted(names.split(';')))}, Signature={sig}"
    )
    assert verify(parts, headers, authorization=authorization).access_key_id == KEY_ID
