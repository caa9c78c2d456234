"""The PreTokenGeneration trigger: its event, and the token changes its reply asks for.

The pool's `LambdaConfig.PreTokenGenerationConfig {LambdaArn, LambdaVersion}` (or the
legacy `PreTokenGeneration` ARN, which is V1_0) names the function and the event version:

* V1_0 (event `version` "1") customizes the ID token: the reply's `claimsOverrideDetails
  {claimsToAddOrOverride, claimsToSuppress, groupOverrideDetails}`. Claim values are
  strings (a number or boolean is taken as its JSON text; an array or object is an
  unrecognizable reply). The group override reaches the access token's `cognito:groups`.
* V2_0 and V3_0 (events "2" and "3", Essentials or Plus pools; pool_settings refuses them
  on Lite) send `scopes` too, and read `claimsAndScopeOverrideDetails {idTokenGeneration
  {claimsToAddOrOverride, claimsToSuppress}, accessTokenGeneration {claimsToAddOrOverride,
  claimsToSuppress, scopesToAdd, scopesToSuppress}, groupOverrideDetails}`. Values may be
  any JSON value, except that the ID token's `email_verified`, `phone_number_verified`,
  `updated_at` and `address` take no array or object. V3_0 alone also runs for
  client-credentials tokens (GetClientToken: `TokenGeneration_ClientCredentials`, with no
  user: `userName` null, no attributes, no groups).

Trigger sources: TokenGeneration_Authentication (a sign-in), _NewPasswordChallenge (the
last step answered NEW_PASSWORD_REQUIRED), _AuthenticateDevice (the last step was a device
proof), _RefreshTokens (REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken), _ClientCredentials.
The event's response holds `claimsOverrideDetails: null` (V1) or
`claimsAndScopeOverrideDetails: null` (V2, V3), as Cognito's events do.

Rules, as the developer guide gives them: a claim both added and suppressed is suppressed;
`groupOverrideDetails` replaces the groups, roles and preferred role (`{}` or empty lists
remove them; a reply without it, or with null, leaves them as they are). Claims Cognito
manages cannot be changed: the guide's list (acr, amr, aud, at_hash, auth_time, azp,
cognito:username, exp, iat, identities, iss, jti, nbf, nonce, origin_jti, sub, token_use,
`dev:` attributes), `event_id`, other `cognito:` claims (groups go through
groupOverrideDetails; they can be suppressed), and in access tokens also client_id,
username, scope (use scopesToAdd/scopesToSuppress), version and device_key; an access
token's `aud` may only be set to the app client's id. Such changes are ignored (and
logged), not refused: the guide does not say Cognito fails the request, and emulators that
compared with it report the changes as dropped. A reply whose fields have the wrong JSON
types, or a scope to add that has blank space in it, is InvalidLambdaResponseException.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cognate.api.exceptions import InvalidLambdaResponseException
from cognate.domain.tokens import (
    NO_OVERRIDES,
    SIGN_IN_SCOPE,
    ClaimChanges,
    GroupOverride,
    Subject,
    TokenOverrides,
    group_claims,
)
from cognate.domain.triggers import (
    UNRECOGNIZABLE,
    Triggers,
    event_attributes,
    trigger_arn,
    trigger_version,
)
from cognate.storage.repos.clients import ClientRow
from cognate.storage.repos.pools import PoolRow

log = logging.getLogger("cognate.triggers")

TRIGGER = "PreTokenGeneration"
AUTHENTICATION = "TokenGeneration_Authentication"
NEW_PASSWORD_CHALLENGE = "TokenGeneration_NewPasswordChallenge"
AUTHENTICATE_DEVICE = "TokenGeneration_AuthenticateDevice"
REFRESH_TOKENS = "TokenGeneration_RefreshTokens"
HOSTED_AUTH = "TokenGeneration_HostedAuth"
CLIENT_CREDENTIALS = "TokenGeneration_ClientCredentials"

V1 = "V1_0"
V3 = "V3_0"
_EVENT_VERSIONS = {"V1_0": "1", "V2_0": "2", "V3_0": "3"}
_V1_FIELD = "claimsOverrideDetails"
_V2_FIELD = "claimsAndScopeOverrideDetails"

_RESERVED = frozenset(
    {
        "acr",
        "amr",
        "aud",
        "at_hash",
        "auth_time",
        "azp",
        "cognito:username",
        "exp",
        "iat",
        "identities",
        "iss",
        "jti",
        "nbf",
        "nonce",
        "origin_jti",
        "sub",
        "token_use",
        "event_id",
    }
)
_ACCESS_RESERVED = _RESERVED | {"client_id", "username", "scope", "version", "device_key"}
_GROUP_CLAIMS = frozenset({"cognito:groups", "cognito:roles", "cognito:preferred_role"})
_NO_COMPLEX_IN_ID = frozenset({"email_verified", "phone_number_verified", "updated_at", "address"})


class TokenCustomization:
    """Runs the pool's PreTokenGeneration function and reads its reply."""

    def __init__(self, triggers: Triggers) -> None:
        self._triggers = triggers

    def for_user(
        self,
        pool: PoolRow,
        client: ClientRow,
        subject: Subject,
        source: str,
        client_metadata: Mapping[str, str],
    ) -> TokenOverrides:
        """The changes to a user's tokens (none when the pool has no such trigger). Called
        outside any database transaction."""
        if trigger_arn(pool.settings, TRIGGER) is None:
            return NO_OVERRIDES
        version = trigger_version(pool.settings, TRIGGER)
        groups = group_claims(subject.groups)
        request: dict[str, Any] = {
            "userAttributes": event_attributes(subject.user, subject.attributes),
            "groupConfiguration": _group_configuration(groups),
        }
        if version != V1:
            request["scopes"] = [SIGN_IN_SCOPE]
        if client_metadata:
            request["clientMetadata"] = dict(client_metadata)
        return self._run(pool, client, version, source, subject.user.username, request)

    def for_client(
        self,
        pool: PoolRow,
        client: ClientRow,
        scopes: list[str],
        client_metadata: Mapping[str, str],
    ) -> TokenOverrides:
        """The changes to a client-credentials token: only a V3_0 function is asked."""
        if trigger_arn(pool.settings, TRIGGER) is None:
            return NO_OVERRIDES
        if trigger_version(pool.settings, TRIGGER) != V3:
            return NO_OVERRIDES
        request: dict[str, Any] = {
            "userAttributes": {},
            "groupConfiguration": _group_configuration(GroupOverride()),
            "scopes": list(scopes),
        }
        if client_metadata:
            request["clientMetadata"] = dict(client_metadata)
        return self._run(pool, client, V3, CLIENT_CREDENTIALS, None, request)

    def _run(
        self,
        pool: PoolRow,
        client: ClientRow,
        version: str,
        source: str,
        username: str | None,
        request: dict[str, Any],
    ) -> TokenOverrides:
        field = _V1_FIELD if version == V1 else _V2_FIELD
        response = self._triggers.run(
            pool,
            TRIGGER,
            source,
            username=username,
            client_id=client.client_id,
            request=request,
            version=_EVENT_VERSIONS.get(version, "1"),
            response={field: None},
        )
        if response is None:  # the trigger was removed meanwhile
            return NO_OVERRIDES
        return read_reply(response, version, client.client_id)


