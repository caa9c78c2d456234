"""AdminLinkProviderForUser and AdminDisableProviderForUser with boto3 against the live
server, and the link as federated sign-in finds it (`links.linked_user`, read from the
server's database)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from cognate.domain.federation.links import linked_user
from cognate.storage.db import Database
from cognate.storage.schema import user_pools, users
from tests.support.auth import new_user
from tests.support.server import CognateServer

GOOGLE = {"client_id": "g", "client_secret": "s", "authorize_scopes": "openid email"}
METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 entityID="https://idp.test/"><md:IDPSSODescriptor
 protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService
 Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def _dest(username: str) -> dict[str, str]:
    return {"ProviderName": "Cognito", "ProviderAttributeValue": username}


def _source(
    value: str, provider: str = "Google", attribute: str = "Cognito_Subject"
) -> dict[str, str]:
    return {
        "ProviderName": provider,
        "ProviderAttributeName": attribute,
        "ProviderAttributeValue": value,
    }


def _linked(
    server: CognateServer,
    pool_id: str,
    provider: str,
    value: str,
    attribute: str = "Cognito_Subject",
) -> str | None:
    """The username the identity signs in as, by the lookup federated sign-in uses."""
    db = Database(server.db, pool_size=1)

    def read(conn: Any) -> str | None:
        pool_pk = conn.execute(
            sa.select(user_pools.c.pk).where(user_pools.c.id == pool_id)
        ).scalar_one()
        user_pk = linked_user(conn, pool_pk, provider, value, attribute)
        if user_pk is None:
            return None
        return str(
            conn.execute(sa.select(users.c.username).where(users.c.pk == user_pk)).scalar_one()
        )

    try:
        return db.read("test_links", read)
    finally:
        db.dispose()


@pytest.fixture
def providers(cognito: Any, pool: dict[str, Any]) -> str:
    pool_id: str = pool["Id"]
    cognito.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Google", ProviderType="Google", ProviderDetails=GOOGLE
    )
    cognito.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Corp", ProviderType="SAML",
        ProviderDetails={"MetadataFile": METADATA}, AttributeMapping={"email": "mail"},
    )  # fmt: skip
    new_user(cognito, pool_id, "alice")
    new_user(cognito, pool_id, "bob")
    return pool_id


def test_link_and_disable(server: CognateServer, cognito: Any, providers: str) -> None:
    pool_id = providers
    link = cognito.admin_link_provider_for_user
    assert (
        link(UserPoolId=pool_id, DestinationUser=_dest("alice"), SourceUser=_source("g-1"))[
            "ResponseMetadata"
        ]["HTTPStatusCode"]
        == 200
    )
    link(UserPoolId=pool_id, DestinationUser=_dest("alice"), SourceUser=_source("g-1"))  # again
    link(
        UserPoolId=pool_id,
        DestinationUser=_dest("alice"),
        SourceUser=_source("alice@corp.test", "Corp", "email"),
    )
    assert _linked(server, pool_id, "Google", "g-1") == "alice"
    assert _linked(server, pool_id, "Corp", "alice@corp.test", "email") == "alice"
    assert _linked(server, pool_id, "Corp", "alice@corp.test") is None  # linked by email
    assert _linked(server, pool_id, "Google", "g-2") is None

    with pytest.raises(ClientError) as excinfo:  # already linked to another user
        link(UserPoolId=pool_id, DestinationUser=_dest("bob"), SourceUser=_source("g-1"))
    assert error_of(excinfo)[0] == "AliasExistsException"

    cognito.admin_disable_provider_for_user(UserPoolId=pool_id, User=_source("g-1"))
    assert _linked(server, pool_id, "Google", "g-1") is None
    link(UserPoolId=pool_id, DestinationUser=_dest("bob"), SourceUser=_source("g-1"))
    assert _linked(server, pool_id, "Google", "g-1") == "bob"
    # a SAML link made by attribute is removed by the same attribute
    cognito.admin_disable_provider_for_user(
        UserPoolId=pool_id, User=_source("alice@corp.test", "Corp", "email")
    )
    assert _linked(server, pool_id, "Corp", "alice@corp.test", "email") is None
    with pytest.raises(ClientError) as excinfo:  # nothing left to disable
        cognito.admin_disable_provider_for_user(
            UserPoolId=pool_id, User=_source("alice@corp.test", "Corp", "email")
        )
    assert error_of(excinfo)[0] == "UserNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        cognito.admin_disable_provider_for_user(
            UserPoolId=pool_id, User=_source("alice", "Cognito")
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"

    # deleting the provider removes its links
    cognito.delete_identity_provider(UserPoolId=pool_id, ProviderName="Google")
    assert _linked(server, pool_id, "Google", "g-1") is None


def test_link_errors(cognito: Any, providers: str) -> None:
    pool_id = providers
    link = cognito.admin_link_provider_for_user
    cases: list[tuple[dict[str, str], dict[str, str], str, str | None]] = [
        (
            _dest("alice"),
            _source("alice", "Cognito"),
            "InvalidParameterException",
            "Invalid SourceUser: Cognito users with a username/password may not be passed in "
            "as a SourceUser, only as a DestinationUser",
        ),
        (
            _dest("alice"),
            _source("x", "Nope"),
            "InvalidParameterException",
            f"The provider Nope does not exist for User Pool {pool_id}.",
        ),
        (_dest("alice"), _source("x", "Google", "email"), "InvalidParameterException", None),
        (_dest("nobody"), _source("x"), "UserNotFoundException", "User does not exist."),
        (
            {"ProviderName": "Google", "ProviderAttributeValue": "never-signed-in"},
            _source("x", "Corp"),
            "UserNotFoundException",
            None,
        ),
    ]
    for destination, source, code, message in cases:
        with pytest.raises(ClientError) as excinfo:
            link(UserPoolId=pool_id, DestinationUser=destination, SourceUser=source)
        assert error_of(excinfo)[0] == code, (destination, source)
        if message is not None:
            assert error_of(excinfo)[1] == message
    # at most five identities per user
    for n in range(5):
        link(UserPoolId=pool_id, DestinationUser=_dest("bob"), SourceUser=_source(f"b-{n}"))
    with pytest.raises(ClientError) as excinfo:
        link(UserPoolId=pool_id, DestinationUser=_dest("bob"), SourceUser=_source("b-5"))
    assert error_of(excinfo)[0] == "LimitExceededException"
    with pytest.raises(ClientError) as excinfo:
        link(
            UserPoolId="us-east-1_nothere",
            DestinationUser=_dest("bob"),
            SourceUser=_source("b-9"),
        )
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
