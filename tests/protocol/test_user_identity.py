"""Usernames, sign-in aliases and attributes, as Cognito's pool kinds define them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.outbox import read_outbox


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def create(cognito: Any, pool_id: str, username: str, **attributes: str) -> Any:
    return cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        TemporaryPassword="Temp0rary!",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
    )["User"]


def values(user: dict[str, Any]) -> dict[str, str]:
    key = "UserAttributes" if "UserAttributes" in user else "Attributes"
    return {a["Name"]: a["Value"] for a in user[key]}


# ----------------------------------------------------------------------------- email as username


@pytest.fixture
def email_pool(cognito: Any) -> str:
    return str(
        cognito.create_user_pool(PoolName="by-email", UsernameAttributes=["email"])["UserPool"][
            "Id"
        ]
    )


def test_email_as_username_gets_a_uuid_username(cognito: Any, email_pool: str) -> None:
    user = create(cognito, email_pool, "Jane@Example.com")
    attrs = values(user)
    assert user["Username"] == attrs["sub"]
    assert attrs["email"] == "Jane@Example.com"
    by_email = cognito.admin_get_user(UserPoolId=email_pool, Username="Jane@Example.com")
    by_uuid = cognito.admin_get_user(UserPoolId=email_pool, Username=user["Username"])
    assert by_email["Username"] == by_uuid["Username"] == user["Username"]
    with pytest.raises(ClientError) as exc:
        create(cognito, email_pool, "Jane@Example.com")
    assert error(exc)[0] == "UsernameExistsException"


def test_email_pool_requires_an_email_username(cognito: Any, email_pool: str) -> None:
    with pytest.raises(ClientError) as exc:
        create(cognito, email_pool, "jane")
    assert error(exc) == ("InvalidParameterException", "Username should be an email.")
    both = cognito.create_user_pool(PoolName="both", UsernameAttributes=["email", "phone_number"])[
        "UserPool"
    ]["Id"]
    with pytest.raises(ClientError) as exc:
        create(cognito, both, "jane")
    assert error(exc) == (
        "InvalidParameterException",
        "Username should be either an email or a phone number.",
    )
    user = create(cognito, both, "+15555550100")
    assert values(user)["phone_number"] == "+15555550100"


def test_changing_the_sign_in_email_to_a_taken_one(cognito: Any, email_pool: str) -> None:
    create(cognito, email_pool, "one@example.com")
    two = create(cognito, email_pool, "two@example.com")
    with pytest.raises(ClientError) as exc:
        cognito.admin_update_user_attributes(
            UserPoolId=email_pool,
            Username=two["Username"],
            UserAttributes=[{"Name": "email", "Value": "one@example.com"}],
        )
    assert error(exc)[0] == "AliasExistsException"
    cognito.admin_update_user_attributes(
        UserPoolId=email_pool,
        Username=two["Username"],
        UserAttributes=[{"Name": "email", "Value": "new@example.com"}],
    )
    found = cognito.admin_get_user(UserPoolId=email_pool, Username="new@example.com")
    assert found["Username"] == two["Username"]
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=email_pool, Username="two@example.com")


# ----------------------------------------------------------------------------- aliases


@pytest.fixture
def alias_pool(cognito: Any) -> str:
    return str(
        cognito.create_user_pool(
            PoolName="aliases",
            AliasAttributes=["email", "preferred_username"],
            AutoVerifiedAttributes=["email"],
        )["UserPool"]["Id"]
    )


def test_email_format_usernames_are_refused_with_an_email_alias(
    cognito: Any, alias_pool: str
) -> None:
    with pytest.raises(ClientError) as exc:
        create(cognito, alias_pool, "jane@example.com")
    assert error(exc) == (
        "InvalidParameterException",
        "Username cannot be of email format, since user pool is configured for email alias.",
    )


def test_only_verified_emails_are_aliases(cognito: Any, alias_pool: str) -> None:
    create(cognito, alias_pool, "jane", email="jane@example.com")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=alias_pool, Username="jane@example.com")
    create(cognito, alias_pool, "john", email="john@example.com", email_verified="true")
    found = cognito.admin_get_user(UserPoolId=alias_pool, Username="john@example.com")
    assert found["Username"] == "john"
    # an unverified duplicate is allowed; a verified one conflicts
    create(cognito, alias_pool, "other", email="john@example.com")
    with pytest.raises(ClientError) as exc:
        create(cognito, alias_pool, "third", email="john@example.com", email_verified="true")
    assert error(exc) == (
        "UsernameExistsException",
        "An account with the given email already exists.",
    )


def test_force_alias_creation_moves_the_alias(cognito: Any, alias_pool: str) -> None:
    create(cognito, alias_pool, "old", email="shared@example.com", email_verified="true")
    cognito.admin_create_user(
        UserPoolId=alias_pool,
        Username="new",
        MessageAction="SUPPRESS",
        ForceAliasCreation=True,
        UserAttributes=[
            {"Name": "email", "Value": "shared@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    assert (
        cognito.admin_get_user(UserPoolId=alias_pool, Username="shared@example.com")["Username"]
        == "new"
    )
    old = values(cognito.admin_get_user(UserPoolId=alias_pool, Username="old"))
    assert old["email"] == "shared@example.com"
    assert old["email_verified"] == "false"


def test_preferred_username_alias_is_unique(cognito: Any, alias_pool: str) -> None:
    create(cognito, alias_pool, "jane", preferred_username="jd")
    assert cognito.admin_get_user(UserPoolId=alias_pool, Username="jd")["Username"] == "jane"
    with pytest.raises(ClientError) as exc:
        create(cognito, alias_pool, "john", preferred_username="jd")
    assert error(exc) == (
        "UsernameExistsException",
        "An account with the given preferred_username already exists.",
    )


def test_changed_email_is_unverified_and_gets_a_code(
    server: Any, cognito: Any, alias_pool: str
) -> None:
    create(cognito, alias_pool, "jane", email="jane@example.com", email_verified="true")
    cognito.admin_update_user_attributes(
        UserPoolId=alias_pool,
        Username="jane",
        UserAttributes=[{"Name": "email", "Value": "jane@new.example.com"}],
    )
    attrs = values(cognito.admin_get_user(UserPoolId=alias_pool, Username="jane"))
    assert (attrs["email"], attrs["email_verified"]) == ("jane@new.example.com", "false")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=alias_pool, Username="jane@example.com")
    (message,) = read_outbox(server, alias_pool)
    assert (message.kind, message.destination) == ("verify:email", "jane@new.example.com")
    # verified in the same request: no code, and the alias moves at once
    cognito.admin_update_user_attributes(
        UserPoolId=alias_pool,
        Username="jane",
        UserAttributes=[
            {"Name": "email", "Value": "jane@third.example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    assert len(read_outbox(server, alias_pool)) == 1
    found = cognito.admin_get_user(UserPoolId=alias_pool, Username="jane@third.example.com")
    assert found["Username"] == "jane"


def test_case_insensitive_pool_folds_email_aliases(cognito: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="ci-alias",
        AliasAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
    )["UserPool"]["Id"]
    create(cognito, pool, "jane", email="Jane@Example.com", email_verified="true")
    assert (
        cognito.admin_get_user(UserPoolId=pool, Username="JANE@example.COM")["Username"] == "jane"
    )


# ----------------------------------------------------------------------------- attributes


@pytest.fixture
def schema_pool(cognito: Any) -> str:
    return str(
        cognito.create_user_pool(
            PoolName="schema",
            Schema=[
                {"Name": "tenant", "AttributeDataType": "String", "Mutable": False},
                {
                    "Name": "level",
                    "AttributeDataType": "Number",
                    "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "10"},
                },
                {
                    "Name": "code",
                    "AttributeDataType": "String",
                    "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "4"},
                },
                {"Name": "name", "AttributeDataType": "String", "Required": True},
            ],
        )["UserPool"]["Id"]
    )


def test_attribute_values_are_checked_against_the_schema(cognito: Any, schema_pool: str) -> None:
    with pytest.raises(ClientError) as exc:
        create(cognito, schema_pool, "u1", **{"custom:nope": "x", "custom:other": "y"})
    assert error(exc) == (
        "InvalidParameterException",
        "Attributes did not conform to the schema: custom:nope: Attribute does not exist in "
        "the schema.\ncustom:other: Attribute does not exist in the schema.\n",
    )
    for bad in (
        {"custom:level": "eleven"},
        {"custom:level": "11"},
        {"custom:code": "x"},
        {"custom:code": "toolong"},
        {"email_verified": "yes"},
    ):
        with pytest.raises(ClientError) as exc:
            create(cognito, schema_pool, "u2", **bad)
        code, message = error(exc)
        assert code == "InvalidParameterException"
        assert message.startswith(f"Attributes did not conform to the schema: {next(iter(bad))}: ")
    with pytest.raises(ClientError) as exc:
        create(cognito, schema_pool, "u3", phone_number="555-0100")
    assert error(exc) == ("InvalidParameterException", "Invalid phone number format.")
    with pytest.raises(ClientError) as exc:
        create(cognito, schema_pool, "u3", email="not-an-email")
    assert error(exc) == ("InvalidParameterException", "Invalid email address format.")


def test_required_attributes_may_wait_for_the_user(cognito: Any, schema_pool: str) -> None:
    # Cognito lets AdminCreateUser omit required attributes: the user supplies them later.
    user = create(cognito, schema_pool, "later")
    assert "name" not in values(user)


def test_immutable_attributes_are_set_only_at_creation(cognito: Any, schema_pool: str) -> None:
    create(cognito, schema_pool, "jane", **{"custom:tenant": "acme", "custom:level": "3"})
    attrs = values(cognito.admin_get_user(UserPoolId=schema_pool, Username="jane"))
    assert attrs["custom:tenant"] == "acme"
    assert attrs["custom:level"] == "3"
    with pytest.raises(ClientError) as exc:
        cognito.admin_update_user_attributes(
            UserPoolId=schema_pool,
            Username="jane",
            UserAttributes=[
                {"Name": "custom:tenant", "Value": "other"},
                {"Name": "sub", "Value": "x"},
            ],
        )
    assert error(exc) == (
        "InvalidParameterException",
        "user.custom:tenant: Attribute cannot be updated.\n"
        "user.sub: Attribute cannot be updated.\n",
    )


def test_update_and_delete_attributes(cognito: Any, schema_pool: str) -> None:
    create(cognito, schema_pool, "jane", name="Jane", **{"custom:code": "ab"})
    ids = {"UserPoolId": schema_pool, "Username": "jane"}
    cognito.admin_update_user_attributes(
        **ids,
        UserAttributes=[
            {"Name": "given_name", "Value": "J"},
            {"Name": "custom:code", "Value": "abc"},
        ],
    )
    attrs = values(cognito.admin_get_user(**ids))
    assert (attrs["given_name"], attrs["custom:code"]) == ("J", "abc")
    cognito.admin_delete_user_attributes(**ids, UserAttributeNames=["given_name", "custom:code"])
    attrs = values(cognito.admin_get_user(**ids))
    assert "given_name" not in attrs
    assert "custom:code" not in attrs
    with pytest.raises(ClientError) as exc:
        cognito.admin_delete_user_attributes(**ids, UserAttributeNames=["name"])
    assert error(exc) == ("InvalidParameterException", "user.name: The attribute is required\n")
    # an empty value deletes too
    cognito.admin_update_user_attributes(
        **ids, UserAttributes=[{"Name": "custom:level", "Value": "5"}]
    )
    cognito.admin_update_user_attributes(
        **ids, UserAttributes=[{"Name": "custom:level", "Value": ""}]
    )
    assert "custom:level" not in values(cognito.admin_get_user(**ids))


def test_developer_only_attributes_are_written_by_administrators(cognito: Any) -> None:
    pool = cognito.create_user_pool(
        PoolName="dev", Schema=[{"Name": "internal", "DeveloperOnlyAttribute": True}]
    )["UserPool"]["Id"]
    create(cognito, pool, "jane", **{"dev:custom:internal": "x"})
    assert (
        values(cognito.admin_get_user(UserPoolId=pool, Username="jane"))["dev:custom:internal"]
        == "x"
    )
