"""Threat protection at sign-in, and the user event history it keeps.

In a pool whose UserPoolAddOns AdvancedSecurityMode is AUDIT or ENFORCED, every sign-in
(success or failure, every flow, the hosted login too), sign-up, password change, forgot
password and resent confirmation code leaves an auth event (AdminListUserAuthEvents):
EventId, EventType, CreationDate, EventResponse (Pass, Fail, or InProgress while a sign-in
waits for an MFA answer), EventRisk, ChallengeResponses (Password, Mfa), EventContextData
(the IP address and the device name (User-Agent); no city or country: there is no
geolocation database) and EventFeedback once given.

ENFORCED mode also acts (AUDIT only records what it assessed, RiskDecision NoRisk):
- an IP address in the effective configuration's BlockedIPRangeList is refused before
  anything else ("Request not allowed due to security reasons."); one in
  SkippedIPRangeList skips risk evaluation;
- a compromised password (risk_engine.BreachedPasswords) with EventAction BLOCK for the
  event (SIGN_IN, SIGN_UP, PASSWORD_CHANGE) is refused; the event says
  CompromisedCredentialsDetected either way. Only flows that send the password can be
  checked (not SRP: Cognito says the same);
- the account-takeover level (risk_engine.risk_level) takes the configured action: BLOCK
  ("Unable to login because of security reasons."), MFA_IF_CONFIGURED (an MFA challenge
  when the user has a usable factor), MFA_REQUIRED (the same, refused when there is none),
  NO_ACTION; with Notify, an email from the NotifyConfiguration's template whose
  {one-click-link-valid} / {one-click-link-invalid} links carry the event's feedback token.

The notification and its feedback token: risk_notices.py.

Recording never breaks what it records: a failing write is logged and dropped. The hooks
are module functions (`screen`, `password_attempt`, ...) so that the sign-in code calls
one line; `install` wires the process's ThreatProtection in (services.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate import metrics
from cognate.api.exceptions import InvalidPasswordException, NotAuthorizedException
from cognate.domain import log_delivery, messages
from cognate.domain import risk_engine as engine
from cognate.domain.auth.context import SignInUser
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.client_auth import ClientScope, fetch_client
from cognate.domain.clock import Clock
from cognate.domain.notifications import Notifier
from cognate.domain.risk_configuration import ENFORCED, OFF, effective, security_mode
from cognate.domain.risk_notices import RiskNotices
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos import threat_protection as repo
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

log = logging.getLogger(__name__)

SIGN_IN, SIGN_UP, FORGOT_PASSWORD = "SignIn", "SignUp", "ForgotPassword"
PASSWORD_CHANGE, RESEND_CODE = "PasswordChange", "ResendCode"
PASS, FAIL, IN_PROGRESS = "Pass", "Fail", "InProgress"
NO_RISK, TAKEOVER, BLOCK = "NoRisk", "AccountTakeover", "Block"
BLOCKED_IP = "Request not allowed due to security reasons."
BLOCKED = "Unable to login because of security reasons."
COMPROMISED = "The password given has been found in a data breach and cannot be used."
IN_PROGRESS_WINDOW_MS = 15 * 60 * 1000

_compromised: ContextVar[bool] = ContextVar("cognate_compromised_password", default=False)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the account-takeover assessment asks of the rest of the sign-in."""

    force_mfa: bool = False
    require_mfa: bool = False


def ip_of(scope: ClientScope, activity: Activity) -> str | None:
    """The address risk is judged by: the UserContextData IpAddress an app passes on for its
    user, when the client propagates user context data; else the request's (for the admin
    operations, their ContextData IpAddress: operations/auth.py)."""
    if activity.claimed_ip and scope.client.settings.get(
        "EnablePropagateAdditionalUserContextData"
    ):
        return activity.claimed_ip
    return activity.ip


def _challenge(name: str, ok: bool) -> dict[str, str]:
    return {"ChallengeName": name, "ChallengeResponse": "Success" if ok else "Failure"}


def _context(ip: str | None, device: str | None) -> dict[str, str]:
    context = {}
    if ip:
        context["IpAddress"] = ip
    if device:
        context["DeviceName"] = device[:256]
    return context


