"""A federated identity becomes the pool's user: `FederatedUsers.sign_in(scope, identity,
ip)` finds or creates the user a provider's identity signs in as and opens the hosted
session (the cookie value it returns) that ends the sign-in, for every provider type.

Cognito's behaviour (developer guide: "Adding user pool sign-in through a third party",
"Specifying identity provider attribute mappings", "Linking federated users to an
existing user profile", "Adding groups to a user pool", the pre sign-up trigger page),
and *chosen* where it is silent:
- The user is `<ProviderName>_<subject>`: the subject is the claim the AttributeMapping
  maps to `username` (sub, Facebook's id, Amazon's user_id by default; SAML's NameID).
  Status EXTERNAL_PROVIDER, no password (a password sign-in through the API is refused
  "Incorrect username or password.", as for a wrong password).
- AttributeMapping: pool attribute <- provider claim; claims it does not name are ignored.
  Mapped values are written when the user is created and on each later sign-in ("the
  user pool updates mapped attributes each time the user signs in"); *chosen*: immutable
  attributes only at creation. A required attribute that the mapping leaves empty
  refuses the first sign-in: `attributes required: [email]` (the description Cognito's
  redirect carries).
- `identities`: a JSON string attribute, a list of {userId, providerName, providerType,
  issuer, primary, dateCreated} (primary "true" for the first, dateCreated epoch ms as a
  string) as Cognito writes it; ID tokens carry it parsed (tokens.py).
- New users: the PreSignUp trigger runs first with `PreSignUp_ExternalProvider` and the
  mapped attributes (its error refuses the sign-in; *chosen*: its reply changes nothing,
  a federated user needs no confirmation); then, once the user exists,
  PostConfirmation with `PostConfirmation_ConfirmSignUp` (*chosen* after widely reported
  behaviour; the guide does not say). Pre/PostAuthentication do not run (they belong to
  the password flows); pre token generation does, with TokenGeneration_HostedAuth, when
  the app's code is exchanged (grants.py).
- Each generated user joins the group `<UserPoolId>_<ProviderName>`, created with the
  first such user ("Amazon Cognito creates a user group for each OIDC, SAML and social
  IdP... every auto-generated unique IdP user profile is automatically added to the
  group. Linked users are not"), so `cognito:groups` names it.
- An identity linked with AdminLinkProviderForUser (by Cognito_Subject, or for OIDC/SAML
  by a mapped attribute) signs in as the user it is linked to, whose `identities` gains
  the entry; *chosen*: that user's other attributes are left alone.
- A disabled user is refused: "User is disabled.".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.errors import ServiceError
from cognate.api.exceptions import NotAuthorizedException
from cognate.domain import messages
from cognate.domain.account_triggers import (
    CONFIRM_SIGN_UP,
    PRE_SIGN_UP,
    post_confirmation,
)
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.federation import links
from cognate.domain.federation.identity import FederatedIdentity
from cognate.domain.federation.providers import provider_by_name
from cognate.domain.oauth.hosted import HostedSignIn
from cognate.domain.triggers import Triggers
from cognate.domain.user_store import UserStatus, write_attributes
from cognate.storage.db import Database
from cognate.storage.repos import groups as groups_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

T = TypeVar("T")
EXTERNAL_PROVIDER_SOURCE = "PreSignUp_ExternalProvider"
IDENTITIES = "identities"
_NOT_WRITTEN = frozenset({"sub", IDENTITIES, "username"})


class FederatedSignInError(Exception):
    """The identity cannot sign in; `description` goes to the app's redirect_uri."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def federated_group(pool_id: str, provider_name: str) -> str:
    return f"{pool_id}_{provider_name}"


def identity_entry(identity: FederatedIdentity, subject: str, now_ms: int) -> dict[str, Any]:
    return {
        "userId": subject,
        "providerName": identity.provider_name,
        "providerType": identity.provider_type,
        "issuer": identity.issuer,
        "primary": "true",
        "dateCreated": str(now_ms),
    }


