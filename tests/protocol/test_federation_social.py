"""Federated sign-in through social providers, end to end over HTTP: a stand-in Google
(its own RSA key and JWKS, a token endpoint issuing ID tokens) and a stand-in Facebook
(token endpoint + Graph /me) served from 127.0.0.1 by the test, reached by a server
started with --federation-endpoints. The pool domain's /oauth2/authorize sends the user
to the provider, /oauth2/idpresponse brings them back, and the app's code is exchanged
for tokens of `<Provider>_<subject>`; the error paths end at the app's redirect_uri."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.conftest import POSTGRES_URL
from tests.support.auth import PASSWORD, claims, new_client, new_pool, new_user
from tests.support.clock import ShiftedClock
from tests.support.functions import Fail, FunctionHost, arn, function_host, trigger_rules
from tests.support.oauth import CALLBACK
from tests.support.server import CognateServer, postgres_database, start_server

GOOGLE_ID = "stand-in.apps.googleusercontent.com"
GOOGLE_SECRET = "google-secret-1234"
FB_ID = "1234567890"
FB_SECRET = "facebook-secret-5678"
SCOPES = "openid email profile"
APPLE_ID = "com.example.app"
APPLE_TEAM = "TEAM123456"
APPLE_KEY_ID = "KEY1234567"


@dataclass
class StandIn:
    """Google and Facebook, as far as Cognito talks to them."""

    base: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "g-1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> the user
    seen: list[dict[str, Any]] = field(default_factory=list)  # requests Cognate made
    apple: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256"))
    functions: FunctionHost | None = None

    def google_code(self, nonce: str, sign_with: RSAKey | None = None, **user: Any) -> str:
        code = "g-" + secrets.token_hex(8)
        now = int(time.time())
        id_claims = {"iss": "https://accounts.google.com", "aud": GOOGLE_ID, "iat": now,
                     "exp": now + 3600, "nonce": nonce, "email_verified": True, **user}  # fmt: skip
        key = sign_with or self.key
        token = jwt.encode({"alg": "RS256", "kid": "g-1"}, id_claims, key)
        self.codes[code] = {"id_token": token}
        return code

    def apple_code(self, nonce: str, **user: Any) -> str:
        code = "a-" + secrets.token_hex(8)
        now = int(time.time())
        id_claims = {"iss": "https://appleid.apple.com", "aud": APPLE_ID, "iat": now,
                     "exp": now + 600, "nonce": nonce, **user}  # fmt: skip
        token = jwt.encode({"alg": "RS256", "kid": "g-1"}, id_claims, self.key)
        self.codes[code] = {"id_token": token}
        return code

    def facebook_code(self, **profile: Any) -> str:
        code = "f-" + secrets.token_hex(8)
        self.codes[code] = {"profile": profile}
        return code


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            auth = self.headers.get("Authorization") or ""
            stand_in.seen.append({"method": "GET", "path": parts.path, "query": query,
                                  "authorization": auth})  # fmt: skip
            if parts.path in ("/oauth2/v3/certs", "/auth/keys"):
                self._send(200, {"keys": [stand_in.key.as_dict(private=False)]})
            elif parts.path == "/v17.0/oauth/access_token":
                entry = stand_in.codes.pop(query.get("code", ""), None)
                if entry is None or query.get("client_secret") != FB_SECRET:
                    self._send(400, {"error": {"message": "Invalid verification code"}})
                    return
                token = "fb-" + secrets.token_hex(8)
                stand_in.codes[token] = entry
                self._send(200, {"access_token": token, "token_type": "bearer"})
            elif parts.path == "/v17.0/me":
                entry = stand_in.codes.get(auth.removeprefix("Bearer "))
                if entry is None:
                    self._send(401, {"error": {"message": "Invalid OAuth access token"}})
                    return
                self._send(200, entry["profile"])
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            stand_in.seen.append({"method": "POST", "path": self.path, "form": form})
            if self.path == "/auth/token":  # Sign in with Apple
                self._apple(form)
                return
            if self.path != "/oauth2/v4/token":
                self._send(404, {"error": "not_found"})
                return
            if form.get("client_secret") != GOOGLE_SECRET or form.get("client_id") != GOOGLE_ID:
                self._send(401, {"error": "invalid_client"})
                return
            entry = stand_in.codes.pop(form.get("code", ""), None)
            if entry is None:
                self._send(400, {"error": "invalid_grant"})
                return
            self._send(200, {"access_token": "ya29." + secrets.token_hex(8),
                             "id_token": entry["id_token"], "token_type": "Bearer",
                             "expires_in": 3599})  # fmt: skip

        def _apple(self, form: dict[str, str]) -> None:
            """Apple's token endpoint: the client secret is an ES256 JWT of the team."""
            try:
                secret = jwt.decode(form.get("client_secret", ""), stand_in.apple, ["ES256"])
            except ValueError:
                self._send(400, {"error": "invalid_client"})
                return
            expected = {"iss": APPLE_TEAM, "sub": APPLE_ID, "aud": "https://appleid.apple.com"}
            if secret.header.get("kid") != APPLE_KEY_ID or any(
                secret.claims.get(k) != v for k, v in expected.items()
            ):
                self._send(400, {"error": "invalid_client"})
                return
            entry = stand_in.codes.pop(form.get("code", ""), None)
            if entry is None:
                self._send(400, {"error": "invalid_grant"})
                return
            self._send(200, {"access_token": "a." + secrets.token_hex(4),
                             "id_token": entry["id_token"], "token_type": "Bearer"})  # fmt: skip

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def stand_in_server() -> Iterator[StandIn]:
    stand_in = StandIn()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stand_in))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    stand_in.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield stand_in
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def federated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock, StandIn]]:
    workdir: Path = tmp_path_factory.mktemp(f"federation-{request.param}")
    clock = ShiftedClock(workdir)
    with stand_in_server() as stand_in, function_host() as functions:
        stand_in.functions = functions
        origins = ("https://accounts.google.com", "https://www.googleapis.com",
                   "https://www.facebook.com", "https://graph.facebook.com",
                   "https://appleid.apple.com")  # fmt: skip
        rules = " ".join(f"{origin}={stand_in.base}" for origin in origins)
        args = ["--federation-endpoints", rules, "--triggers", trigger_rules(functions)]
        if request.param == "sqlite":
            db = f"sqlite:///{workdir}/c.db"
            with start_server(workdir, db=db, extra_args=args, env=clock.env()) as srv:
                yield srv, clock, stand_in
            return
        if not POSTGRES_URL:
            pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
        with (
            postgres_database(POSTGRES_URL) as url,
            start_server(workdir, db=url, extra_args=args, env=clock.env()) as srv,
        ):
            yield srv, clock, stand_in


