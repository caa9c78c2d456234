"""SAML 2.0 federation at a pool domain, against a SAML identity provider built in the test
process with pysaml2 (tests/support/saml_idp.py: its own key and certificate, xmlsec1
signatures and encryption). The browser's part (following redirects, posting the IdP's
form to /saml2/idpresponse) is done by httpx; a browser would add nothing here.

Checked: SP-initiated sign-in (a signed AuthnRequest, verified by the IdP with the
certificate GetSigningCertificate returns, RelayState opaque) ends with a code at the
app's callback and tokens for `<ProviderName>_<NameID>` with the mapped email; tampered,
wrongly addressed, expired, unsolicited and replayed responses are refused with
error=invalid_request; encrypted assertions (to DescribeIdentityProvider's
ActiveEncryptionCertificate) are decrypted, and required; IdP-initiated sign-in with the
authorize query as RelayState; sign-out through the IdP's SingleLogoutService.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.support.auth import claims
from tests.support.oauth import CALLBACK, LOGOUT, oauth_pool, redirect_params
from tests.support.saml_idp import EMAIL_CLAIM, SamlIdP, pem, sp_metadata
from tests.support.server import CognateServer

PROVIDER = "Corp"
SCOPE = "openid email"


@dataclass
class Federation:
    idp: SamlIdP
    pool_id: str
    client_id: str
    domain_url: str
    entity_id: str
    signing_cert: str  # GetSigningCertificate's (base64 DER)
    encryption_cert: str | None

    @property
    def acs(self) -> str:
        return self.domain_url + "/saml2/idpresponse"

    def authorize_query(self, **extra: str) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": SCOPE,
            "identity_provider": PROVIDER,
            "state": "app-state",
            **extra,
        }


def federation(cognito: Any, server: CognateServer, region: str, **details: str) -> Federation:
    setup = oauth_pool(cognito, server.endpoint, region, flows=("code",))
    idp = SamlIdP()
    cognito.create_identity_provider(
        UserPoolId=setup.pool_id,
        ProviderName=PROVIDER,
        ProviderType="SAML",
        ProviderDetails={"MetadataFile": idp.metadata, **details},
        AttributeMapping={"email": EMAIL_CLAIM},
    )
    cognito.update_user_pool_client(
        UserPoolId=setup.pool_id,
        ClientId=setup.client_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
        LogoutURLs=[LOGOUT],
        SupportedIdentityProviders=["COGNITO", PROVIDER],
    )
    described = cognito.describe_identity_provider(UserPoolId=setup.pool_id, ProviderName=PROVIDER)[
        "IdentityProvider"
    ]["ProviderDetails"]
    signing = cognito.get_signing_certificate(UserPoolId=setup.pool_id)["Certificate"]
    encryption = described.get("ActiveEncryptionCertificate")
    entity_id = f"urn:amazon:cognito:sp:{setup.pool_id}"
    found = Federation(
        idp, setup.pool_id, setup.client_id, setup.domain_url, entity_id, signing,
        pem(encryption) if encryption else None,
    )  # fmt: skip
    idp.trust(
        sp_metadata(
            entity_id, found.acs, setup.domain_url + "/saml2/logout", signing, encryption or ""
        )
    )
    return found


def start(http: httpx.Client, fed: Federation) -> tuple[str, str, Any]:
    """/oauth2/authorize naming the SAML provider: the IdP's URL, RelayState, request."""
    answer = http.get(f"{fed.domain_url}/oauth2/authorize", params=fed.authorize_query())
    assert answer.status_code == 302, answer.text
    url = answer.headers["location"]
    query = fed.idp.request_query(url)
    signed = fed.signing_cert if "Signature" in query else None
    return url, query["RelayState"], fed.idp.read_request(url, signed)


def post(http: httpx.Client, fed: Federation, saml_response: str, relay: str) -> httpx.Response:
    return http.post(fed.acs, data={"SAMLResponse": saml_response, "RelayState": relay})