def with_identity(current: str | None, entry: dict[str, Any]) -> str:
    """The `identities` attribute with `entry` in it (once per provider and user id)."""
    try:
        listed = orjson.loads(current) if current else []
    except orjson.JSONDecodeError:
        listed = []
    if not isinstance(listed, list):
        listed = []
    for known in listed:
        if (
            isinstance(known, dict)
            and known.get("providerName") == entry["providerName"]
            and known.get("userId") == entry["userId"]
        ):
            return orjson.dumps(listed).decode()
    listed.append({**entry, "primary": "false" if listed else "true"})
    return orjson.dumps(listed).decode()


class FederatedUsers:
    def __init__(
        self, db: Database, clock: Clock, triggers: Triggers, hosted: HostedSignIn
    ) -> None:
        self._db = db
        self._clock = clock
        self._triggers = triggers
        self._hosted = hosted

    def sign_in(self, scope: ClientScope, identity: FederatedIdentity, ip: str | None) -> str:
        """Sign `identity` in to the pool of `scope`'s app client: the value of the hosted
        session cookie. FederatedSignInError (its description for the app) otherwise."""
        del ip  # the hosted session does not record it (the token session does, later)
        user_pk = self.user_of(scope, identity)
        return self._hosted.open_session(scope, user_pk)

    def user_of(self, scope: ClientScope, identity: FederatedIdentity) -> int:
        """The pk of the user `identity` signs in as, created on a first sign-in."""
        pool = scope.pool
        provider = self._db.read(
            "federated_provider",
            lambda c: provider_by_name(c, pool.pool.pk, identity.provider_name),
        )
        if provider is None:
            raise FederatedSignInError(f"The provider {identity.provider_name} does not exist.")
        mapping = provider.attribute_mapping
        claim = mapping.get("username")
        subject = identity.claims.get(claim, "") if claim else ""
        subject = subject or identity.subject
        mapped = {
            attribute: identity.claims[source]
            for attribute, source in mapping.items()
            if attribute not in _NOT_WRITTEN
            and attribute in pool.schema
            and identity.claims.get(source) not in (None, "")
        }
        username = links.federated_username(identity.provider_name, subject)
        entry = identity_entry(identity, subject, self._clock.now_ms())

        def existing_txn(conn: Connection) -> int | None:
            linked = self._linked(conn, scope, identity.provider_name, subject, mapped)
            if linked is not None:
                self._record_identity(conn, scope, linked, entry, {})
                return linked.pk
            user = users_repo.by_username(
                conn, pool.pool.pk, pool.sign_in.username_key(username), for_update=True
            )
            if user is None:
                return None
            self._record_identity(conn, scope, user, entry, mapped)
            return user.pk

        found = self._write(existing_txn)
        if found is not None:
            return found
        missing = pool.schema.missing_required(mapped)
        if missing:
            raise FederatedSignInError(f"attributes required: [{', '.join(missing)}]")
        self._pre_sign_up(scope, username, mapped)
        sub = str(uuid.uuid4())

        def create_txn(conn: Connection) -> tuple[int, UserRow | None]:
            key = pool.sign_in.username_key(username)
            user = users_repo.by_username(conn, pool.pool.pk, key, for_update=True)
            if user is not None:  # signed in concurrently
                self._record_identity(conn, scope, user, entry, mapped)
                return user.pk, None
            now = self._clock.now_ms()
            row: dict[str, Any] = {
                "pool_pk": pool.pool.pk,
                "username": username,
                "sub": sub,
                "status": UserStatus.EXTERNAL_PROVIDER.value,
                "enabled": True,
                "password_enc": None,
                "password_history_enc": None,
                "password_expires_at": None,
                "tokens_valid_after": 0,
                "created_at": now,
                "updated_at": now,
            }
            user_pk = users_repo.insert(conn, username_key=key, pending=None, **row)
            values = {**mapped, IDENTITIES: with_identity(None, entry)}
            write_attributes(conn, pool, user_pk, {}, values, creating=True, force_alias=False)
            self._join_group(conn, scope, user_pk, identity.provider_name, now)
            return user_pk, UserRow(pk=user_pk, **row)

        user_pk, created = self._write(create_txn)
        if created is not None:
            attributes = self._db.read(
                "federated_attributes", lambda c: users_repo.attributes(c, user_pk)
            )
            self._trigger(
                lambda: post_confirmation(
                    self._triggers,
                    pool.pool,
                    CONFIRM_SIGN_UP,
                    user=created,
                    attributes=attributes,
                    client_id=scope.client.client_id,
                    client_metadata={},
                )
            )
        return user_pk

    # ------------------------------------------------------------------ steps

    def _write(self, txn: Callable[[Connection], T]) -> T:
        try:
            return self._db.write("federated_sign_in", txn, conflicts=2)
        except IntegrityError:
            raise FederatedSignInError("The user could not be created, try again.") from None
        except ServiceError as exc:  # disabled, an alias another user holds...
            raise FederatedSignInError(exc.message) from None

    def _trigger(self, run: Callable[[], object]) -> None:
        try:
            run()
        except ServiceError as exc:  # the function failed: the sign-in ends
            raise FederatedSignInError(exc.message) from None

    def _pre_sign_up(self, scope: ClientScope, username: str, mapped: dict[str, str]) -> None:
        pool = scope.pool.pool
        if not self._triggers.configured(pool, PRE_SIGN_UP):
            return
        self._trigger(
            lambda: self._triggers.run(
                pool,
                PRE_SIGN_UP,
                EXTERNAL_PROVIDER_SOURCE,
                username=username,
                client_id=scope.client.client_id,
                request={"userAttributes": dict(mapped), "validationData": {}},
                response={
                    "autoConfirmUser": False,
                    "autoVerifyEmail": False,
                    "autoVerifyPhone": False,
                },
            )
        )

    @staticmethod
    def _linked(
        conn: Connection,
        scope: ClientScope,
        provider: str,
        subject: str,
        mapped: dict[str, str],
    ) -> UserRow | None:
        pool_pk = scope.pool.pool.pk
        user_pk = links.linked_user(conn, pool_pk, provider, subject)
        for attribute, value in mapped.items():
            if user_pk is not None:
                break
            user_pk = links.linked_user(conn, pool_pk, provider, value, attribute)
        if user_pk is None:
            return None
        return users_repo.by_pk(conn, user_pk, for_update=True)

    def _record_identity(
        self,
        conn: Connection,
        scope: ClientScope,
        user: UserRow,
        entry: dict[str, Any],
        mapped: dict[str, str],
    ) -> None:
        """Refuse a disabled user; otherwise bring `identities` and the mapped (mutable)
        attributes up to date."""
        if not user.enabled:
            raise NotAuthorizedException(messages.USER_DISABLED)
        old = users_repo.attributes(conn, user.pk)
        new = dict(old)
        for name, value in mapped.items():
            described = scope.pool.schema.attribute(name) or {}
            if described.get("Mutable", True):
                new[name] = value
        new[IDENTITIES] = with_identity(old.get(IDENTITIES), entry)
        if new != old:
            write_attributes(conn, scope.pool, user.pk, old, new, creating=False, force_alias=False)
            users_repo.update(conn, user.pk, updated_at=self._clock.now_ms())

    def _join_group(
        self, conn: Connection, scope: ClientScope, user_pk: int, provider: str, now: int
    ) -> None:
        pool = scope.pool.pool
        name = federated_group(pool.id, provider)
        group = groups_repo.get(conn, pool.pk, name)
        if group is None:
            groups_repo.insert(
                conn,
                pool_pk=pool.pk,
                name=name,
                name_key=groups_repo.name_key(name),
                description=f"Autogenerated group for users who sign in using {provider}",
                role_arn=None,
                precedence=None,
                created_at=now,
                updated_at=now,
            )
            group = groups_repo.get(conn, pool.pk, name)
        assert group is not None
        groups_repo.add_member(conn, group.pk, user_pk)
