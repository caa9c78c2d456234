"""CIMD clients end to end: an HTTPS URL used as client_id at the pool domain.

The client metadata documents are served over HTTPS by a server on 127.0.0.1 whose
certificate comes from a certificate authority made by the test; the Cognate server under
test trusts that CA (`--outbound-ca-bundle`), so it fetches the documents as it would
fetch them from the internet. Then: the authorization-code + PKCE flow through the hosted
login with the URL as client_id, the tokens (client_id / aud = the URL; GetUser,
refresh, aws-jwt-verify), the cache (ListClientMetadataURLs, REFRESH, INVALIDATE), and the
refusals (URL no policy matches, a document naming another client_id, no PKCE, a secret).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import http.server
import ipaddress
import json
import re
import secrets
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyotp
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import POSTGRES_URL, make_client
from tests.support.hosted_pages import submit
from tests.support.oauth import CALLBACK, OAuthSetup, hosted_login, oauth_pool, redirect_params
from tests.support.server import CognateServer, postgres_database, start_server

SCOPES = "openid email aws.cognito.signin.user.admin"


# ---------------------------------------------------------------------- a test PKI


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_pki(directory: Path) -> tuple[Path, Path, Path]:
    """A CA (ca.pem) and a server certificate for 127.0.0.1 / localhost it signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Cognate test CA"))
        .issuer_name(_name("Cognate test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_pem, cert_pem, key_pem


# ---------------------------------------------------------------------- the documents' host


class DocumentHost:
    """An HTTPS server answering GET <path> with the JSON document set for the path."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.documents: dict[str, tuple[Any, dict[str, str]]] = {}
        self.hits: dict[str, int] = {}
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits[self.path] = host.hits.get(self.path, 0) + 1
                found = host.documents.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                document, headers = found
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, document: Any, headers: dict[str, str] | None = None) -> str:
        self.documents[path] = (document, dict(headers or {}))
        return self.url(path)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def cimd_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, DocumentHost]]:
    workdir = tmp_path_factory.mktemp(f"cimd-{request.param}")
    ca, cert, key = make_pki(workdir)
    host = DocumentHost(cert, key)
    flags = ["--outbound-ca-bundle", str(ca)]
    try:
        with contextlib.ExitStack() as stack:
            if request.param == "sqlite":
                db = f"sqlite:///{workdir}/c.db"
            else:
                if not POSTGRES_URL:
                    pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
                db = stack.enter_context(postgres_database(POSTGRES_URL))
            server = stack.enter_context(start_server(workdir, db=db, extra_args=flags))
            yield server, host
    finally:
        host.close()


@pytest.fixture
def env(cimd_env: tuple[CognateServer, DocumentHost], region: str) -> Any:
    server, host = cimd_env
    return server, host, make_client(server.endpoint, region)


# ---------------------------------------------------------------------- helpers


def document(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Partner app",
        "client_uri": "https://partner.example.com",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **extra,
    }


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_url(setup: OAuthSetup, client_id: str, challenge: str | None, **extra: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": SCOPES,
        "state": "st-1",
        **extra,
    }
    if challenge is not None:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{setup.domain_url}/oauth2/authorize?{urlencode(query)}"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


def setup_policy(
    cognito: Any, server: CognateServer, host: DocumentHost, region: str, path: str
) -> tuple[OAuthSetup, str, str]:
    """A pool with an OAuth app client, a CIMD policy for the host's /<path>/*, and the
    URL of a good document under it."""
    setup = oauth_pool(cognito, server.endpoint, region, flows=("code",), secret=True)
    policy = cognito.create_cimd_policy(
        UserPoolId=setup.pool_id,
        ClientId=setup.client_id,
        PolicyName="partners",
        URLPatterns=[host.url(f"/{path}/*")],
    )["CIMDPolicy"]
    url = host.serve(f"/{path}/app.json", document(host.url(f"/{path}/app.json")))
    return setup, policy["CIMDPolicyId"], url


def sign_in_code(setup: OAuthSetup, client_id: str) -> tuple[str, str]:
    verifier, challenge = pkce()
    with httpx.Client() as browser:
        answer = hosted_login(browser, authorize_url(setup, client_id, challenge))
    params = redirect_params(answer)
    assert params["state"] == "st-1"
    return params["code"], verifier


def token_post(setup: OAuthSetup, **form: str) -> httpx.Response:
    return httpx.post(f"{setup.domain_url}/oauth2/token", data=form)


# ---------------------------------------------------------------------- tests


def test_code_flow_with_a_metadata_document_url(env: Any, region: str) -> None:
    server, host, cognito = env
    setup, policy_id, url = setup_policy(cognito, server, host, region, "flow")

    code, verifier = sign_in_code(setup, url)
    assert host.hits["/flow/app.json"] == 1  # fetched once, then cached
    answer = token_post(
        setup,
        grant_type="authorization_code",
        client_id=url,
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    access, id_token = claims_of(tokens["access_token"]), claims_of(tokens["id_token"])
    assert access["client_id"] == url
    assert id_token["aud"] == url
    assert id_token["cognito:username"] == setup.username
    assert set(access["scope"].split()) == set(SCOPES.split())
    assert tokens["refresh_token"]
    assert host.hits["/flow/app.json"] == 1

    # The access token works with the user's own operations.
    user = cognito.get_user(AccessToken=tokens["access_token"])
    assert user["Username"] == setup.username

    # The code cannot be used twice; the app client itself cannot redeem a CIMD refresh token.
    again = token_post(
        setup,
        grant_type="authorization_code",
        client_id=url,
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    own = httpx.post(
        f"{setup.domain_url}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(setup.client_id, setup.client_secret or ""),
    )
    assert own.status_code == 400
    assert own.json()["error"] == "invalid_grant"

    refreshed = token_post(
        setup, grant_type="refresh_token", client_id=url, refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.text
    assert claims_of(refreshed.json()["access_token"])["client_id"] == url
    assert claims_of(refreshed.json()["id_token"])["aud"] == url

    # A CIMD client is public: a secret is refused.
    secret = token_post(
        setup,
        grant_type="refresh_token",
        client_id=url,
        client_secret="anything",
        refresh_token=tokens["refresh_token"],
    )
    assert secret.status_code == 401
    assert secret.json()["error"] == "invalid_client"

    # /oauth2/revoke: the URL client revokes its own refresh token (no secret; a secret
    # is refused).
    revoke = f"{setup.domain_url}/oauth2/revoke"
    refresh = tokens["refresh_token"]
    with_secret = httpx.post(
        revoke, data={"client_id": url, "client_secret": "x", "token": refresh}
    )
    assert with_secret.status_code == 401
    assert with_secret.json()["error"] == "invalid_client"
    access_token = httpx.post(revoke, data={"client_id": url, "token": tokens["access_token"]})
    assert access_token.status_code == 400
    assert access_token.json()["error"] == "unsupported_token_type"
    revoked = httpx.post(revoke, data={"client_id": url, "token": refresh})
    assert revoked.status_code == 200, revoked.text
    after = token_post(setup, grant_type="refresh_token", client_id=url, refresh_token=refresh)
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"

    # The cache, as the API lists it.
    listed = cognito.list_client_metadata_urls(UserPoolId=setup.pool_id, CIMDPolicyId=policy_id)
    (entry,) = listed["ClientMetadataURLs"]
    assert entry["URL"] == url
    assert entry["ExpirationDate"] - entry["CachedDate"] == datetime.timedelta(seconds=86400)

    # aws-jwt-verify, as a Node backend of the CIMD client would verify its tokens.
    try:
        from tests.e2e.test_js_auth import run_js
    except ImportError:  # pragma: no cover - the e2e package is part of the repository
        pytest.skip("tests/e2e is not importable")
    observed = run_js(
        "jwt_verify.mjs",
        {
            "endpoint": server.endpoint,
            "region": region,
            "poolId": setup.pool_id,
            "clientId": url,
            "idToken": tokens["id_token"],
            "accessToken": tokens["access_token"],
            "mode": "local",
        },
    )
    assert observed["id"]["ok"] is True, observed["id"]
    assert observed["access"]["ok"] is True, observed["access"]
    assert observed["wrongClientId"]["ok"] is False


def test_cache_refresh_and_invalidate(env: Any, region: str) -> None:
    server, host, cognito = env
    setup, policy_id, url = setup_policy(cognito, server, host, region, "cache")
    two_days = {"Cache-Control": "public, max-age=172800"}
    host.serve("/cache/app.json", document(url), two_days)
    sign_in_code(setup, url)
    (entry,) = cognito.list_client_metadata_urls(UserPoolId=setup.pool_id, CIMDPolicyId=policy_id)[
        "ClientMetadataURLs"
    ]
    # The document's max-age (between a day and a year) wins over the policy's duration.
    assert entry["ExpirationDate"] - entry["CachedDate"] == datetime.timedelta(days=2)
    assert host.hits["/cache/app.json"] == 1

    cognito.update_client_metadata_url_state(
        UserPoolId=setup.pool_id, CIMDPolicyId=policy_id, URL=url, Action="REFRESH"
    )
    assert host.hits["/cache/app.json"] == 2
    (refreshed,) = cognito.list_client_metadata_urls(
        UserPoolId=setup.pool_id, CIMDPolicyId=policy_id
    )["ClientMetadataURLs"]
    assert refreshed["CachedDate"] >= entry["CachedDate"]

    # A refresh that fetches a bad document is refused and keeps the cached copy.
    host.serve("/cache/app.json", document("https://elsewhere.example.com/app.json"))
    with pytest.raises(ClientError) as excinfo:
        cognito.update_client_metadata_url_state(
            UserPoolId=setup.pool_id, CIMDPolicyId=policy_id, URL=url, Action="REFRESH"
        )
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterException"
    listed = cognito.list_client_metadata_urls(UserPoolId=setup.pool_id, CIMDPolicyId=policy_id)
    assert [e["URL"] for e in listed["ClientMetadataURLs"]] == [url]
    sign_in_code(setup, url)  # the cached document still serves

    cognito.update_client_metadata_url_state(
        UserPoolId=setup.pool_id, CIMDPolicyId=policy_id, URL=url, Action="INVALIDATE"
    )
    listed = cognito.list_client_metadata_urls(UserPoolId=setup.pool_id, CIMDPolicyId=policy_id)
    assert listed["ClientMetadataURLs"] == []
    with pytest.raises(ClientError) as excinfo:
        cognito.update_client_metadata_url_state(
            UserPoolId=setup.pool_id, CIMDPolicyId=policy_id, URL=url, Action="INVALIDATE"
        )
    assert excinfo.value.response["Error"]["Code"] == "CachedCIMDURLDoesNotExistException"

    # Not cached any more: the next authorize fetches again, and the document is now bad.
    with httpx.Client() as browser:
        page = browser.get(authorize_url(setup, url, pkce()[1]))
    assert page.status_code == 400
    assert "invalid client" in page.text

    # Paginated listing of several cached URLs.
    for n in range(3):
        other = host.url(f"/cache/app{n}.json")
        host.serve(f"/cache/app{n}.json", document(other))
        sign_in_code(setup, other)
    first = cognito.list_client_metadata_urls(
        UserPoolId=setup.pool_id, CIMDPolicyId=policy_id, MaxResults=2
    )
    assert len(first["ClientMetadataURLs"]) == 2
    rest = cognito.list_client_metadata_urls(
        UserPoolId=setup.pool_id, CIMDPolicyId=policy_id, NextToken=first["NextToken"]
    )
    urls = [e["URL"] for e in first["ClientMetadataURLs"] + rest["ClientMetadataURLs"]]
    assert urls == [host.url(f"/cache/app{n}.json") for n in range(3)]
    assert "NextToken" not in rest

    # Deleting the policy forgets its documents; the URLs no longer resolve.
    cognito.delete_cimd_policy(UserPoolId=setup.pool_id, CIMDPolicyId=policy_id)
    with httpx.Client() as browser:
        page = browser.get(authorize_url(setup, host.url("/cache/app0.json"), pkce()[1]))
    assert page.status_code == 400
    assert "invalid client" in page.text


def test_refusals(env: Any, region: str) -> None:
    server, host, cognito = env
    setup, policy_id, url = setup_policy(cognito, server, host, region, "refuse")

    # A URL that no policy's pattern matches is an unknown client (and is never fetched).
    stray = host.serve("/stray/app.json", document(host.url("/stray/app.json")))
    with httpx.Client() as browser:
        page = browser.get(authorize_url(setup, stray, pkce()[1]))
    assert page.status_code == 400
    assert "invalid client" in page.text
    assert "/stray/app.json" not in host.hits
    answer = token_post(
        setup, grant_type="authorization_code", client_id=stray, code="x", redirect_uri=CALLBACK
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"

    # A document whose client_id is not its URL: refused and not cached.
    liar = host.serve("/refuse/liar.json", document("https://someone-else.example.com/a.json"))
    with httpx.Client() as browser:
        page = browser.get(authorize_url(setup, liar, pkce()[1]))
    assert page.status_code == 400
    assert "invalid client" in page.text
    assert host.hits["/refuse/liar.json"] == 1

    # A confidential client's document (client_secret_basic) is refused as well.
    secretive = host.url("/refuse/secret.json")
    host.serve(
        "/refuse/secret.json",
        document(secretive, token_endpoint_auth_method="client_secret_basic"),
    )
    with httpx.Client() as browser:
        page = browser.get(authorize_url(setup, secretive, pkce()[1]))
    assert page.status_code == 400
    assert "invalid client" in page.text

    # A missing document (404) is refused.
    with httpx.Client() as browser:
        page = browser.get(authorize_url(setup, host.url("/refuse/missing.json"), pkce()[1]))
    assert page.status_code == 400
    assert "invalid client" in page.text

    # A redirect_uri the document does not list is the redirect_mismatch page.
    with httpx.Client() as browser:
        page = browser.get(
            authorize_url(setup, url, pkce()[1], redirect_uri="https://app.example.com/other")
        )
    assert page.status_code == 400
    assert "redirect_mismatch" in page.text

    # PKCE is required (S256), answered at the redirect_uri.
    with httpx.Client() as browser:
        page = browser.get(authorize_url(setup, url, None))
    params = redirect_params(page)
    assert params["error"] == "invalid_request"

    listed = cognito.list_client_metadata_urls(UserPoolId=setup.pool_id, CIMDPolicyId=policy_id)
    assert [e["URL"] for e in listed["ClientMetadataURLs"]] == [url]


def test_mfa_set_up_on_the_hosted_pages_for_a_url_client(env: Any, region: str) -> None:
    """The step pages act for the app client behind the URL (its secret included)."""
    server, host, cognito = env
    setup, _, url = setup_policy(cognito, server, host, region, "mfa")
    cognito.set_user_pool_mfa_config(
        UserPoolId=setup.pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    verifier, challenge = pkce()
    with httpx.Client() as browser:
        page = hosted_login(browser, authorize_url(setup, url, challenge))
        assert page.status_code == 200, page.text
        secret = re.search(r'id="secret">([A-Z2-7]+)<', page.text)
        assert secret is not None, page.text
        done = submit(browser, page, code=pyotp.TOTP(secret.group(1)).now())
    code = redirect_params(done)["code"]
    answer = token_post(
        setup,
        grant_type="authorization_code",
        client_id=url,
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert answer.status_code == 200, answer.text
    assert claims_of(answer.json()["access_token"])["client_id"] == url
    user = cognito.admin_get_user(UserPoolId=setup.pool_id, Username=setup.username)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