@pytest.fixture
def server(federated: tuple[CognateServer, ShiftedClock, StandIn]) -> CognateServer:
    return federated[0]


@pytest.fixture
def clock(federated: tuple[CognateServer, ShiftedClock, StandIn]) -> Iterator[ShiftedClock]:
    shifted = federated[1]
    shifted.reset()
    yield shifted
    shifted.reset()


@pytest.fixture
def stand_in(federated: tuple[CognateServer, ShiftedClock, StandIn]) -> StandIn:
    return federated[2]


@dataclass(frozen=True)
class Setup:
    pool_id: str
    client_id: str
    domain_url: str


def social_pool(cognito: Any, endpoint: str, region: str, **pool: Any) -> Setup:
    pool_id = new_pool(cognito, "social", **pool)
    prefix = "s" + secrets.token_hex(6)
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain=prefix)
    cognito.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Google", ProviderType="Google",
        ProviderDetails={"client_id": GOOGLE_ID, "client_secret": GOOGLE_SECRET,
                         "authorize_scopes": SCOPES},
        AttributeMapping={"email": "email", "name": "name", "email_verified": "email_verified"},
    )  # fmt: skip
    cognito.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Facebook", ProviderType="Facebook",
        ProviderDetails={"client_id": FB_ID, "client_secret": FB_SECRET,
                         "authorize_scopes": "public_profile,email", "api_version": "v17.0"},
        AttributeMapping={"email": "email", "name": "name"},
    )  # fmt: skip
    client = new_client(
        cognito, pool_id, AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"], CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO", "Google", "Facebook"],
    )  # fmt: skip
    domain_url = f"{endpoint}/_cognate/domains/{prefix}.auth.{region}.amazoncognito.com"
    return Setup(pool_id, client["ClientId"], domain_url)


@pytest.fixture
def setup(cognito: Any, server: CognateServer, region: str) -> Setup:
    return social_pool(cognito, server.endpoint, region)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def to_provider(http: httpx.Client, setup: Setup, provider: str) -> tuple[str, dict[str, str]]:
    """/oauth2/authorize naming the provider: where the browser is sent, and its query."""
    answer = http.get(
        f"{setup.domain_url}/oauth2/authorize",
        params={"response_type": "code", "client_id": setup.client_id, "redirect_uri": CALLBACK,
                "scope": SCOPES, "state": "app-state", "identity_provider": provider},
    )  # fmt: skip
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    return location.split("?")[0], query_of(location)


