r"""ID and access tokens: Cognito's claims, RS256 signatures, and reading access tokens back.

Claims follow the AWS developer guide's examples, in their order. ID tokens carry `aud`
(the client id), `cognito:username` and the attributes the client may read (custom ones
as strings, the `*_verified` flags as booleans); access tokens carry `client_id`,
`username` and `scope`, and no `aud`. When the client has token revocation enabled (the
default) both carry `origin_jti` (the sign-in's token session, which revocation ends)
and a fresh `jti`, as Cognito's do; `auth_time` stays the time of the sign-in across
refreshes. Headers are `{"kid", "alg": "RS256"}` and payloads compact JSON
with escaped slashes (`https:\/\/...`), byte for byte the form of Cognito's tokens.

A PreTokenGeneration function's changes arrive as `TokenOverrides`
(auth/token_customization.py reads them from its reply): claims added or replaced, then
claims suppressed (so suppression wins), per token; scopes added to and suppressed from the
access token's `scope`; and a group override that replaces `cognito:groups` in both
tokens and `cognito:roles` / `cognito:preferred_role` in the ID token (an empty list
removes the claim). Claims keep Cognito's order; added ones come last.

The issuer is `<public URL>/<poolId>` by default, or Cognito's own
`https://cognito-idp.<region>.amazonaws.com/<poolId>` (setting `issuer = aws`).

`read_access_token` checks what the token itself proves (signature by one of the pool's
token keys, token_use, issuer, expiry, scope); whether it has been revoked is the
database's answer (`access.py`). The outcome of a signature check is remembered for the
last few thousand tokens (an exact-string match; expiry is checked at every use).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain.clock import Clock
from cognate.domain.token_keys import ACCESS, ID, TokenKeys
from cognate.storage.repos.clients import ClientRow
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

SIGN_IN_SCOPE = "aws.cognito.signin.user.admin"
INVALID_ACCESS_TOKEN = "Invalid Access Token"  # observed
BAD_SIGNATURE = "Could not verify signature for Access Token"  # observed
EXPIRED_ACCESS_TOKEN = "Access Token has expired"  # observed
MISSING_SCOPE = "Access Token does not have required scopes"  # observed
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_BOOLEAN_ATTRIBUTES = frozenset({"email_verified", "phone_number_verified"})
_HIDDEN_FROM_TOKENS = frozenset({"sub"})
_VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class GroupClaim:
    name: str
    role_arn: str | None
    precedence: int | None


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom tokens are issued to: the user, their attributes and their groups."""

    user: UserRow
    attributes: dict[str, str]
    groups: list[GroupClaim]


@dataclass(frozen=True, slots=True)
class GroupOverride:
    """The groups, IAM roles and preferred role the tokens name instead of the user's."""

    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    preferred_role: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimChanges:
    """Claims one token gains or changes (`add`), then loses (`suppress`)."""

    add: dict[str, Any] = field(default_factory=dict)
    suppress: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TokenOverrides:
    """What a PreTokenGeneration function changed in the tokens about to be issued."""

    id_token: ClaimChanges = field(default_factory=ClaimChanges)
    access_token: ClaimChanges = field(default_factory=ClaimChanges)
    scopes_add: tuple[str, ...] = ()
    scopes_suppress: frozenset[str] = frozenset()
    groups: GroupOverride | None = None  # None: the user's own groups


NO_OVERRIDES = TokenOverrides()


@dataclass(frozen=True, slots=True)
class SignInFacts:
    """What a token session contributes to its tokens."""

    origin_jti: str
    auth_time: int  # epoch seconds of the sign-in
    device_key: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    id_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class AccessClaims:
    pool_pk: int
    pool_id: str
    sub: str
    username: str
    client_id: str
    origin_jti: str | None  # absent from tokens of clients without token revocation
    jti: str | None
    scopes: tuple[str, ...]
    issued_at: int
    auth_time: int
    device_key: str | None


def validity_seconds(client: ClientRow, member: str) -> int:
    """A token lifetime from the client's settings and units (Cognito's defaults: one hour
    for ID and access tokens, 30 days for refresh tokens)."""
    settings = client.settings
    unit_key = member.removesuffix("Validity")
    default_unit = "days" if unit_key == "RefreshToken" else "hours"
    unit = (settings.get("TokenValidityUnits") or {}).get(unit_key, default_unit)
    value = settings.get(member)
    if value is None or (member == "RefreshTokenValidity" and value == 0):
        return 30 * 86400 if unit_key == "RefreshToken" else 3600
    return int(value) * _UNIT_SECONDS[unit]