def respond(fed: Federation, request: Any, relay: str, **kwargs: Any) -> str:
    options: dict[str, Any] = {
        "name_id": "jdoe",
        "attributes": {EMAIL_CLAIM: ["jdoe@corp.example"]},
        "destination": fed.acs,
        "sp_entity_id": fed.entity_id,
        "in_response_to": request.message.id if request is not None else None,
        "relay_state": relay,
        **kwargs,
    }
    return fed.idp.respond(**options).saml_response


def tokens(http: httpx.Client, fed: Federation, code: str) -> dict[str, Any]:
    answer = http.post(
        f"{fed.domain_url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": fed.client_id,
            "code": code,
            "redirect_uri": CALLBACK,
        },
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def refused(answer: httpx.Response) -> str:
    params = redirect_params(answer)
    assert params["error"] == "invalid_request", params
    assert params["state"] == "app-state"
    return params["error_description"]


def test_sp_initiated_sign_in(cognito: Any, server: CognateServer, region: str) -> None:
    fed = federation(cognito, server, region, RequestSigningAlgorithm="rsa-sha256")
    with httpx.Client() as http:
        url, relay, request = start(http, fed)
        assert url.startswith(f"{fed.idp.base}/sso?")
        assert "Signature" in fed.idp.request_query(url)  # verified with the pool's cert
        assert request.message.issuer.text == fed.entity_id
        assert request.message.assertion_consumer_service_url == fed.acs
        answer = post(http, fed, respond(fed, request, relay), relay)
        params = redirect_params(answer)
        assert params["state"] == "app-state"
        assert "code" in params, params
        assert "cognate_session" in answer.headers.get("set-cookie", "")
        body = tokens(http, fed, params["code"])
    id_claims = claims(body["id_token"])
    assert id_claims["cognito:username"] == f"{PROVIDER}_jdoe"
    assert id_claims["email"] == "jdoe@corp.example"
    identities = id_claims["identities"]
    assert identities[0]["providerName"] == PROVIDER
    assert identities[0]["providerType"] == "SAML"
    user = cognito.admin_get_user(UserPoolId=fed.pool_id, Username=f"{PROVIDER}_jdoe")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"


def test_unsigned_requests_when_not_asked(cognito: Any, server: CognateServer, region: str) -> None:
    fed = federation(cognito, server, region)
    with httpx.Client() as http:
        url, relay, request = start(http, fed)
        assert "Signature" not in fed.idp.request_query(url)
        answer = post(http, fed, respond(fed, request, relay, sign="assertion"), relay)
        assert "code" in redirect_params(answer)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ({"spoil": "tamper"}, "signature"),
        ({"spoil": "unsigned"}, "signature"),
        ({"spoil": "expire"}, "expired"),
        ({"sp_entity_id": "urn:amazon:cognito:sp:us-east-1_Decoy0000"}, "audience"),
        ({"destination": "https://elsewhere.example/saml2/idpresponse"}, "destination"),
        ({"in_response_to": "id-not-the-request"}, "request"),
    ],
)
def test_bad_responses_are_refused(
    cognito: Any, server: CognateServer, region: str, spoil: dict[str, str], reason: str
) -> None:
    fed = federation(cognito, server, region)
    fed.idp.trust(
        sp_metadata("urn:amazon:cognito:sp:us-east-1_Decoy0000", fed.acs, fed.acs, "", "")
    )
    with httpx.Client() as http:
        _, relay, request = start(http, fed)
        answer = post(http, fed, respond(fed, request, relay, **spoil), relay)
        description = refused(answer)
    assert reason in description.lower(), description
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=fed.pool_id, Username=f"{PROVIDER}_jdoe")


def test_relay_state_is_single_use_and_unsolicited_refused(
    cognito: Any, server: CognateServer, region: str
) -> None:
    fed = federation(cognito, server, region)
    with httpx.Client() as http:
        _, relay, request = start(http, fed)
        saml_response = respond(fed, request, relay)
        assert "code" in redirect_params(post(http, fed, saml_response, relay))
        again = post(http, fed, saml_response, relay)
        assert again.status_code == 400
        assert "RelayState" in again.text
        # IdP-initiated is off for this provider.
        relay_query = urlencode(fed.authorize_query())
        unsolicited = respond(fed, None, relay_query)
        description = refused(post(http, fed, unsolicited, relay_query))
    assert "IdP-initiated" in description


