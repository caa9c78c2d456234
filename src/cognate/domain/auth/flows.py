"""InitiateAuth and AdminInitiateAuth: which flow, for which client, first step.

Flows (AuthFlow): USER_SRP_AUTH and USER_PASSWORD_AUTH (both operations; Cognito refuses
USER_PASSWORD_AUTH on AdminInitiateAuth), ADMIN_USER_PASSWORD_AUTH and the legacy
ADMIN_NO_SRP_AUTH (AdminInitiateAuth only), REFRESH_TOKEN_AUTH / REFRESH_TOKEN,
CUSTOM_AUTH (the Define/Create/VerifyAuthChallenge triggers: custom_auth.py), and
USER_AUTH (choice-based: a PREFERRED_CHALLENGE the user can use — PASSWORD, PASSWORD_SRP,
EMAIL_OTP, SMS_OTP, WEB_AUTHN — goes straight to it, otherwise SELECT_CHALLENGE lists the
factors). The MFA step that follows a password is mfa_challenge.py's.

Before the first step: an unknown user of a password flow may be migrated (the
UserMigration trigger), and the PreAuthentication trigger may deny the sign-in.

Order of checks: the operation/flow pairing, the client, the client's ExplicitAuthFlows,
the required parameters, SECRET_HASH, then the user.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from cognate import metrics
from cognate.api.exceptions import (
    FeatureUnavailableInTierException,
    InvalidParameterException,
)
from cognate.domain import auth_events, messages
from cognate.domain.auth.auth_triggers import AuthTriggers
from cognate.domain.auth.context import (
    SignInUser,
    admin_client_of,
    check_client_secret_hash,
    client_of,
    find_sign_in_user,
    prevents_user_existence_errors,
    require_flow,
    require_parameter,
)
from cognate.domain.auth.custom_auth import CustomAuth, history_entry
from cognate.domain.auth.refresh import RefreshService
from cognate.domain.auth.steps import PASSWORDLESS, SignInSteps
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.client_auth import ClientScope
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database

_ADMIN_ONLY = frozenset({"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})
_PUBLIC_ONLY = frozenset({"USER_PASSWORD_AUTH"})
_REFRESH = frozenset({"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})
_PASSWORD_FLOWS = frozenset({"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"})


Migrate = Callable[[ClientScope, str, str, Activity], SignInUser | None]


class InitiateAuth:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        steps: SignInSteps,
        refresh: RefreshService,
        custom: CustomAuth,
        auth_triggers: AuthTriggers,
        migrate: Migrate | None = None,
    ) -> None:
        self._db = db
        self._box = box
        self._steps = steps
        self._refresh = refresh
        self._custom = custom
        self._auth_triggers = auth_triggers
        self._migrate = migrate

    def initiate(
        self, region: str, request: dict[str, Any], *, admin: bool, activity: Activity
    ) -> dict[str, Any]:
        with metrics.sign_in_attempt(request["AuthFlow"]):  # cognate_sign_ins_total
            return self._initiate(region, request, admin=admin, activity=activity)

    def _initiate(
        self, region: str, request: dict[str, Any], *, admin: bool, activity: Activity
    ) -> dict[str, Any]:
        flow = request["AuthFlow"]
        params: dict[str, str] = request.get("AuthParameters") or {}
        if flow in (_PUBLIC_ONLY if admin else _ADMIN_ONLY):
            raise InvalidParameterException(messages.INITIATE_AUTH_NOT_SUPPORTED)
        client_id = request["ClientId"]
        if admin:
            scope = admin_client_of(self._db, region, request["UserPoolId"], client_id)
        else:
            scope = client_of(self._db, client_id)
        if flow in _REFRESH:
            return self._refresh.refresh_token_auth(scope, params, flow, activity)
        require_flow(scope.client, flow)
        username = require_parameter(params, "USERNAME")
        if flow == "USER_SRP_AUTH":
            srp_a = require_parameter(params, "SRP_A")
        elif flow in _PASSWORD_FLOWS:
            password = require_parameter(params, "PASSWORD")
        elif flow == "USER_AUTH" and scope.pool.settings.get("UserPoolTier") == "LITE":
            raise FeatureUnavailableInTierException(
                "Choice-based sign-in (USER_AUTH) is not available in the LITE tier."
            )
        elif flow == "CUSTOM_AUTH":
            self._custom.check_configured(scope)
            custom: dict[str, Any] = {"history": []}
            if params.get("CHALLENGE_NAME") == "SRP_A":
                custom = {"history": [history_entry("SRP_A", True)]}
                custom["srp_a"] = require_parameter(params, "SRP_A")

        check_client_secret_hash(self._db, self._box, scope, username, params.get("SECRET_HASH"))
        found = find_sign_in_user(self._db, scope.pool, username)
        if found is None and flow in _PASSWORD_FLOWS and self._migrate is not None:
            found = self._migrate(scope, username, password, activity)
        auth_events.screen(scope, found, activity)  # threat protection's IP block list
        if found is not None or prevents_user_existence_errors(scope.client):
            self._auth_triggers.pre_authentication(scope, found, username, activity)
        # InitiateAuth's ClientMetadata reaches PreSignUp, PreAuthentication and UserMigration
        # only (the API reference): the later triggers of this call do not see it.
        activity = dataclasses.replace(activity, client_metadata={})
        device_key = params.get("DEVICE_KEY") or None
        if flow == "CUSTOM_AUTH":
            if found is not None:  # disabled, unconfirmed, locked out: refused at once
                self._steps.check_can_sign_in(found)
            outcome = self._custom.start(scope, found, username, activity, custom)
            return self._steps.custom_outcome(scope, found, username, outcome, activity, custom)
        if flow == "USER_SRP_AUTH":
            return self._steps.start_srp(scope, found, username, srp_a, device_key)
        if flow in _PASSWORD_FLOWS:
            return self._steps.password(scope, found, password, activity, device_key)
        return self._user_auth(scope, found, username, params, activity)

    def _user_auth(
        self,
        scope: ClientScope,
        found: Any,
        username: str,
        params: dict[str, str],
        activity: Activity,
    ) -> dict[str, Any]:
        """USER_AUTH: the preferred first factor when it can be used, else the menu."""
        preferred = params.get("PREFERRED_CHALLENGE")
        available = self._steps.available_factors(scope, found)
        if preferred == "PASSWORD" and "PASSWORD" in available and params.get("PASSWORD"):
            return self._steps.password(scope, found, params["PASSWORD"], activity)
        if preferred == "PASSWORD_SRP" and "PASSWORD_SRP" in available and params.get("SRP_A"):
            return self._steps.start_srp(scope, found, username, params["SRP_A"])
        if preferred in PASSWORDLESS and preferred in available and found is not None:
            return self._steps.first_factor(scope, found, preferred)
        return self._steps.select_challenge(scope, found, username)
