"""How public operations identify their app client and prove its secret.

Public (unsigned) operations name only a ClientId; the client determines the pool.
Confidential clients must send SECRET_HASH = Base64(HMAC-SHA256(client secret,
username + client id)); either of a client's two secrets is accepted during rotation.
The three ways to get it wrong are three different Cognito errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    ResourceNotFoundException,
)
from cognate.domain import messages
from cognate.domain.attributes import AttributeSchema
from cognate.domain.secretbox import SecretBox
from cognate.domain.user_store import PoolScope
from cognate.domain.usernames import SignIn
from cognate.storage.db import Fetch
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.clients import ClientRow


@dataclass(frozen=True, slots=True)
class ClientScope:
    """An app client with its pool's scope."""

    client: ClientRow
    pool: PoolScope
    has_secret: bool = True  # False only when known: then SECRET_HASH checks need no query


def load_client(conn: Connection, client_id: str, *, lock_pool: bool = False) -> ClientScope:
    client = clients_repo.by_client_id(conn, client_id)
    if client is None:
        raise ResourceNotFoundException(messages.client_not_found(client_id))
    pool = pools_repo.by_pk(conn, client.pool_pk, for_update=lock_pool)
    assert pool is not None  # the foreign key guarantees it
    scope = PoolScope(
        pool,
        SignIn.of(pool.id, pool.settings),
        AttributeSchema(pool.settings.get("SchemaAttributes", [])),
    )
    return ClientScope(client, scope)


def fetch_client(fetch: Fetch, client_id: str) -> ClientScope:
    """`load_client` in one statement outside a transaction (the sign-in hot path)."""
    found = clients_repo.fetch_with_pool(fetch, client_id)
    if found is None:
        raise ResourceNotFoundException(messages.client_not_found(client_id))
    pool = found.pool
    scope = PoolScope(
        pool,
        SignIn.of(pool.id, pool.settings),
        AttributeSchema(pool.settings.get("SchemaAttributes", [])),
    )
    return ClientScope(found.client, scope, found.has_secret)


def secret_hash(secret: str, username: str, client_id: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_secret_hash(
    conn: Connection, box: SecretBox, client: ClientRow, username: str, given: str | None
) -> None:
    """Raise Cognito's error unless `given` is right for the client (or rightly absent)."""
    secrets = clients_repo.secrets(conn, client.pk)
    client_id = client.client_id
    if not secrets:
        if given is not None:
            raise InvalidParameterException(
                f"App client {client_id} is not configured for secret but secret hash was received"
            )
        return
    if given is None:
        raise NotAuthorizedException(
            f"Client {client_id} is configured with secret but SECRET_HASH was not received"
        )
    for row in secrets:
        secret = box.open(row.secret_enc, f"client-secret/{row.secret_id}")
        if hmac.compare_digest(secret_hash(secret, username, client_id).encode(), given.encode()):
            return
    raise NotAuthorizedException(f"Unable to verify secret hash for client {client_id}")
