"""The seed file: reading it (YAML or JSON) and checking its shape before anything runs.

A seed is `{"Pools": [...]}`. Each pool is CreateUserPool's parameters (the API's own
member names, so settings copied from boto3 or CloudFormation's `Properties` mostly fit)
plus the seed's own members below, which hold the pool's other resources, each again in
its operation's own parameters. Everything here checks only the seed's structure; the
parameters themselves are checked by the API's validation when the seed is applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cognate.wire import model


class SeedError(Exception):
    """The seed cannot be applied; the message names the file and the item."""


POOL_MEMBERS = frozenset(
    {
        "Id",  # a fixed pool id, e.g. us-east-1_Dev00001 (its region is the pool's)
        "Region",  # the pool's region when there is no Id (default: the server's)
        "MfaConfig",  # SetUserPoolMfaConfig's parameters
        "Domain",  # a prefix, or CreateUserPoolDomain's parameters
        "ResourceServers",  # CreateResourceServer's parameters, each
        "IdentityProviders",  # CreateIdentityProvider's parameters, each
        "Clients",  # CreateUserPoolClient's parameters (+ ClientId), each
        "Groups",  # CreateGroup's parameters, each
        "Users",  # USER_MEMBERS, each
    }
)
USER_MEMBERS = frozenset(
    {
        "Username",
        "Password",  # permanent: the user is CONFIRMED
        "Attributes",  # {name: value}, or UserAttributes: [{Name, Value}] as in the API
        "UserAttributes",
        "Groups",  # group names the user is a member of
        "Enabled",  # false: AdminDisableUser
        "ResetPassword",  # true: set Password again at start when it is not the current one
    }
)
_LISTS = ("ResourceServers", "IdentityProviders", "Clients", "Groups", "Users")


@dataclass(frozen=True, slots=True)
class Seed:
    source: str
    pools: list[dict[str, Any]]


def load(path: str) -> Seed:
    """Read and shape-check the seed file at `path`."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"seed file {path}: cannot read it: {exc.strerror}") from None
    try:
        json_file = file.suffix.lower() == ".json"  # anything else is YAML (JSON is too)
        document = json.loads(text) if json_file else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"seed file {path}: not valid YAML/JSON: {exc}") from None
    return parse(document, path)


def parse(document: Any, source: str) -> Seed:
    where = f"seed file {source}"
    if document is None:
        return Seed(source, [])
    if not isinstance(document, dict):
        raise SeedError(f"{where}: the top level must be a mapping with a Pools list")
    _json_only(document, where, "")
    unknown = sorted(set(document) - {"Pools", "Version"})
    if unknown:
        raise SeedError(f"{where}: unknown top-level member {unknown[0]!r} (expected Pools)")
    if document.get("Version", 1) != 1:
        raise SeedError(f"{where}: Version must be 1")
    pools = document.get("Pools") or []
    if not isinstance(pools, list):
        raise SeedError(f"{where}: Pools must be a list")
    for index, pool in enumerate(pools):
        _check_pool(pool, f"{where}: Pools[{index}]")
    return Seed(source, pools)


def _check_pool(pool: Any, label: str) -> None:
    if not isinstance(pool, dict):
        raise SeedError(f"{label}: must be a mapping of CreateUserPool parameters")
    api = set(_members("CreateUserPool"))
    unknown = sorted(set(pool) - api - POOL_MEMBERS)
    if unknown:
        raise SeedError(
            f"{label}: unknown member {unknown[0]!r} (neither a CreateUserPool parameter nor "
            f"one of {', '.join(sorted(POOL_MEMBERS))})"
        )
    for name in _LISTS:
        items = pool.get(name)
        if items is None:
            continue
        if not isinstance(items, list):
            raise SeedError(f"{label}.{name}: must be a list")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise SeedError(f"{label}.{name}[{i}]: must be a mapping")
    for name in ("MfaConfig",):
        if name in pool and not isinstance(pool[name], dict):
            raise SeedError(f"{label}.{name}: must be a mapping")
    domain = pool.get("Domain")
    if domain is not None and not isinstance(domain, (str, dict)):
        raise SeedError(
            f"{label}.Domain: must be a domain prefix or CreateUserPoolDomain's members"
        )
    for i, user in enumerate(pool.get("Users") or []):
        _check_user(user, f"{label}.Users[{i}]")


def _check_user(user: dict[str, Any], label: str) -> None:
    unknown = sorted(set(user) - USER_MEMBERS)
    if unknown:
        raise SeedError(
            f"{label}: unknown member {unknown[0]!r} (expected {', '.join(sorted(USER_MEMBERS))})"
        )
    for name in ("Username", "Password"):
        if not isinstance(user.get(name), str) or not user[name]:
            raise SeedError(f"{label}: {name} is required (a string)")
    attributes = user.get("Attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise SeedError(f"{label}.Attributes: must be a mapping of attribute names to values")
    if attributes is not None and "UserAttributes" in user:
        raise SeedError(f"{label}: give Attributes or UserAttributes, not both")
    groups = user.get("Groups")
    if groups is not None and (
        not isinstance(groups, list) or not all(isinstance(g, str) for g in groups)
    ):
        raise SeedError(f"{label}.Groups: must be a list of group names")
    for name in ("Enabled", "ResetPassword"):
        if name in user and not isinstance(user[name], bool):
            raise SeedError(f"{label}.{name}: must be true or false")


def user_attributes(user: dict[str, Any]) -> list[dict[str, str]]:
    """The user's attributes as the API's [{Name, Value}] (YAML scalars as text)."""
    if "UserAttributes" in user:
        return list(user["UserAttributes"] or [])
    return [{"Name": k, "Value": _text(v)} for k, v in (user.get("Attributes") or {}).items()]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _members(operation: str) -> tuple[str, ...]:
    spec = model.input_spec(operation)
    return tuple(spec.members) if spec is not None else ()


def check_members(operation: str, params: dict[str, Any], label: str, extra: set[str]) -> None:
    """Refuse members `operation` does not have (a typo would be silently ignored)."""
    unknown = sorted(set(params) - set(_members(operation)) - extra)
    if unknown:
        raise SeedError(f"{label}: {unknown[0]!r} is not a parameter of {operation}")


def _json_only(value: Any, where: str, path: str) -> None:
    """YAML can hold dates and other types the API has no use for: refuse them."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise SeedError(f"{where}: {path or 'top level'}: keys must be strings")
            _json_only(item, where, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _json_only(item, where, f"{path}[{i}]")
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise SeedError(f"{where}: {path}: {type(value).__name__} values are not allowed")
