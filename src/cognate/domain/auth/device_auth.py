"""Signing in with a remembered device: DEVICE_SRP_AUTH -> DEVICE_PASSWORD_VERIFIER.

A sign-in that names a confirmed device (DEVICE_KEY) proves the device too, with the same
SRP as passwords: the device's group key plays the pool name, its key the user id, and
the random password the client made at ConfirmDevice the password (the server has its
salt and verifier). When the device is remembered and the pool's DeviceConfiguration has
ChallengeRequiredOnNewDevice, the device proof replaces MFA; otherwise it follows MFA.
A wrong device proof fails like a wrong password.
"""

from __future__ import annotations

from typing import Any

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain import messages
from cognate.domain.auth import srp_exchange
from cognate.domain.auth.context import SignInUser, require_parameter
from cognate.domain.challenge_sessions import Challenge, ChallengeSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.devices import REMEMBERED, DeviceService, verifier_of
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos.devices import DeviceRow

DEVICE_SRP_AUTH = "DEVICE_SRP_AUTH"
DEVICE_PASSWORD_VERIFIER = "DEVICE_PASSWORD_VERIFIER"


def replaces_mfa(scope: ClientScope, device: DeviceRow) -> bool:
    config = scope.pool.settings.get("DeviceConfiguration") or {}
    return device.remembered == REMEMBERED and bool(config.get("ChallengeRequiredOnNewDevice"))


class DeviceAuth:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        devices: DeviceService,
        challenges: ChallengeSessions,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._devices = devices
        self._challenges = challenges

    def device(self, found: SignInUser, device_key: str | None) -> DeviceRow | None:
        """The user's device a DEVICE_KEY names ("Device does not exist." for a key that is
        not theirs, or was forgotten)."""
        if not device_key:
            return None
        return self._devices.of_user(found.row.pk, device_key)

    def challenge(
        self,
        scope: ClientScope,
        found: SignInUser,
        device: DeviceRow,
        after_session: str | None = None,
    ) -> dict[str, Any]:
        """DEVICE_SRP_AUTH: the client is to prove the device. After MFA it keeps the MFA
        step's session token (`after_session`): amazon-cognito-identity-js answers
        DEVICE_SRP_AUTH with the session it sent the MFA code with."""
        state = {"username": found.row.username, "device_key": device.device_key}
        if after_session is not None:
            session = self._db.write(
                "device_challenge",
                lambda c: self._challenges.continue_step(
                    c, after_session, scope, DEVICE_SRP_AUTH, state
                ),
            )
        else:
            session = self._open(scope, found, DEVICE_SRP_AUTH, state)
        return {
            "ChallengeName": DEVICE_SRP_AUTH,
            "Session": session,
            "ChallengeParameters": {"USERNAME": found.row.username},
        }

    def start(
        self, scope: ClientScope, found: SignInUser, challenge: Challenge, responses: dict[str, str]
    ) -> dict[str, Any]:
        """The answer to DEVICE_SRP_AUTH (SRP_A): DEVICE_PASSWORD_VERIFIER."""
        device_key = str(challenge.state["device_key"])
        if responses.get("DEVICE_KEY") not in (None, device_key):
            raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
        big_a = srp_exchange.parse_a(require_parameter(responses, "SRP_A"))
        device = self._devices.of_user(found.row.pk, device_key)
        material = verifier_of(device, self._box)
        if material is None:
            raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
        salt, verifier = material
        exchange = srp_exchange.begin(device_key, salt, verifier, big_a)
        state = {
            **exchange.to_state(),
            "username": found.row.username,
            "device_key": device_key,
            "group": device.group_key,
        }
        session = self._open(scope, found, DEVICE_PASSWORD_VERIFIER, state)
        parameters = srp_exchange.challenge_parameters(exchange, session)
        parameters["USERNAME"] = found.row.username
        parameters.pop("USER_ID_FOR_SRP", None)
        return {
            "ChallengeName": DEVICE_PASSWORD_VERIFIER,
            "Session": session,
            "ChallengeParameters": parameters,
        }

    def verify(self, challenge: Challenge, found: SignInUser, responses: dict[str, str]) -> str:
        """The answer to DEVICE_PASSWORD_VERIFIER; returns the proven device's key."""
        block = require_parameter(responses, "PASSWORD_CLAIM_SECRET_BLOCK")
        signature = require_parameter(responses, "PASSWORD_CLAIM_SIGNATURE")
        signed = srp_exchange.canonical_timestamp(
            require_parameter(responses, "TIMESTAMP"), self._clock.now_ms()
        )
        state = challenge.state
        device = self._devices.of_user(found.row.pk, str(state["device_key"]))
        material = verifier_of(device, self._box)
        exchange = srp_exchange.Ephemeral.from_state(state)
        if material is None or not srp_exchange.signature_matches(
            exchange, str(state["group"]), material[1], block, signed, signature
        ):
            raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
        return device.device_key

    def _open(self, scope: ClientScope, found: SignInUser, name: str, state: dict[str, Any]) -> str:
        return self._db.write(
            "device_challenge",
            lambda c: self._challenges.open_step(c, scope, found.row.pk, name, state),
        )
