"""GetDerivedToken: OAuth 2.0 token exchange (RFC 8693) for a user's token from this pool.

The requesting app client (ClientId; the pool is the client's) must list
ALLOW_TOKEN_EXCHANGE_IMPERSONATION (no ActorToken) or ALLOW_TOKEN_EXCHANGE_DELEGATION
(with one) in its ExplicitAuthFlows, else InvalidParameterException "<flow> flow not
enabled for this client", as for the other flows. Without IAM credentials a client that
has a secret must send it as ClientSecret (either secret during rotation, compared in
constant time); a secret sent is always checked. IAM credentials: a SigV4-signed request
needs no ClientSecret (verified in secure mode, wire/sigv4.py; any Authorization header
counts in open mode).

SubjectToken / ActorToken: an ACCESS_TOKEN or ID_TOKEN this pool issued, checked as
GetUser checks an access token: signature by one of the pool's keys of that kind, token_use,
issuer, expiry, then revocation (the token's session by `origin_jti`, or the user's
sign-out cut-off for clients without token revocation), the user still there (else
UserNotFoundException) and enabled. The subject must be a user's token; the actor may also
be an app client's own access token (GetClientToken), whose client must still exist.
Tokens of third-party providers (SubjectTokenProviderName, ActorTokenProviderName) and
SAML2 assertions are not supported yet (federation is not built):
OperationNotEnabledException says so.

The issued token (RequestedTokenType, ACCESS_TOKEN by default) is a user pool token signed
with the pool's current key of its kind, so it verifies with the pool's JWKS:

* `sub`, `username` / `cognito:username`, `auth_time` and `origin_jti` are the subject's
  (so revoking the subject's session revokes the derived token too); `client_id` (access)
  or `aud` (ID, without Audiences/Resources) is the requesting client; groups and, in ID
  tokens, the attributes the requesting client may read are the user's now.
* `aud` is the one Audiences or Resources value (a resource server identifier of the pool;
  not both). An access token has no `aud` otherwise, as Cognito's do.
* scopes (access tokens): the requested Scopes (default: the subject's) that the subject
  token has and the requesting client may have (its AllowedOAuthScopes, plus
  aws.cognito.signin.user.admin, which every API sign-in grants). An ID token has no
  scopes, so an access token derived from one has none. The intersection may be empty.
* `act` (delegation): `{"sub", "client_id"}` of the actor, with the subject token's own
  `act` (prior actors) nested inside, as RFC 8693 section 4.1 chains them. Impersonation
  keeps the subject's `act`, if any, so that a delegated token cannot be laundered.
* lifetime: the requesting client's access or ID token validity, but never past the
  subject token's `exp`. No refresh token. TokenType "Bearer" for access tokens and
  "N_A" for ID tokens (RFC 8693 section 2.2.1).

A derived access token that keeps aws.cognito.signin.user.admin works at GetUser like any
other; one narrowed without it is refused there ("does not have required scopes").
The PreTokenGeneration trigger does not run: no trigger source for token exchange is
documented. Token exchange is an Essentials/Plus feature: a Lite pool's request is
OperationNotEnabledException.
"""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    OperationNotEnabledException,
    UserNotFoundException,
)
from cognate.domain import messages
from cognate.domain.client_auth import ClientScope, load_client
from cognate.domain.clock import Clock
from cognate.domain.secretbox import SecretBox
from cognate.domain.token_keys import ACCESS, ID, TokenKeys
from cognate.domain.tokens import (
    SIGN_IN_SCOPE,
    GroupClaim,
    TokenIssuer,
    group_claims,
    readable_attributes,
    validity_seconds,
)
from cognate.domain.user_store import USER_NOT_FOUND
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import groups as groups_repo
from cognate.storage.repos import resource_servers as servers_repo
from cognate.storage.repos import token_sessions as sessions_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.clients import ClientRow
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

IMPERSONATION = "ALLOW_TOKEN_EXCHANGE_IMPERSONATION"
DELEGATION = "ALLOW_TOKEN_EXCHANGE_DELEGATION"
_KEY_PURPOSE = {"ACCESS_TOKEN": ACCESS, "ID_TOKEN": ID}
_BOOLEAN_ATTRIBUTES = ("email_verified", "phone_number_verified")