def back_from_provider(http: httpx.Client, setup: Setup, code: str, state: str) -> httpx.Response:
    return http.get(f"{setup.domain_url}/oauth2/idpresponse", params={"code": code, "state": state})


def app_callback(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?"), location
    return query_of(location)


def exchange(http: httpx.Client, setup: Setup, code: str) -> dict[str, Any]:
    reply = http.post(
        f"{setup.domain_url}/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": setup.client_id,
              "redirect_uri": CALLBACK},
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def google_sign_in(
    http: httpx.Client, setup: Setup, stand_in: StandIn, **user: Any
) -> dict[str, str]:
    _, sent = to_provider(http, setup, "Google")
    code = stand_in.google_code(sent["nonce"], **user)
    return app_callback(back_from_provider(http, setup, code, sent["state"]))


def test_google_sign_in_creates_the_federated_user(
    cognito: Any, setup: Setup, stand_in: StandIn
) -> None:
    http = httpx.Client()
    where, sent = to_provider(http, setup, "Google")
    assert where == f"{stand_in.base}/o/oauth2/v2/auth"
    assert sent["response_type"] == "code"
    assert sent["client_id"] == GOOGLE_ID
    assert sent["redirect_uri"] == f"{setup.domain_url}/oauth2/idpresponse"
    assert sent["scope"] == SCOPES
    assert sent["state"]
    assert sent["nonce"]
    code = stand_in.google_code(sent["nonce"], sub="1170001", email="gina@example.com",
                                name="Gina")  # fmt: skip
    answer = back_from_provider(http, setup, code, sent["state"])
    params = app_callback(answer)
    assert params["state"] == "app-state"
    assert "cognate_session" in answer.headers.get("set-cookie", "")
    token_form = next(s for s in stand_in.seen if s.get("path") == "/oauth2/v4/token")["form"]
    assert token_form["grant_type"] == "authorization_code"
    assert token_form["redirect_uri"] == f"{setup.domain_url}/oauth2/idpresponse"
    tokens = exchange(http, setup, params["code"])
    id_claims = claims(tokens["id_token"])
    assert id_claims["cognito:username"] == "Google_1170001"
    assert id_claims["email"] == "gina@example.com"
    assert id_claims["email_verified"] is True
    assert id_claims["cognito:groups"] == [f"{setup.pool_id}_Google"]
    [identity] = id_claims["identities"]
    assert identity["userId"] == "1170001"
    assert identity["providerName"] == "Google"
    assert identity["providerType"] == "Google"
    assert identity["primary"] == "true"
    assert identity["issuer"] is None
    assert identity["dateCreated"].isdigit()
    user = cognito.admin_get_user(UserPoolId=setup.pool_id, Username="Google_1170001")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert json.loads(attributes["identities"]) == [identity]
    group = cognito.get_group(UserPoolId=setup.pool_id, GroupName=f"{setup.pool_id}_Google")
    assert group["Group"]["GroupName"] == f"{setup.pool_id}_Google"

    # The second sign-in is the same user, with the mapped attributes brought up to date.
    params = google_sign_in(httpx.Client(), setup, stand_in, sub="1170001",
                            email="gina@example.com", name="Gina Renamed")  # fmt: skip
    again = claims(exchange(http, setup, params["code"])["id_token"])
    assert again["sub"] == id_claims["sub"]
    assert again["name"] == "Gina Renamed"
    assert len(again["identities"]) == 1
    users = cognito.list_users(UserPoolId=setup.pool_id)["Users"]
    assert [u["Username"] for u in users] == ["Google_1170001"]

    # A federated user has no password: the API refuses it as a wrong one.
    with pytest.raises(ClientError) as exc:
        cognito.admin_initiate_auth(
            UserPoolId=setup.pool_id, ClientId=setup.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "Google_1170001", "PASSWORD": PASSWORD},
        )  # fmt: skip
    error = exc.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "NotAuthorizedException",
        "Incorrect username or password.",
    )


