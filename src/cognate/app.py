"""The composition root: Settings -> Database -> services -> the Starlette application.

`build_runtime` opens the database, checks that its schema is current and that the
master key is the one the database was sealed with, and wires the services. `create_app`
is the factory uvicorn imports in every worker process; it reads the settings from the
environment (the CLI writes them there before starting workers).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

import cognate.operations  # noqa: F401  (registers every operation handler)
from cognate import logs
from cognate.config import Settings
from cognate.delivery.custom_senders import CustomSenders, SenderKey, sender_key_path
from cognate.delivery.log_export import LogExporter, parse_destinations
from cognate.delivery.sender import OutboxSender, transports
from cognate.domain.clock import Clock, SystemClock
from cognate.domain.controls import ClockControl, ControlClock, ControlState
from cognate.domain.dev_outbox import DevOutbox
from cognate.domain.faults import FaultInjector
from cognate.domain.notifications import EMAIL, SMS, Notifier
from cognate.domain.secretbox import MasterKeyError, SecretBox, decode_key, load_or_create_key_file
from cognate.domain.user_import_runner import UserImportRunner
from cognate.services import Services, build_services
from cognate.storage import migrate
from cognate.storage.db import Database
from cognate.storage.repos import meta as meta_repo
from cognate.web.admin.auth import AdminAuth
from cognate.web.admin.routes import AdminConsole
from cognate.web.assets import AssetRoutes
from cognate.web.auth_event_feedback import FeedbackRoutes
from cognate.web.controls import ControlRoutes
from cognate.web.dev_outbox import DevOutboxRoutes
from cognate.web.health import HealthRoutes, health
from cognate.web.input_guard import RefuseNulCharacters
from cognate.web.oauth.endpoints import DomainEndpoints
from cognate.web.oauth.federation import FederationPages
from cognate.web.oauth.routing import DomainNames, rewrite_for_host
from cognate.web.oauth.saml_endpoints import SamlEndpoints
from cognate.web.user_imports import UploadRoutes
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
    sender: OutboxSender
    log_exporter: LogExporter
    imports: UserImportRunner
    controls: Controls | None = None
    """The test controls, when the test_controls setting has them on."""
    admin_key: bytes = b""
    """Signs the admin console's cookies (derived from the master key)."""


@dataclass(frozen=True, slots=True)
class Controls:
    clock: ClockControl
    faults: FaultInjector


def _declared_errors(operation: str) -> frozenset[str] | None:
    return model.error_names(operation) if model.operation_model(operation) else None


def build_controls(db: Database, clock: Clock | None) -> tuple[Clock, Controls]:
    """The test controls, and the domain's clock: the shared moved clock, over `clock`."""
    state = ControlState(db)
    controls = Controls(ClockControl(db, state), FaultInjector(db, state, _declared_errors))
    return ControlClock(state, clock), controls


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
    db = Database(settings.db, pool_size=settings.threads)
    migrate.require_current(db)
    controls = None
    if settings.test_controls_enabled():
        clock, controls = build_controls(db, clock)
    clock = clock or SystemClock()
    box = SecretBox(master_key(settings))
    check_master_key(db, box)
    outbox_bell = threading.Event()
    email, sms = transports(settings)
    held = frozenset(
        channel for channel, transport in ((EMAIL, email), (SMS, sms)) if transport is None
    )
    notifier = Notifier(box, held_channels=held, on_queue=outbox_bell.set)
    services = build_services(settings, db, box, clock, notifier)
    sender = OutboxSender(
        db,
        clock,
        notifier,
        email=email,
        sms=sms,
        default_from=settings.smtp_from,
        wake=outbox_bell,
        custom_senders=CustomSenders(services.triggers, SenderKey(sender_key_path(settings))),
    )
    imports = UserImportRunner(db, clock, settings.data_dir(), wake=services.user_imports.bell)
    log_exporter = LogExporter(parse_destinations(settings.log_destinations))
    services.log_delivery.use_sink(log_exporter)
    model.warm_up()
    return Runtime(
        settings,
        db,
        services,
        sender,
        log_exporter,
        imports,
        controls,
        admin_key=box.derived_key("admin-console-session"),
    )


