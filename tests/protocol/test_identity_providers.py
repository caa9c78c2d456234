"""Identity providers of a user pool with boto3 against the live server: every type's
ProviderDetails as Describe shows them, OIDC discovery and SAML metadata from a local
HTTP server, names, identifiers, pagination, secrets sealed at rest, app clients naming
providers, and `idp_identifier` at /oauth2/authorize."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from cognate.storage.db import Database
from cognate.storage.schema import identity_providers
from tests.support.auth import new_client
from tests.support.local_http import serve
from tests.support.oauth import CALLBACK, oauth_pool, redirect_params
from tests.support.server import CognateServer

SECRET = "very-secret-value-4242"
GOOGLE = {"client_id": "g.apps.googleusercontent.com", "client_secret": SECRET,
          "authorize_scopes": "email profile openid"}  # fmt: skip
METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.test/">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.test/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.test/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def _discovery(base: str) -> str:
    return json.dumps(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks.json",
        }
    )


def _oidc(issuer: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": "oidc-client",
        "client_secret": SECRET,
        "attributes_request_method": "GET",
        "oidc_issuer": issuer,
        "authorize_scopes": "openid email",
        **extra,
    }


def test_google_provider_lifecycle(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    created = cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Google",
        ProviderType="Google",
        ProviderDetails=GOOGLE,
        AttributeMapping={"email": "email"},
        IdpIdentifiers=["gmail.com"],
    )["IdentityProvider"]
    assert created["ProviderDetails"] == {
        **GOOGLE,
        "attributes_url": "https://people.googleapis.com/v1/people/me?personFields=",
        "attributes_url_add_attributes": "true",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "oidc_issuer": "https://accounts.google.com",
        "token_request_method": "POST",
        "token_url": "https://www.googleapis.com/oauth2/v4/token",
    }
    assert created["AttributeMapping"] == {"email": "email", "username": "sub"}
    assert created["IdpIdentifiers"] == ["gmail.com"]
    assert (created["UserPoolId"], created["ProviderType"]) == (pool_id, "Google")
    assert created["CreationDate"] == created["LastModifiedDate"]
    described = cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    assert described["IdentityProvider"] == created
    by_id = cognito.get_identity_provider_by_identifier(
        UserPoolId=pool_id, IdpIdentifier="gmail.com"
    )
    assert by_id["IdentityProvider"] == created

    with pytest.raises(ClientError) as excinfo:
        cognito.create_identity_provider(
            UserPoolId=pool_id, ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE
        )
    assert error_of(excinfo) == (
        "DuplicateProviderException",
        f"Google already exists in user pool {pool_id}",
    )
    # update: the secret is kept when not sent again; omitted members are kept
    updated = cognito.update_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Google",
        ProviderDetails={"authorize_scopes": "openid email"},
    )["IdentityProvider"]
    assert updated["ProviderDetails"]["authorize_scopes"] == "openid email"
    assert updated["ProviderDetails"]["client_secret"] == SECRET
    assert updated["IdpIdentifiers"] == ["gmail.com"]
    assert updated["AttributeMapping"] == created["AttributeMapping"]
    cognito.update_identity_provider(UserPoolId=pool_id, ProviderName="Google", IdpIdentifiers=[])
    with pytest.raises(ClientError) as excinfo:
        cognito.get_identity_provider_by_identifier(UserPoolId=pool_id, IdpIdentifier="gmail.com")
    assert error_of(excinfo)[0] == "ResourceNotFoundException"

    cognito.delete_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    for call in (cognito.describe_identity_provider, cognito.delete_identity_provider):
        with pytest.raises(ClientError) as excinfo:
            call(UserPoolId=pool_id, ProviderName="Google")
        assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_social_details_and_names(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    facebook = cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Facebook",
        ProviderType="Facebook",
        ProviderDetails={**GOOGLE, "api_version": "v17.0", "authorize_scopes": "public_profile"},
    )["IdentityProvider"]
    assert facebook["ProviderDetails"]["authorize_url"] == (
        "https://www.facebook.com/v17.0/dialog/oauth"
    )
    assert facebook["ProviderDetails"]["token_request_method"] == "GET"
    assert facebook["AttributeMapping"] == {"username": "id"}
    amazon = cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="LoginWithAmazon",
        ProviderType="LoginWithAmazon",
        ProviderDetails={**GOOGLE, "authorize_scopes": "profile"},
    )["IdentityProvider"]
    assert amazon["ProviderDetails"]["token_url"] == "https://api.amazon.com/auth/o2/token"
    assert amazon["AttributeMapping"] == {"username": "user_id"}
    apple = cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="SignInWithApple",
        ProviderType="SignInWithApple",
        ProviderDetails={"client_id": "com.example", "team_id": "T1", "key_id": "K1",
                         "private_key": SECRET, "authorize_scopes": "email name"},
    )["IdentityProvider"]  # fmt: skip
    details = apple["ProviderDetails"]
    assert "private_key" not in details  # not returned (the model's describe example)
    assert details["oidc_issuer"] == "https://appleid.apple.com"
    assert (details["team_id"], details["key_id"]) == ("T1", "K1")

    cases = [
        ("Gmail", "Google", GOOGLE),  # a social provider is named after its type
        ("Google", "OIDC", _oidc("https://idp.test")),  # social names are reserved
        ("cognito", "OIDC", _oidc("https://idp.test")),
        ("Google", "Google", {"client_id": "x", "authorize_scopes": "openid"}),  # no secret
        ("Google", "Google", {**GOOGLE, "bogus": "1"}),
    ]
    for name, ptype, provider_details in cases:
        with pytest.raises(ClientError) as excinfo:
            cognito.create_identity_provider(
                UserPoolId=pool_id,
                ProviderName=name,
                ProviderType=ptype,
                ProviderDetails=provider_details,
            )
        assert error_of(excinfo)[0] == "InvalidParameterException", (name, ptype)
    with pytest.raises(ClientError) as excinfo:
        cognito.create_identity_provider(
            UserPoolId=pool_id,
            ProviderName="Google",
            ProviderType="Google",
            ProviderDetails=GOOGLE,
            AttributeMapping={"custom:nope": "x"},
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.create_identity_provider(
            UserPoolId="us-east-1_nothere", ProviderName="Google", ProviderType="Google",
            ProviderDetails=GOOGLE,
        )  # fmt: skip
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_oidc_discovery_and_explicit_endpoints(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    documents: dict[str, tuple[str, str]] = {}
    with serve(documents) as base:
        documents["/.well-known/openid-configuration"] = ("application/json", _discovery(base))
        created = cognito.create_identity_provider(
            UserPoolId=pool_id,
            ProviderName="Corp",
            ProviderType="OIDC",
            ProviderDetails=_oidc(base),
            AcrMapping={"Level1": "urn:acr:low"},
        )["IdentityProvider"]
        assert created["ProviderDetails"] == {
            **_oidc(base),
            "authorize_url": f"{base}/authorize",
            "token_url": f"{base}/token",
            "attributes_url": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks.json",
            "attributes_url_add_attributes": "false",
        }
        assert created["AttributeMapping"] == {"username": "sub"}
        assert created["AcrMapping"] == {"Level1": "urn:acr:low"}
        # an explicit endpoint wins over the discovered one
        updated = cognito.update_identity_provider(
            UserPoolId=pool_id,
            ProviderName="Corp",
            ProviderDetails={"token_url": f"{base}/other-token"},
        )["IdentityProvider"]
        assert updated["ProviderDetails"]["token_url"] == f"{base}/other-token"
        assert updated["ProviderDetails"]["authorize_url"] == f"{base}/authorize"
        assert updated["ProviderDetails"]["client_secret"] == SECRET

        # an issuer without a discovery document
        with pytest.raises(ClientError) as excinfo:
            cognito.create_identity_provider(
                UserPoolId=pool_id,
                ProviderName="Broken",
                ProviderType="OIDC",
                ProviderDetails=_oidc(f"{base}/nothing"),
            )
        assert error_of(excinfo) == (
            "InvalidParameterException",
            "Unable to contact well-known endpoint",
        )
    # all four endpoints given: nothing to discover (the server is gone)
    explicit = _oidc(
        "https://login.example.com",
        authorize_url="https://login.example.com/a",
        token_url="https://login.example.com/t",
        attributes_url="https://login.example.com/u",
        jwks_uri="https://login.example.com/k",
    )
    made = cognito.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Explicit", ProviderType="OIDC", ProviderDetails=explicit
    )["IdentityProvider"]
    assert made["ProviderDetails"]["jwks_uri"] == "https://login.example.com/k"
    for issuer in ("http://idp.example.com", "ftp://idp.example.com"):  # HTTPS only
        with pytest.raises(ClientError) as excinfo:
            cognito.create_identity_provider(
                UserPoolId=pool_id, ProviderName="Plain", ProviderType="OIDC",
                ProviderDetails=_oidc(issuer),
            )  # fmt: skip
        assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.create_identity_provider(
            UserPoolId=pool_id, ProviderName="Acr", ProviderType="Google", ProviderDetails=GOOGLE,
            AcrMapping={"Level1": "x"},
        )  # fmt: skip
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_saml_metadata_by_file_and_url(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    by_file = cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="SamlFile",
        ProviderType="SAML",
        ProviderDetails={"MetadataFile": METADATA, "IDPSignout": "true"},
        AttributeMapping={"email": "http://schemas.example/email"},
    )["IdentityProvider"]
    assert by_file["ProviderDetails"] == {
        "MetadataFile": METADATA,
        "IDPSignout": "true",
        "SSORedirectBindingURI": "https://idp.test/sso",
        "SLORedirectBindingURI": "https://idp.test/slo",
    }
    assert by_file["AttributeMapping"] == {"email": "http://schemas.example/email"}
    documents = {"/metadata": ("application/xml", METADATA)}
    with serve(documents) as base:
        by_url = cognito.create_identity_provider(
            UserPoolId=pool_id,
            ProviderName="SamlUrl",
            ProviderType="SAML",
            ProviderDetails={"MetadataURL": f"{base}/metadata", "EncryptedResponses": "true"},
        )["IdentityProvider"]
        details = by_url["ProviderDetails"]
        assert details["SSORedirectBindingURI"] == "https://idp.test/sso"
        certificate = details["ActiveEncryptionCertificate"]
        assert len(certificate) > 500
        again = cognito.update_identity_provider(
            UserPoolId=pool_id, ProviderName="SamlUrl", ProviderDetails={"IDPInit": "true"}
        )["IdentityProvider"]
        assert again["ProviderDetails"]["ActiveEncryptionCertificate"] == certificate
        assert again["ProviderDetails"]["IDPInit"] == "true"
        for bad in (
            {"MetadataURL": f"{base}/missing"},
            {"MetadataFile": "<html>not metadata</html>"},
            {"MetadataFile": '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'},
            {"MetadataFile": METADATA, "MetadataURL": f"{base}/metadata"},
            {},
        ):
            with pytest.raises(ClientError) as excinfo:
                cognito.create_identity_provider(
                    UserPoolId=pool_id, ProviderName="Bad", ProviderType="SAML",
                    ProviderDetails=bad,
                )  # fmt: skip
            assert error_of(excinfo)[0] == "InvalidParameterException", bad


def test_identifiers_and_listing(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    for n in range(5):
        cognito.create_identity_provider(
            UserPoolId=pool_id,
            ProviderName=f"Saml{n}",
            ProviderType="SAML",
            ProviderDetails={"MetadataFile": METADATA},
            IdpIdentifiers=[f"corp{n}.example.com"],
        )
    with pytest.raises(ClientError) as excinfo:
        cognito.create_identity_provider(
            UserPoolId=pool_id, ProviderName="Other", ProviderType="SAML",
            ProviderDetails={"MetadataFile": METADATA}, IdpIdentifiers=["corp1.example.com"],
        )  # fmt: skip
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.update_identity_provider(
            UserPoolId=pool_id, ProviderName="Saml0", IdpIdentifiers=["corp2.example.com"]
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        cognito.create_identity_provider(
            UserPoolId=pool_id, ProviderName="Other", ProviderType="SAML",
            ProviderDetails={"MetadataFile": METADATA}, IdpIdentifiers=["a", "a"],
        )  # fmt: skip
    assert error_of(excinfo)[0] == "InvalidParameterException"
    found = cognito.get_identity_provider_by_identifier(
        UserPoolId=pool_id, IdpIdentifier="corp3.example.com"
    )["IdentityProvider"]
    assert found["ProviderName"] == "Saml3"

    first = cognito.list_identity_providers(UserPoolId=pool_id, MaxResults=3)
    assert [p["ProviderName"] for p in first["Providers"]] == ["Saml0", "Saml1", "Saml2"]
    assert set(first["Providers"][0]) == {
        "ProviderName", "ProviderType", "LastModifiedDate", "CreationDate",
    }  # fmt: skip
    rest = cognito.list_identity_providers(
        UserPoolId=pool_id, MaxResults=3, NextToken=first["NextToken"]
    )
    assert [p["ProviderName"] for p in rest["Providers"]] == ["Saml3", "Saml4"]
    assert "NextToken" not in rest
    assert len(cognito.list_identity_providers(UserPoolId=pool_id)["Providers"]) == 5
    with pytest.raises(ClientError) as excinfo:
        cognito.list_identity_providers(UserPoolId=pool_id, NextToken="bogus")
    assert error_of(excinfo)[0] == "InvalidParameterException"


def test_secrets_are_sealed_at_rest(
    server: CognateServer, cognito: Any, pool: dict[str, Any]
) -> None:
    cognito.create_identity_provider(
        UserPoolId=pool["Id"], ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE
    )
    db = Database(server.db, pool_size=1)
    try:
        rows = db.read("test_idps", lambda conn: conn.execute(sa.select(identity_providers)).all())
    finally:
        db.dispose()
    assert rows
    for row in rows:
        assert SECRET not in " ".join(str(value) for value in row)
    assert any(row.secrets_enc for row in rows)


def test_clients_name_providers_and_deleting_one_removes_it(
    cognito: Any, pool: dict[str, Any]
) -> None:
    pool_id = pool["Id"]
    with pytest.raises(ClientError) as excinfo:
        new_client(cognito, pool_id, SupportedIdentityProviders=["COGNITO", "Google"])
    assert error_of(excinfo) == (
        "InvalidParameterException",
        f"The provider Google does not exist for User Pool {pool_id}.",
    )
    cognito.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE
    )
    client_id = new_client(cognito, pool_id, SupportedIdentityProviders=["COGNITO", "Google"])[
        "ClientId"
    ]
    described = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    assert described["UserPoolClient"]["SupportedIdentityProviders"] == ["COGNITO", "Google"]
    cognito.delete_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    described = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    assert described["UserPoolClient"]["SupportedIdentityProviders"] == ["COGNITO"]


def test_idp_identifier_resolves_at_authorize(
    server: CognateServer, cognito: Any, region: str
) -> None:
    setup = oauth_pool(cognito, server.endpoint, region)
    cognito.create_identity_provider(
        UserPoolId=setup.pool_id,
        ProviderName="Corp",
        ProviderType="SAML",
        ProviderDetails={"MetadataFile": METADATA},
        IdpIdentifiers=["corp.example.com"],
    )
    query = {
        "response_type": "code",
        "client_id": setup.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "state": "st-1",
        "idp_identifier": "corp.example.com",
    }
    authorize = f"{setup.domain_url}/oauth2/authorize"
    # not one of the client's providers yet
    params = redirect_params(httpx.get(authorize, params=query))
    assert (params["error"], params["state"]) == ("invalid_request", "st-1")
    assert "Corp" in params["error_description"]
    cognito.update_user_pool_client(
        UserPoolId=setup.pool_id,
        ClientId=setup.client_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO", "Corp"],
    )
    answer = httpx.get(authorize, params=query)
    assert answer.status_code == 302  # to the provider's sign-in page
    assert answer.headers["location"].startswith("https://idp.test/sso?")
    unknown = redirect_params(httpx.get(authorize, params={**query, "idp_identifier": "x.y"}))
    assert unknown["error"] == "invalid_request"