def test_facebook_sign_in_reads_the_graph_profile(
    cognito: Any, setup: Setup, stand_in: StandIn
) -> None:
    http = httpx.Client()
    where, sent = to_provider(http, setup, "Facebook")
    assert where == f"{stand_in.base}/v17.0/dialog/oauth"
    assert sent["scope"] == "public_profile,email"
    assert "nonce" not in sent
    code = stand_in.facebook_code(id="10229", email="fiona@example.com", name="Fiona")
    params = app_callback(back_from_provider(http, setup, code, sent["state"]))
    token_call = next(s for s in stand_in.seen if s["path"] == "/v17.0/oauth/access_token")
    assert token_call["method"] == "GET"
    assert token_call["query"]["client_id"] == FB_ID
    me = next(s for s in stand_in.seen if s["path"] == "/v17.0/me")
    assert set(me["query"]["fields"].split(",")) == {"id", "email", "name"}
    id_claims = claims(exchange(http, setup, params["code"])["id_token"])
    assert id_claims["cognito:username"] == "Facebook_10229"
    assert id_claims["email"] == "fiona@example.com"
    assert id_claims["identities"][0]["providerType"] == "Facebook"


def test_linked_identity_signs_in_as_the_native_user(
    cognito: Any, setup: Setup, stand_in: StandIn
) -> None:
    new_user(cognito, setup.pool_id, "nora", attributes={"email": "nora@example.com"})
    cognito.admin_link_provider_for_user(
        UserPoolId=setup.pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "nora"},
        SourceUser={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": "55501"},
    )  # fmt: skip
    http = httpx.Client()
    params = google_sign_in(http, setup, stand_in, sub="55501", email="nora@gmail.example")
    id_claims = claims(exchange(http, setup, params["code"])["id_token"])
    assert id_claims["cognito:username"] == "nora"
    assert id_claims["email"] == "nora@example.com"  # the native user's own attributes
    assert "cognito:groups" not in id_claims  # linked users do not join the provider group
    assert [i["userId"] for i in id_claims["identities"]] == ["55501"]
    users = cognito.list_users(UserPoolId=setup.pool_id)["Users"]
    assert [u["Username"] for u in users] == ["nora"]


def test_disabled_federated_user_is_refused(cognito: Any, setup: Setup, stand_in: StandIn) -> None:
    google_sign_in(httpx.Client(), setup, stand_in, sub="777", email="d@example.com")
    cognito.admin_disable_user(UserPoolId=setup.pool_id, Username="Google_777")
    params = google_sign_in(httpx.Client(), setup, stand_in, sub="777", email="d@example.com")
    assert params == {"error": "invalid_request", "error_description": "User is disabled.",
                      "state": "app-state"}  # fmt: skip


def test_required_attribute_missing_refuses_first_sign_in(
    cognito: Any, server: CognateServer, region: str, stand_in: StandIn
) -> None:
    schema = [{"Name": "phone_number", "AttributeDataType": "String", "Required": True}]
    setup = social_pool(cognito, server.endpoint, region, Schema=schema)
    params = google_sign_in(httpx.Client(), setup, stand_in, sub="888", email="r@example.com")
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "attributes required: [phone_number]"
    assert cognito.list_users(UserPoolId=setup.pool_id)["Users"] == []


def test_provider_errors_go_back_to_the_app(setup: Setup, stand_in: StandIn) -> None:
    http = httpx.Client()
    # The provider says no (the user cancelled).
    _, sent = to_provider(http, setup, "Google")
    answer = http.get(
        f"{setup.domain_url}/oauth2/idpresponse",
        params={"error": "access_denied", "error_description": "The user denied access",
                "state": sent["state"]},
    )  # fmt: skip
    assert app_callback(answer) == {"error": "invalid_request", "state": "app-state",
                                    "error_description": "The user denied access"}  # fmt: skip
    # The token endpoint refuses the code.
    _, sent = to_provider(http, setup, "Google")
    params = app_callback(back_from_provider(http, setup, "no-such-code", sent["state"]))
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "Google Error - 400 error getting token"
    # An ID token signed by someone else.
    _, sent = to_provider(http, setup, "Google")
    other = RSAKey.generate_key(2048, {"kid": "g-1"})
    code = stand_in.google_code(sent["nonce"], sign_with=other, sub="1", email="x@example.com")
    params = app_callback(back_from_provider(http, setup, code, sent["state"]))
    assert params["error_description"] == "Google Error - invalid id_token signature"
    # An ID token for another sign-in (its nonce is not this one's).
    _, sent = to_provider(http, setup, "Google")
    code = stand_in.google_code("another-nonce", sub="1", email="x@example.com")
    params = app_callback(back_from_provider(http, setup, code, sent["state"]))
    assert params["error_description"] == "Google Error - id_token nonce mismatch"


