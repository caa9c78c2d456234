"""USER_AUTH's WEB_AUTHN first factor: the WEB_AUTHN challenge and its answer.

The challenge carries CREDENTIAL_REQUEST_OPTIONS, a PublicKeyCredentialRequestOptionsJSON
string (a fresh challenge, the relying party id, the user's passkeys as allowCredentials,
the pool's user verification); the session keeps the challenge. The answer's CREDENTIAL is
an AuthenticationResponseJSON string: it must be one of this user's passkeys, registered
for this relying party, signed over this challenge from an allowed origin, with user
verification when the pool (or passkey MFA) requires it. The signature counter is kept;
a counter that goes backwards is refused as a cloned authenticator. A refused answer is
"Incorrect username or password." and counts toward the lockout like a wrong password.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from webauthn import generate_authentication_options, options_to_json
from webauthn import verify_authentication_response as verify_assertion
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from cognate.api.exceptions import (
    InvalidParameterException,
    NotAuthorizedException,
    WebAuthnOriginNotAllowedException,
)
from cognate.domain import messages, mfa_preferences
from cognate.domain.auth.context import SignInUser
from cognate.domain.challenge_sessions import Challenge, ChallengeSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.passkeys import (
    CEREMONY_TIMEOUT_MS,
    WEB_AUTHN,
    b64url_decode,
    client_data_of,
    origin_of,
    relying_party_id,
    user_verification,
    webauthn_settings,
)
from cognate.storage.db import Database
from cognate.storage.repos import passkeys as passkeys_repo

PASSKEY_MFA = "MULTI_FACTOR_WITH_USER_VERIFICATION"


def passkey_mfa(pool_settings: dict[str, Any], found: SignInUser) -> bool:
    """Whether a passkey sign-in counts as MFA for this user: the pool's FactorConfiguration
    says so and the user turned WebAuthn MFA on (then user verification is required)."""
    factor = webauthn_settings(pool_settings).get("FactorConfiguration")
    return factor == PASSKEY_MFA and mfa_preferences.webauthn_mfa_enabled(found.row)


class PasskeyChallenge:
    def __init__(self, db: Database, challenges: ChallengeSessions, public_host: str) -> None:
        self._db = db
        self._challenges = challenges
        self._host = public_host

    def has_passkeys(self, user_pk: int) -> bool:
        return bool(self._db.read("passkey_count", lambda c: passkeys_repo.count(c, user_pk)))

    def challenge(self, scope: ClientScope, found: SignInUser) -> dict[str, Any]:
        pool = scope.pool.pool
        settings = scope.pool.settings
        required = user_verification(settings) == "required" or passkey_mfa(settings, found)
        user = found.row

        def open_txn(conn: Connection) -> tuple[str, str]:
            rp_id = relying_party_id(conn, pool.pk, settings, self._host)
            credentials = passkeys_repo.of_user(conn, user.pk)
            options = generate_authentication_options(
                rp_id=rp_id,
                timeout=CEREMONY_TIMEOUT_MS,
                allow_credentials=[
                    PublicKeyCredentialDescriptor(id=b64url_decode(c.credential_id))
                    for c in credentials
                    if c.relying_party_id == rp_id
                ],
                user_verification=UserVerificationRequirement.REQUIRED
                if required
                else UserVerificationRequirement.PREFERRED,
            )
            state = {
                "username": user.username,
                "challenge": bytes_to_base64url(options.challenge),
                "rp_id": rp_id,
                "uv": required,
            }
            session = self._challenges.open_step(conn, scope, user.pk, WEB_AUTHN, state)
            return session, options_to_json(options)

        session, options = self._db.write("passkey_challenge", open_txn)
        compact = orjson.dumps(json.loads(options)).decode()
        return {
            "ChallengeName": WEB_AUTHN,
            "Session": session,
            "ChallengeParameters": {
                "CREDENTIAL_REQUEST_OPTIONS": compact,
                "USERNAME": user.username,
            },
        }

    def verify(self, challenge: Challenge, found: SignInUser, responses: dict[str, str]) -> bool:
        """Whether CREDENTIAL proves one of the user's passkeys over this challenge."""
        raw = responses.get("CREDENTIAL")
        if not raw:
            raise InvalidParameterException("Missing required parameter CREDENTIAL")
        try:
            credential = json.loads(raw)
        except ValueError:
            raise InvalidParameterException("CREDENTIAL is not valid JSON.") from None
        if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
            raise InvalidParameterException("CREDENTIAL is not an AuthenticationResponseJSON.")
        state = challenge.state
        rp_id = str(state["rp_id"])
        client_data = client_data_of(credential)
        try:
            origin = origin_of(client_data, rp_id)
        except WebAuthnOriginNotAllowedException:
            return False  # RespondToAuthChallenge has no origin error: a refused passkey
        user_pk = found.row.pk

        def verify_txn(conn: Connection) -> bool:
            stored = passkeys_repo.by_id(conn, credential["id"])
            if stored is None or stored.user_pk != user_pk or stored.relying_party_id != rp_id:
                return False
            try:
                verified = verify_assertion(
                    credential=credential,
                    expected_challenge=b64url_decode(str(state["challenge"])),
                    expected_rp_id=rp_id,
                    expected_origin=origin,
                    credential_public_key=b64url_decode(stored.public_key),
                    credential_current_sign_count=stored.sign_count,
                    require_user_verification=bool(state.get("uv")),
                )
            except WebAuthnException:
                return False
            passkeys_repo.set_sign_count(conn, stored.pk, verified.new_sign_count)
            return True

        return bool(self._db.write("passkey_verify", verify_txn))


def refused() -> NotAuthorizedException:
    return NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
