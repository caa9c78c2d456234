"""The domain services one process runs, as handed to every operation handler, and their
wiring (`build_services`)."""

from __future__ import annotations

from dataclasses import dataclass

from cognate.config import Settings
from cognate.domain.account_codes import AccountCodes
from cognate.domain.api_access import ApiAccess
from cognate.domain.auth.access import AccessCheck
from cognate.domain.auth.account import AccountService
from cognate.domain.auth.auth_triggers import AuthTriggers
from cognate.domain.auth.challenges import RespondToAuthChallenge
from cognate.domain.auth.client_tokens import ClientTokens
from cognate.domain.auth.completion import Completion
from cognate.domain.auth.custom_auth import CustomAuth
from cognate.domain.auth.derived_tokens import DerivedTokens
from cognate.domain.auth.device_auth import DeviceAuth
from cognate.domain.auth.flows import InitiateAuth
from cognate.domain.auth.mfa_challenge import MfaChallenges
from cognate.domain.auth.passkey_challenge import PasskeyChallenge
from cognate.domain.auth.password_check import PasswordCheck
from cognate.domain.auth.refresh import RefreshService
from cognate.domain.auth.steps import SignInSteps, StepDeps
from cognate.domain.auth.token_customization import TokenCustomization
from cognate.domain.auth.token_sessions import TokenSessions
from cognate.domain.auth.user_sessions import UserSessionsService
from cognate.domain.auth_event_history import AuthEventHistory
from cognate.domain.auth_events import ThreatProtection, install_threat_protection
from cognate.domain.branding import BrandingService
from cognate.domain.challenge_sessions import ChallengeSessions
from cognate.domain.clients import ClientService
from cognate.domain.clock import Clock
from cognate.domain.devices import DeviceService
from cognate.domain.domains import DomainService
from cognate.domain.federation.cimd import CIMDService
from cognate.domain.federation.cimd_clients import URLClients
from cognate.domain.federation.cimd_clients import install as install_url_clients
from cognate.domain.federation.links import ProviderLinks
from cognate.domain.federation.oidc import ProviderSignIn
from cognate.domain.federation.pending import PendingSignIns
from cognate.domain.federation.providers import IdentityProviderService
from cognate.domain.federation.saml import SamlFederation
from cognate.domain.federation.users import FederatedUsers
from cognate.domain.groups import GroupService
from cognate.domain.keys import KeyService
from cognate.domain.log_delivery import LogDeliveryService
from cognate.domain.log_delivery import install as install_log_delivery
from cognate.domain.mfa_settings import MfaSettings
from cognate.domain.notifications import Notifier
from cognate.domain.oauth.account import HostedAccount
from cognate.domain.oauth.challenges import HostedChallenges
from cognate.domain.oauth.grants import OAuthTokens
from cognate.domain.oauth.hosted import HostedSignIn
from cognate.domain.pagination import PageTokens
from cognate.domain.passkeys import PasskeyService
from cognate.domain.point_in_time import PointInTimeRecoveryService
from cognate.domain.pool_mfa import PoolMfaService
from cognate.domain.pools import PoolService
from cognate.domain.rate_limits import RateLimits
from cognate.domain.replicas import ReplicaService
from cognate.domain.resource_servers import ResourceServerService
from cognate.domain.risk_configuration import RiskConfigurationService
from cognate.domain.risk_engine import BreachedPasswords
from cognate.domain.secretbox import SecretBox
from cognate.domain.self_attributes import SelfAttributes
from cognate.domain.sign_up import SignUpService
from cognate.domain.tags import TagService
from cognate.domain.terms import TermsService
from cognate.domain.token_keys import TokenKeys
from cognate.domain.tokens import TokenIssuer
from cognate.domain.triggers import Triggers
from cognate.domain.ui_customization import UICustomizationService
from cognate.domain.user_imports import ImportUrls, UserImportService
from cognate.domain.user_migration import UserMigration
from cognate.domain.user_passwords import UserPasswordService
from cognate.domain.user_search import UserSearch
from cognate.domain.user_store import PasswordVault
from cognate.domain.users import UserService
from cognate.functions.router import FunctionRouter, parse_rules
from cognate.outbound.http import Outbound
from cognate.outbound.origins import OriginMap
from cognate.storage.db import Database


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
    replicas: ReplicaService
    point_in_time: PointInTimeRecoveryService
    client_tokens: ClientTokens
    derived_tokens: DerivedTokens
    notifier: Notifier
    account_codes: AccountCodes
    mfa_settings: MfaSettings
    devices: DeviceService
    passkeys: PasskeyService
    triggers: Triggers
    self_attributes: SelfAttributes
    hosted_sign_in: HostedSignIn
    hosted_challenges: HostedChallenges
    oauth_tokens: OAuthTokens
    access: AccessCheck
    ui_customization: UICustomizationService
    branding: BrandingService
    terms: TermsService
    hosted_account: HostedAccount
    outbound: Outbound
    identity_providers: IdentityProviderService
    provider_links: ProviderLinks
    pending_sign_ins: PendingSignIns  # federated sign-ins waiting at their provider
    provider_sign_in: ProviderSignIn  # OIDC / social providers' side of a sign-in
    federated_users: FederatedUsers  # a provider's identity -> the pool's user
    cimd: CIMDService
    saml: SamlFederation  # SAML providers' side of a sign-in (pysaml2)
    risk_configuration: RiskConfigurationService
    auth_event_history: AuthEventHistory  # threat protection's user event history
    rate_limits: RateLimits  # API request rates per category (the endpoint checks them)
    api_access: ApiAccess  # open mode, or secure mode's keys and policies (the endpoint checks)
    log_delivery: LogDeliveryService  # exported pool logs (emit_log)
    user_imports: UserImportService  # CSV user import jobs (run by UserImportRunner)


