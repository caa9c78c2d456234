"""The domain services one process runs, as handed to every operation handler."""

from __future__ import annotations

from dataclasses import dataclass

from cognate.domain.clients import ClientService
from cognate.domain.domains import DomainService
from cognate.domain.groups import GroupService
from cognate.domain.keys import KeyService
from cognate.domain.pool_mfa import PoolMfaService
from cognate.domain.pools import PoolService
from cognate.domain.sign_up import SignUpService
from cognate.domain.tags import TagService
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
