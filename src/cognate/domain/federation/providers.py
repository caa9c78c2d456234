"""A user pool's identity providers: CreateIdentityProvider and its family, and the
lookups federated sign-in uses (`provider_by_name`, `provider_of_identifier`).

Cognito's rules (botocore model and developer guide; *chosen* where they are silent):
- ProviderName: the model's pattern and length (the wire checks them). A social provider
  is named after its type ("Google" for Google, ...); *chosen*: SAML and OIDC providers
  cannot take a social type's name or "Cognito" (any case), the names clients and
  AdminLinkProviderForUser reserve. A name in use is DuplicateProviderException
  "<name> already exists in user pool <pool id>" (as CloudTrail records it).
- At most 300 providers per pool (Cognito's quota): LimitExceededException.
- IdpIdentifiers: up to 50 (the model), unique within the pool. *Chosen*: one already
  used by another provider, or a list repeating one, is InvalidParameterException (the
  model does not let UpdateIdentityProvider raise DuplicateProviderException).
- AttributeMapping: keys are the pool's attributes (or `username`). Cognito maps
  `username` to the provider's subject claim (sub, Facebook's id, Login with Amazon's
  user_id) when the request does not; SAML gets no default (its NameID is the subject).
  AcrMapping is for OIDC providers only.
- Update changes the members given and keeps the others; ProviderDetails given are laid
  over the ones the provider was configured with, so a secret need not be sent again.
- Delete: *chosen* (undocumented): the provider's name leaves the SupportedIdentityProviders
  of the pool's app clients, and links to it (AdminLinkProviderForUser) are removed.
- ListIdentityProviders: MaxResults 1-60 (default 60), NextToken from PageTokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import (
    DuplicateProviderException,
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
)
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.federation import details as provider_details
from cognate.domain.federation.details import OIDC, SAML, SOCIAL_TYPES, Resolved
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page, require_pool
from cognate.domain.secretbox import SecretBox
from cognate.outbound.http import Outbound
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import identity_providers as idp_repo
from cognate.storage.repos.identity_providers import ProviderRow
from cognate.storage.repos.pools import PoolRow

MAX_PER_POOL = 300
RESERVED_NAMES = frozenset(name.lower() for name in (*SOCIAL_TYPES, "Cognito"))


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """An identity provider as federated sign-in needs it."""

    pk: int
    pool_pk: int
    name: str
    provider_type: str
    details: dict[str, str]  # as Describe shows them, without secrets
    attribute_mapping: dict[str, str]
    idp_identifiers: list[str]
    metadata: str | None  # SAML: the metadata document (given or fetched)
    _secrets_enc: str | None

    def secrets(self, box: SecretBox) -> dict[str, str]:
        """client_secret / private_key / encryption_private_key, unsealed."""
        return open_secrets(box, self.pk, self._secrets_enc)


def _seal_context(provider_pk: int) -> str:
    return f"idp-secrets/{provider_pk}"


def open_secrets(box: SecretBox, provider_pk: int, sealed: str | None) -> dict[str, str]:
    if sealed is None:
        return {}
    opened: dict[str, str] = orjson.loads(box.open(sealed, _seal_context(provider_pk)))
    return opened


def record_of(row: ProviderRow) -> ProviderRecord:
    shown = provider_details.view(row.details, {})
    metadata = row.details.get(provider_details.METADATA) or row.details.get("MetadataFile")
    return ProviderRecord(
        row.pk,
        row.pool_pk,
        row.name,
        row.provider_type,
        shown,
        dict(row.attribute_mapping),
        list(row.idp_identifiers),
        metadata,
        row.secrets_enc,
    )


def provider_by_name(conn: Connection, pool_pk: int, name: str) -> ProviderRecord | None:
    row = idp_repo.by_name(conn, pool_pk, name)
    return record_of(row) if row is not None else None


def provider_of_identifier(
    conn: Connection, pool_pk: int, identifier: str
) -> ProviderRecord | None:
    row = idp_repo.by_identifier(conn, pool_pk, identifier)
    return record_of(row) if row is not None else None


def provider_names(conn: Connection, pool_pk: int) -> frozenset[str]:
    return idp_repo.names(conn, pool_pk)


def _not_found(pool_id: str, name: str) -> ResourceNotFoundException:
    # *chosen* wording
    return ResourceNotFoundException(f"Identity provider {name} does not exist in {pool_id}.")


def _check_name(name: str, provider_type: str) -> None:
    if provider_type in SOCIAL_TYPES:
        if name != provider_type:
            raise InvalidParameterException(
                f"The name of a {provider_type} provider must be {provider_type}."
            )
    elif name.lower() in RESERVED_NAMES:
        raise InvalidParameterException(
            f"{name} is a reserved provider name and cannot be used for a {provider_type} provider."
        )


def _identifiers(given: list[str] | None) -> list[str]:
    identifiers = list(given or [])
    if len(set(identifiers)) != len(identifiers):
        raise InvalidParameterException("Duplicate IdpIdentifiers are not allowed.")
    return identifiers


def _mapping(pool: PoolRow, provider_type: str, given: dict[str, str] | None) -> dict[str, str]:
    mapping = dict(given or {})
    known = {a["Name"] for a in pool.settings.get("SchemaAttributes", [])}
    for attribute in mapping:
        if attribute != "username" and attribute not in known:
            raise InvalidParameterException(
                f"The attribute {attribute} does not exist in the user pool."
            )
    claim = provider_details.DEFAULT_USERNAME_CLAIM.get(provider_type)
    if claim is not None and "username" not in mapping:
        mapping["username"] = claim
    return dict(sorted(mapping.items()))


def _check_acr(provider_type: str, acr: dict[str, str] | None) -> None:
    if acr and provider_type != OIDC:
        raise InvalidParameterException("AcrMapping is supported for OIDC providers only.")


class IdentityProviderService:
    def __init__(
        self, db: Database, clock: Clock, tokens: PageTokens, box: SecretBox, outbound: Outbound
    ) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens
        self._box = box
        self._outbound = outbound

    # ------------------------------------------------------------------ helpers

    def _seal(self, provider_pk: int, secrets: dict[str, str]) -> str | None:
        if not secrets:
            return None
        return self._box.seal(orjson.dumps(secrets).decode(), _seal_context(provider_pk))

    def _view(self, pool: PoolRow, row: ProviderRow) -> dict[str, Any]:
        secrets = open_secrets(self._box, row.pk, row.secrets_enc)
        view: dict[str, Any] = {
            "UserPoolId": pool.id,
            "ProviderName": row.name,
            "ProviderType": row.provider_type,
            "ProviderDetails": provider_details.view(row.details, secrets),
            "AttributeMapping": row.attribute_mapping,
            "IdpIdentifiers": row.idp_identifiers,
            "LastModifiedDate": ms_to_seconds(row.updated_at),
            "CreationDate": ms_to_seconds(row.created_at),
        }
        acr = row.details.get("__acr")
        if acr:
            view["AcrMapping"] = orjson.loads(acr)
        return view

    @staticmethod
    def _check_identifiers(
        conn: Connection, pool: PoolRow, identifiers: list[str], own_pk: int | None
    ) -> None:
        owners = idp_repo.identifier_owners(conn, pool.pk, identifiers)
        for identifier, owner in owners.items():
            if owner != own_pk:
                raise InvalidParameterException(
                    f"The identifier {identifier} is used by another provider of user pool "
                    f"{pool.id}."
                )

    # ------------------------------------------------------------------ operations

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        pool_id, name = request["UserPoolId"], request["ProviderName"]
        provider_type = request["ProviderType"]
        _check_name(name, provider_type)
        identifiers = _identifiers(request.get("IdpIdentifiers"))
        _check_acr(provider_type, request.get("AcrMapping"))
        # Discovery and metadata fetches happen outside the transaction.
        self._db.read("idp_pool", lambda conn: require_pool(conn, region, pool_id))
        resolved = provider_details.resolve(
            provider_type, dict(request["ProviderDetails"]), self._outbound
        )
        if request.get("AcrMapping"):
            resolved.details["__acr"] = orjson.dumps(request["AcrMapping"]).decode()

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id, for_update=True)
            if idp_repo.by_name(conn, pool.pk, name) is not None:
                raise DuplicateProviderException(f"{name} already exists in user pool {pool_id}")
            if idp_repo.count(conn, pool.pk) >= MAX_PER_POOL:
                raise LimitExceededException(
                    f"A user pool can have at most {MAX_PER_POOL} identity providers."
                )
            self._check_identifiers(conn, pool, identifiers, None)
            pk = idp_repo.insert(
                conn,
                pool_pk=pool.pk,
                name=name,
                provider_type=provider_type,
                details=resolved.details,
                secrets_enc=None,
                attribute_mapping=_mapping(pool, provider_type, request.get("AttributeMapping")),
                identifiers=identifiers,
                now=self._clock.now_ms(),
            )
            if resolved.secrets:  # sealed under the row's own pk
                idp_repo.set_secrets(conn, pk, self._seal(pk, resolved.secrets))
            row = idp_repo.by_name(conn, pool.pk, name)
            assert row is not None
            return self._view(pool, row)

        try:
            return self._db.write("create_identity_provider", create_txn)
        except IntegrityError:  # created concurrently
            raise DuplicateProviderException(
                f"{name} already exists in user pool {pool_id}"
            ) from None

    def describe(self, region: str, pool_id: str, name: str) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            row = idp_repo.by_name(conn, pool.pk, name)
            if row is None:
                raise _not_found(pool_id, name)
            return self._view(pool, row)

        return self._db.read("describe_identity_provider", describe_txn)

    def by_identifier(self, region: str, pool_id: str, identifier: str) -> dict[str, Any]:
        def by_identifier_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            row = idp_repo.by_identifier(conn, pool.pk, identifier)
            if row is None:
                # *chosen* wording
                raise ResourceNotFoundException(
                    f"Identity provider with identifier {identifier} does not exist in {pool_id}."
                )
            return self._view(pool, row)

        return self._db.read("get_identity_provider_by_identifier", by_identifier_txn)

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        pool_id, name = request["UserPoolId"], request["ProviderName"]

        def load_txn(conn: Connection) -> ProviderRow:
            pool = require_pool(conn, region, pool_id)
            row = idp_repo.by_name(conn, pool.pk, name)
            if row is None:
                raise _not_found(pool_id, name)
            return row

        before = self._db.read("idp_before_update", load_txn)
        _check_acr(before.provider_type, request.get("AcrMapping"))
        identifiers = (
            _identifiers(request["IdpIdentifiers"])
            if "IdpIdentifiers" in request
            else before.idp_identifiers
        )
        old_secrets = open_secrets(self._box, before.pk, before.secrets_enc)
        resolved = Resolved(dict(before.details), old_secrets)
        if "ProviderDetails" in request:
            given = provider_details.given_details(before.details, old_secrets)
            given.update(request["ProviderDetails"])
            resolved = provider_details.resolve(
                before.provider_type,
                given,
                self._outbound,
                Resolved(dict(before.details), old_secrets),
            )
        acr = request.get("AcrMapping")
        if acr is not None:
            resolved.details.pop("__acr", None)
            if acr:
                resolved.details["__acr"] = orjson.dumps(acr).decode()
        elif "__acr" in before.details:
            resolved.details["__acr"] = before.details["__acr"]

        def update_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            row = idp_repo.by_name(conn, pool.pk, name)
            if row is None:
                raise _not_found(pool_id, name)
            self._check_identifiers(conn, pool, identifiers, row.pk)
            mapping = (
                _mapping(pool, row.provider_type, request["AttributeMapping"])
                if "AttributeMapping" in request
                else row.attribute_mapping
            )
            idp_repo.update(
                conn,
                row,
                details=resolved.details,
                secrets_enc=self._seal(row.pk, resolved.secrets),
                attribute_mapping=mapping,
                identifiers=identifiers,
                now=self._clock.now_ms(),
            )
            updated = idp_repo.by_name(conn, pool.pk, name)
            assert updated is not None
            return self._view(pool, updated)

        try:
            return self._db.write("update_identity_provider", update_txn)
        except IntegrityError:  # an identifier taken concurrently
            raise InvalidParameterException(
                f"An identifier of {name} is used by another provider of user pool {pool_id}."
            ) from None

    def delete(self, region: str, pool_id: str, name: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id, for_update=True)
            row = idp_repo.by_name(conn, pool.pk, name)
            if row is None:
                raise _not_found(pool_id, name)
            idp_repo.delete(conn, row)
            _forget_in_clients(conn, pool.pk, name, self._clock.now_ms())

        self._db.write("delete_identity_provider", delete_txn)

    def list(
        self, region: str, pool_id: str, limit: int, token: str | None, request_id: str
    ) -> Page:
        scope_name = f"identity-providers/{pool_id}"
        after = self._tokens.decode(scope_name, token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            rows = idp_repo.page(conn, pool.pk, after, limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            items = [
                {
                    "ProviderName": r.name,
                    "ProviderType": r.provider_type,
                    "LastModifiedDate": ms_to_seconds(r.updated_at),
                    "CreationDate": ms_to_seconds(r.created_at),
                }
                for r in rows
            ]
            return Page(items, next_token)

        return self._db.read("list_identity_providers", list_txn)


def _forget_in_clients(conn: Connection, pool_pk: int, name: str, now: int) -> None:
    """Take a deleted provider out of the SupportedIdentityProviders of the pool's clients."""
    after = 0
    while True:
        batch = clients_repo.list_page(conn, pool_pk, after, 100)
        if not batch:
            return
        for pk, client_id, _ in batch:
            client = clients_repo.get(conn, pool_pk, client_id, for_update=True)
            names = (client.settings.get("SupportedIdentityProviders") or []) if client else []
            if client is not None and name in names:
                settings = dict(client.settings)
                remaining = [n for n in names if n != name]
                if remaining:
                    settings["SupportedIdentityProviders"] = remaining
                else:
                    settings.pop("SupportedIdentityProviders", None)
                clients_repo.update(conn, pk, name=client.name, settings=settings, now=now)
        after = batch[-1][0]


__all__ = [
    "SAML",
    "IdentityProviderService",
    "ProviderRecord",
    "provider_by_name",
    "provider_names",
    "provider_of_identifier",
]