class ThreatProtection:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        notifier: Notifier,
        breached: engine.BreachedPasswords,
        base_url: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._breached = breached
        self.notices = RiskNotices(db, clock, box, notifier, base_url)

    # ------------------------------------------------------------------ sign-in

    def screen(self, scope: ClientScope, found: SignInUser | None, activity: Activity) -> None:
        """The start of a sign-in: refuse an address on the block list (ENFORCED)."""
        _compromised.set(False)
        if security_mode(scope.pool.settings) != ENFORCED:
            return
        ip = ip_of(scope, activity)
        config = self._config(scope)
        blocked = (config.get("RiskExceptionConfiguration") or {}).get("BlockedIPRangeList")
        if engine.in_ranges(ip, blocked):
            if found is not None:
                risk = {"RiskDecision": BLOCK, "CompromisedCredentialsDetected": False}
                self._record(scope.pool.pool, found.row.pk, SIGN_IN, FAIL, activity, scope, risk)
            raise NotAuthorizedException(BLOCKED_IP)

    @contextmanager
    def password_attempt(
        self, scope: ClientScope, user: UserRow, activity: Activity, password: str
    ) -> Iterator[None]:
        """Around the password check of a password flow: a wrong password is a failed
        sign-in; a right one is checked against the breached-password list."""
        mode = security_mode(scope.pool.settings)
        if mode == OFF:
            yield
            return
        try:
            yield
        except NotAuthorizedException as exc:
            if exc.message == messages.INCORRECT_CREDENTIALS:
                self.failed_password(scope, user, activity)
            raise
        compromised = self._breached.contains(password)
        _compromised.set(compromised)
        if not compromised or mode != ENFORCED:
            return
        config = self._config(scope)
        if engine.compromised_action(config, "SIGN_IN") == "BLOCK":
            risk = {"RiskDecision": BLOCK, "CompromisedCredentialsDetected": True}
            challenges = [_challenge("Password", True)]
            self._record(scope.pool.pool, user.pk, SIGN_IN, FAIL, activity, scope, risk, challenges)
            raise NotAuthorizedException(BLOCKED)

    def failed_password(self, scope: ClientScope, user: UserRow, activity: Activity) -> None:
        if security_mode(scope.pool.settings) == OFF:
            return
        risk = {"RiskDecision": NO_RISK, "CompromisedCredentialsDetected": False}
        challenges = [_challenge("Password", False)]
        self._record(scope.pool.pool, user.pk, SIGN_IN, FAIL, activity, scope, risk, challenges)

    def assess(
        self, scope: ClientScope, found: SignInUser, activity: Activity, known_device: bool
    ) -> Verdict:
        """The password is proven: judge the account-takeover risk, record the sign-in
        (InProgress until it completes) and act on it (ENFORCED)."""
        mode = security_mode(scope.pool.settings)
        if mode == OFF:
            return Verdict()
        config = self._config(scope)
        ip = ip_of(scope, activity)
        skipped = (config.get("RiskExceptionConfiguration") or {}).get("SkippedIPRangeList")
        level = None
        if not engine.in_ranges(ip, skipped):
            since = self._clock.now_ms() - engine.FAILURE_WINDOW_MS
            seen = self._db.read("auth_history", lambda c: repo.history(c, found.row.pk, ip, since))
            signals = engine.Signals(
                seen.has_passed, not seen.ip_seen, not known_device, seen.recent_failures
            )
            level = engine.risk_level(signals)
        action = engine.takeover_action(config, level) if level else {}
        event_action = action.get("EventAction", "NO_ACTION") if mode == ENFORCED else "NO_ACTION"
        decision = {"BLOCK": BLOCK, "MFA_IF_CONFIGURED": TAKEOVER, "MFA_REQUIRED": TAKEOVER}
        risk: dict[str, Any] = {
            "RiskDecision": decision.get(event_action, NO_RISK),
            "CompromisedCredentialsDetected": _compromised.get(),
        }
        if level:
            risk["RiskLevel"] = level
        response = FAIL if event_action == "BLOCK" else IN_PROGRESS
        challenges = [_challenge("Password", True)]
        event_id = self._record(
            scope.pool.pool, found.row.pk, SIGN_IN, response, activity, scope, risk, challenges
        )
        if mode == ENFORCED and action.get("Notify") and event_id is not None:
            ip, device = ip_of(scope, activity), activity.device_type
            pool = scope.pool.pool
            self.notices.notify(pool, found, config, event_action, event_id, ip=ip, device=device)
        if event_action == "BLOCK":
            raise NotAuthorizedException(BLOCKED)
        if event_action in ("MFA_IF_CONFIGURED", "MFA_REQUIRED"):
            return Verdict(force_mfa=True, require_mfa=event_action == "MFA_REQUIRED")
        return Verdict()

    def refuse_without_mfa(self, scope: ClientScope, found: SignInUser) -> NotAuthorizedException:
        """MFA_REQUIRED for a user who has no MFA factor: the sign-in is blocked."""
        self._finish(scope, found, FAIL, None, block=True)
        return NotAuthorizedException(BLOCKED)

    def mfa_answered(self, scope: ClientScope, found: SignInUser, ok: bool) -> None:
        if security_mode(scope.pool.settings) != OFF:
            self._finish(scope, found, IN_PROGRESS, _challenge("Mfa", ok))

    def signed_in(self, scope: ClientScope, found: SignInUser, activity: Activity) -> None:
        """Tokens are issued: the sign-in's event passes (one is made for flows that were
        not assessed: custom, passwordless, passkey sign-ins)."""
        if security_mode(scope.pool.settings) == OFF:
            return
        if not self._finish(scope, found, PASS, None):
            risk = {"RiskDecision": NO_RISK, "CompromisedCredentialsDetected": False}
            self._record(scope.pool.pool, found.row.pk, SIGN_IN, PASS, activity, scope, risk)

    def _finish(
        self,
        scope: ClientScope,
        found: SignInUser,
        response: str,
        challenge: dict[str, str] | None,
        *,
        block: bool = False,
    ) -> bool:
        """Update the user's sign-in in progress; False when there is none."""
        since = self._clock.now_ms() - IN_PROGRESS_WINDOW_MS

        def update(conn: Connection) -> bool:
            event = repo.latest_in_progress(conn, found.row.pk, since)
            if event is None:
                return False
            details = dict(event.details)
            if challenge is not None:
                details["ChallengeResponses"] = [*details.get("ChallengeResponses", []), challenge]
            if block:
                details["EventRisk"] = {**details.get("EventRisk", {}), "RiskDecision": BLOCK}
            repo.update_event(conn, event.pk, response=response, details=details)
            return True

        try:
            return self._db.write("auth_event_update", update)
        except Exception:
            log.warning("auth event not updated", exc_info=True)
            return True

    # ------------------------------------------------------------------ account events

    def check_password(
        self, pool: PoolRow, client_pk: int | None, user_pk: int | None, password: str, kind: str
    ) -> bool:
        """SIGN_UP / PASSWORD_CHANGE: whether the new password is compromised; refused
        when the effective configuration blocks it (ENFORCED)."""
        mode = security_mode(pool.settings)
        if mode == OFF or not self._breached.contains(password):
            return False
        if mode == ENFORCED and client_pk is not None:
            config = self._db.read("risk_config", lambda c: effective(c, pool.pk, client_pk))
            if engine.compromised_action(config, kind) == "BLOCK":
                if user_pk is not None:
                    risk = {"RiskDecision": BLOCK, "CompromisedCredentialsDetected": True}
                    event = PASSWORD_CHANGE if kind == "PASSWORD_CHANGE" else SIGN_UP
                    self._record(pool, user_pk, event, FAIL, Activity(), None, risk)
                raise InvalidPasswordException(COMPROMISED)
        return True

    def check_sign_up(self, client_id: str, password: str | None) -> None:
        """SignUp's password against the breached-password list (before anything else of
        the sign-up is checked: the list is only consulted when one is configured)."""
        if not password or not self._breached.configured:
            return
        scope = fetch_client(self._db.fetch, client_id)
        pool = scope.pool.pool
        _compromised.set(self.check_password(pool, scope.client.pk, None, password, "SIGN_UP"))

    def account_event(
        self,
        conn: Connection,
        pool: PoolRow,
        user_pk: int,
        event_type: str,
        *,
        compromised: bool | None = None,
        ip: str | None = None,
    ) -> None:
        """An event of a sign-up, password change, forgot password or resent code, written
        in the operation's own transaction (under a savepoint: a failure is dropped)."""
        if security_mode(pool.settings) == OFF:
            return
        if compromised is None:  # SignUp's, checked before its transaction
            compromised = _compromised.get()
        risk = {"RiskDecision": NO_RISK, "CompromisedCredentialsDetected": compromised}
        details = {
            "EventRisk": risk,
            "ChallengeResponses": [],
            "EventContextData": _context(ip, None),
        }
        event_id = str(uuid.uuid4())
        try:
            with conn.begin_nested():
                repo.add_event(
                    conn,
                    pool_pk=pool.pk,
                    user_pk=user_pk,
                    event_id=event_id,
                    event_type=event_type,
                    response=PASS,
                    ip=ip,
                    details=details,
                    now=self._clock.now_ms(),
                )
        except Exception:
            log.warning("auth event not recorded", exc_info=True)
            return
        self._export(pool.pk, user_pk, event_id, event_type, PASS, details, conn)

    # ------------------------------------------------------------------ internals

    def _export(
        self,
        pool_pk: int,
        user_pk: int,
        event_id: str,
        event_type: str,
        response: str,
        details: dict[str, Any],
        conn: Connection | None = None,
    ) -> None:
        """The event as a userAuthEvents log record, when the pool exports them
        (SetLogDeliveryConfiguration); best effort, like every exported log. `conn`: the
        operation's own transaction, when the event is written in it (a new user)."""
        try:
            if not log_delivery.logs(pool_pk, log_delivery.USER_AUTH_EVENTS):
                return
            if conn is not None:
                user = users_repo.by_pk(conn, user_pk)
            else:
                user = self._db.read("auth_event_user", lambda c: users_repo.by_pk(c, user_pk))
            record: dict[str, Any] = {
                "eventId": event_id,
                "eventType": event_type,
                "eventResponse": response,
                "userName": user.username if user is not None else None,
                "userSub": user.sub if user is not None else None,
                "eventRisk": details.get("EventRisk") or {},
                "challengeResponses": details.get("ChallengeResponses") or [],
                "eventContextData": details.get("EventContextData") or {},
            }
            log_delivery.emit_log(pool_pk, log_delivery.USER_AUTH_EVENTS, record)
        except Exception:
            log.warning("auth event not exported", exc_info=True)

    def _config(self, scope: ClientScope) -> dict[str, Any]:
        pool_pk, client_pk = scope.pool.pool.pk, scope.client.pk
        return self._db.read("risk_config", lambda c: effective(c, pool_pk, client_pk))

    def _record(
        self,
        pool: PoolRow,
        user_pk: int,
        event_type: str,
        response: str,
        activity: Activity,
        scope: ClientScope | None,
        risk: dict[str, Any],
        challenges: list[dict[str, str]] | None = None,
    ) -> str | None:
        """One INSERT in a transaction of its own; the event id, or None if it failed."""
        ip = ip_of(scope, activity) if scope is not None else activity.ip
        details = {
            "EventRisk": risk,
            "ChallengeResponses": challenges or [],
            "EventContextData": _context(ip, activity.device_type),
        }
        event_id = str(uuid.uuid4())
        now = self._clock.now_ms()

        def insert(conn: Connection) -> None:
            repo.add_event(
                conn,
                pool_pk=pool.pk,
                user_pk=user_pk,
                event_id=event_id,
                event_type=event_type,
                response=response,
                ip=ip,
                details=details,
                now=now,
            )

        try:
            self._db.write("auth_event", insert)
        except Exception:
            log.warning("auth event not recorded", exc_info=True)
            return None
        self._export(pool.pk, user_pk, event_id, event_type, response, details)
        return event_id


