"""The composition root: Settings -> Database -> services -> the Starlette application.

`build_runtime` opens the database, checks that its schema is current and that the
master key is the one the database was sealed with, and wires the services. `create_app`
is the factory uvicorn imports in every worker process; it reads the settings from the
environment (the CLI writes them there before starting workers).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import cognate.operations  # noqa: F401  (registers every operation handler)
from cognate import __version__, logs
from cognate.config import Settings
from cognate.domain.auth.access import AccessCheck
from cognate.domain.auth.account import AccountService
from cognate.domain.auth.challenges import RespondToAuthChallenge
from cognate.domain.auth.client_tokens import ClientTokens
from cognate.domain.auth.completion import Completion
from cognate.domain.auth.flows import InitiateAuth
from cognate.domain.auth.password_check import PasswordCheck
from cognate.domain.auth.refresh import RefreshService
from cognate.domain.auth.steps import SignInSteps, StepDeps
from cognate.domain.auth.token_sessions import TokenSessions
from cognate.domain.auth.user_sessions import UserSessionsService
from cognate.domain.challenge_sessions import ChallengeSessions
from cognate.domain.clients import ClientService
from cognate.domain.clock import Clock, SystemClock
from cognate.domain.domains import DomainService
from cognate.domain.groups import GroupService
from cognate.domain.keys import KeyService
from cognate.domain.notifications import Notifier
from cognate.domain.pagination import PageTokens
from cognate.domain.pool_mfa import PoolMfaService
from cognate.domain.pools import PoolService
from cognate.domain.resource_servers import ResourceServerService
from cognate.domain.secretbox import MasterKeyError, SecretBox, decode_key, load_or_create_key_file
from cognate.domain.sign_up import SignUpService
from cognate.domain.tags import TagService
from cognate.domain.token_keys import TokenKeys
from cognate.domain.tokens import TokenIssuer
from cognate.domain.user_passwords import UserPasswordService
from cognate.domain.user_search import UserSearch
from cognate.domain.user_store import PasswordVault
from cognate.domain.users import UserService
from cognate.services import Services
from cognate.storage import migrate
from cognate.storage.db import Database
from cognate.storage.repos import meta as meta_repo
from cognate.web.well_known import WellKnown
from cognate.wire import model
from cognate.wire.endpoint import ApiApp

log = logging.getLogger(__name__)

_KEY_CHECK = "master_key_check"


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    db: Database
    services: Services


def master_key(settings: Settings) -> bytes:
    if settings.master_key:
        return decode_key(settings.master_key, source="COGNATE_MASTER_KEY")
    return load_or_create_key_file(settings.key_file())


def check_master_key(db: Database, box: SecretBox) -> None:
    """Record the key's check value on first use; refuse a different key afterwards."""
    expected = box.check_value()

    def check(conn: Connection) -> str:
        return meta_repo.insert_if_absent(conn, _KEY_CHECK, expected)

    try:
        stored = db.write("check_master_key", check)
    except IntegrityError:  # another process recorded it at the same moment
        stored = db.write("check_master_key", check)
    if stored != expected:
        raise MasterKeyError(
            "this database was sealed with a different master key: configure the key it was "
            "created with (COGNATE_MASTER_KEY or COGNATE_MASTER_KEY_FILE)"
        )


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    db = Database(settings.db, pool_size=settings.threads)
    migrate.require_current(db)
    box = SecretBox(master_key(settings))
    check_master_key(db, box)
    tokens = PageTokens(box.derived_key("pagination"))
    vault = PasswordVault(box)
    notifier = Notifier(box)
    keys = KeyService(db, clock, box)
    token_keys = TokenKeys(db, keys, box, clock)
    issuer = TokenIssuer(token_keys, clock, settings.base_url(), settings.issuer)
    token_sessions = TokenSessions(db, clock)
    password_check = PasswordCheck(db, clock, vault)
    access = AccessCheck(db, issuer)
    completion = Completion(db, clock, token_sessions, issuer)
    step_deps = StepDeps(
        db=db,
        vault=vault,
        passwords=password_check,
        challenges=ChallengeSessions(db, box, clock),
        completion=completion,
        simulation_key=box.derived_key("srp-simulation"),
    )
    steps = SignInSteps(step_deps)
    refresh = RefreshService(db, clock, box, token_sessions, issuer)
    services = Services(
        pools=PoolService(db, clock, tokens, settings.account_id),
        pool_mfa=PoolMfaService(db, clock),
        clients=ClientService(db, clock, tokens, box),
        domains=DomainService(db, clock, settings.account_id, settings.public_host),
        tags=TagService(db, settings.account_id),
        keys=keys,
        users=UserService(db, clock, vault, notifier),
        user_passwords=UserPasswordService(db, clock, vault, notifier),
        user_search=UserSearch(db, tokens),
        groups=GroupService(db, clock, tokens),
        sign_up=SignUpService(db, clock, box, vault, notifier),
        token_keys=token_keys,
        issuer=issuer,
        initiate_auth=InitiateAuth(db, box, steps, refresh),
        respond_to_auth=RespondToAuthChallenge(step_deps, steps, clock, box),
        refresh=refresh,
        account=AccountService(db, clock, box, vault, access, password_check, token_sessions),
        user_sessions=UserSessionsService(db, clock, access, token_sessions),
        resource_servers=ResourceServerService(db, clock, tokens),
        client_tokens=ClientTokens(db, box, issuer),
    )
    model.warm_up()
    return Runtime(settings, db, services)


async def _health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "service": "cognate", "version": __version__})


class CognateApp:
    """The process's ASGI app: the API on `/`, everything else (web endpoints) by Starlette.

    The API is dispatched before any framework code runs, because it is the hot path; the
    web side gets the lifespan events and every other path.
    """

    def __init__(self, api: ApiApp, web: Starlette) -> None:
        self.api = api
        self.web = web

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/":
            await self.api(scope, receive, send)
        else:
            await self.web(scope, receive, send)


def build_app(runtime: Runtime) -> CognateApp:
    executor = ThreadPoolExecutor(
        max_workers=runtime.settings.threads, thread_name_prefix="cognate-request"
    )
    api = ApiApp(runtime.services, default_region=runtime.settings.region, executor=executor)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        executor.shutdown(wait=True)
        runtime.db.dispose()

    well_known = WellKnown(
        runtime.db,
        runtime.services.token_keys,
        runtime.services.issuer,
        runtime.settings.base_url(),
    )
    web = Starlette(
        routes=[Route("/_cognate/health", _health, methods=["GET"]), *well_known.routes()],
        lifespan=lifespan,
    )
    return CognateApp(api, web)


def create_app() -> CognateApp:
    """uvicorn's factory: settings come from the environment (see config.py)."""
    settings = Settings.from_env()
    logs.configure(settings.log_level)  # worker processes start with no logging set up
    return build_app(build_runtime(settings))
