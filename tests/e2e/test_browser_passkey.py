"""A passkey registered and used in a real browser: Chromium (Debian's /usr/bin/chromium,
driven by Playwright) with a CDP virtual authenticator, against a live Cognate.

boto3 does the application's side (pool, app client, user, password sign-in,
StartWebAuthnRegistration / CompleteWebAuthnRegistration, InitiateAuth USER_AUTH with
PREFERRED_CHALLENGE WEB_AUTHN, RespondToAuthChallenge); the browser does the user's side
on a page of origin http://localhost:<port> (the relying party id is `localhost`, the
server's default public host): `PublicKeyCredential.parseCreationOptionsFromJSON` +
`navigator.credentials.create` for what StartWebAuthnRegistration returned, and
`parseRequestOptionsFromJSON` + `navigator.credentials.get` for CREDENTIAL_REQUEST_OPTIONS,
each answer serialised by the browser's own `toJSON()`. So the options the server writes
must be accepted by a real WebAuthn client, and what the browser and its authenticator
produce (attestation, assertion, client data, origin, flags, counter) must be accepted by
the server. The authenticator's own view (its credential id, user handle, signature
counter) is read back over CDP; the counter must go up with the sign-in, and the server
must keep it: the same key put back with its old counter (a clone) is refused.

Needs Chromium at /usr/bin/chromium (`.ci/run` installs Debian's) and the Python
`playwright` package, never a browser downloaded by `playwright install`; skipped without
them. The page is screenshotted and checked (tests/support/screenshots.py): the origin
page the ceremonies run on (the pool's JWKS), and the same page showing the outcome.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import (
    INCORRECT,
    PASSWORD,
    claims,
    error,
    new_client,
    new_pool,
    new_user,
    sign_in,
)
from tests.support.browser import launch_chromium
from tests.support.screenshots import Screenshots
from tests.support.server import CognateServer

FLOWS = ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}

# What a web app runs: the JSON options in, the browser's JSON serialisation out.
CREATE = """async (options) => {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
    const credential = await navigator.credentials.create({ publicKey });
    return credential.toJSON();
}"""
GET = """async (options) => {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
    const credential = await navigator.credentials.get({ publicKey });
    return credential.toJSON();
}"""

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A Chromium page on http://localhost:<port> (a secure context), whose browser is
    closed after the test."""
    with launch_chromium() as browser:
        yield browser.new_context().new_page()


def virtual_authenticator(page: Any) -> tuple[Any, str]:
    """A CDP session on `page` and the id of the virtual authenticator added to it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    return cdp, str(added["authenticatorId"])


def authenticator_credentials(cdp: Any, authenticator_id: str) -> list[dict[str, Any]]:
    found = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    credentials: list[dict[str, Any]] = found["credentials"]
    return credentials


def passkey_challenge(cognito: Any, client_id: str, username: str) -> dict[str, Any]:
    """InitiateAuth USER_AUTH asking for WEB_AUTHN; the WEB_AUTHN challenge."""
    started: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": username, "PREFERRED_CHALLENGE": "WEB_AUTHN"},
    )
    assert started["ChallengeName"] == "WEB_AUTHN", started
    return started


def test_passkey_registered_and_used_in_chromium(
    browser_page: Any, server: CognateServer, cognito: Any, request: pytest.FixtureRequest
) -> None:
    page = browser_page
    shots = Screenshots(request, page)
    pool_id = new_pool(
        cognito, Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}
    )
    client_id = new_client(cognito, pool_id, FLOWS)["ClientId"]
    username = new_user(cognito, pool_id, "alice")
    signed_in = sign_in(cognito, client_id, username, PASSWORD)
    sub = claims(signed_in["IdToken"])["sub"]

    port = urlsplit(server.endpoint).port
    page.goto(f"http://localhost:{port}/{pool_id}/.well-known/jwks.json")
    assert page.evaluate("window.isSecureContext") is True
    shots.take(page, "origin-jwks", text='"keys"')
    cdp, authenticator_id = virtual_authenticator(page)

    # Registration: the server's options, the browser's ceremony, the server's verification.
    options = cognito.start_web_authn_registration(AccessToken=signed_in["AccessToken"])[
        "CredentialCreationOptions"
    ]
    assert options["rp"]["id"] == "localhost"
    created = page.evaluate(CREATE, options)
    assert created["type"] == "public-key"
    assert created["authenticatorAttachment"] == "platform"
    cognito.complete_web_authn_registration(
        AccessToken=signed_in["AccessToken"], Credential=created
    )

    [stored] = authenticator_credentials(cdp, authenticator_id)
    assert stored["isResidentCredential"] is True
    assert stored["rpId"] == "localhost"
    assert base64.b64decode(stored["userHandle"]).decode() == sub
    assert stored["userName"] == username
    credential_id = stored["credentialId"].replace("+", "-").replace("/", "_").rstrip("=")
    assert credential_id == created["id"]
    listed = cognito.list_web_authn_credentials(AccessToken=signed_in["AccessToken"])
    [passkey] = listed["Credentials"]
    assert passkey["CredentialId"] == credential_id
    assert passkey["RelyingPartyId"] == "localhost"
    assert passkey["AuthenticatorAttachment"] == "platform"
    assert "internal" in passkey["AuthenticatorTransports"]
    count_at_registration = stored["signCount"]

    # Sign-in: USER_AUTH's WEB_AUTHN challenge answered by the browser's assertion.
    started = passkey_challenge(cognito, client_id, username)
    request_options = json.loads(started["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
    assert request_options["rpId"] == "localhost"
    assert [c["id"] for c in request_options["allowCredentials"]] == [credential_id]
    asserted = page.evaluate(GET, request_options)
    assert asserted["id"] == credential_id
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="WEB_AUTHN",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": username, "CREDENTIAL": json.dumps(asserted)},
    )
    assert "ChallengeName" not in done, done
    tokens = done["AuthenticationResult"]
    identity = claims(tokens["IdToken"])
    assert identity["sub"] == sub
    assert identity["cognito:username"] == username
    assert claims(tokens["AccessToken"])["client_id"] == client_id

    # The assertion counted up on the authenticator, and the server kept the new count: the
    # same key with its counter set back (a clone) is refused.
    [after] = authenticator_credentials(cdp, authenticator_id)
    assert after["signCount"] > count_at_registration
    cdp.send(
        "WebAuthn.removeCredential",
        {"authenticatorId": authenticator_id, "credentialId": after["credentialId"]},
    )
    clone = {**after, "signCount": count_at_registration}
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": clone})
    again = passkey_challenge(cognito, client_id, username)
    cloned = page.evaluate(
        GET, json.loads(again["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
    )
    [replayed] = authenticator_credentials(cdp, authenticator_id)
    assert replayed["signCount"] <= after["signCount"]
    with pytest.raises(ClientError) as refused:
        cognito.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="WEB_AUTHN",
            Session=again["Session"],
            ChallengeResponses={"USERNAME": username, "CREDENTIAL": json.dumps(cloned)},
        )
    assert error(refused) == INCORRECT

    page.evaluate(
        "(text) => { document.body.innerText = text; }",
        f"Signed in to {pool_id} as {username} with passkey {credential_id} "
        f"(sign count {count_at_registration} -> {after['signCount']}; "
        f"the clone at {count_at_registration} was refused)",
    )
    shots.take(page, "passkey", text=f"Signed in to {pool_id} as {username} with passkey")
    assert [p.name for p in sorted(shots.folder.glob("*.png"))] == [
        "01-origin-jwks.png",
        "02-passkey.png",
    ]
