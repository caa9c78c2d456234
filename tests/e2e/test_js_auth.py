"""Authentication against a live Cognate with the real JavaScript client libraries.

Each test sets up what it needs with boto3 (pool, app client without a secret, users),
then runs one of the scripts in tests/js with a JSON argument and asserts on the JSON
object it prints as its last line:

* `identity_js.mjs`: amazon-cognito-identity-js (SRP sign-in, new-password challenge,
  getSession, refreshSession, changePassword, getUserAttributes, globalSignOut);
* `amplify_auth.mjs`: Amplify JS v6 (signIn, confirmSignIn, fetchAuthSession with and
  without forceRefresh, fetchUserAttributes, getCurrentUser, global signOut);
* `jwt_verify.mjs`: aws-jwt-verify (JwtRsaVerifier against the server's own issuer and
  JWKS, CognitoJwtVerifier when the server issues AWS-style issuers);
* `sdk_auth.mjs`: the AWS SDK for JavaScript v3 (InitiateAuth USER_PASSWORD_AUTH, GetUser).

The scripts record every request the libraries made (operation from X-Amz-Target, status,
error type): the tests assert on those too. Versions are pinned by tests/js/package-lock.json.
Needs Node.js and `tests/js/node_modules` (`./dev test` installs them with `npm ci`).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import string
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.server import CognateServer, start_server

JS_DIR = Path(__file__).resolve().parents[1] / "js"
PACKAGES = (
    "@aws-sdk/client-cognito-identity-provider",
    "amazon-cognito-identity-js",
    "aws-amplify",
    "aws-jwt-verify",
)
AUTH_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
PASSWORD = "Corr3ct-Horse!"
NEW_PASSWORD = "N3w-Battery-Staple!"
WRONG_PASSWORD = "Wr0ng-Passw0rd!"
TEMPORARY_PASSWORD = "Temp-0rary-Pass!"
ACCESS_SCOPE = "aws.cognito.signin.user.admin"
TOKEN_LIFETIME = 3600  # the default validity of ID and access tokens, in seconds
INCORRECT = "Incorrect username or password."

pytestmark = pytest.mark.node


# --- running the scripts ------------------------------------------------------------------


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: `node` is not on PATH")
    for package in PACKAGES:
        if not (JS_DIR / "node_modules" / package).is_dir():
            pytest.skip(
                f"{package} is not installed in {JS_DIR / 'node_modules'} "
                "(run `./dev test`, or `npm ci` in tests/js)"
            )
    return node


def run_js(script: str, argument: dict[str, Any]) -> dict[str, Any]:
    """Run tests/js/<script> with one JSON argument; return the JSON object it printed last."""
    node = _node()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    result = subprocess.run(
        [node, str(JS_DIR / script), json.dumps(argument)],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (
        f"{script} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"{script} printed nothing\nstderr:\n{result.stderr}"
    observed: dict[str, Any] = json.loads(lines[-1])
    # A top-level "error" means the script could not run the flow at all (bad argument).
    assert "error" not in observed, f"{script}: {observed['error']}\nstderr:\n{result.stderr}"
    return observed


def pinned(package: str) -> str:
    version: str = json.loads((JS_DIR / "package.json").read_text())["dependencies"][package]
    return version


def results_by_action(observed: dict[str, Any], package: str) -> list[dict[str, Any]]:
    assert observed["version"] == pinned(package), "tests/js/node_modules is stale: run `npm ci`"
    results: list[dict[str, Any]] = observed["results"]
    return results


def targets(record: dict[str, Any]) -> list[str | None]:
    return [call["target"] for call in record["calls"]]


# --- setting up with boto3 ------------------------------------------------------------------


def make_client(endpoint: str, region: str) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def create_app(cognito: Any, pool_id: str, **extra: Any) -> str:
    """An app client without a secret that allows SRP, password and refresh-token sign-in."""
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="js-auth-app", ExplicitAuthFlows=AUTH_FLOWS, **extra
    )["UserPoolClient"]
    assert "ClientSecret" not in client
    client_id: str = client["ClientId"]
    return client_id


def create_confirmed_user(
    cognito: Any, pool_id: str, username: str, email: str, password: str = PASSWORD
) -> str:
    """A CONFIRMED user with a permanent password; returns its sub."""
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=True
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    assert user["UserStatus"] == "CONFIRMED"
    return attributes_of(user)["sub"]


def create_pool_requiring_name(cognito: Any) -> str:
    pool = cognito.create_user_pool(
        PoolName="js-auth-name-required",
        Schema=[{"Name": "name", "AttributeDataType": "String", "Required": True, "Mutable": True}],
    )["UserPool"]
    pool_id: str = pool["Id"]
    return pool_id


def create_user_needing_new_password(cognito: Any, pool_id: str, username: str, email: str) -> None:
    """A user created by an administrator, left in FORCE_CHANGE_PASSWORD, without `name`."""
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        TemporaryPassword=TEMPORARY_PASSWORD,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert "name" not in attributes_of(user)


def attributes_of(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


# --- token claims -----------------------------------------------------------------------------


def check_header(token: dict[str, Any]) -> None:
    assert token["header"]["alg"] == "RS256", token["header"]
    assert isinstance(token["header"]["kid"], str), token["header"]
    assert token["header"]["kid"], token["header"]


def check_times(payload: dict[str, Any]) -> None:
    assert payload["exp"] - payload["iat"] == TOKEN_LIFETIME, payload
    assert abs(payload["iat"] - time.time()) < 300, payload
    assert payload["auth_time"] <= payload["iat"], payload


def check_id_token(
    token: dict[str, Any], *, issuer: str, client_id: str, username: str, sub: str
) -> dict[str, Any]:
    check_header(token)
    payload: dict[str, Any] = token["payload"]
    assert payload["token_use"] == "id"
    assert payload["iss"] == issuer
    assert payload["aud"] == client_id
    assert payload["cognito:username"] == username
    assert payload["sub"] == sub
    assert "client_id" not in payload
    check_times(payload)
    return payload


def check_access_token(
    token: dict[str, Any], *, issuer: str, client_id: str, username: str, sub: str
) -> dict[str, Any]:
    check_header(token)
    payload: dict[str, Any] = token["payload"]
    assert payload["token_use"] == "access"
    assert payload["iss"] == issuer
    assert payload["client_id"] == client_id
    assert payload["username"] == username
    assert payload["sub"] == sub
    assert "aud" not in payload
    assert payload["scope"] == ACCESS_SCOPE
    assert isinstance(payload["jti"], str)
    assert payload["jti"]
    check_times(payload)
    return payload


def check_srp_calls(record: dict[str, Any]) -> None:
    """USER_SRP_AUTH: InitiateAuth answers PASSWORD_VERIFIER, RespondToAuthChallenge the tokens."""
    assert targets(record) == ["InitiateAuth", "RespondToAuthChallenge"], record["calls"]
    initiate, respond = record["calls"]
    assert initiate["request"]["AuthFlow"] == "USER_SRP_AUTH"
    assert initiate["status"] == 200
    assert initiate["challengeName"] == "PASSWORD_VERIFIER"
    assert set(initiate["challengeParameterKeys"]) >= {
        "SALT",
        "SECRET_BLOCK",
        "SRP_B",
        "USERNAME",
        "USER_ID_FOR_SRP",
    }
    assert respond["request"]["ChallengeName"] == "PASSWORD_VERIFIER"
    assert set(respond["request"]["ChallengeResponses"]) >= {
        "PASSWORD_CLAIM_SECRET_BLOCK",
        "PASSWORD_CLAIM_SIGNATURE",
        "TIMESTAMP",
        "USERNAME",
    }
    assert respond["status"] == 200
    assert {"AccessToken", "ExpiresIn", "IdToken", "RefreshToken", "TokenType"} <= set(
        respond["authenticationResultKeys"]
    )


def check_error(record: dict[str, Any], name: str, message: str | None = None) -> None:
    assert record["ok"] is False, record
    assert record["error"]["name"] == name, record["error"]
    if message is not None:
        assert record["error"]["message"] == message, record["error"]


# --- amazon-cognito-identity-js -------------------------------------------------------------


def identity_js(
    server: CognateServer,
    pool_id: str,
    client_id: str,
    username: str,
    actions: list[Any],
    password: str = PASSWORD,
) -> list[dict[str, Any]]:
    observed = run_js(
        "identity_js.mjs",
        {
            "endpoint": server.endpoint,
            "poolId": pool_id,
            "clientId": client_id,
            "username": username,
            "password": password,
            "actions": actions,
        },
    )
    results = results_by_action(observed, "amazon-cognito-identity-js")
    assert [r["action"] for r in results] == [
        a if isinstance(a, str) else a["action"] for a in actions
    ]
    return results


def test_identity_js_srp_sign_in_gives_tokens_with_the_right_claims(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    issuer = f"{server.endpoint}/{pool_id}"

    signed_in, session, attributes = identity_js(
        server, pool_id, client_id, "ada", ["authenticate", "get_session", "get_user_attributes"]
    )

    assert signed_in["ok"] is True, signed_in
    assert signed_in["outcome"] == "success"
    # The library signs in as USER_ID_FOR_SRP: for a pool without alias attributes, the username.
    assert signed_in["username"] == "ada"
    check_srp_calls(signed_in)
    claims = dict(issuer=issuer, client_id=client_id, username="ada", sub=sub)
    id_claims = check_id_token(signed_in["idToken"], **claims)
    access_claims = check_access_token(signed_in["accessToken"], **claims)
    assert id_claims["email"] == "ada@example.com"
    assert id_claims["auth_time"] == access_claims["auth_time"]
    # Like Cognito, ID and access tokens are signed by two different keys of the pool.
    assert signed_in["idToken"]["header"]["kid"] != signed_in["accessToken"]["header"]["kid"]
    assert isinstance(signed_in["refreshToken"], str)
    assert len(signed_in["refreshToken"]) > 20
    assert signed_in["isValid"] is True

    # getSession: the valid session held in memory, without a request.
    assert session["ok"] is True, session
    assert session["calls"] == []
    assert session["idToken"]["token"] == signed_in["idToken"]["token"]
    assert session["accessToken"]["token"] == signed_in["accessToken"]["token"]
    assert session["refreshToken"] == signed_in["refreshToken"]

    assert attributes["ok"] is True, attributes
    assert targets(attributes) == ["GetUser"]
    assert attributes["attributes"]["sub"] == sub
    assert attributes["attributes"]["email"] == "ada@example.com"


def test_identity_js_wrong_password_is_not_authorized(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")

    (attempt,) = identity_js(
        server, pool_id, client_id, "ada", ["authenticate"], password=WRONG_PASSWORD
    )

    check_error(attempt, "NotAuthorizedException", INCORRECT)
    assert attempt["error"]["code"] == "NotAuthorizedException"
    # SRP: the password is only checked when the client answers the PASSWORD_VERIFIER challenge.
    assert targets(attempt) == ["InitiateAuth", "RespondToAuthChallenge"]
    assert attempt["calls"][0]["status"] == 200
    assert attempt["calls"][1]["status"] == 400
    assert attempt["calls"][1]["errorType"] == "NotAuthorizedException"
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="ada")
    assert user["UserStatus"] == "CONFIRMED"


def test_identity_js_refresh_session_returns_new_tokens(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    issuer = f"{server.endpoint}/{pool_id}"

    signed_in, refreshed, attributes = identity_js(
        server,
        pool_id,
        client_id,
        "ada",
        ["authenticate", "refresh_session", "get_user_attributes"],
    )

    assert signed_in["ok"] is True, signed_in
    assert refreshed["ok"] is True, refreshed
    assert targets(refreshed) == ["InitiateAuth"]
    (call,) = refreshed["calls"]
    assert call["request"]["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    # The library sends a null DEVICE_KEY (no remembered device) inside AuthParameters: the
    # server accepts a null value in that map.
    assert call["request"]["AuthParameters"] == {"DEVICE_KEY": None, "REFRESH_TOKEN": "<string>"}
    assert call["status"] == 200
    # Without rotation, REFRESH_TOKEN_AUTH answers new ID and access tokens only.
    assert {"AccessToken", "ExpiresIn", "IdToken", "TokenType"} <= set(
        call["authenticationResultKeys"]
    )

    claims = dict(issuer=issuer, client_id=client_id, username="ada", sub=sub)
    new_id = check_id_token(refreshed["idToken"], **claims)
    new_access = check_access_token(refreshed["accessToken"], **claims)
    assert refreshed["idToken"]["token"] != signed_in["idToken"]["token"]
    assert refreshed["accessToken"]["token"] != signed_in["accessToken"]["token"]
    assert new_access["jti"] != signed_in["accessToken"]["payload"]["jti"]
    assert new_access["iat"] >= signed_in["accessToken"]["payload"]["iat"]
    # A refresh does not re-authenticate: auth_time is that of the sign-in.
    assert new_id["auth_time"] == signed_in["idToken"]["payload"]["auth_time"]
    assert refreshed["refreshToken"] == signed_in["refreshToken"]

    # The new access token works.
    assert attributes["ok"] is True, attributes
    assert attributes["attributes"]["sub"] == sub


def test_identity_js_change_password(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    issuer = f"{server.endpoint}/{pool_id}"

    signed_in, changed, with_new, with_old = identity_js(
        server,
        pool_id,
        client_id,
        "ada",
        [
            "authenticate",
            {"action": "change_password", "oldPassword": PASSWORD, "newPassword": NEW_PASSWORD},
            {"action": "authenticate", "password": NEW_PASSWORD},
            {"action": "authenticate", "password": PASSWORD},
        ],
    )

    assert signed_in["ok"] is True, signed_in
    assert changed["ok"] is True, changed
    assert changed["result"] == "SUCCESS"
    assert targets(changed) == ["ChangePassword"]
    assert changed["calls"][0]["status"] == 200

    assert with_new["ok"] is True, with_new
    check_srp_calls(with_new)
    check_id_token(with_new["idToken"], issuer=issuer, client_id=client_id, username="ada", sub=sub)

    check_error(with_old, "NotAuthorizedException", INCORRECT)
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="ada")
    assert user["UserStatus"] == "CONFIRMED"


def test_identity_js_global_sign_out_revokes_the_tokens(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")

    signed_in, signed_out, refresh, again = identity_js(
        server,
        pool_id,
        client_id,
        "ada",
        ["authenticate", "global_sign_out", "refresh_after_sign_out", "authenticate"],
    )

    assert signed_in["ok"] is True, signed_in
    assert signed_out["ok"] is True, signed_out
    assert targets(signed_out) == ["GlobalSignOut"]
    assert signed_out["calls"][0]["status"] == 200

    check_error(refresh, "NotAuthorizedException", "Refresh Token has been revoked")
    # amazon-cognito-identity-js retries a failed refresh (with back-off): every attempt is
    # a REFRESH_TOKEN_AUTH the server refuses.
    assert refresh["calls"]
    for call in refresh["calls"]:
        assert call["target"] == "InitiateAuth"
        assert call["request"]["AuthFlow"] == "REFRESH_TOKEN_AUTH"
        assert call["status"] == 400
        assert call["errorType"] == "NotAuthorizedException"

    # The access token from before the sign-out is refused too.
    with pytest.raises(ClientError) as caught:
        cognito.get_user(AccessToken=signed_in["accessToken"]["token"])
    assert caught.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert caught.value.response["Error"]["Message"] == "Access Token has been revoked"

    # Signing in again gives a working session.
    assert again["ok"] is True, again
    assert again["accessToken"]["token"] != signed_in["accessToken"]["token"]
    user = cognito.get_user(AccessToken=again["accessToken"]["token"])
    assert user["Username"] == "ada"


def test_identity_js_complete_new_password_challenge(server: CognateServer, cognito: Any) -> None:
    pool_id = create_pool_requiring_name(cognito)
    client_id = create_app(cognito, pool_id)
    create_user_needing_new_password(cognito, pool_id, "grace", "grace@example.com")

    completed, signed_in = identity_js(
        server,
        pool_id,
        client_id,
        "grace",
        [
            {
                "action": "authenticate_new_password",
                "newPassword": NEW_PASSWORD,
                "attributes": {"name": "Grace Hopper"},
            },
            {"action": "authenticate", "password": NEW_PASSWORD},
        ],
        password=TEMPORARY_PASSWORD,
    )

    assert completed["firstOutcome"] == "newPasswordRequired", completed
    # The challenge lists the user's attributes and the required ones the user lacks.
    assert completed["userAttributes"]["email"] == "grace@example.com"
    assert "name" not in completed["userAttributes"]
    assert completed["requiredAttributes"] == ["name"]
    assert completed["ok"] is True, completed
    assert completed["outcome"] == "success"
    assert targets(completed) == [
        "InitiateAuth",
        "RespondToAuthChallenge",
        "RespondToAuthChallenge",
    ]
    new_password_call = completed["calls"][2]
    assert new_password_call["request"]["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert set(new_password_call["request"]["ChallengeResponses"]) == {
        "NEW_PASSWORD",
        "USERNAME",
        "userAttributes.name",
    }
    assert completed["calls"][1]["challengeName"] == "NEW_PASSWORD_REQUIRED"
    assert completed["idToken"]["payload"]["name"] == "Grace Hopper"
    assert completed["idToken"]["payload"]["cognito:username"] == "grace"

    user = cognito.admin_get_user(UserPoolId=pool_id, Username="grace")
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["name"] == "Grace Hopper"

    assert signed_in["ok"] is True, signed_in
    check_srp_calls(signed_in)


# --- Amplify JS v6 ----------------------------------------------------------------------------


def amplify(
    server: CognateServer,
    pool_id: str,
    client_id: str,
    username: str,
    password: str,
    actions: list[Any],
) -> list[dict[str, Any]]:
    observed = run_js(
        "amplify_auth.mjs",
        {
            "endpoint": server.endpoint,
            "poolId": pool_id,
            "clientId": client_id,
            "username": username,
            "password": password,
            "actions": actions,
        },
    )
    results = results_by_action(observed, "aws-amplify")
    assert [r["action"] for r in results] == [
        a if isinstance(a, str) else a["action"] for a in actions
    ]
    return results


def hub(record: dict[str, Any]) -> list[str]:
    return [event["event"] for event in record["hubEvents"]]


def test_amplify_sign_in_session_refresh_and_global_sign_out(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    issuer = f"{server.endpoint}/{pool_id}"
    claims = dict(issuer=issuer, client_id=client_id, username="ada", sub=sub)

    (
        signed_in,
        session,
        current,
        refreshed,
        attributes,
        signed_out,
        after,
        revoked,
    ) = amplify(
        server,
        pool_id,
        client_id,
        "ada",
        PASSWORD,
        [
            "sign_in",
            "fetch_session",
            "get_current_user",
            "fetch_session_force_refresh",
            "fetch_user_attributes",
            "sign_out_global",
            "fetch_session_after_sign_out",
            "force_refresh_with_saved_tokens",
        ],
    )

    assert signed_in["ok"] is True, signed_in
    assert signed_in["isSignedIn"] is True
    assert signed_in["nextStep"] == {"signInStep": "DONE"}
    check_srp_calls(signed_in)
    assert "signedIn" in hub(signed_in)

    # fetchAuthSession: the tokens cached at sign-in, without a request.
    assert session["ok"] is True, session
    assert session["calls"] == []
    assert session["userSub"] == sub
    check_id_token(session["tokens"]["idToken"], **claims)
    check_access_token(session["tokens"]["accessToken"], **claims)

    assert current["ok"] is True, current
    assert current["username"] == "ada"
    assert current["userId"] == sub

    # forceRefresh: Amplify 6.22 (auth 6.21) refreshes with GetTokensFromRefreshToken,
    # not InitiateAuth REFRESH_TOKEN_AUTH.
    assert refreshed["ok"] is True, refreshed
    assert targets(refreshed) == ["GetTokensFromRefreshToken"], refreshed["calls"]
    (call,) = refreshed["calls"]
    assert call["status"] == 200
    assert set(call["request"]) >= {"ClientId", "RefreshToken"}
    assert call["request"]["ClientId"] == client_id
    assert {"AccessToken", "ExpiresIn", "IdToken", "TokenType"} <= set(
        call["authenticationResultKeys"]
    )
    assert refreshed["accessTokenChanged"] is True
    assert refreshed["idTokenChanged"] is True
    assert refreshed["hadRefreshToken"] is True
    new_access = check_access_token(refreshed["tokens"]["accessToken"], **claims)
    check_id_token(refreshed["tokens"]["idToken"], **claims)
    assert new_access["jti"] != session["tokens"]["accessToken"]["payload"]["jti"]
    assert "tokenRefresh" in hub(refreshed)

    assert attributes["ok"] is True, attributes
    assert targets(attributes) == ["GetUser"]
    assert attributes["attributes"]["sub"] == sub
    assert attributes["attributes"]["email"] == "ada@example.com"

    # signOut({global: true}) swallows the service's answer: the recorded call shows it.
    assert signed_out["ok"] is True, signed_out
    assert targets(signed_out) == ["GlobalSignOut"]
    assert signed_out["calls"][0]["status"] == 200, signed_out["calls"]
    assert signed_out["storageKeysAfter"] == []
    assert "signedOut" in hub(signed_out)

    assert after["ok"] is True, after
    assert after["tokens"] is None
    assert after["calls"] == []

    # The refresh token from before the global sign-out has been revoked: Amplify's refresh
    # fails with NotAuthorizedException, clears the tokens and reports no session.
    assert revoked["ok"] is True, revoked
    assert revoked["tokens"] is None
    assert targets(revoked) == ["GetTokensFromRefreshToken"]
    assert revoked["calls"][0]["status"] == 400
    assert revoked["calls"][0]["errorType"] == "NotAuthorizedException"
    failures = [e for e in revoked["hubEvents"] if e["event"] == "tokenRefresh_failure"]
    assert [e["error"]["name"] for e in failures] == ["NotAuthorizedException"]


def test_amplify_new_password_required(server: CognateServer, cognito: Any) -> None:
    pool_id = create_pool_requiring_name(cognito)
    client_id = create_app(cognito, pool_id)
    create_user_needing_new_password(cognito, pool_id, "grace", "grace@example.com")

    signed_in, confirmed, session = amplify(
        server,
        pool_id,
        client_id,
        "grace",
        TEMPORARY_PASSWORD,
        [
            "sign_in",
            {
                "action": "confirm_new_password",
                "newPassword": NEW_PASSWORD,
                "attributes": {"name": "Grace Hopper"},
            },
            "fetch_session",
        ],
    )

    assert signed_in["ok"] is True, signed_in
    assert signed_in["isSignedIn"] is False
    assert signed_in["nextStep"] == {
        "signInStep": "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED",
        "missingAttributes": ["name"],
    }
    assert targets(signed_in) == ["InitiateAuth", "RespondToAuthChallenge"]
    assert signed_in["calls"][1]["challengeName"] == "NEW_PASSWORD_REQUIRED"

    assert confirmed["ok"] is True, confirmed
    assert confirmed["isSignedIn"] is True
    assert confirmed["nextStep"] == {"signInStep": "DONE"}
    assert targets(confirmed) == ["RespondToAuthChallenge"]
    call = confirmed["calls"][0]
    assert call["request"]["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert set(call["request"]["ChallengeResponses"]) >= {
        "NEW_PASSWORD",
        "USERNAME",
        "userAttributes.name",
    }
    assert call["status"] == 200

    assert session["ok"] is True, session
    assert session["tokens"]["idToken"]["payload"]["name"] == "Grace Hopper"
    assert session["tokens"]["accessToken"]["payload"]["username"] == "grace"

    user = cognito.admin_get_user(UserPoolId=pool_id, Username="grace")
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["name"] == "Grace Hopper"


# --- aws-jwt-verify -------------------------------------------------------------------------


def sign_in_with_srp(server: CognateServer, pool_id: str, client_id: str) -> dict[str, Any]:
    (signed_in,) = identity_js(server, pool_id, client_id, "ada", ["authenticate"])
    assert signed_in["ok"] is True, signed_in
    return signed_in


def jwt_verify(
    server: CognateServer,
    region: str,
    pool_id: str,
    client_id: str,
    signed_in: dict[str, Any],
    mode: str,
) -> dict[str, Any]:
    observed = run_js(
        "jwt_verify.mjs",
        {
            "endpoint": server.endpoint,
            "region": region,
            "poolId": pool_id,
            "clientId": client_id,
            "idToken": signed_in["idToken"]["token"],
            "accessToken": signed_in["accessToken"]["token"],
            "mode": mode,
        },
    )
    assert observed["version"] == pinned("aws-jwt-verify")
    return observed


def check_jwks(observed: dict[str, Any], signed_in: dict[str, Any]) -> None:
    assert observed["jwks"]["status"] == 200
    keys = observed["jwks"]["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert key["use"] == "sig"
        assert key["e"]
        assert key["n"]
        assert "d" not in key  # public keys only
    kids = [key["kid"] for key in keys]
    assert len(kids) == len(set(kids))
    assert signed_in["idToken"]["header"]["kid"] in kids


def check_rejections(observed: dict[str, Any], cognito_verifier: bool) -> None:
    check_error(observed["tamperedId"], "JwtInvalidSignatureError")
    check_error(observed["tamperedAccess"], "JwtInvalidSignatureError")
    if cognito_verifier:
        check_error(observed["idAsAccess"], "CognitoJwtInvalidTokenUseError")
        check_error(observed["accessAsId"], "CognitoJwtInvalidTokenUseError")
        check_error(observed["wrongClientId"], "CognitoJwtInvalidClientIdError")
        check_error(observed["wrongClientAccess"], "CognitoJwtInvalidClientIdError")
    else:
        check_error(observed["idAsAccess"], "CustomJwtCheckError")
        check_error(observed["accessAsId"], "JwtInvalidAudienceError")  # no aud
        check_error(observed["wrongClientId"], "JwtInvalidAudienceError")
        check_error(observed["wrongClientAccess"], "CustomJwtCheckError")


def test_aws_jwt_verify_accepts_the_tokens_with_the_local_issuer(
    server: CognateServer, cognito: Any, region: str, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    signed_in = sign_in_with_srp(server, pool_id, client_id)

    observed = jwt_verify(server, region, pool_id, client_id, signed_in, "local")

    issuer = f"{server.endpoint}/{pool_id}"
    assert observed["expectedIssuer"] == issuer
    discovery = observed["discovery"]
    assert discovery["status"] == 200
    assert discovery["document"]["issuer"] == issuer
    assert discovery["document"]["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert "RS256" in discovery["document"]["id_token_signing_alg_values_supported"]
    check_jwks(observed, signed_in)

    assert observed["id"]["ok"] is True, observed["id"]
    assert observed["id"]["payload"] == signed_in["idToken"]["payload"]
    assert observed["access"]["ok"] is True, observed["access"]
    assert observed["access"]["payload"] == signed_in["accessToken"]["payload"]
    assert observed["id"]["payload"]["sub"] == sub
    check_rejections(observed, cognito_verifier=False)


def letters_only_region() -> str:
    """A region CognitoJwtVerifier accepts: its pool-id pattern wants letters in the middle."""
    middle = "".join(random.choice(string.ascii_lowercase) for _ in range(10))
    return f"zz-{middle}-1"


def test_cognito_jwt_verifier_accepts_the_tokens_with_the_aws_issuer(tmp_path: Path) -> None:
    _node()
    region = letters_only_region()
    with start_server(
        tmp_path, db=f"sqlite:///{tmp_path}/c.db", env={"COGNATE_ISSUER": "aws"}
    ) as aws_server:
        cognito = make_client(aws_server.endpoint, region)
        pool_id = cognito.create_user_pool(PoolName="aws-issuer")["UserPool"]["Id"]
        client_id = create_app(cognito, pool_id)
        sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
        signed_in = sign_in_with_srp(aws_server, pool_id, client_id)

        issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        claims = dict(issuer=issuer, client_id=client_id, username="ada", sub=sub)
        check_id_token(signed_in["idToken"], **claims)
        check_access_token(signed_in["accessToken"], **claims)

        observed = jwt_verify(aws_server, region, pool_id, client_id, signed_in, "aws")
        assert observed["expectedIssuer"] == issuer
        assert observed["discovery"]["status"] == 200
        assert observed["discovery"]["document"]["issuer"] == issuer
        check_jwks(observed, signed_in)
        assert observed["cacheJwks"] == {"ok": True}
        assert observed["id"]["ok"] is True, observed["id"]
        assert observed["id"]["payload"] == signed_in["idToken"]["payload"]
        assert observed["access"]["ok"] is True, observed["access"]
        assert observed["access"]["payload"] == signed_in["accessToken"]["payload"]
        check_rejections(observed, cognito_verifier=True)

        # The same tokens do not carry the local issuer.
        local = jwt_verify(aws_server, region, pool_id, client_id, signed_in, "local")
        check_error(local["id"], "JwtInvalidIssuerError")
        check_error(local["access"], "JwtInvalidIssuerError")


# --- AWS SDK for JavaScript v3 ----------------------------------------------------------------


def sdk_auth(server: CognateServer, region: str, client_id: str, **extra: Any) -> dict[str, Any]:
    observed = run_js(
        "sdk_auth.mjs",
        {
            "endpoint": server.endpoint,
            "region": region,
            "clientId": client_id,
            "username": "ada",
            "password": PASSWORD,
            "wrongPassword": WRONG_PASSWORD,
            "unknownUsername": "nobody",
            **extra,
        },
    )
    assert observed["version"] == pinned("@aws-sdk/client-cognito-identity-provider")
    return observed


def test_sdk_user_password_auth_and_get_user(
    server: CognateServer, cognito: Any, region: str, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id)
    sub = create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")
    issuer = f"{server.endpoint}/{pool_id}"

    observed = sdk_auth(server, region, client_id)

    right = observed["right"]
    assert right["ok"] is True, right
    assert right["httpStatusCode"] == 200
    assert right["ChallengeName"] is None
    assert right["hasSession"] is False
    assert right["authenticationResultKeys"] == [
        "AccessToken",
        "ExpiresIn",
        "IdToken",
        "RefreshToken",
        "TokenType",
    ]
    assert right["ExpiresIn"] == TOKEN_LIFETIME
    assert right["TokenType"] == "Bearer"
    claims = dict(issuer=issuer, client_id=client_id, username="ada", sub=sub)
    check_id_token(right["idToken"], **claims)
    check_access_token(right["accessToken"], **claims)

    for key in ("wrongPassword", "unknownUser"):
        error = observed[key]["error"]
        assert error["httpStatusCode"] == 400, error
        assert error["fault"] == "client"
        assert error["isServiceException"] is True
        assert error["isModeledException"] is True
    check_error(observed["wrongPassword"], "NotAuthorizedException", INCORRECT)
    # The app client does not set PreventUserExistenceErrors: the legacy answer.
    check_error(observed["unknownUser"], "UserNotFoundException", "User does not exist.")

    get_user = observed["getUser"]
    assert get_user["ok"] is True, get_user
    assert get_user["Username"] == "ada"
    assert get_user["attributes"]["sub"] == sub
    assert get_user["attributes"]["email"] == "ada@example.com"
    names = [a["Name"] for a in get_user["UserAttributes"]]
    assert len(names) == len(set(names))


def test_sdk_unknown_user_with_prevent_user_existence_errors(
    server: CognateServer, cognito: Any, region: str, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    client_id = create_app(cognito, pool_id, PreventUserExistenceErrors="ENABLED")
    create_confirmed_user(cognito, pool_id, "ada", "ada@example.com")

    observed = sdk_auth(server, region, client_id, accessToken="not-a-token")

    assert observed["right"]["ok"] is True, observed["right"]
    # An unknown user and a wrong password look the same to the client.
    check_error(observed["unknownUser"], "NotAuthorizedException", INCORRECT)
    check_error(observed["wrongPassword"], "NotAuthorizedException", INCORRECT)
    check_error(observed["getUserWithGivenToken"], "NotAuthorizedException")
