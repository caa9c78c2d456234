"""AdminLinkProviderForUser and AdminDisableProviderForUser, and `linked_user`, which
federated sign-in asks which user a provider's identity signs in as.

Cognito's rules (botocore documentation of both operations; observed messages; *chosen*
where neither says):
- DestinationUser: ProviderName "Cognito" and the user's username, or a federated user
  named by its provider and provider user id (the user `<ProviderName>_<id>`);
  ProviderAttributeName is ignored. A user that does not exist is UserNotFoundException.
- SourceUser: an identity of one of the pool's providers that has not signed up yet. A
  "Cognito" source is InvalidParameterException "Invalid SourceUser: Cognito users with a
  username/password may not be passed in as a SourceUser, only as a DestinationUser"
  (observed, boto3 #4163). Social providers take ProviderAttributeName Cognito_Subject
  only; OIDC and SAML take Cognito_Subject or a mapped attribute. A source whose federated
  user `<ProviderName>_<value>` already exists is InvalidParameterException "Merging is
  not currently supported, provide a SourceUser that has not been signed up in order to
  link" (observed, aws-sdk-net #1000).
- At most five identities linked to a user (the model): LimitExceededException.
  *Chosen*: linking the same source to the same user again succeeds; to another user it
  is AliasExistsException.
- AdminDisableProviderForUser removes the link of the identity (matched by attribute
  value, and by attribute name unless Cognito_Subject is given), and disables the
  federated user `<ProviderName>_<value>` when there is one. *Chosen*: neither existing is
  UserNotFoundException. ProviderName "Cognito" (turning off a native user's password
  sign-in) is not supported yet: InvalidParameterException says so.
- `identities`: *chosen*: linking does not write the destination user's `identities`
  attribute; federated sign-in records identities when the linked identity signs in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import (
    AliasExistsException,
    InvalidParameterException,
    LimitExceededException,
    UserNotFoundException,
)
from cognate.domain.clock import Clock
from cognate.domain.federation.details import SOCIAL_TYPES
from cognate.domain.user_store import USER_NOT_FOUND, PoolScope, find_user, load_scope
from cognate.storage.db import Database
from cognate.storage.repos import identity_providers as idp_repo
from cognate.storage.repos import token_sessions as token_sessions_repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.identity_providers import ProviderRow
from cognate.storage.repos.users import UserRow

COGNITO = "Cognito"
SUBJECT = "Cognito_Subject"
MAX_LINKS_PER_USER = 5
_COGNITO_SOURCE = (
    "Invalid SourceUser: Cognito users with a username/password may not be passed in as a "
    "SourceUser, only as a DestinationUser"
)
_MERGING = (
    "Merging is not currently supported, provide a SourceUser that has not been signed up "
    "in order to link"
)


def linked_user(
    conn: Connection, pool_pk: int, provider_name: str, value: str, attribute_name: str = SUBJECT
) -> int | None:
    """The user (pk) that the identity `value` of `provider_name` is linked to, when it
    was linked by `attribute_name` (Cognito_Subject: the provider's subject)."""
    link = idp_repo.link_of(conn, pool_pk, provider_name, value)
    if link is None or link.attribute_name != attribute_name:
        return None
    return link.user_pk


def federated_username(provider_name: str, value: str) -> str:
    return f"{provider_name}_{value}"


def _provider(conn: Connection, scope: PoolScope, name: str) -> ProviderRow:
    row = idp_repo.by_name(conn, scope.pool.pk, name)
    if row is None:
        raise InvalidParameterException(
            f"The provider {name} does not exist for User Pool {scope.pool.id}."
        )
    return row


def _by_username(conn: Connection, scope: PoolScope, username: str) -> UserRow | None:
    key = scope.sign_in.username_key(username)
    return users_repo.by_username(conn, scope.pool.pk, key, for_update=True)


class ProviderLinks:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def link(self, region: str, request: dict[str, Any]) -> None:
        destination, source = request["DestinationUser"], request["SourceUser"]

        def link_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, request["UserPoolId"])
            if source.get("ProviderName", "").lower() == COGNITO.lower():
                raise InvalidParameterException(_COGNITO_SOURCE)
            provider = _provider(conn, scope, source.get("ProviderName", ""))
            attribute = source.get("ProviderAttributeName") or ""
            value = source.get("ProviderAttributeValue") or ""
            if not value:
                raise InvalidParameterException("SourceUser needs a ProviderAttributeValue.")
            if provider.provider_type in SOCIAL_TYPES and attribute != SUBJECT:
                raise InvalidParameterException(
                    f"ProviderAttributeName must be {SUBJECT} for {provider.name}."
                )
            if not attribute:
                raise InvalidParameterException("SourceUser needs a ProviderAttributeName.")
            user = self._destination(conn, scope, destination)
            if attribute == SUBJECT and _by_username(
                conn, scope, federated_username(provider.name, value)
            ):
                raise InvalidParameterException(_MERGING)
            existing = idp_repo.link_of(conn, scope.pool.pk, provider.name, value)
            if existing is not None:
                if existing.user_pk == user.pk and existing.attribute_name == attribute:
                    return
                raise AliasExistsException(
                    "The SourceUser is already linked to another user of the user pool."
                )
            if len(idp_repo.links_of_user(conn, user.pk)) >= MAX_LINKS_PER_USER:
                raise LimitExceededException(
                    f"A user can have at most {MAX_LINKS_PER_USER} linked identities."
                )
            idp_repo.add_link(
                conn,
                pool_pk=scope.pool.pk,
                provider_name=provider.name,
                attribute_name=attribute,
                value=value,
                user_pk=user.pk,
                now=self._clock.now_ms(),
            )

        try:
            self._db.write("admin_link_provider_for_user", link_txn)
        except IntegrityError:  # linked concurrently
            raise AliasExistsException(
                "The SourceUser is already linked to another user of the user pool."
            ) from None

    @staticmethod
    def _destination(conn: Connection, scope: PoolScope, destination: dict[str, str]) -> UserRow:
        name = destination.get("ProviderName") or ""
        value = destination.get("ProviderAttributeValue") or ""
        if name.lower() == COGNITO.lower():
            user = find_user(conn, scope, value, for_update=True) if value else None
        else:
            provider = _provider(conn, scope, name)
            user = _by_username(conn, scope, federated_username(provider.name, value))
        if user is None:
            raise UserNotFoundException(USER_NOT_FOUND)
        return user

    def disable(self, region: str, request: dict[str, Any]) -> None:
        identity = request["User"]

        def disable_txn(conn: Connection) -> None:
            scope = load_scope(conn, region, request["UserPoolId"])
            name = identity.get("ProviderName") or ""
            if name.lower() == COGNITO.lower():
                raise InvalidParameterException(
                    "Cognate does not support turning off password sign-in with "
                    "AdminDisableProviderForUser yet."
                )
            provider = _provider(conn, scope, name)
            attribute = identity.get("ProviderAttributeName") or ""
            value = identity.get("ProviderAttributeValue") or ""
            found = False
            link = idp_repo.link_of(conn, scope.pool.pk, provider.name, value)
            if link is not None and attribute in (SUBJECT, link.attribute_name):
                idp_repo.delete_link(conn, link.pk)
                found = True
            federated = _by_username(conn, scope, federated_username(provider.name, value))
            if federated is not None and attribute == SUBJECT:
                now = self._clock.now_ms()  # as AdminDisableUser: its sessions end too
                users_repo.update(
                    conn, federated.pk, enabled=False, tokens_valid_after=now, updated_at=now
                )
                token_sessions_repo.revoke_of_user(conn, federated.pk, now)
                found = True
            if not found:
                raise UserNotFoundException(USER_NOT_FOUND)

        self._db.write("admin_disable_provider_for_user", disable_txn)
