"""An app client's settings: Cognito's defaults and validation rules.

`build` turns a CreateUserPoolClient or UpdateUserPoolClient request into the stored
settings (members of `UserPoolClientType` other than ids, name, secret and dates). As
for pools, UpdateUserPoolClient resets omitted members to their defaults (API reference).

Defaults, as DescribeUserPoolClient shows them for a client created with only a name
(real CLI output 2023-2025): RefreshTokenValidity 30, TokenValidityUnits {} (units then
default to hours, hours and days), AllowedOAuthFlowsUserPoolClient false,
EnableTokenRevocation true, EnablePropagateAdditionalUserContextData false,
AuthSessionValidity 3. ExplicitAuthFlows, ReadAttributes, WriteAttributes and
PreventUserExistenceErrors are shown only when set; their effective defaults are SRP,
refresh and custom auth, all standard attributes, and LEGACY.

Messages are Cognito's own where they were captured (CloudFormation and SDK error
output); see docs/decisions in the issue notes for the few that were not.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cognate.api.exceptions import (
    FeatureUnavailableInTierException,
    InvalidOAuthFlowException,
    InvalidParameterException,
    ScopeDoesNotExistException,
)
from cognate.domain import messages

STANDARD_SCOPES = frozenset(
    {"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"}
)
LEGACY_AUTH_FLOWS = frozenset({"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH"})
DEFAULT_AUTH_FLOWS = ("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH")
# GetDerivedToken without / with an ActorToken (domain/auth/derived_tokens.py).
_TOKEN_EXCHANGE_FLOWS = frozenset(
    {"ALLOW_TOKEN_EXCHANGE_IMPERSONATION", "ALLOW_TOKEN_EXCHANGE_DELEGATION"}
)
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_NEVER_WRITABLE = frozenset({"sub", "email_verified", "phone_number_verified"})
_AS_GIVEN = (
    "PreventUserExistenceErrors",
    "AnalyticsConfiguration",
    "RefreshTokenRotation",
)


@dataclass(frozen=True, slots=True)
class PoolFacts:
    """What client validation needs to know about the pool."""

    pool_id: str
    tier: str
    schema: list[dict[str, Any]]
    custom_scopes: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()  # the names of the pool's identity providers


def build(
    request: dict[str, Any], pool: PoolFacts, *, has_secret: bool, creating: bool
) -> dict[str, Any]:
    verb = "creating" if creating else "updating"
    settings: dict[str, Any] = {}
    _token_validity(request, settings)
    settings["TokenValidityUnits"] = dict(request.get("TokenValidityUnits") or {})
    if "ReadAttributes" in request:
        settings["ReadAttributes"] = _read_attributes(request["ReadAttributes"], pool, verb)
    if "WriteAttributes" in request:
        settings["WriteAttributes"] = _write_attributes(request["WriteAttributes"], pool, verb)
    flows = request.get("ExplicitAuthFlows")
    if flows:
        rotation = (request.get("RefreshTokenRotation") or {}).get("Feature") == "ENABLED"
        settings["ExplicitAuthFlows"] = _auth_flows(
            flows, pool, has_secret=has_secret, rotation=rotation
        )
    _oauth(request, settings, pool, has_secret=has_secret)
    for member in _AS_GIVEN:
        if member in request:
            settings[member] = copy.deepcopy(request[member])
    _check_analytics(request.get("AnalyticsConfiguration"))
    settings["EnableTokenRevocation"] = request.get("EnableTokenRevocation", True)
    propagate = request.get("EnablePropagateAdditionalUserContextData", False)
    if propagate and not has_secret:
        raise InvalidParameterException(
            "EnablePropagateAdditionalUserContextData can only be activated for an app client "
            "that has a client secret."
        )
    settings["EnablePropagateAdditionalUserContextData"] = propagate
    settings["AuthSessionValidity"] = request.get("AuthSessionValidity", 3)
    settings["ClientType"] = "REGULAR"
    return settings


def _seconds(value: int, unit: str) -> int:
    return value * _UNIT_SECONDS[unit]


def _token_validity(request: dict[str, Any], settings: dict[str, Any]) -> None:
    units = {**_DEFAULT_UNITS, **(request.get("TokenValidityUnits") or {})}
    given_units = request.get("TokenValidityUnits") or {}
    invalid = InvalidParameterException("Invalid range for token validity.")
    refresh = request.get("RefreshTokenValidity") or 30
    refresh_seconds = _seconds(refresh, units["RefreshToken"])
    if not 3600 <= refresh_seconds <= 315_360_000:
        raise invalid
    settings["RefreshTokenValidity"] = refresh
    for member, unit_key in (
        ("AccessTokenValidity", "AccessToken"),
        ("IdTokenValidity", "IdToken"),
    ):
        value = request.get(member)
        if value is None:
            if unit_key in given_units:
                raise invalid
            continue
        seconds = _seconds(value, units[unit_key])
        if not 300 <= seconds <= 86_400:
            raise invalid
        if seconds > refresh_seconds:
            raise InvalidParameterException(
                "Access and Id Token expiration times must be less than or equal to refresh "
                "token expiration times."
            )
        settings[member] = value


def _attribute_names(pool: PoolFacts) -> dict[str, dict[str, Any]]:
    return {attr["Name"]: attr for attr in pool.schema}


def _read_attributes(names: list[str], pool: PoolFacts, verb: str) -> list[str]:
    known = _attribute_names(pool)
    for name in names:
        if name not in known:
            raise InvalidParameterException(
                f"Invalid read attributes specified while {verb} a client"
            )
    return list(dict.fromkeys(names))


def _write_attributes(names: list[str], pool: PoolFacts, verb: str) -> list[str]:
    known = _attribute_names(pool)
    for name in names:
        attribute = known.get(name)
        if (
            attribute is None
            or name in _NEVER_WRITABLE
            or not attribute.get("Mutable", True)
            or attribute.get("DeveloperOnlyAttribute")
        ):
            raise InvalidParameterException(
                f"Invalid write attributes specified while {verb} a client"
            )
    return list(dict.fromkeys(names))


def _auth_flows(
    flows: list[str], pool: PoolFacts, *, has_secret: bool, rotation: bool
) -> list[str]:
    flows = list(dict.fromkeys(flows))
    if "ALLOW_CLIENT_TOKEN_AUTH" in flows:
        # GetClientToken's rule: the only flow of a client that has a secret.
        if len(flows) > 1:
            raise InvalidParameterException(
                "ALLOW_CLIENT_TOKEN_AUTH cannot be combined with user authentication flows."
            )
        if not has_secret:
            raise InvalidParameterException(
                "ALLOW_CLIENT_TOKEN_AUTH can only be enabled for an app client that has a "
                "client secret."
            )
        return flows
    modern = [f for f in flows if f.startswith("ALLOW_")]
    if modern and any(f in LEGACY_AUTH_FLOWS for f in flows):
        raise InvalidParameterException(
            "Auth flow name with prefix 'ALLOW' cannot be used with legacy auth flow names."
        )
    # Clients that rotate refresh tokens refresh through GetTokensFromRefreshToken only.
    if modern and "ALLOW_REFRESH_TOKEN_AUTH" not in flows and not rotation:
        raise InvalidParameterException("REFRESH_TOKEN_AUTH should always be allowed.")
    if "ALLOW_USER_AUTH" in flows and pool.tier == "LITE":
        raise FeatureUnavailableInTierException(
            "The following features need to be disabled for the LITE pricing tier configured: "
            "Choice-Based Sign-In"
        )
    if pool.tier == "LITE" and _TOKEN_EXCHANGE_FLOWS.intersection(flows):
        # Token exchange is an Essentials/Plus feature (What's New, 2026-11-12); the
        # feature's name in this message is Cognate's, not captured from Cognito.
        raise FeatureUnavailableInTierException(
            "The following features need to be disabled for the LITE pricing tier configured: "
            "Token Exchange"
        )
    return flows


def _oauth(
    request: dict[str, Any], settings: dict[str, Any], pool: PoolFacts, *, has_secret: bool
) -> None:
    enabled = bool(request.get("AllowedOAuthFlowsUserPoolClient", False))
    flows = list(dict.fromkeys(request.get("AllowedOAuthFlows") or []))
    scopes = list(dict.fromkeys(request.get("AllowedOAuthScopes") or []))
    callbacks = list(request.get("CallbackURLs") or [])
    logouts = list(request.get("LogoutURLs") or [])
    if enabled:
        if not flows or not scopes:
            raise InvalidParameterException(
                "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is "
                "allowed to use OAuth flows."
            )
        if "client_credentials" in flows:
            if len(flows) > 1:
                raise InvalidOAuthFlowException(
                    "client_credentials flow can not be selected along with code flow or "
                    "implicit flow."
                )
            if not has_secret:
                raise InvalidOAuthFlowException(
                    "client_credentials flow can not be selected if client does not have a "
                    "client secret."
                )
            for scope in scopes:
                if scope in STANDARD_SCOPES:
                    raise InvalidOAuthFlowException(
                        f"{scope} is not supported with client_credentials flow"
                    )
        elif not callbacks:
            raise InvalidOAuthFlowException(
                "CallbackUrls can not be empty when code flow or implicit flow is selected"
            )
    for scope in scopes:
        if scope not in STANDARD_SCOPES and scope not in pool.custom_scopes:
            # Custom scopes must name a scope of one of the pool's resource servers.
            raise ScopeDoesNotExistException(messages.scope_does_not_exist(scope))
    for url in callbacks + logouts:
        _check_redirect_url(url)
    default = request.get("DefaultRedirectURI")
    if default is not None and default not in callbacks:
        raise InvalidParameterException(
            f"The default redirect URI {default} is not in the callback URIs list."
        )
    for provider in request.get("SupportedIdentityProviders") or []:
        if provider != "COGNITO" and provider not in pool.providers:
            raise InvalidParameterException(
                f"The provider {provider} does not exist for User Pool {pool.pool_id}."
            )
    for member, value in (
        ("SupportedIdentityProviders", request.get("SupportedIdentityProviders")),
        ("CallbackURLs", callbacks),
        ("LogoutURLs", logouts),
        ("DefaultRedirectURI", default),
        ("AllowedOAuthFlows", flows),
        ("AllowedOAuthScopes", scopes),
    ):
        if value:
            settings[member] = copy.deepcopy(value)
    settings["AllowedOAuthFlowsUserPoolClient"] = enabled


def _check_redirect_url(url: str) -> None:
    parts = urlsplit(url)
    if not parts.scheme:
        raise InvalidParameterException(f"{url} is not a valid URL: it has no scheme.")
    if parts.fragment or "#" in url:
        raise InvalidParameterException(f"{url} cannot use fragment")
    if parts.scheme.lower() == "http" and (parts.hostname or "") not in _LOCAL_HOSTS:
        raise InvalidParameterException(f"{url} cannot use the HTTP protocol.")


def _check_analytics(config: dict[str, Any] | None) -> None:
    if not config:
        return
    by_arn = "ApplicationArn" in config
    by_id = any(k in config for k in ("ApplicationId", "RoleArn", "ExternalId"))
    if by_arn == by_id or (by_id and not {"ApplicationId", "RoleArn"} <= set(config)):
        raise InvalidParameterException(
            "Invalid analytics configuration given, either <application arn> or "
            "<application id, role arn, external id> are valid"
        )
