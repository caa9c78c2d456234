"""GetClientToken: an access token for an app client itself (machine to machine).

The client must have a secret and ALLOW_CLIENT_TOKEN_AUTH as its only auth flow
(client_settings enforces both at configuration). The request proves the secret (either
of the client's two during rotation, compared in constant time). Scopes are custom scopes
of the pool's resource servers that the client's AllowedOAuthScopes grant; without
Scopes the token carries all of them. The token has `sub` = `client_id` = the client id,
`token_use` access, `version` 2 and no user claims, and lives for the client's access
token validity. A V3_0 PreTokenGeneration function (TokenGeneration_ClientCredentials)
may change its claims and scopes; it runs after every check, outside any transaction.
GetClientToken declares none of the Lambda errors, so a failing function is an
InvalidParameterException carrying the message Cognito gives those errors.
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidLambdaResponseException,
    InvalidParameterException,
    NotAuthorizedException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from cognate.domain import messages
from cognate.domain.auth.context import load_public
from cognate.domain.auth.token_customization import TokenCustomization
from cognate.domain.client_auth import ClientScope
from cognate.domain.client_settings import STANDARD_SCOPES
from cognate.domain.resource_servers import custom_scopes
from cognate.domain.secretbox import SecretBox
from cognate.domain.tokens import TokenIssuer, TokenOverrides
from cognate.storage.db import Database
from cognate.storage.repos import clients as clients_repo

CLIENT_TOKEN_FLOW = "ALLOW_CLIENT_TOKEN_AUTH"


class ClientTokens:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        issuer: TokenIssuer,
        customization: TokenCustomization,
    ) -> None:
        self._db = db
        self._box = box
        self._issuer = issuer
        self._customization = customization

    def get_client_token(self, request: dict[str, Any]) -> dict[str, Any]:
        client_id = request["ClientId"]

        def load(conn: Connection) -> tuple[ClientScope, list[str], frozenset[str]]:
            scope = load_public(conn, client_id)
            secrets = [
                self._box.open(row.secret_enc, f"client-secret/{row.secret_id}")
                for row in clients_repo.secrets(conn, scope.client.pk)
            ]
            return scope, secrets, custom_scopes(conn, scope.pool.pool.pk)

        scope, secrets, defined = self._db.read("get_client_token", load)
        client = scope.client
        if CLIENT_TOKEN_FLOW not in (client.settings.get("ExplicitAuthFlows") or []):
            raise InvalidParameterException(messages.flow_not_enabled("CLIENT_TOKEN_AUTH"))
        given = request["Secret"].encode()
        if not any(hmac.compare_digest(s.encode(), given) for s in secrets):
            raise NotAuthorizedException(f"Unable to verify secret for client {client_id}")
        granted = [
            s
            for s in client.settings.get("AllowedOAuthScopes") or []
            if s not in STANDARD_SCOPES and s in defined
        ]
        requested = list(dict.fromkeys(request.get("Scopes") or granted))
        for name in requested:
            if name not in granted:
                raise InvalidParameterException(messages.scope_does_not_exist(name))
        overrides = self._overrides(scope, requested, request.get("ClientMetadata") or {})
        token, seconds = self._issuer.client_token(scope.pool.pool, client, requested, overrides)
        return {
            "ClientAuthenticationResult": {
                "AccessToken": token,
                "ExpiresIn": seconds,
                "TokenType": "Bearer",
            }
        }

    def _overrides(
        self, scope: ClientScope, scopes: list[str], metadata: dict[str, str]
    ) -> TokenOverrides:
        try:
            return self._customization.for_client(scope.pool.pool, scope.client, scopes, metadata)
        except (
            UserLambdaValidationException,
            UnexpectedLambdaException,
            InvalidLambdaResponseException,
        ) as exc:
            raise InvalidParameterException(exc.message) from None
