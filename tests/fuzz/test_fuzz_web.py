"""Bad input for the web side, over HTTP to a live `cognate serve`: the pool domain's
OAuth endpoints and hosted pages (forms over the size limit, streamed or declared, and
random fields), null characters in paths, queries and forms, and the upload URL of user
import jobs (forged URLs, a declared size over the limit). Never a 5xx (501 is the pages'
answer for a step they do not support), and the server log stays clean.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cognate.domain.user_imports import MAX_UPLOAD_BYTES
from cognate.web.oauth.pages import MAX_FORM_BYTES
from tests.conftest import make_client
from tests.support.fuzzing import FUZZ, Fuzzer, raw_request

FORM_PATHS = (
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/userInfo",
    "/oauth2/idpresponse",
    "/saml2/idpresponse",
    "/saml2/logout",
    "/login",
    "/login/challenge",
    "/login/passkey",
    "/signup",
    "/confirm",
    "/forgotPassword",
    "/confirmForgotPassword",
)


# Endpoints that answer a POST without reading its body (the bearer token is all
# /oauth2/userInfo reads).
_BODY_NOT_READ = ("/oauth2/userInfo",)


def _authorize_query(fuzz: Fuzzer) -> dict[str, str]:
    """The authorize query the pages carry, so that they go on to read the form."""
    return {
        "client_id": fuzz.stable.client_id,
        "response_type": "code",
        "redirect_uri": "https://app.example.com/callback",
    }


def _web_reply_ok(response: httpx.Response, where: str) -> None:
    assert response.status_code < 500 or response.status_code == 501, (
        f"{where}: {response.status_code} {response.text[:300]}"
    )


def test_large_form_posts(fuzz: Fuzzer) -> None:
    """Form posts over MAX_FORM_BYTES to the domain's endpoints are refused with 413."""
    base = f"/_cognate/domains/{fuzz.stable.domain_name}"
    big = b"username=" + b"a" * (MAX_FORM_BYTES + 10)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    query = _authorize_query(fuzz)
    for path in FORM_PATHS:
        url = base + path
        response = fuzz.http.post(url, params=query, content=big, headers=form)
        if path in _BODY_NOT_READ:
            _web_reply_ok(response, path)
            continue
        assert response.status_code == 413, f"{path}: {response.status_code}"

        def stream() -> Iterator[bytes]:
            yield big[: len(big) // 2]
            yield big[len(big) // 2 :]

        response = fuzz.http.post(url, params=query, content=stream(), headers=form)
        assert response.status_code == 413, f"{path} (chunked): {response.status_code}"
        # Just under the limit is read (and answered as the endpoint answers it).
        response = fuzz.http.post(url, params=query, content=big[:MAX_FORM_BYTES], headers=form)
        _web_reply_ok(response, path)
    fuzz.assert_healthy()


_FORM_FIELDS = st.sampled_from(
    [
        "grant_type",
        "client_id",
        "client_secret",
        "code",
        "redirect_uri",
        "refresh_token",
        "token",
        "code_verifier",
        "scope",
        "username",
        "password",
        "password_again",
        "_csrf",
        "step",
        "action",
        "SAMLResponse",
        "RelayState",
        "state",
        "email",
        "answer",
    ]
)
_FORM_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["authorization_code", "refresh_token", "client_credentials", "", "\x00"]),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)


@pytest.mark.parametrize("path", FORM_PATHS)
def test_random_form_posts(fuzz: Fuzzer, path: str) -> None:
    """Random form fields (and a matching CSRF cookie, so pages read them) never crash a page."""
    base = f"/_cognate/domains/{fuzz.stable.domain_name}"

    @FUZZ
    @given(
        form=st.dictionaries(_FORM_FIELDS, _FORM_VALUES, max_size=6),
        with_client=st.booleans(),
        raw=st.binary(max_size=64),
    )
    def run(form: dict[str, str], with_client: bool, raw: bytes) -> None:
        query = _authorize_query(fuzz) if with_client else {}
        fuzz.http.cookies.set("cognate_csrf", "fuzz-csrf")
        data = form | {"_csrf": "fuzz-csrf"} if "_csrf" not in form else form
        response = fuzz.http.post(base + path, params=query, data=data)
        _web_reply_ok(response, path)
        response = fuzz.http.post(
            base + path,
            params=query,
            content=raw,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        _web_reply_ok(response, path)

    run()
    fuzz.http.cookies.clear()
    fuzz.assert_healthy()


def test_null_characters(fuzz: Fuzzer) -> None:
    """U+0000 anywhere (PostgreSQL's text cannot hold it) is refused cleanly: in API
    strings, in a domain's name, a page's query and a form."""
    response = fuzz.send("DescribeUserPoolDomain", {"Domain": "a\x00b"})
    assert response.json()["__type"] == "InvalidParameterException"
    response = fuzz.send("AdminGetUser", {"UserPoolId": fuzz.stable.pool_id, "Username": "\x00"})
    assert response.json()["__type"] == "InvalidParameterException"
    base = f"/_cognate/domains/{fuzz.stable.domain_name}"
    for url in (
        "/_cognate/domains/a%00b/login",
        f"{base}/oauth2/authorize?client_id=%00&response_type=code",
        f"{base}/login?client_id=a%00&response_type=code&redirect_uri=x",
        f"{base}/.well-known/openid-configuration?x=%00",
    ):
        _web_reply_ok(fuzz.http.get(url), url)
    query = _authorize_query(fuzz)
    fuzz.http.cookies.set("cognate_csrf", "fuzz-csrf")
    for path in FORM_PATHS:
        form = {
            "_csrf": "fuzz-csrf",
            "username": "fuzzer\x00",
            "password": "\x00",
            "code": "\x00",
            "client_id": "\x00",
            "token": "\x00",
            "email": "a@b\x00",
        }
        response = fuzz.http.post(base + path, params=query, data=form)
        _web_reply_ok(response, path)
    fuzz.http.cookies.clear()
    fuzz.assert_healthy()


def test_upload_route(fuzz: Fuzzer) -> None:
    """The upload URL refuses forged URLs and bodies over its limit without reading them."""
    pool_id = fuzz.stable.pool_id
    cognito = make_client(fuzz.server.endpoint, fuzz.region)
    job = cognito.create_user_import_job(
        JobName="fuzz",
        UserPoolId=pool_id,
        CloudWatchLogsRoleArn="arn:aws:iam::000000000000:role/fuzz",
    )["UserImportJob"]
    url = httpx.URL(job["PreSignedUrl"])
    for query in ("", "expires=1&signature=x", "expires=abc&signature=" + "z" * 10_000):
        response = fuzz.http.put(f"{url.path}?{query}", content=b"a,b\n")
        assert response.status_code == 403, response.text
        assert b"<Error>" in response.content
    response = fuzz.http.put("/_cognate/imports/" + "x" * 5000, content=b"")
    _web_reply_ok(response, "upload")
    assert response.status_code in (403, 404)
    target = url.raw_path.decode()
    raw = raw_request(
        fuzz.server.port,
        f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
        + f"Content-Length: {MAX_UPLOAD_BYTES + 1}\r\n\r\n".encode()
        + b"a,b\n",
    )
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:300]
    assert b"EntityTooLarge" in raw
    # The refused upload leaves the URL usable for a proper one.
    response = fuzz.http.put(target, content=b"")
    _web_reply_ok(response, "upload")
    fuzz.assert_healthy()