def test_state_is_single_use_and_expires(
    setup: Setup, stand_in: StandIn, clock: ShiftedClock
) -> None:
    http = httpx.Client()
    _, sent = to_provider(http, setup, "Google")
    code = stand_in.google_code(sent["nonce"], sub="42", email="s@example.com")
    assert "code" in app_callback(back_from_provider(http, setup, code, sent["state"]))
    replay = back_from_provider(http, setup, code, sent["state"])
    assert replay.status_code == 400
    assert "not valid (or was already used)" in replay.text
    forged = back_from_provider(http, setup, code, "forged-state")
    assert forged.status_code == 400
    _, sent = to_provider(http, setup, "Google")
    clock.shift(minutes=16)
    late = back_from_provider(http, setup, "any", sent["state"])
    assert late.status_code == 400
    assert "has expired" in late.text


def test_login_page_offers_the_clients_providers(setup: Setup) -> None:
    page = httpx.get(
        f"{setup.domain_url}/login",
        params={"response_type": "code", "client_id": setup.client_id, "redirect_uri": CALLBACK,
                "state": "s1"},
    )  # fmt: skip
    assert page.status_code == 200
    assert 'id="idp-Google"' in page.text
    assert 'id="idp-Facebook"' in page.text
    assert 'id="username"' in page.text
    href = page.text.split('id="idp-Google"')[1].split('href="')[1].split('"')[0]
    query = query_of(href.replace("&amp;", "&"))
    assert query["identity_provider"] == "Google"
    assert query["state"] == "s1"


def test_sign_in_with_apple_posts_back_and_signs_its_client_secret(
    cognito: Any, setup: Setup, stand_in: StandIn
) -> None:
    private_pem = stand_in.apple.as_pem(private=True).decode()
    cognito.create_identity_provider(
        UserPoolId=setup.pool_id, ProviderName="SignInWithApple", ProviderType="SignInWithApple",
        ProviderDetails={"client_id": APPLE_ID, "team_id": APPLE_TEAM, "key_id": APPLE_KEY_ID,
                         "private_key": private_pem, "authorize_scopes": "email name"},
        AttributeMapping={"email": "email", "given_name": "firstName"},
    )  # fmt: skip
    cognito.update_user_pool_client(
        UserPoolId=setup.pool_id, ClientId=setup.client_id, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email", "profile"],
        CallbackURLs=[CALLBACK], SupportedIdentityProviders=["SignInWithApple"],
    )  # fmt: skip
    http = httpx.Client()
    where, sent = to_provider(http, setup, "SignInWithApple")
    assert where == f"{stand_in.base}/auth/authorize"
    assert sent["response_mode"] == "form_post"
    assert sent["scope"] == "email name"
    code = stand_in.apple_code(sent["nonce"], sub="000123.abc", email="ann@privaterelay.example")
    user = json.dumps({"name": {"firstName": "Ann", "lastName": "Apple"}})
    answer = http.post(
        f"{setup.domain_url}/oauth2/idpresponse",
        data={"code": code, "state": sent["state"], "user": user},
    )
    id_claims = claims(exchange(http, setup, app_callback(answer)["code"])["id_token"])
    assert id_claims["cognito:username"] == "SignInWithApple_000123.abc"
    assert id_claims["email"] == "ann@privaterelay.example"
    assert id_claims["given_name"] == "Ann"


def test_pre_sign_up_runs_for_the_first_sign_in_only(
    cognito: Any, server: CognateServer, region: str, stand_in: StandIn
) -> None:
    functions = stand_in.functions
    assert functions is not None
    name = f"http_fed_{secrets.token_hex(4)}"
    lambdas = {"PreSignUp": arn(name), "PostConfirmation": arn(name)}
    setup = social_pool(cognito, server.endpoint, region, LambdaConfig=lambdas)
    google_sign_in(httpx.Client(), setup, stand_in, sub="901", email="t@example.com")
    google_sign_in(httpx.Client(), setup, stand_in, sub="901", email="t@example.com")
    events = functions.events(name)
    assert [e["triggerSource"] for e in events] == [
        "PreSignUp_ExternalProvider",
        "PostConfirmation_ConfirmSignUp",
    ]
    assert events[0]["userName"] == "Google_901"
    assert events[0]["request"]["userAttributes"]["email"] == "t@example.com"
    assert events[1]["request"]["userAttributes"]["cognito:user_status"] == "EXTERNAL_PROVIDER"

    def refuse(event: dict[str, Any]) -> Any:
        raise Fail("no strangers")

    functions.on(name, refuse)
    params = google_sign_in(httpx.Client(), setup, stand_in, sub="902", email="u@example.com")
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "PreSignUp failed with error no strangers."
    assert [u["Username"] for u in cognito.list_users(UserPoolId=setup.pool_id)["Users"]] == [
        "Google_901"
    ]