# ---------------------------------------------------------------------- the hooks

_installed: list[ThreatProtection] = []


def install_threat_protection(protection: ThreatProtection) -> None:
    _installed[:] = [protection]


def installed() -> ThreatProtection | None:
    return _installed[0] if _installed else None


def screen(scope: ClientScope, found: SignInUser | None, activity: Activity) -> None:
    if _installed:
        _installed[0].screen(scope, found, activity)


@contextmanager
def password_attempt(
    scope: ClientScope, user: UserRow, activity: Activity, password: str
) -> Iterator[None]:
    if not _installed:
        yield
        return
    with _installed[0].password_attempt(scope, user, activity, password):
        yield


def failed_password(scope: ClientScope, user: UserRow, activity: Activity) -> None:
    if _installed:
        _installed[0].failed_password(scope, user, activity)


def assess(
    scope: ClientScope, found: SignInUser, activity: Activity, known_device: bool
) -> Verdict:
    return _installed[0].assess(scope, found, activity, known_device) if _installed else Verdict()


def refuse_without_mfa(scope: ClientScope, found: SignInUser) -> NotAuthorizedException:
    if _installed:
        return _installed[0].refuse_without_mfa(scope, found)
    return NotAuthorizedException(BLOCKED)


def mfa_answered(scope: ClientScope, found: SignInUser, ok: bool) -> None:
    if _installed:
        _installed[0].mfa_answered(scope, found, ok)


def signed_in(scope: ClientScope, found: SignInUser, activity: Activity) -> None:
    metrics.signed_in()  # cognate_sign_ins_total
    if _installed:
        _installed[0].signed_in(scope, found, activity)


def account_event(
    conn: Connection,
    pool: PoolRow,
    user_pk: int,
    event_type: str,
    *,
    compromised: bool | None = None,
    ip: str | None = None,
) -> None:
    if _installed:
        _installed[0].account_event(conn, pool, user_pk, event_type, compromised=compromised, ip=ip)


def check_sign_up(client_id: str, password: str | None) -> None:
    if _installed:
        _installed[0].check_sign_up(client_id, password)


def check_password(
    pool: PoolRow, client_pk: int | None, user_pk: int | None, password: str, kind: str
) -> bool:
    if not _installed:
        return False
    return _installed[0].check_password(pool, client_pk, user_pk, password, kind)
