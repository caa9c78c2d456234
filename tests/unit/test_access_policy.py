"""domain/access_policy.py: IAM wildcard semantics and the checks of the access keys file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cognate.domain.access_policy import AccessKey, AccessKeyError, parse_access_keys
from cognate.wire.model import operation_names

POOL = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_aaaaaaaaa"


def key(actions: tuple[str, ...], resources: tuple[str, ...]) -> AccessKey:
    return AccessKey("backend", "AKIABACKEND", "secret", actions, resources)


def test_action_wildcards_ignore_case_resources_do_not() -> None:
    admin = key(("cognito-idp:Admin*",), (POOL,))
    assert admin.allows("AdminGetUser", POOL)
    assert admin.allows("AdminCreateUser", POOL)
    assert not admin.allows("ListUsers", POOL)
    assert not admin.allows("AdminGetUser", POOL.replace("aaaaaaaaa", "bbbbbbbbb"))
    assert not admin.allows("AdminGetUser", POOL.upper())
    assert key(("COGNITO-IDP:adminget?ser",), ("*",)).allows("AdminGetUser", POOL)
    everything = key(("*",), ("*",))
    assert everything.allows("CreateUserPool", "*")
    # a pool-scoped key cannot act where the resource is `*`, as in IAM
    assert not key(("cognito-idp:*",), (POOL,)).allows("CreateUserPool", "*")
    # `*` crosses `:` and `/`; `?` is exactly one character; other characters are literal
    regional = key(("cognito-idp:*",), ("arn:aws:cognito-idp:eu-west-1:*",))
    assert regional.allows("DescribeUserPool", POOL)
    assert not regional.allows("DescribeUserPool", POOL.replace("eu-west-1:", "us-east-1:"))
    assert key(("cognito-idp:*",), (POOL[:-1] + "?",)).allows("ListUsers", POOL)
    assert not key(("cognito-idp:*",), (POOL[:-2] + "?",)).allows("ListUsers", POOL)
    assert not key(("cognito-idp:*",), ("arn:aws:cognito-idp:eu-west-1:1234567890.2:*",)).allows(
        "ListUsers", POOL
    )


def parse(entries: Any, env: dict[str, str] | None = None) -> tuple[AccessKey, ...]:
    return parse_access_keys(
        json.dumps(entries), source="keys.json", env=env or {}, operations=operation_names()
    )


def test_defaults_and_secret_from_the_environment() -> None:
    (full, scoped) = parse(
        [
            {"name": "admin", "access_key_id": "AKIAADMIN", "secret_access_key": "s3cret"},
            {
                "name": "backend",
                "access_key_id": "AKIABACKEND",
                "secret_access_key_env": "BACKEND_SECRET",
                "actions": ["cognito-idp:Admin*"],
                "resources": [POOL],
            },
        ],
        env={"BACKEND_SECRET": "from-env"},
    )
    assert (full.actions, full.resources) == (("cognito-idp:*",), ("*",))
    assert scoped.secret_access_key == "from-env"
    assert "from-env" not in repr(scoped)
    assert "s3cret" not in repr(full)
    assert scoped.user_arn("123456789012") == "arn:aws:iam::123456789012:user/backend"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("{}", "must hold a non-empty JSON list of keys"),
        ([], "must hold a non-empty JSON list of keys"),
        (
            [{"name": "a", "access_key_id": "AKIA1", "secret_access_key": "s", "resource": ["*"]}],
            "key 1 has unknown members resource",
        ),
        (
            [{"name": "a", "access_key_id": "AKIA1"}],
            "key 1 (a): give exactly one of secret_access_key and secret_access_key_env",
        ),
        (
            [{"name": "a", "access_key_id": "AKIA1", "secret_access_key_env": "NOPE"}],
            "environment variable NOPE is not set or empty",
        ),
        (
            [{"name": "a", "access_key_id": "A", "secret_access_key": "s"}],
            "access_key_id must be 3-128 letters, digits or _",
        ),
        (
            [{"name": "a b", "access_key_id": "AKIA1", "secret_access_key": "s"}],
            "name must be an IAM user name",
        ),
        (
            [
                {
                    "name": "a",
                    "access_key_id": "AKIA1",
                    "secret_access_key": "s",
                    "actions": ["cognito-idp:AdminGetUsr"],
                }
            ],
            "action 'cognito-idp:AdminGetUsr' matches no cognito-idp operation",
        ),
        (
            [
                {
                    "name": "a",
                    "access_key_id": "AKIA1",
                    "secret_access_key": "s",
                    "actions": ["s3:*"],
                }
            ],
            "action 's3:*' must be * or start with cognito-idp:",
        ),
        (
            [{"name": "a", "access_key_id": "AKIA1", "secret_access_key": "s", "actions": []}],
            "actions must be a non-empty list of non-empty strings",
        ),
        (
            [
                {
                    "name": "a",
                    "access_key_id": "AKIA1",
                    "secret_access_key": "s",
                    "resources": ["userpool/x"],
                }
            ],
            "resource 'userpool/x' is neither * nor an ARN",
        ),
        (
            [
                {"name": "a", "access_key_id": "AKIA1", "secret_access_key": "s"},
                {"name": "b", "access_key_id": "AKIA1", "secret_access_key": "t"},
            ],
            "access_key_id AKIA1 is repeated",
        ),
    ],
)
def test_bad_files_are_refused_with_the_reason(entries: Any, message: str) -> None:
    text = entries if isinstance(entries, str) else json.dumps(entries)
    with pytest.raises(AccessKeyError) as error:
        parse_access_keys(text, source="keys.json", env={}, operations=operation_names())
    assert message in str(error.value)
    assert str(error.value).startswith("access keys file keys.json")
    assert "s3cret" not in str(error.value)


def test_not_json() -> None:
    with pytest.raises(AccessKeyError, match="is not valid JSON"):
        parse_access_keys("[{", source="k.json", env={}, operations=operation_names())
