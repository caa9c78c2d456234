"""Applying a seed: each item becomes the API calls that create it, or bring it in line.

Every call goes through the operation's own validation (`wire/validator.py`) and handler
(`operations/`), exactly as a request would; only the two fixed ids (a pool's `Id`, a
client's `ClientId`) go to the domain's create functions directly. What an item that
already exists gets (see "Declarative set-up" in the README):

* pools, app clients, resource servers, identity providers, groups, the MFA configuration
  and the domain follow the seed: updated when the seed's settings differ, untouched
  otherwise (so a second start with the same seed writes nothing);
* users: missing ones are created; listed attributes, group memberships and Enabled follow
  the seed; the password is set again only with `ResetPassword: true` (and only when it
  is not already the password);
* nothing the seed does not name is ever deleted (a replaced domain or client secret is
  the one exception: it is the seed's setting that changed).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import cognate.operations  # noqa: F401  (registers every operation handler)
from cognate.api import dispatch
from cognate.api.errors import ServiceError
from cognate.context import RequestContext
from cognate.domain.ids import region_of_pool_id
from cognate.seed.document import (
    POOL_MEMBERS,
    Seed,
    SeedError,
    check_members,
    user_attributes,
)
from cognate.services import Services
from cognate.wire import model
from cognate.wire.validator import validate_request

Params = dict[str, Any]
_PAGE = 60
_NOT_FOUND = ("ResourceNotFoundException", "UserNotFoundException")


class Seeder:
    def __init__(self, services: Services, default_region: str, seed: Seed) -> None:
        self._svc = services
        self._default_region = default_region
        self._seed = seed
        self.counts: Counter[str] = Counter()

    # ------------------------------------------------------------------ plumbing

    def _fail(self, label: str, text: str) -> SeedError:
        return SeedError(f"seed file {self._seed.source}: {label}: {text}")

    def _validated(self, operation: str, params: Params, label: str) -> Params:
        spec = model.input_spec(operation)
        assert spec is not None
        try:
            return validate_request(spec, params)
        except ServiceError as exc:
            raise self._fail(label, f"{operation}: {exc.code}: {exc.message}") from None

    def _call(self, operation: str, region: str, params: Params, label: str) -> Params:
        """The operation as the API runs it: validation, then its handler."""
        validated = self._validated(operation, params, label)
        ctx = RequestContext(
            request_id=str(uuid.uuid4()),
            operation=operation,
            region=region,
            signed=False,
            source_ip=None,
        )
        handler = dispatch.handler_for(operation)
        try:
            return handler(self._svc, ctx, validated) or {}
        except ServiceError as exc:
            raise self._fail(label, f"{operation}: {exc.code}: {exc.message}") from None

    def _domain(self, label: str, operation: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ServiceError as exc:
            raise self._fail(label, f"{operation}: {exc.code}: {exc.message}") from None

    def _find(self, operation: str, region: str, params: Params, label: str) -> Params | None:
        """A Describe/Get call's answer, or None when the thing does not exist."""
        validated = self._validated(operation, params, label)
        ctx = RequestContext(str(uuid.uuid4()), operation, region, False, None)
        try:
            return dispatch.handler_for(operation)(self._svc, ctx, validated) or {}
        except ServiceError as exc:
            if exc.code in _NOT_FOUND:
                return None
            raise self._fail(label, f"{operation}: {exc.code}: {exc.message}") from None

    def _count(self, kind: str, outcome: str) -> None:
        self.counts[f"{kind} {outcome}"] += 1

    # ------------------------------------------------------------------ pools

    def apply(self) -> Counter[str]:
        for index, item in enumerate(self._seed.pools):
            self._pool(index, item)
        return self.counts

    def _pool(self, index: int, item: Params) -> None:
        pool_id = item.get("Id")
        label = f"Pools[{index}] ({pool_id or item.get('PoolName')})"
        region = item.get("Region") or (region_of_pool_id(pool_id) if pool_id else None)
        region = region or self._default_region
        if pool_id and item.get("Region") and region_of_pool_id(pool_id) != item["Region"]:
            raise self._fail(label, f"Region {item['Region']} is not the region of Id {pool_id}")
        params = {k: v for k, v in item.items() if k not in POOL_MEMBERS}
        if pool_id is None:
            pool_id = self._pool_by_name(region, params.get("PoolName"), label)
        existing = None
        if pool_id is not None:
            existing = self._find("DescribeUserPool", region, {"UserPoolId": pool_id}, label)
        if existing is None:
            validated = self._validated("CreateUserPool", params, label)
            created = self._domain(
                label,
                "CreateUserPool",
                lambda: self._svc.pools.create(region, validated, pool_id=pool_id),
            )
            pool_id = created["Id"]
            self._count("pool", "created")
        else:
            assert pool_id is not None
            self._update_pool(region, pool_id, params, existing["UserPool"], label)
        assert pool_id is not None
        if "MfaConfig" in item:
            self._mfa(region, pool_id, item["MfaConfig"], f"{label}.MfaConfig")
        for i, server in enumerate(item.get("ResourceServers") or []):
            self._resource_server(region, pool_id, server, f"{label}.ResourceServers[{i}]")
        for i, provider in enumerate(item.get("IdentityProviders") or []):
            self._identity_provider(region, pool_id, provider, f"{label}.IdentityProviders[{i}]")
        for i, client in enumerate(item.get("Clients") or []):
            self._client(region, pool_id, client, f"{label}.Clients[{i}]")
        if item.get("Domain") is not None:
            self._pool_domain(region, pool_id, item["Domain"], f"{label}.Domain")
        for i, group in enumerate(item.get("Groups") or []):
            self._group(region, pool_id, group, f"{label}.Groups[{i}]")
        for i, user in enumerate(item.get("Users") or []):
            self._user(region, pool_id, user, f"{label}.Users[{i}] ({user['Username']})")

    def _pool_by_name(self, region: str, name: Any, label: str) -> str | None:
        found: list[str] = []
        token = None
        while True:
            params: Params = {"MaxResults": _PAGE}
            if token:
                params["NextToken"] = token
            page = self._call("ListUserPools", region, params, label)
            found += [p["Id"] for p in page["UserPools"] if p["Name"] == name]
            token = page.get("NextToken")
            if not token:
                break
        if len(found) > 1:
            raise self._fail(label, f"{len(found)} pools are named {name!r}: give the seed an Id")
        return found[0] if found else None

    def _update_pool(
        self, region: str, pool_id: str, params: Params, current: Params, label: str
    ) -> None:
        for member in ("AliasAttributes", "UsernameAttributes"):
            if sorted(params.get(member) or []) != sorted(current.get(member) or []):
                raise self._fail(label, _immutable(member, pool_id))
        if params.get("UsernameConfiguration", current.get("UsernameConfiguration")) != current.get(
            "UsernameConfiguration"
        ):
            raise self._fail(label, _immutable("UsernameConfiguration", pool_id))
        self._add_custom_attributes(region, pool_id, params, current, label)
        update = {k: v for k, v in params.items() if k in _UPDATE_POOL_MEMBERS}
        update["UserPoolId"] = pool_id
        validated = self._validated("UpdateUserPool", update, label)
        unchanged = self._domain(
            label, "UpdateUserPool", lambda: self._svc.pools.unchanged_by(region, validated)
        )
        if unchanged:
            self._count("pool", "unchanged")
            return
        self._call("UpdateUserPool", region, update, label)
        self._count("pool", "updated")

    def _add_custom_attributes(
        self, region: str, pool_id: str, params: Params, current: Params, label: str
    ) -> None:
        """New custom attributes in the seed's Schema are added; existing attributes stay
        as they are (Cognito cannot change them)."""
        have = {a["Name"] for a in current.get("SchemaAttributes") or []}
        new = [
            a
            for a in params.get("Schema") or []
            if isinstance(a, dict)
            and a.get("Name") not in have
            and f"custom:{a.get('Name')}" not in have
            and f"dev:custom:{a.get('Name')}" not in have
        ]
        if new:
            self._call(
                "AddCustomAttributes",
                region,
                {"UserPoolId": pool_id, "CustomAttributes": new},
                label,
            )

    def _mfa(self, region: str, pool_id: str, config: Params, label: str) -> None:
        check_members("SetUserPoolMfaConfig", config, label, set())
        current = self._call("GetUserPoolMfaConfig", region, {"UserPoolId": pool_id}, label)
        if _covers(current, config):
            self._count("MFA configuration", "unchanged")
            return
        self._call("SetUserPoolMfaConfig", region, {**config, "UserPoolId": pool_id}, label)
        self._count("MFA configuration", "updated")

    # ------------------------------------------------------------------ pool resources

    def _resource_server(self, region: str, pool_id: str, item: Params, label: str) -> None:
        check_members("CreateResourceServer", item, label, set())
        params = {**item, "UserPoolId": pool_id}
        key = {"UserPoolId": pool_id, "Identifier": item.get("Identifier")}
        current = self._find("DescribeResourceServer", region, key, label)
        if current is None:
            self._call("CreateResourceServer", region, params, label)
            self._count("resource server", "created")
        elif _covers(current["ResourceServer"], {"Scopes": [], **item}):
            self._count("resource server", "unchanged")
        else:
            self._call("UpdateResourceServer", region, params, label)
            self._count("resource server", "updated")

    def _identity_provider(self, region: str, pool_id: str, item: Params, label: str) -> None:
        check_members("CreateIdentityProvider", item, label, set())
        params = {**item, "UserPoolId": pool_id}
        key = {"UserPoolId": pool_id, "ProviderName": item.get("ProviderName")}
        current = self._find("DescribeIdentityProvider", region, key, label)
        if current is None:
            self._call("CreateIdentityProvider", region, params, label)
            self._count("identity provider", "created")
        elif _covers(current["IdentityProvider"], item):
            self._count("identity provider", "unchanged")
        else:
            update = {k: v for k, v in params.items() if k != "ProviderType"}
            self._call("UpdateIdentityProvider", region, update, label)
            self._count("identity provider", "updated")

    def _pool_domain(self, region: str, pool_id: str, item: str | Params, label: str) -> None:
        params: Params = {"Domain": item} if isinstance(item, str) else dict(item)
        check_members("CreateUserPoolDomain", params, label, set())
        params["UserPoolId"] = pool_id
        pool = self._call("DescribeUserPool", region, {"UserPoolId": pool_id}, label)["UserPool"]
        custom = "CustomDomainConfig" in params
        current = pool.get("CustomDomain") if custom else pool.get("Domain")
        if current == params.get("Domain"):
            described = self._call("DescribeUserPoolDomain", region, {"Domain": current}, label)[
                "DomainDescription"
            ]
            wanted = {k: v for k, v in params.items() if k != "Domain"}
            if _covers(described, wanted):
                self._count("domain", "unchanged")
                return
            self._call("UpdateUserPoolDomain", region, params, label)
            self._count("domain", "updated")
            return
        if current:  # the seed names another domain: it replaces the pool's
            self._call(
                "DeleteUserPoolDomain", region, {"Domain": current, "UserPoolId": pool_id}, label
            )
        self._call("CreateUserPoolDomain", region, params, label)
        self._count("domain", "created")

    def _group(self, region: str, pool_id: str, item: Params, label: str) -> None:
        check_members("CreateGroup", item, label, set())
        params = {**item, "UserPoolId": pool_id}
        key = {"UserPoolId": pool_id, "GroupName": item.get("GroupName")}
        current = self._find("GetGroup", region, key, label)
        if current is None:
            self._call("CreateGroup", region, params, label)
            self._count("group", "created")
        elif _covers(current["Group"], item):
            self._count("group", "unchanged")
        else:
            self._call("UpdateGroup", region, params, label)
            self._count("group", "updated")

    # ------------------------------------------------------------------ clients

    def _client(self, region: str, pool_id: str, item: Params, label: str) -> None:
        check_members("CreateUserPoolClient", item, label, {"ClientId"})
        client_id = item.get("ClientId")
        label = f"{label} ({client_id or item.get('ClientName')})"
        params = {k: v for k, v in item.items() if k != "ClientId"}
        params["UserPoolId"] = pool_id
        if client_id is None:
            client_id = self._client_by_name(region, pool_id, item.get("ClientName"), label)
        current = None
        if client_id is not None:
            key = {"UserPoolId": pool_id, "ClientId": client_id}
            current = self._find("DescribeUserPoolClient", region, key, label)
        if current is None:
            validated = self._validated("CreateUserPoolClient", params, label)
            self._domain(
                label,
                "CreateUserPoolClient",
                lambda: self._svc.clients.create(region, validated, client_id=client_id),
            )
            self._count("app client", "created")
            return
        assert client_id is not None
        self._client_secret(region, pool_id, client_id, item, current["UserPoolClient"], label)
        update = {k: v for k, v in params.items() if k not in ("ClientSecret", "GenerateSecret")}
        update["ClientId"] = client_id
        validated = self._validated("UpdateUserPoolClient", update, label)
        unchanged = self._domain(
            label,
            "UpdateUserPoolClient",
            lambda: self._svc.clients.unchanged_by(region, validated),
        )
        if unchanged:
            self._count("app client", "unchanged")
            return
        self._call("UpdateUserPoolClient", region, update, label)
        self._count("app client", "updated")

    def _client_by_name(self, region: str, pool_id: str, name: Any, label: str) -> str | None:
        found: list[str] = []
        token = None
        while True:
            params: Params = {"UserPoolId": pool_id, "MaxResults": _PAGE}
            if token:
                params["NextToken"] = token
            page = self._call("ListUserPoolClients", region, params, label)
            found += [c["ClientId"] for c in page["UserPoolClients"] if c["ClientName"] == name]
            token = page.get("NextToken")
            if not token:
                break
        if len(found) > 1:
            raise self._fail(label, f"{len(found)} clients are named {name!r}: give a ClientId")
        return found[0] if found else None

    def _client_secret(
        self,
        region: str,
        pool_id: str,
        client_id: str,
        item: Params,
        current: Params,
        label: str,
    ) -> None:
        """A confidential client stays confidential and a public one public; a fixed
        ClientSecret that changed replaces the client's secrets."""
        has_secret = current.get("ClientSecret") is not None
        wants_secret = bool(item.get("GenerateSecret")) or item.get("ClientSecret") is not None
        if has_secret != wants_secret:
            kind = "a client secret" if has_secret else "no client secret"
            raise self._fail(
                label,
                f"app client {client_id} has {kind} and the seed says otherwise; a client "
                "cannot change between public and confidential (delete it to re-create it)",
            )
        wanted = item.get("ClientSecret")
        key = {"UserPoolId": pool_id, "ClientId": client_id}
        if wanted is None or current.get("ClientSecret") == wanted:
            return
        secrets = self._call("ListUserPoolClientSecrets", region, key, label)["ClientSecrets"]
        for old in secrets[1:]:  # room for the new one
            self._call("DeleteUserPoolClientSecret", region, {**key, **_secret_id(old)}, label)
        self._call("AddUserPoolClientSecret", region, {**key, "ClientSecret": wanted}, label)
        self._call("DeleteUserPoolClientSecret", region, {**key, **_secret_id(secrets[0])}, label)
        self._count("client secret", "replaced")

    # ------------------------------------------------------------------ users

    def _user(self, region: str, pool_id: str, item: Params, label: str) -> None:
        username = item["Username"]
        key = {"UserPoolId": pool_id, "Username": username}
        attributes = user_attributes(item)
        current = self._find("AdminGetUser", region, key, label)
        if current is None:
            create = {
                **key,
                "UserAttributes": attributes,
                "MessageAction": "SUPPRESS",
                "TemporaryPassword": item[
                    "Password"
                ],  # the policy is checked before the user exists
            }
            self._call("AdminCreateUser", region, create, label)
            self._set_password(region, key, item["Password"], label)
            self._count("user", "created")
        else:
            changed = self._user_attributes(region, key, attributes, current, label)
            if item.get("ResetPassword") and not self._domain(
                label,
                "AdminSetUserPassword",
                lambda: self._svc.user_passwords.is_current_password(
                    region, pool_id, username, item["Password"]
                ),
            ):
                self._set_password(region, key, item["Password"], label)
                changed = True
            self._count("user", "updated" if changed else "unchanged")
            if current.get("Enabled", True) != item.get("Enabled", True):
                enable = "AdminEnableUser" if item.get("Enabled", True) else "AdminDisableUser"
                self._call(enable, region, key, label)
        if current is None and item.get("Enabled") is False:
            self._call("AdminDisableUser", region, key, label)
        self._memberships(region, key, item.get("Groups") or [], label)

    def _set_password(self, region: str, key: Params, password: str, label: str) -> None:
        params = {**key, "Password": password, "Permanent": True}
        self._call("AdminSetUserPassword", region, params, label)

    def _user_attributes(
        self,
        region: str,
        key: Params,
        attributes: list[dict[str, str]],
        current: Params,
        label: str,
    ) -> bool:
        have = {a["Name"]: a.get("Value") for a in current.get("UserAttributes") or []}
        changed = [a for a in attributes if have.get(a.get("Name")) != a.get("Value")]
        if not changed:
            return False
        self._call("AdminUpdateUserAttributes", region, {**key, "UserAttributes": changed}, label)
        return True

    def _memberships(self, region: str, key: Params, groups: list[str], label: str) -> None:
        if not groups:
            return
        have: set[str] = set()
        token = None
        while True:
            params: Params = {**key, "Limit": _PAGE}
            if token:
                params["NextToken"] = token
            page = self._call("AdminListGroupsForUser", region, params, label)
            have |= {g["GroupName"] for g in page["Groups"]}
            token = page.get("NextToken")
            if not token:
                break
        for group in groups:
            if group not in have:
                self._call("AdminAddUserToGroup", region, {**key, "GroupName": group}, label)
                self._count("group membership", "created")


_UPDATE_POOL_MEMBERS = frozenset(
    (model.input_spec("UpdateUserPool") or model.Spec("", "structure")).members
)


def _immutable(member: str, pool_id: str) -> str:
    return (
        f"{member} cannot change on an existing pool ({pool_id} has other values): delete the "
        "pool (or the database) to create it with the seed's"
    )


def _secret_id(secret: Params) -> Params:
    return {"ClientSecretId": secret["ClientSecretId"]}


def _covers(current: Any, wanted: Any) -> bool:
    """Whether `current` (a Describe/Get answer) already has every value of `wanted`."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            _covers(current.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(current) == len(wanted)
            and all(_covers(c, w) for c, w in zip(current, wanted, strict=True))
        )
    if isinstance(current, float | int) and isinstance(wanted, float | int):
        return current == wanted
    return bool(current == wanted)