def build_services(
    settings: Settings,
    db: Database,
    box: SecretBox,
    clock: Clock,
    notifier: Notifier,
    *,
    triggers: Triggers | None = None,
) -> Services:
    """Wire the domain services of one process (`triggers`: in place of the ones the
    settings map, e.g. none at all for `cognate serve --seed`)."""
    tokens = PageTokens(box.derived_key("pagination"))
    outbound = Outbound(
        settings.outbound_ca_bundle, origins=OriginMap.parse(settings.federation_endpoints)
    )
    url_clients = URLClients(db, clock, outbound)
    install_url_clients(url_clients)  # CIMD client ids at the pool domain's endpoints
    triggers = triggers or Triggers(
        FunctionRouter(parse_rules(settings.triggers)), settings.trigger_timeout_ms / 1000
    )
    notifier.use_triggers(triggers)  # CustomMessage and the custom senders
    vault = PasswordVault(box)
    keys = KeyService(db, clock, box)
    token_keys = TokenKeys(db, keys, box, clock)
    issuer = TokenIssuer(token_keys, clock, settings.base_url(), settings.issuer)
    token_sessions = TokenSessions(db, clock)
    password_check = PasswordCheck(db, clock, vault)
    access = AccessCheck(db, issuer)
    devices = DeviceService(db, clock, box, access, tokens, settings.account_id)
    passkeys = PasskeyService(db, clock, access, tokens, settings.public_host)
    auth_triggers = AuthTriggers(triggers)
    customization = TokenCustomization(triggers)
    completion = Completion(
        db, clock, token_sessions, issuer, devices, auth_triggers, customization
    )
    challenges = ChallengeSessions(db, box, clock)
    step_deps = StepDeps(
        db=db,
        vault=vault,
        passwords=password_check,
        challenges=challenges,
        completion=completion,
        simulation_key=box.derived_key("srp-simulation"),
        mfa=MfaChallenges(db, clock, box, notifier, challenges),
        device_auth=DeviceAuth(db, clock, box, devices, challenges),
        passkeys=PasskeyChallenge(db, challenges, settings.public_host),
    )
    steps = SignInSteps(step_deps)
    custom_auth = CustomAuth(db, challenges, triggers)
    migration = UserMigration(db, clock, vault, notifier, triggers)
    refresh = RefreshService(db, clock, box, token_sessions, issuer, customization)
    hosted = HostedSignIn(db, clock, challenges)
    respond_to_auth = RespondToAuthChallenge(step_deps, steps, clock, box, custom_auth)
    mfa_settings = MfaSettings(db, clock, box, access, challenges)
    account = AccountService(db, clock, box, vault, access, password_check, token_sessions)
    protection = ThreatProtection(
        db,
        clock,
        box,
        notifier,
        BreachedPasswords(settings.breached_passwords_file),
        settings.base_url(),
    )
    install_threat_protection(protection)  # the sign-in code's hooks (auth_events.py)
    log_delivery = LogDeliveryService(db, clock)
    install_log_delivery(log_delivery)  # emit_log() anywhere in the process
    return Services(
        pools=PoolService(db, clock, tokens, settings.account_id),
        pool_mfa=PoolMfaService(db, clock),
        clients=ClientService(db, clock, tokens, box),
        domains=DomainService(db, clock, settings.account_id, settings.public_host),
        tags=TagService(db, settings.account_id),
        keys=keys,
        users=UserService(db, clock, vault, notifier, triggers),
        user_passwords=UserPasswordService(db, clock, vault, notifier, triggers),
        user_search=UserSearch(db, tokens),
        groups=GroupService(db, clock, tokens),
        sign_up=SignUpService(db, clock, box, vault, notifier, triggers),
        token_keys=token_keys,
        issuer=issuer,
        initiate_auth=InitiateAuth(
            db,
            box,
            steps,
            refresh,
            custom_auth,
            auth_triggers,
            migrate=migration.migrate_on_sign_in,
        ),
        respond_to_auth=respond_to_auth,
        refresh=refresh,
        account=account,
        user_sessions=UserSessionsService(db, clock, access, token_sessions),
        resource_servers=ResourceServerService(db, clock, tokens),
        replicas=ReplicaService(db, clock, tokens, settings.account_id),
        point_in_time=PointInTimeRecoveryService(db, clock, tokens),
        client_tokens=ClientTokens(db, box, issuer, customization),
        derived_tokens=DerivedTokens(db, box, token_keys, issuer, clock),
        notifier=notifier,
        account_codes=AccountCodes(db, clock, box, vault, notifier, triggers, migration),
        mfa_settings=mfa_settings,
        devices=devices,
        passkeys=passkeys,
        triggers=triggers,
        self_attributes=SelfAttributes(db, clock, access, notifier),
        hosted_sign_in=hosted,
        hosted_challenges=HostedChallenges(
            db,
            box,
            challenges,
            steps,
            respond_to_auth,
            mfa_settings,
            access,
            account,
            auth_triggers,
            hosted,
            migrate=migration.migrate_on_sign_in,
        ),
        oauth_tokens=OAuthTokens(db, clock, box, challenges, token_sessions, issuer, customization),
        access=access,
        ui_customization=UICustomizationService(db, clock, settings.base_url()),
        branding=BrandingService(db, clock),
        terms=TermsService(db, clock, tokens),
        hosted_account=HostedAccount(
            db,
            box,
            challenges,
            SignUpService(db, clock, box, vault, notifier, triggers),
            AccountCodes(db, clock, box, vault, notifier, triggers, migration),
            settings.base_url(),
        ),
        outbound=outbound,
        identity_providers=IdentityProviderService(db, clock, tokens, box, outbound),
        provider_links=ProviderLinks(db, clock),
        pending_sign_ins=PendingSignIns(db, challenges),
        provider_sign_in=ProviderSignIn(box, outbound, clock),
        federated_users=FederatedUsers(db, clock, triggers, hosted),
        cimd=CIMDService(db, clock, tokens, url_clients),
        saml=SamlFederation(db, box, keys, challenges, PendingSignIns(db, challenges)),
        risk_configuration=RiskConfigurationService(db, clock),
        auth_event_history=AuthEventHistory(db, clock, tokens, protection),
        rate_limits=RateLimits(db, clock, settings.rate_limits),
        api_access=ApiAccess(
            db,
            clock,
            settings.access_keys() if settings.auth == "secure" else None,
            settings.account_id,
        ),
        log_delivery=log_delivery,
        user_imports=UserImportService(
            db,
            clock,
            tokens,
            ImportUrls(box.derived_key("user-import-upload"), settings.base_url()),
        ),
    )
