"""The domain services one process runs, as handed to every operation handler."""

from __future__ import annotations

from dataclasses import dataclass

from cognate.domain.auth.account import AccountService
from cognate.domain.auth.challenges import RespondToAuthChallenge
from cognate.domain.auth.client_tokens import ClientTokens
from cognate.domain.auth.flows import InitiateAuth
from cognate.domain.auth.refresh import RefreshService
from cognate.domain.auth.user_sessions import UserSessionsService
from cognate.domain.clients import ClientService
from cognate.domain.domains import DomainService
from cognate.domain.groups import GroupService
from cognate.domain.keys import KeyService
from cognate.domain.pool_mfa import PoolMfaService
from cognate.domain.pools import PoolService
from cognate.domain.resource_servers import ResourceServerService
from cognate.domain.sign_up import SignUpService
from cognate.domain.tags import TagService
from cognate.domain.token_keys import TokenKeys
from cognate.domain.tokens import TokenIssuer
from cognate.domain.user_passwords import UserPasswordService
from cognate.domain.user_search import UserSearch
from cognate.domain.users import UserService


@dataclass(frozen=True, slots=True)
class Services:
    pools: PoolService
    pool_mfa: PoolMfaService
    clients: ClientService
    domains: DomainService
    tags: TagService
    keys: KeyService
    users: UserService
    user_passwords: UserPasswordService
    user_search: UserSearch
    groups: GroupService
    sign_up: SignUpService
    token_keys: TokenKeys
    issuer: TokenIssuer
    initiate_auth: InitiateAuth
    respond_to_auth: RespondToAuthChallenge
    refresh: RefreshService
    account: AccountService
    user_sessions: UserSessionsService
    resource_servers: ResourceServerService
    client_tokens: ClientTokens
