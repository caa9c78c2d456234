"""Secure mode's access keys: the key file, each key's policy and IAM-style wildcard matching.

The key file (setting `access_keys_file`) is a JSON list of keys:

    [{"name": "backend",                       # IAM user name, in AccessDenied messages
      "access_key_id": "AKIABACKEND000000001",
      "secret_access_key": "...",              # or "secret_access_key_env": "ENV_VAR"
      "actions": ["cognito-idp:Admin*"],       # default ["cognito-idp:*"]
      "resources": ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]}]
                                               # default ["*"]

A key allows an operation when one of its actions matches `cognito-idp:<Operation>` and one
of its resources matches the operation's resource (domain/api_access.py), as an IAM
identity policy with one Allow statement would. Wildcards are IAM's: `*` any run of
characters (`/` and `:` included), `?` one character. Actions match without regard to case
(IAM action names are case-insensitive); resources (ARNs) with regard to it.

The file is checked whole at start: unknown members (a typo such as `resource` would
otherwise widen a key to every resource), missing or empty values, duplicate key ids or
names, action patterns that match no operation, resources that are neither `*` nor an ARN.
Error messages name the file and the key, never a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACTION_PREFIX = "cognito-idp:"
_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_KEY_ID = re.compile(r"\w{3,128}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MEMBERS = frozenset(
    {"name", "access_key_id", "secret_access_key", "secret_access_key_env", "actions", "resources"}
)


class AccessKeyError(ValueError):
    """The key file cannot be used (the message says where and why)."""


def wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM wildcard matching: `*` any characters, `?` exactly one, all else literal."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _any_of(patterns: Iterable[str], *, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(
        "|".join(f"(?:{wildcard(p).pattern})" for p in patterns),
        re.DOTALL | (re.IGNORECASE if ignore_case else 0),
    )


@dataclass(frozen=True, slots=True)
class AccessKey:
    name: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    actions: tuple[str, ...] = (ACTION_PREFIX + "*",)
    resources: tuple[str, ...] = ("*",)
    _actions: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _resources: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_actions", _any_of(self.actions, ignore_case=True))
        object.__setattr__(self, "_resources", _any_of(self.resources, ignore_case=False))

    def allows(self, operation: str, resource: str) -> bool:
        """Whether the policy allows `cognito-idp:<operation>` on `resource`."""
        return (
            self._actions.fullmatch(ACTION_PREFIX + operation) is not None
            and self._resources.fullmatch(resource) is not None
        )

    def user_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:user/{self.name}"


def load_access_keys(
    path: Path, *, env: Mapping[str, str], operations: Iterable[str]
) -> tuple[AccessKey, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AccessKeyError(f"access keys file {path}: {exc.strerror or exc}") from None
    return parse_access_keys(text, source=str(path), env=env, operations=operations)


def parse_access_keys(
    text: str, *, source: str, env: Mapping[str, str], operations: Iterable[str]
) -> tuple[AccessKey, ...]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise AccessKeyError(f"access keys file {source} is not valid JSON: {exc}") from None
    if not isinstance(document, list) or not document:
        raise AccessKeyError(f"access keys file {source} must hold a non-empty JSON list of keys")
    names = tuple(operations)
    keys: list[AccessKey] = []
    for index, entry in enumerate(document, 1):
        keys.append(_key(entry, f"access keys file {source}, key {index}", env, names))
    for attribute in ("access_key_id", "name"):
        seen: set[str] = set()
        for key in keys:
            value = getattr(key, attribute)
            if value in seen:
                raise AccessKeyError(f"access keys file {source}: {attribute} {value} is repeated")
            seen.add(value)
    return tuple(keys)


def _key(entry: Any, where: str, env: Mapping[str, str], operations: tuple[str, ...]) -> AccessKey:
    if not isinstance(entry, dict):
        raise AccessKeyError(f"{where} must be a JSON object")
    unknown = sorted(set(entry) - _MEMBERS)
    if unknown:
        raise AccessKeyError(
            f"{where} has unknown members {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(_MEMBERS))})"
        )
    name = _string(entry, "name", where)
    if not _NAME.fullmatch(name):
        raise AccessKeyError(f"{where}: name must be an IAM user name ([\\w+=,.@-], 1-64)")
    where = f"{where} ({name})"
    key_id = _string(entry, "access_key_id", where)
    if not _KEY_ID.fullmatch(key_id):
        raise AccessKeyError(f"{where}: access_key_id must be 3-128 letters, digits or _")
    secret = _secret(entry, where, env)
    actions = _patterns(entry, "actions", where, (ACTION_PREFIX + "*",))
    for action in actions:
        _check_action(action, where, operations)
    resources = _patterns(entry, "resources", where, ("*",))
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise AccessKeyError(f"{where}: resource {resource!r} is neither * nor an ARN")
    return AccessKey(name, key_id, secret, actions, resources)


def _string(entry: dict[str, Any], member: str, where: str) -> str:
    value = entry.get(member)
    if not isinstance(value, str) or not value:
        raise AccessKeyError(f"{where}: {member} must be a non-empty string")
    return value


def _secret(entry: dict[str, Any], where: str, env: Mapping[str, str]) -> str:
    inline, variable = "secret_access_key" in entry, "secret_access_key_env" in entry
    if inline == variable:
        raise AccessKeyError(
            f"{where}: give exactly one of secret_access_key and secret_access_key_env"
        )
    if inline:
        return _string(entry, "secret_access_key", where)
    name = _string(entry, "secret_access_key_env", where)
    if not _ENV_NAME.fullmatch(name):
        raise AccessKeyError(f"{where}: secret_access_key_env {name!r} is not a variable name")
    value = env.get(name, "")
    if not value:
        raise AccessKeyError(f"{where}: environment variable {name} is not set or empty")
    return value


def _patterns(
    entry: dict[str, Any], member: str, where: str, default: tuple[str, ...]
) -> tuple[str, ...]:
    if member not in entry:
        return default
    value = entry[member]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise AccessKeyError(f"{where}: {member} must be a non-empty list of non-empty strings")
    return tuple(value)


def _check_action(action: str, where: str, operations: tuple[str, ...]) -> None:
    if action == "*":
        return
    if not action.lower().startswith(ACTION_PREFIX):
        raise AccessKeyError(
            f"{where}: action {action!r} must be * or start with {ACTION_PREFIX} "
            "(e.g. cognito-idp:Admin*)"
        )
    pattern = wildcard(action, ignore_case=True)
    if operations and not any(pattern.fullmatch(ACTION_PREFIX + op) for op in operations):
        raise AccessKeyError(f"{where}: action {action!r} matches no cognito-idp operation")