@dataclass(frozen=True, slots=True)
class Presented:
    """A verified token of this pool: its claims and, for a user's token, the user."""

    claims: dict[str, Any]
    user: UserRow | None
    attributes: dict[str, str]


class DerivedTokens:
    def __init__(
        self, db: Database, box: SecretBox, keys: TokenKeys, issuer: TokenIssuer, clock: Clock
    ) -> None:
        self._db = db
        self._box = box
        self._keys = keys
        self._issuer = issuer
        self._clock = clock

    def get_derived_token(self, request: dict[str, Any], *, signed: bool) -> dict[str, Any]:
        client_id = request["ClientId"]
        actor_token = request.get("ActorToken")
        _check_shape(request)
        resource = (request.get("Resources") or [None])[0]

        def load(conn: Connection) -> tuple[ClientScope, list[str], bool]:
            scope = load_client(conn, client_id)
            secrets = [
                self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")
                for row in clients_repo.secrets(conn, scope.client.pk)
            ]
            known = resource is None or (
                servers_repo.get(conn, scope.client.pool_pk, resource) is not None
            )
            return scope, secrets, known

        scope, secrets, resource_known = self._db.read("get_derived_token", load)
        pool, client = scope.pool.pool, scope.client
        flow = DELEGATION if actor_token else IMPERSONATION
        if flow not in (client.settings.get("ExplicitAuthFlows") or []):
            raise InvalidParameterException(messages.flow_not_enabled(flow.removeprefix("ALLOW_")))
        _check_secret(client_id, secrets, request.get("ClientSecret"), signed=signed)
        if pool.settings.get("UserPoolTier") == "LITE":
            raise OperationNotEnabledException(
                "Token exchange is not available in the LITE feature plan."
            )
        if not resource_known:
            raise InvalidParameterException(
                f"Resource {resource} is not a resource server of user pool {pool.id}."
            )
        subject = self._presented(
            pool, request["SubjectToken"], request["SubjectTokenType"], "Subject"
        )
        if subject.user is None:
            raise InvalidParameterException("SubjectToken must be a token issued to a user.")
        actor = None
        if actor_token:
            actor = self._presented(pool, actor_token, request["ActorTokenType"], "Actor")
        audience = resource or (request.get("Audiences") or [None])[0]
        return self._issue(pool, client, subject, actor, audience, request)

    # ------------------------------------------------------------------ presented tokens

    def _presented(self, pool: PoolRow, token: str, kind: str, role: str) -> Presented:
        claims = self._verified_claims(pool, token, _KEY_PURPOSE[kind], role)
        username = claims.get("username" if kind == "ACCESS_TOKEN" else "cognito:username")
        if username is None:
            if kind == "ACCESS_TOKEN" and claims.get("sub") == claims.get("client_id"):
                return self._client_actor(pool, claims, role)
            raise NotAuthorizedException(f"Invalid {role}Token.")
        origin_jti = claims.get("origin_jti")
        if isinstance(origin_jti, str):
            found = sessions_repo.access_context(self._db.fetch, origin_jti)
            if found is None:
                raise UserNotFoundException(USER_NOT_FOUND)
            session = found.session
            assert session is not None
            if found.user.sub != claims["sub"] or session.pool_pk != pool.pk:
                raise NotAuthorizedException(f"Invalid {role}Token.")
            if session.revoked_at is not None:
                raise NotAuthorizedException(f"{role}Token has been revoked.")
            user, attributes = found.user, found.attributes
        else:
            by_sub = users_repo.fetch_by_sub(self._db.fetch, str(claims["sub"]))
            if by_sub is None:
                raise UserNotFoundException(USER_NOT_FOUND)
            if by_sub.user.pool_pk != pool.pk:
                raise NotAuthorizedException(f"Invalid {role}Token.")
            if int(claims["iat"]) * 1000 < by_sub.user.tokens_valid_after:
                raise NotAuthorizedException(f"{role}Token has been revoked.")
            user, attributes = by_sub.user, by_sub.attributes
        if not user.enabled:
            raise NotAuthorizedException(messages.USER_DISABLED)
        return Presented(claims, user, attributes)

    def _client_actor(self, pool: PoolRow, claims: dict[str, Any], role: str) -> Presented:
        """An app client's own access token (GetClientToken): its client must remain."""
        found = clients_repo.fetch_with_pool(self._db.fetch, str(claims["client_id"]))
        if found is None or found.client.pool_pk != pool.pk:
            raise NotAuthorizedException(f"Invalid {role}Token.")
        return Presented(claims, None, {})

    def _verified_claims(
        self, pool: PoolRow, token: str, purpose: str, role: str
    ) -> dict[str, Any]:
        """What the token proves by itself: a signature by one of this pool's keys for
        `purpose`, its token_use and issuer, and that it has not expired."""
        invalid = NotAuthorizedException(f"Invalid {role}Token.")
        try:
            header = json.loads(_b64decode(token.split(".", 1)[0]))
            kid = header["kid"]
        except (ValueError, KeyError, TypeError):
            raise invalid from None
        key = self._keys.verification_key(kid) if isinstance(kid, str) else None
        if key is None or key.purpose != purpose or key.pool_pk != pool.pk:
            raise invalid
        try:
            claims = orjson.loads(jws.deserialize_compact(token, key.key, ["RS256"]).payload)
        except (JoseError, ValueError):
            raise invalid from None
        if (
            not isinstance(claims, dict)
            or claims.get("token_use") != purpose
            or claims.get("iss") != self._issuer.issuer(pool.id, pool.region)
            or not isinstance(claims.get("sub"), str)
            or not isinstance(claims.get("exp"), int)
            or not isinstance(claims.get("iat"), int)
        ):
            raise invalid
        if claims["exp"] <= self._clock.now_ms() // 1000:
            raise NotAuthorizedException(f"{role}Token has expired.")
        return claims

    # ------------------------------------------------------------------ the issued token

    def _issue(
        self,
        pool: PoolRow,
        client: ClientRow,
        subject: Presented,
        actor: Presented | None,
        audience: str | None,
        request: dict[str, Any],
    ) -> dict[str, Any]:
        assert subject.user is not None
        user = subject.user
        kind = request.get("RequestedTokenType") or "ACCESS_TOKEN"
        access = kind == "ACCESS_TOKEN"
        now = self._clock.now_ms() // 1000
        lifetime = validity_seconds(client, "AccessTokenValidity" if access else "IdTokenValidity")
        expires = min(now + lifetime, int(subject.claims["exp"]))
        groups = group_claims(
            [
                GroupClaim(g.name, g.role_arn, g.precedence)
                for g in groups_repo.fetch_of_user(self._db.fetch, user.pk)
            ]
        )
        scopes = _granted_scopes(client, subject, request.get("Scopes"))
        claims: dict[str, Any] = {"sub": user.sub}
        if groups.groups:
            claims["cognito:groups"] = list(groups.groups)
        readable = {} if access else readable_attributes(client, subject.attributes)
        if not access:
            for flag in _BOOLEAN_ATTRIBUTES:
                if flag in readable:
                    claims[flag] = readable[flag] == "true"
            if groups.preferred_role:
                claims["cognito:preferred_role"] = groups.preferred_role
        claims["iss"] = self._issuer.issuer(pool.id, pool.region)
        if access:
            claims["client_id"] = client.client_id
        else:
            claims["cognito:username"] = user.username
        origin_jti = subject.claims.get("origin_jti")
        if isinstance(origin_jti, str):
            claims["origin_jti"] = origin_jti
        if not access and groups.roles:
            claims["cognito:roles"] = list(groups.roles)
        if not access or audience is not None:
            claims["aud"] = audience or client.client_id
        claims.update(event_id=str(uuid.uuid4()), token_use="access" if access else "id")
        if access and scopes:
            claims["scope"] = " ".join(scopes)
        claims.update(
            auth_time=int(subject.claims.get("auth_time", subject.claims["iat"])),
            exp=expires,
            iat=now,
            jti=str(uuid.uuid4()),
        )
        if access:
            claims["username"] = user.username
        else:
            for name, value in readable.items():
                if name not in _BOOLEAN_ATTRIBUTES and name != "sub":
                    claims[name] = int(value) if name == "updated_at" and value.isdigit() else value
        act = _act(subject, actor)
        if act is not None:
            claims["act"] = act
        result: dict[str, Any] = {
            "IssuedToken": self._sign(pool, ACCESS if access else ID, claims),
            "IssuedTokenType": kind,
            "TokenType": "Bearer" if access else "N_A",
            "ExpiresIn": expires - now,
        }
        if access:
            result["Scopes"] = scopes
        return result

    def _sign(self, pool: PoolRow, purpose: str, claims: dict[str, Any]) -> str:
        """Signed as TokenIssuer signs: the pool's current key, Cognito's header and
        payload form (compact JSON, escaped slashes)."""
        signer = self._keys.signer(pool.pk, pool.id, purpose)
        payload = orjson.dumps(claims).replace(b"/", b"\\/")
        return jws.serialize_compact({"kid": signer.kid, "alg": "RS256"}, payload, signer.key)