def group_claims(groups: list[GroupClaim]) -> GroupOverride:
    """The user's groups as tokens name them: group names by precedence, the IAM roles of
    those groups (each once) and the preferred role (that of the first group with one)."""
    ordered = _ordered(groups)
    roles = tuple(dict.fromkeys(g.role_arn for g in ordered if g.role_arn))
    return GroupOverride(tuple(g.name for g in ordered), roles, roles[0] if roles else None)


def readable_attributes(client: ClientRow, attributes: dict[str, str]) -> dict[str, str]:
    """The attributes the client may read: its ReadAttributes, or all but developer-only."""
    allowed = client.settings.get("ReadAttributes")
    if allowed is None:
        return {k: v for k, v in attributes.items() if not k.startswith("dev:")}
    keep = set(allowed)
    return {k: v for k, v in attributes.items() if k in keep}


class TokenIssuer:
    def __init__(self, keys: TokenKeys, clock: Clock, base_url: str, issuer_mode: str) -> None:
        self._keys = keys
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._aws_issuer = issuer_mode == "aws"
        # Access tokens whose signature was verified recently: apps present the same token
        # again and again, and an RSA verification plus parsing is most of a GetUser.
        self._recent: dict[str, tuple[AccessClaims, int]] = {}
        self._lock = threading.Lock()

    def issuer(self, pool_id: str, region: str) -> str:
        if self._aws_issuer:
            return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        return f"{self._base_url}/{pool_id}"

    def user_tokens(
        self,
        pool: PoolRow,
        client: ClientRow,
        subject: Subject,
        facts: SignInFacts,
        overrides: TokenOverrides = NO_OVERRIDES,
    ) -> IssuedTokens:
        now = self._clock.now_ms() // 1000
        access_seconds = validity_seconds(client, "AccessTokenValidity")
        id_seconds = validity_seconds(client, "IdTokenValidity")
        issuer = self.issuer(pool.id, pool.region)
        event_id = str(uuid.uuid4())
        user = subject.user
        groups = overrides.groups if overrides.groups is not None else group_claims(subject.groups)
        access: dict[str, Any] = {"sub": user.sub}
        if facts.device_key:
            access["device_key"] = facts.device_key
        if groups.groups:
            access["cognito:groups"] = list(groups.groups)
        revocable = bool(client.settings.get("EnableTokenRevocation", True))
        access.update(iss=issuer, client_id=client.client_id)
        if revocable:
            access["origin_jti"] = facts.origin_jti
        access.update(
            event_id=event_id,
            token_use="access",
            scope=SIGN_IN_SCOPE,
            auth_time=facts.auth_time,
            exp=now + access_seconds,
            iat=now,
        )
        if revocable:
            access["jti"] = str(uuid.uuid4())
        access["username"] = user.username
        _customize(access, overrides.access_token)
        _rescope(access, overrides)
        claims: dict[str, Any] = {"sub": user.sub}
        if groups.groups:
            claims["cognito:groups"] = list(groups.groups)
        readable = readable_attributes(client, subject.attributes)
        for flag in ("email_verified", "phone_number_verified"):
            if flag in readable:
                claims[flag] = readable[flag] == "true"
        if groups.preferred_role:
            claims["cognito:preferred_role"] = groups.preferred_role
        claims.update(iss=issuer, **{"cognito:username": user.username})
        if revocable:
            claims["origin_jti"] = facts.origin_jti
        if groups.roles:
            claims["cognito:roles"] = list(groups.roles)
        claims.update(
            aud=client.client_id,
            event_id=event_id,
            token_use="id",
            auth_time=facts.auth_time,
            exp=now + id_seconds,
            iat=now,
        )
        if revocable:
            claims["jti"] = str(uuid.uuid4())
        for name, value in readable.items():
            if name not in _BOOLEAN_ATTRIBUTES and name not in _HIDDEN_FROM_TOKENS:
                claims[name] = _claim_value(name, value)
        _customize(claims, overrides.id_token)
        return IssuedTokens(
            access_token=self._sign(pool, ACCESS, access),
            id_token=self._sign(pool, ID, claims),
            expires_in=access_seconds,
        )

    def client_token(
        self,
        pool: PoolRow,
        client: ClientRow,
        scopes: list[str],
        overrides: TokenOverrides = NO_OVERRIDES,
    ) -> tuple[str, int]:
        """An access token for the client itself (machine to machine): sub = client id.
        A V3_0 PreTokenGeneration function's access token changes and groups apply."""
        now = self._clock.now_ms() // 1000
        seconds = validity_seconds(client, "AccessTokenValidity")
        claims: dict[str, Any] = {"sub": client.client_id}
        if overrides.groups is not None and overrides.groups.groups:
            claims["cognito:groups"] = list(overrides.groups.groups)
        claims.update(
            {
                "token_use": "access",
                "scope": " ".join(scopes),
                "auth_time": now,
                "iss": self.issuer(pool.id, pool.region),
                "exp": now + seconds,
                "iat": now,
                "version": 2,
                "jti": str(uuid.uuid4()),
                "client_id": client.client_id,
            }
        )
        _customize(claims, overrides.access_token)
        _rescope(claims, overrides)
        return self._sign(pool, ACCESS, claims), seconds

    def read_access_token(self, token: str, required_scope: str = SIGN_IN_SCOPE) -> AccessClaims:
        """The claims of an access token this server issued to a user, checked (it must
        carry `required_scope`: the API's, or `openid` for /oauth2/userInfo); raises
        NotAuthorizedException in Cognito's words otherwise."""
        verified = self._verified(token)
        if verified is None:
            verified = self._verify(token)
            with self._lock:
                if len(self._recent) >= _VERIFIED_CACHE_SIZE:
                    self._recent.clear()
                self._recent[token] = verified
        claims_of, expires = verified
        if expires <= self._clock.now_ms() // 1000:
            raise NotAuthorizedException(EXPIRED_ACCESS_TOKEN)
        if required_scope not in claims_of.scopes:
            raise NotAuthorizedException(MISSING_SCOPE)
        return claims_of

    def _verified(self, token: str) -> tuple[AccessClaims, int] | None:
        return self._recent.get(token)

    def _verify(self, token: str) -> tuple[AccessClaims, int]:
        """What the token's signature proves (not its expiry: that changes with time)."""
        invalid = NotAuthorizedException(INVALID_ACCESS_TOKEN)
        try:
            header_part = token.split(".", 1)[0]
            header = json.loads(_b64decode(header_part))
            kid = header["kid"]
        except (ValueError, KeyError, TypeError):
            raise invalid from None
        if not isinstance(kid, str):
            raise invalid
        key = self._keys.verification_key(kid)
        if key is None or key.purpose != ACCESS:
            raise NotAuthorizedException(BAD_SIGNATURE)
        try:
            verified = jws.deserialize_compact(token, key.key, algorithms=["RS256"])
        except BadSignatureError:
            raise NotAuthorizedException(BAD_SIGNATURE) from None
        except (JoseError, ValueError):
            raise invalid from None
        try:
            claims = orjson.loads(verified.payload)
        except ValueError:
            raise invalid from None
        if not isinstance(claims, dict) or claims.get("token_use") != "access":
            raise invalid
        try:
            pool_id = str(claims["iss"]).rsplit("/", 1)[1]
            claims_of = AccessClaims(
                pool_pk=key.pool_pk,
                pool_id=pool_id,
                sub=str(claims["sub"]),
                username=str(claims["username"]),
                client_id=str(claims["client_id"]),
                origin_jti=_optional_str(claims.get("origin_jti")),
                jti=_optional_str(claims.get("jti")),
                scopes=tuple(str(claims.get("scope", "")).split()),
                issued_at=int(claims["iat"]),
                auth_time=int(claims["auth_time"]),
                device_key=claims.get("device_key"),
            )
            return claims_of, int(claims["exp"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise invalid from None

    def _sign(self, pool: PoolRow, purpose: str, claims: dict[str, Any]) -> str:
        signer = self._keys.signer(pool.pk, pool.id, purpose)
        header = {"kid": signer.kid, "alg": "RS256"}
        payload = orjson.dumps(claims).replace(b"/", b"\\/")  # "/" occurs only in strings
        return jws.serialize_compact(header, payload, signer.key)


def _ordered(groups: list[GroupClaim]) -> list[GroupClaim]:
    """Groups by precedence (lowest first; none last), then name: the first group with a
    role gives cognito:preferred_role."""
    return sorted(groups, key=lambda g: (g.precedence is None, g.precedence or 0, g.name))


def _customize(claims: dict[str, Any], changes: ClaimChanges) -> None:
    """Add or replace claims (a replaced claim keeps its place), then suppress claims."""
    claims.update(changes.add)
    for name in changes.suppress:
        claims.pop(name, None)


def _rescope(access: dict[str, Any], overrides: TokenOverrides) -> None:
    """The access token's `scope` with scopes added, then suppressed (suppression wins);
    no `scope` claim when none is left."""
    if not overrides.scopes_add and not overrides.scopes_suppress:
        return
    scopes = str(access.get("scope") or "").split()
    scopes = list(dict.fromkeys([*scopes, *overrides.scopes_add]))
    kept = [s for s in scopes if s not in overrides.scopes_suppress]
    if kept:
        access["scope"] = " ".join(kept)
    else:
        access.pop("scope", None)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _claim_value(name: str, value: str) -> Any:
    if name == "updated_at" and value.isdigit():
        return int(value)
    if name == "identities":  # a federated user's: the JSON array itself, as Cognito's
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return parsed if isinstance(parsed, list) else value
    return value


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
