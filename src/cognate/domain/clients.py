"""App clients and their secrets: create, describe, update, delete, list, rotate secrets.

Client ids are 26 lower-case alphanumerics and generated secrets 52 (Cognito's shapes).
A confidential client holds at most two secrets at once, so it can rotate without
downtime; the secret value is returned when Cognito generated it and sealed at rest.
The client row is locked while its secrets change, so the two-secret limit and the
last-secret rule hold under concurrent requests on PostgreSQL too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
)
from cognate.domain import client_settings, ids, messages
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.federation.providers import provider_names
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page, require_pool
from cognate.domain.resource_servers import custom_scopes
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos.clients import ClientRow, SecretRow
from cognate.storage.repos.pools import PoolRow

MAX_SECRETS = 2
_FIXED_CLIENT_ID = re.compile(r"[\w+]{1,128}", re.ASCII)


def require_client(
    conn: Connection, pool: PoolRow, client_id: str, *, for_update: bool = False
) -> ClientRow:
    client = clients_repo.get(conn, pool.pk, client_id, for_update=for_update)
    if client is None:
        raise ResourceNotFoundException(messages.client_not_found(client_id))
    return client


@dataclass(frozen=True, slots=True)
class NewSecret:
    secret_id: str
    value: str
    generated: bool
    created_at: int


class ClientService:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens, box: SecretBox) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens
        self._box = box

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _facts(conn: Connection, pool: PoolRow) -> client_settings.PoolFacts:
        return client_settings.PoolFacts(
            pool_id=pool.id,
            tier=pool.settings.get("UserPoolTier", "ESSENTIALS"),
            schema=pool.settings.get("SchemaAttributes", []),
            custom_scopes=custom_scopes(conn, pool.pk),
            providers=provider_names(conn, pool.pk),
        )

    def _seal(self, secret_id: str, value: str) -> str:
        return self._box.seal(value, f"client-secret/{secret_id}")

    def _open(self, row: SecretRow) -> str:
        return self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")

    @staticmethod
    def _view(pool: PoolRow, client: ClientRow, secret: str | None) -> dict[str, Any]:
        view: dict[str, Any] = dict(client.settings)
        view.update(
            UserPoolId=pool.id,
            ClientName=client.name,
            ClientId=client.client_id,
            CreationDate=ms_to_seconds(client.created_at),
            LastModifiedDate=ms_to_seconds(client.updated_at),
            ClientSecret=secret,
        )
        return view

    def _first_secret(self, conn: Connection, client: ClientRow) -> str | None:
        """The secret DescribeUserPoolClient shows: the oldest of the client's secrets."""
        secrets = clients_repo.secrets(conn, client.pk)
        return self._open(secrets[0]) if secrets else None

    def _add_secret(
        self, conn: Connection, client: ClientRow, value: str | None, now: int
    ) -> NewSecret:
        existing = {s.secret_id for s in clients_repo.secrets(conn, client.pk)}
        created = now
        secret_id = ids.client_secret_id(client.client_id, created)
        while secret_id in existing:  # two secrets within one millisecond
            created += 1
            secret_id = ids.client_secret_id(client.client_id, created)
        generated = value is None
        value = ids.new_client_secret() if value is None else value
        clients_repo.add_secret(
            conn,
            client.pk,
            secret_id=secret_id,
            secret_enc=self._seal(secret_id, value),
            generated=generated,
            now=created,
        )
        return NewSecret(secret_id, value, generated, created)

    # ------------------------------------------------------------------ clients

    def create(
        self, region: str, request: dict[str, Any], *, client_id: str | None = None
    ) -> dict[str, Any]:
        """CreateUserPoolClient. `client_id` (not an API parameter: `cognate serve --seed`
        only) gives the new client that id instead of a random one."""
        if client_id is not None and not _FIXED_CLIENT_ID.fullmatch(client_id):
            raise InvalidParameterException(
                f"Client id {client_id!r} must be 1-128 letters, digits, '_' or '+'."
            )
        generate = bool(request.get("GenerateSecret", False))
        custom_secret = request.get("ClientSecret")
        if generate and custom_secret is not None:
            raise InvalidParameterException(
                "You cannot specify both GenerateSecret as true and provide a ClientSecret value."
            )
        if request.get("PublishSecretsInAWSSecretsManager"):
            raise InvalidParameterException(
                "PublishSecretsInAWSSecretsManager is not supported: Cognate does not integrate "
                "with AWS Secrets Manager. The secret is kept (encrypted) by Cognate itself."
            )
        has_secret = generate or custom_secret is not None
        now = self._clock.now_ms()

        def create_txn(conn: Connection) -> dict[str, Any]:
            # Locked so that a concurrent DeleteUserPool cannot remove it under the insert.
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            settings = client_settings.build(
                request, self._facts(conn, pool), has_secret=has_secret, creating=True
            )
            new_id = client_id or ids.new_client_id()
            if client_id is not None and clients_repo.by_client_id(conn, client_id) is not None:
                raise InvalidParameterException(f"App client {client_id} already exists.")
            name = request["ClientName"]
            pk = clients_repo.insert(
                conn, pool_pk=pool.pk, client_id=new_id, name=name, settings=settings, now=now
            )
            client = ClientRow(pk, pool.pk, new_id, name, settings, now, now)
            secret = None
            if has_secret:
                secret = self._add_secret(conn, client, custom_secret, now).value
            return self._view(pool, client, secret)

        # A new random id that is already taken makes the insert fail: draw again.
        return self._db.write("create_user_pool_client", create_txn, conflicts=2)

    def describe(self, region: str, pool_id: str, client_id: str) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            client = require_client(conn, pool, client_id)
            return self._view(pool, client, self._first_secret(conn, client))

        return self._db.read("describe_user_pool_client", describe_txn)

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("PublishSecretsInAWSSecretsManager"):
            raise InvalidParameterException(
                "PublishSecretsInAWSSecretsManager is not supported: Cognate does not integrate "
                "with AWS Secrets Manager."
            )

        def update_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            client = require_client(conn, pool, request["ClientId"], for_update=True)
            secret = self._first_secret(conn, client)
            has_secret = secret is not None
            settings = client_settings.build(
                request, self._facts(conn, pool), has_secret=has_secret, creating=False
            )
            # Members set by other operations ("_" prefix, never on the wire) stay.
            settings.update({k: v for k, v in client.settings.items() if k.startswith("_")})
            name = request.get("ClientName", client.name)
            now = self._clock.now_ms()
            clients_repo.update(conn, client.pk, name=name, settings=settings, now=now)
            updated = ClientRow(
                client.pk, pool.pk, client.client_id, name, settings, client.created_at, now
            )
            return self._view(pool, updated, secret)

        return self._db.write("update_user_pool_client", update_txn)

    def unchanged_by(self, region: str, request: dict[str, Any]) -> bool:
        """Whether UpdateUserPoolClient with `request` would leave the client as it is
        (`cognate serve --seed` updates only what changed)."""

        def check_txn(conn: Connection) -> bool:
            pool = require_pool(conn, region, request["UserPoolId"])
            client = require_client(conn, pool, request["ClientId"])
            has_secret = bool(clients_repo.secrets(conn, client.pk))
            settings = client_settings.build(
                request, self._facts(conn, pool), has_secret=has_secret, creating=False
            )
            settings.update({k: v for k, v in client.settings.items() if k.startswith("_")})
            name = request.get("ClientName", client.name)
            return settings == client.settings and name == client.name

        return self._db.read("compare_user_pool_client", check_txn)

    def delete(self, region: str, pool_id: str, client_id: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id)
            clients_repo.delete(conn, require_client(conn, pool, client_id).pk)

        self._db.write("delete_user_pool_client", delete_txn)

    def list_clients(
        self,
        region: str,
        pool_id: str,
        max_results: int,
        next_token: str | None,
        client_type: str | None,
        request_id: str,
    ) -> Page:
        scope = f"clients/{pool_id}"
        after = self._tokens.decode(scope, next_token, request_id)

        def list_txn(conn: Connection) -> Page:
            pool = require_pool(conn, region, pool_id)
            rows = clients_repo.list_page(conn, pool.pk, after, max_results + 1)
            more = len(rows) > max_results
            rows = rows[:max_results]
            # Every client Cognate creates is REGULAR (no dynamic client registration yet).
            items = (
                []
                if client_type == "DCR"
                else [
                    {"ClientId": cid, "UserPoolId": pool.id, "ClientName": name}
                    for _, cid, name in rows
                ]
            )
            token = self._tokens.encode(scope, rows[-1][0]) if more else None
            return Page(items, token)

        return self._db.read("list_user_pool_clients", list_txn)

    # ------------------------------------------------------------------ secrets

    def add_secret(self, region: str, pool_id: str, client_id: str, value: str | None) -> NewSecret:
        def add_txn(conn: Connection) -> NewSecret:
            pool = require_pool(conn, region, pool_id)
            client = require_client(conn, pool, client_id, for_update=True)
            secrets = clients_repo.secrets(conn, client.pk)
            if not secrets:
                raise InvalidParameterException(
                    f"App client {client_id} is not a confidential client: it has no client "
                    "secret to rotate."
                )
            if len(secrets) >= MAX_SECRETS:
                raise LimitExceededException(
                    f"App client {client_id} already has {MAX_SECRETS} client secrets. Delete "
                    "one before adding another."
                )
            return self._add_secret(conn, client, value, self._clock.now_ms())

        return self._db.write("add_user_pool_client_secret", add_txn)

    def delete_secret(self, region: str, pool_id: str, client_id: str, secret_id: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id)
            client = require_client(conn, pool, client_id, for_update=True)
            secrets = clients_repo.secrets(conn, client.pk)
            if secret_id not in {s.secret_id for s in secrets}:
                raise ResourceNotFoundException(f"Client secret {secret_id} does not exist.")
            if len(secrets) == 1:
                raise InvalidParameterException(
                    "You cannot delete the last remaining secret for an app client."
                )
            clients_repo.delete_secret(conn, client.pk, secret_id)

        self._db.write("delete_user_pool_client_secret", delete_txn)

    def list_secrets(self, region: str, pool_id: str, client_id: str) -> list[dict[str, Any]]:
        def list_txn(conn: Connection) -> list[dict[str, Any]]:
            pool = require_pool(conn, region, pool_id)
            client = require_client(conn, pool, client_id)
            return [
                {
                    "ClientSecretId": s.secret_id,
                    "ClientSecretCreateDate": ms_to_seconds(s.created_at),
                }
                for s in clients_repo.secrets(conn, client.pk)
            ]

        return self._db.read("list_user_pool_client_secrets", list_txn)