def _check_shape(request: dict[str, Any]) -> None:
    """The request's own consistency, before anything is looked up."""
    if request.get("ActorToken") and not request.get("ActorTokenType"):
        raise InvalidParameterException("ActorTokenType is required when ActorToken is given.")
    if request.get("ActorTokenType") and not request.get("ActorToken"):
        raise InvalidParameterException("ActorToken is required when ActorTokenType is given.")
    if request.get("Audiences") and request.get("Resources"):
        raise InvalidParameterException("Audiences and Resources cannot both be requested.")
    for member, given in (
        ("Audiences", request.get("Audiences")),
        ("Resources", request.get("Resources")),
    ):
        if given is not None and any(not value for value in given):
            raise InvalidParameterException(f"{member} cannot contain an empty value.")
    for role in ("Subject", "Actor"):
        if request.get(f"{role}TokenType") == "SAML2" and not request.get(
            f"{role}TokenProviderName"
        ):
            raise InvalidParameterException(
                f"{role}TokenProviderName is required for a SAML2 {role}Token."
            )
        provider = request.get(f"{role}TokenProviderName")
        if provider is not None:
            raise OperationNotEnabledException(
                f"Exchanging a {role}Token from identity provider {provider} is not supported: "
                "Cognate does not validate third-party (OIDC or SAML 2.0) tokens yet."
            )