class CognateApp:
    """The process's ASGI app: the API on `/`, everything else (web endpoints) by Starlette.

    The API is dispatched before any framework code runs, because it is the hot path; the
    web side gets the lifespan events and every other path.
    """

    def __init__(
        self,
        api: ApiApp,
        web: Starlette,
        domains: DomainNames | None = None,
        public_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.api = api
        self.web = web
        self.domains = domains
        self.public_hosts = public_hosts

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.domains is not None:
            host = _host(scope)
            if host and self.domains.is_domain_host(host, scope["path"], self.public_hosts):
                await self.web(rewrite_for_host(scope, host), receive, send)
                return
        if scope["type"] == "http" and scope["path"] == "/":
            await self.api(scope, receive, send)
        else:
            if scope["type"] == "http":  # this request's task: its log lines carry the id
                logs.request_id.set(str(uuid.uuid4()))
            await self.web(scope, receive, send)


def build_app(runtime: Runtime) -> CognateApp:
    executor = ThreadPoolExecutor(
        max_workers=runtime.settings.threads, thread_name_prefix="cognate-request"
    )
    api = ApiApp(
        runtime.services,
        default_region=runtime.settings.region,
        executor=executor,
        faults=runtime.controls.faults if runtime.controls else None,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        runtime.sender.start()
        runtime.log_exporter.start()
        runtime.imports.start()
        yield
        executor.shutdown(wait=True)
        runtime.imports.stop()
        runtime.sender.stop()
        runtime.log_exporter.stop()
        runtime.services.outbound.close()
        runtime.db.dispose()

    well_known = WellKnown(
        runtime.db,
        runtime.services.token_keys,
        runtime.services.issuer,
        runtime.settings.base_url(),
    )
    services = runtime.services
    names = DomainNames(runtime.db, runtime.settings.region, runtime.settings.auth_domain_base)
    domains = DomainEndpoints(
        runtime.db,
        names,
        services.hosted_sign_in,
        services.oauth_tokens,
        services.access,
        services.account,
        services.token_keys,
        well_known,
        services.hosted_challenges,
        account_pages=services.hosted_account,
        federation=lambda grant: FederationPages(
            runtime.db,
            services.hosted_sign_in,
            services.pending_sign_ins,
            services.provider_sign_in,
            services.federated_users,
            services.outbound,
            grant,
            saml=SamlEndpoints(
                runtime.db, services.saml, services.hosted_sign_in, services.federated_users, grant
            ),
        ),
    )
    routes = [
        Route("/_cognate/health", health, methods=["GET"]),
        *HealthRoutes(runtime.db).routes(),
        *domains.routes(),
        *well_known.routes(),
    ]
    routes += UploadRoutes(runtime.services.user_imports).routes()
    routes += FeedbackRoutes(runtime.services.auth_event_history).routes()
    routes += AssetRoutes(runtime.services.ui_customization, runtime.services.branding).routes()
    if runtime.settings.dev_outbox_enabled():
        outbox = DevOutbox(runtime.db, runtime.services.notifier)
        routes += DevOutboxRoutes(outbox).routes()
    if runtime.controls is not None:
        routes += ControlRoutes(runtime.controls.clock, runtime.controls.faults).routes()
    public_hosts = _public_hosts(runtime.settings)
    routes += admin_console(runtime, names, public_hosts)
    web = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RefuseNulCharacters)])
    return CognateApp(api, web, names, public_hosts)


def admin_console(
    runtime: Runtime, names: DomainNames, public_hosts: frozenset[str]
) -> list[Route]:
    """The admin console's routes (web/admin), or none when no admin password is set."""
    secret = runtime.settings.admin_secret()
    if not secret:
        return []
    secure = runtime.settings.base_url().startswith("https:")
    auth = AdminAuth(secret, runtime.admin_key, secure=secure)

    def is_pool_domain(host: str) -> bool:
        name = host.lower().split(":", 1)[0]
        return name not in public_hosts and names.find(name) is not None

    return AdminConsole(runtime.services, auth, is_pool_domain).routes()


def _host(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"host":
            return str(value.decode("latin-1"))
    return ""


def _public_hosts(settings: Settings) -> frozenset[str]:
    """Host names that are this server itself, not a pool domain."""
    hosts = {"localhost", "127.0.0.1", settings.public_host.lower(), settings.host.lower()}
    url_host = urlsplit(settings.base_url()).hostname
    if url_host:
        hosts.add(url_host.lower())
    return frozenset(hosts)


def create_app() -> CognateApp:
    """uvicorn's factory: settings come from the environment (see config.py)."""
    settings = Settings.from_env()
    # Worker processes start with no logging set up.
    logs.configure(settings.log_level, settings.log_format)
    return build_app(build_runtime(settings))
