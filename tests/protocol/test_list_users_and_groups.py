"""ListUsers' filter grammar and pagination, and groups with their members."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


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


@pytest.fixture
def people(cognito: Any, pool: dict[str, Any]) -> str:
    pool_id = str(pool["Id"])
    create(
        cognito,
        pool_id,
        "alice",
        email="alice@example.com",
        given_name="Alice",
        family_name="Reddy",
        phone_number="+15555550101",
    )
    create(
        cognito,
        pool_id,
        "albert",
        email="albert@example.org",
        given_name="Albert",
        family_name="Reddy",
    )
    create(cognito, pool_id, "bob", email="bob@example.com", name='Bob "The" Builder')
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="bob", Password="Passw0rd!", Permanent=True
    )
    cognito.admin_disable_user(UserPoolId=pool_id, Username="albert")
    return pool_id


def usernames(cognito: Any, pool_id: str, filter_: str | None = None) -> list[str]:
    kwargs: dict[str, Any] = {"UserPoolId": pool_id}
    if filter_ is not None:
        kwargs["Filter"] = filter_
    return [u["Username"] for u in cognito.list_users(**kwargs)["Users"]]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (None, ["alice", "albert", "bob"]),
        ("", ["alice", "albert", "bob"]),
        ('username = "alice"', ["alice"]),
        ('username ^= "al"', ["alice", "albert"]),
        ('email = "bob@example.com"', ["bob"]),
        ('email^="al"', ["alice", "albert"]),
        ('family_name = "Reddy"', ["alice", "albert"]),
        ('given_name ^= "Alb"', ["albert"]),
        ('phone_number = "+15555550101"', ["alice"]),
        ('name = "Bob \\"The\\" Builder"', ["bob"]),
        ('status = "Disabled"', ["albert"]),
        ('status = "Enabled"', ["alice", "bob"]),
        ('cognito:user_status = "confirmed"', ["bob"]),
        ('cognito:user_status = "FORCE_CHANGE_PASSWORD"', ["alice", "albert"]),
        ('email = "nobody@example.com"', []),
        ('username = "Alice"', []),
    ],
)
def test_filters(cognito: Any, people: str, filter_: str | None, expected: list[str]) -> None:
    assert usernames(cognito, people, filter_) == expected


def test_filter_by_sub(cognito: Any, people: str) -> None:
    bob = cognito.admin_get_user(UserPoolId=people, Username="bob")
    sub = next(a["Value"] for a in bob["UserAttributes"] if a["Name"] == "sub")
    assert usernames(cognito, people, f'sub = "{sub}"') == ["bob"]


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ("email = alice", "Error while parsing filter."),
        ('email == "x"', "Error while parsing filter."),
        ('email = "a" and name = "b"', "Error while parsing filter."),
        ('custom:team = "x"', "Invalid search attribute: custom:team"),
        ('locale = "en"', "Invalid search attribute: locale"),
    ],
)
def test_bad_filters(cognito: Any, people: str, filter_: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        cognito.list_users(UserPoolId=people, Filter=filter_)
    assert error(exc) == ("InvalidParameterException", message)


def test_list_users_item_shape_and_attributes_to_get(cognito: Any, people: str) -> None:
    (user,) = cognito.list_users(UserPoolId=people, Filter='username = "bob"')["Users"]
    assert set(user) == {
        "Username",
        "Attributes",
        "UserCreateDate",
        "UserLastModifiedDate",
        "Enabled",
        "UserStatus",
    }
    assert user["Attributes"][0]["Name"] == "sub"
    (user,) = cognito.list_users(
        UserPoolId=people, Filter='username = "bob"', AttributesToGet=["email"]
    )["Users"]
    assert user["Attributes"] == [{"Name": "email", "Value": "bob@example.com"}]
    with pytest.raises(ClientError) as exc:
        cognito.list_users(UserPoolId=people, AttributesToGet=["custom:nope"])
    assert error(exc)[0] == "InvalidParameterException"


def test_list_users_pages(cognito: Any, pool: dict[str, Any]) -> None:
    names = [f"user{i:02d}" for i in range(7)]
    for name in names:
        create(cognito, pool["Id"], name, email=f"{name}@example.com")
    paginator = cognito.get_paginator("list_users")
    pages = list(paginator.paginate(UserPoolId=pool["Id"], Limit=3))
    assert [len(p["Users"]) for p in pages] == [3, 3, 1]
    assert [u["Username"] for p in pages for u in p["Users"]] == names
    filtered = list(paginator.paginate(UserPoolId=pool["Id"], Limit=2, Filter='email ^= "user0"'))
    assert [u["Username"] for p in filtered for u in p["Users"]] == names
    token = cognito.list_users(UserPoolId=pool["Id"], Limit=2)["PaginationToken"]
    with pytest.raises(ClientError) as exc:  # a token belongs to its filter
        cognito.list_users(
            UserPoolId=pool["Id"], Limit=2, Filter='email ^= "x"', PaginationToken=token
        )
    assert error(exc)[1].startswith(f"Paging marker {token} is invalid for request ")


# ----------------------------------------------------------------------------- groups


def test_group_lifecycle(cognito: Any, pool: dict[str, Any]) -> None:
    role = "arn:aws:iam::123456789012:role/admins"
    group = cognito.create_group(
        UserPoolId=pool["Id"],
        GroupName="admins",
        Description="Admins",
        RoleArn=role,
        Precedence=1,
    )["Group"]
    assert {
        k: group[k] for k in ("GroupName", "UserPoolId", "Description", "RoleArn", "Precedence")
    } == {
        "GroupName": "admins",
        "UserPoolId": pool["Id"],
        "Description": "Admins",
        "RoleArn": role,
        "Precedence": 1,
    }
    assert group["CreationDate"] == group["LastModifiedDate"]
    got = cognito.get_group(UserPoolId=pool["Id"], GroupName="admins")["Group"]
    assert got == group
    updated = cognito.update_group(UserPoolId=pool["Id"], GroupName="admins", Precedence=5)["Group"]
    assert (updated["Precedence"], updated["Description"], updated["RoleArn"]) == (
        5,
        "Admins",
        role,
    )
    plain = cognito.create_group(UserPoolId=pool["Id"], GroupName="readers")["Group"]
    assert "Precedence" not in plain
    assert "RoleArn" not in plain
    with pytest.raises(ClientError) as exc:
        cognito.create_group(UserPoolId=pool["Id"], GroupName="ADMINS")
    assert error(exc) == ("GroupExistsException", "A group with the name ADMINS already exists.")
    cognito.delete_group(UserPoolId=pool["Id"], GroupName="admins")
    for call in (
        lambda: cognito.get_group(UserPoolId=pool["Id"], GroupName="admins"),
        lambda: cognito.delete_group(UserPoolId=pool["Id"], GroupName="admins"),
        lambda: cognito.update_group(UserPoolId=pool["Id"], GroupName="admins"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("ResourceNotFoundException", "Group not found.")


def test_list_groups_pages(cognito: Any, pool: dict[str, Any]) -> None:
    for i in range(5):
        cognito.create_group(UserPoolId=pool["Id"], GroupName=f"g{i}")
    pages = list(cognito.get_paginator("list_groups").paginate(UserPoolId=pool["Id"], Limit=2))
    assert [g["GroupName"] for p in pages for g in p["Groups"]] == [f"g{i}" for i in range(5)]
    assert len(pages) == 3


def test_membership(cognito: Any, pool: dict[str, Any]) -> None:
    pool_id = pool["Id"]
    for name in ("ann", "ben", "cat"):
        create(cognito, pool_id, name)
    for group in ("staff", "admins"):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    for name in ("ann", "ben", "cat"):
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName="staff")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="ann", GroupName="admins")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="ann", GroupName="admins")
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username="ann")["Groups"]
    assert [g["GroupName"] for g in groups] == ["staff", "admins"]
    members = cognito.get_paginator("list_users_in_group").paginate(
        UserPoolId=pool_id, GroupName="staff", Limit=2
    )
    assert [u["Username"] for page in members for u in page["Users"]] == ["ann", "ben", "cat"]
    cognito.admin_remove_user_from_group(UserPoolId=pool_id, Username="ben", GroupName="staff")
    cognito.admin_delete_user(UserPoolId=pool_id, Username="cat")
    remaining = cognito.list_users_in_group(UserPoolId=pool_id, GroupName="staff")["Users"]
    assert [u["Username"] for u in remaining] == ["ann"]
    cognito.delete_group(UserPoolId=pool_id, GroupName="admins")
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username="ann")["Groups"]
    assert [g["GroupName"] for g in groups] == ["staff"]
    with pytest.raises(ClientError) as exc:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="ghost", GroupName="staff")
    assert error(exc) == ("UserNotFoundException", "User does not exist.")
    with pytest.raises(ClientError) as exc:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="ann", GroupName="nope")
    assert error(exc) == ("ResourceNotFoundException", "Group not found.")