def _check_secret(client_id: str, secrets: list[str], given: str | None, *, signed: bool) -> None:
    if given is None:
        if secrets and not signed:
            raise NotAuthorizedException(
                f"Client {client_id} is configured with secret but ClientSecret was not received"
            )
        return
    if not secrets:
        raise InvalidParameterException(
            f"App client {client_id} is not configured for secret but a secret was received"
        )
    if not any(hmac.compare_digest(s.encode(), given.encode()) for s in secrets):
        raise NotAuthorizedException(f"Unable to verify secret for client {client_id}")


def _granted_scopes(
    client: ClientRow, subject: Presented, requested: list[str] | None
) -> list[str]:
    """The requested scopes (default: the subject's) that the subject token has and the
    requesting client may have, in the order asked for."""
    held = str(subject.claims.get("scope") or "").split()
    wanted = list(dict.fromkeys(held if requested is None else requested))
    allowed = {*(client.settings.get("AllowedOAuthScopes") or []), SIGN_IN_SCOPE}
    return [s for s in wanted if s in held and s in allowed]


def _act(subject: Presented, actor: Presented | None) -> dict[str, Any] | None:
    prior = subject.claims.get("act")
    if actor is None:
        return prior if isinstance(prior, dict) else None
    claims = actor.claims
    act: dict[str, Any] = {
        "sub": claims["sub"],
        "client_id": claims.get("client_id") or claims.get("aud"),
    }
    if isinstance(prior, dict):
        act["act"] = prior
    return act


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