def read_reply(response: dict[str, Any], version: str, client_id: str) -> TokenOverrides:
    """The token changes a function's `response` asks for, under its event version."""
    if version == V1:
        details = _object(response.get(_V1_FIELD))
        if details is None:
            return NO_OVERRIDES
        return TokenOverrides(
            id_token=_changes(details, access=False, v1=True, client_id=client_id),
            groups=_group_override(details),
        )
    details = _object(response.get(_V2_FIELD))
    if details is None:
        return NO_OVERRIDES
    id_part = _object(details.get("idTokenGeneration")) or {}
    access_part = _object(details.get("accessTokenGeneration")) or {}
    scopes_add = _strings(access_part.get("scopesToAdd"))
    if any(not s or any(c.isspace() for c in s) for s in scopes_add):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return TokenOverrides(
        id_token=_changes(id_part, access=False, v1=False, client_id=client_id),
        access_token=_changes(access_part, access=True, v1=False, client_id=client_id),
        scopes_add=tuple(dict.fromkeys(scopes_add)),
        scopes_suppress=frozenset(_strings(access_part.get("scopesToSuppress"))),
        groups=_group_override(details),
    )


# ----------------------------------------------------------------------------- reading


def _group_configuration(groups: GroupOverride) -> dict[str, Any]:
    return {
        "groupsToOverride": list(groups.groups),
        "iamRolesToOverride": list(groups.roles),
        "preferredRole": groups.preferred_role,
    }


def _changes(part: dict[str, Any], *, access: bool, v1: bool, client_id: str) -> ClaimChanges:
    token = "access" if access else "ID"
    add: dict[str, Any] = {}
    for name, value in (_object(part.get("claimsToAddOrOverride")) or {}).items():
        if value is None:
            continue
        if v1:
            value = _v1_value(value)
        elif not access and name in _NO_COMPLEX_IN_ID and isinstance(value, (list, dict)):
            raise InvalidLambdaResponseException(UNRECOGNIZABLE)
        if _may_set(name, value, access=access, client_id=client_id):
            add[name] = value
        else:
            log.info("PreTokenGeneration cannot set the %s token's %s claim: ignored", token, name)
    suppress: set[str] = set()
    for name in _strings(part.get("claimsToSuppress")):
        if _may_suppress(name, access=access):
            suppress.add(name)
        else:
            log.info(
                "PreTokenGeneration cannot suppress the %s token's %s claim: ignored", token, name
            )
    return ClaimChanges(add, frozenset(suppress))


def _may_set(name: str, value: Any, *, access: bool, client_id: str) -> bool:
    if access and name == "aud":
        return bool(value == client_id)
    reserved = _ACCESS_RESERVED if access else _RESERVED
    return name not in reserved and not name.startswith(("cognito:", "dev:"))


def _may_suppress(name: str, *, access: bool) -> bool:
    reserved = _ACCESS_RESERVED if access else _RESERVED
    if name in reserved:
        return False
    return name in _GROUP_CLAIMS or not name.startswith("cognito:")


def _group_override(details: dict[str, Any]) -> GroupOverride | None:
    override = _object(details.get("groupOverrideDetails"))
    if override is None:
        return None
    preferred = override.get("preferredRole")
    if preferred is not None and not isinstance(preferred, str):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return GroupOverride(
        tuple(dict.fromkeys(_strings(override.get("groupsToOverride")))),
        tuple(dict.fromkeys(_strings(override.get("iamRolesToOverride")))),
        preferred or None,
    )


def _v1_value(value: Any) -> str:
    """A V1_0 claim value: a string; numbers and booleans become their JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidLambdaResponseException(UNRECOGNIZABLE)


def _object(value: Any) -> dict[str, Any] | None:
    """A JSON object of the reply (null = absent); anything else is unrecognizable."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return value


def _strings(value: Any) -> list[str]:
    """A list of strings of the reply (null = empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return value