def test_encrypted_assertions(cognito: Any, server: CognateServer, region: str) -> None:
    fed = federation(cognito, server, region, EncryptedResponses="true")
    assert fed.encryption_cert is not None
    with httpx.Client() as http:
        _, relay, request = start(http, fed)
        saml_response = respond(fed, request, relay, encrypt_cert=fed.encryption_cert)
        assert "EncryptedAssertion" in fed.idp.respond(
            name_id="x", attributes={}, destination=fed.acs, sp_entity_id=fed.entity_id,
            in_response_to=None, relay_state=None, encrypt_cert=fed.encryption_cert,
        ).xml  # fmt: skip
        params = redirect_params(post(http, fed, saml_response, relay))
        assert "code" in params, params
        id_claims = claims(tokens(http, fed, params["code"])["id_token"])
        assert id_claims["email"] == "jdoe@corp.example"
        # In the clear, the same provider's assertion is refused.
        _, relay, request = start(http, fed)
        description = refused(post(http, fed, respond(fed, request, relay), relay))
    assert "encrypted" in description


def test_idp_initiated_sign_in(cognito: Any, server: CognateServer, region: str) -> None:
    fed = federation(cognito, server, region, IDPInit="true")
    relay_query = urlencode(fed.authorize_query())
    with httpx.Client() as http:
        saml_response = respond(fed, None, relay_query, name_id="portal-user")
        params = redirect_params(post(http, fed, saml_response, relay_query))
        id_claims = claims(tokens(http, fed, params["code"])["id_token"])
        assert id_claims["cognito:username"] == f"{PROVIDER}_portal-user"
        # The same assertion again: replayed.
        description = refused(post(http, fed, saml_response, relay_query))
        assert "already been used" in description
        # A RelayState naming a callback the client does not have: no redirect to it.
        bad = urlencode(fed.authorize_query(redirect_uri="https://evil.example/cb"))
        answer = post(http, fed, respond(fed, None, bad), bad)
        assert answer.status_code == 400


def test_sign_out_through_the_idp(cognito: Any, server: CognateServer, region: str) -> None:
    fed = federation(cognito, server, region, IDPSignout="true")
    with httpx.Client() as http:
        _, relay, request = start(http, fed)
        answer = fed.idp.respond(
            name_id="jdoe", attributes={EMAIL_CLAIM: ["jdoe@corp.example"]},
            destination=fed.acs, sp_entity_id=fed.entity_id,
            in_response_to=request.message.id, relay_state=relay,
        )  # fmt: skip
        session_index = re.search(r'SessionIndex="([^"]+)"', answer.xml)
        assert session_index is not None
        assert "code" in redirect_params(post(http, fed, answer.saml_response, relay))
        out = http.get(
            f"{fed.domain_url}/logout", params={"client_id": fed.client_id, "logout_uri": LOGOUT}
        )
        assert out.status_code == 302
        url = out.headers["location"]
        assert url.startswith(f"{fed.idp.base}/slo?"), url
        logout_request = fed.idp.read_request(url, fed.signing_cert)  # signed by the pool
        assert logout_request.message.name_id.text == "jdoe"
        assert [s.text for s in logout_request.message.session_index] == [session_index.group(1)]
        relay = parse_qs(urlsplit(url).query)["RelayState"][0]
        saml_response = fed.idp.logout_response(logout_request, fed.domain_url + "/saml2/logout")
        back = http.post(
            fed.domain_url + "/saml2/logout",
            data={"SAMLResponse": saml_response, "RelayState": relay},
        )
        assert back.status_code == 302, back.text
        assert back.headers["location"] == LOGOUT
        # The hosted session is gone: authorize goes to the IdP again.
        again = http.get(f"{fed.domain_url}/oauth2/authorize", params=fed.authorize_query())
        assert again.headers["location"].startswith(f"{fed.idp.base}/sso?")
