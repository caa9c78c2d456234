"""Passkeys (WebAuthn credentials): registration (StartWebAuthnRegistration,
CompleteWebAuthnRegistration), ListWebAuthnCredentials and DeleteWebAuthnCredential, and
the relying-party rules the sign-in ceremony (auth/passkey_challenge.py) shares.

The ceremonies are the `webauthn` package's: registration options with a fresh challenge,
attestation verification ("none", packed, …) bound to the relying party and the client's
origin. The relying party id is the pool's WebAuthnConfiguration.RelyingPartyId, else its
custom domain, else the host this server is reached by (`--public-host`, `localhost` by
default). An origin is allowed when its host is the relying party id or a subdomain of it,
over https — or over http for localhost, which browsers treat as secure.

Passkeys need the pool to allow WEB_AUTHN as a first factor (SignInPolicy), which a LITE
pool cannot. A user may have 20. A started registration lasts five minutes and is answered once,
by the app client that started it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection
from webauthn import generate_registration_options, options_to_json, verify_registration_response
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from cognate.api.exceptions import (
    InvalidParameterException,
    LimitExceededException,
    ResourceNotFoundException,
    WebAuthnChallengeNotFoundException,
    WebAuthnClientMismatchException,
    WebAuthnCredentialNotSupportedException,
    WebAuthnNotEnabledException,
    WebAuthnOriginNotAllowedException,
    WebAuthnRelyingPartyMismatchException,
)
from cognate.domain.auth.access import AccessCheck
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.domain.pool_settings import first_auth_factors
from cognate.storage.db import Database
from cognate.storage.repos import domains as domains_repo
from cognate.storage.repos import passkeys as passkeys_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.passkeys import RegistrationRow
from cognate.storage.repos.users import UserRow

MAX_PASSKEYS = 20
REGISTRATION_MS = 5 * 60 * 1000
CEREMONY_TIMEOUT_MS = 180_000
WEB_AUTHN = "WEB_AUTHN"
DEFAULT_NAME = "Passkey"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


# ----------------------------------------------------------------------------- pool rules


def webauthn_settings(pool_settings: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = pool_settings.get("WebAuthnConfiguration") or {}
    return found


def user_verification(pool_settings: dict[str, Any]) -> str:
    """`required` or `preferred` (the default)."""
    return str(webauthn_settings(pool_settings).get("UserVerification") or "preferred")


def passkeys_enabled(pool_settings: dict[str, Any]) -> bool:
    return WEB_AUTHN in first_auth_factors(pool_settings)


def require_enabled(pool_settings: dict[str, Any]) -> None:
    if not passkeys_enabled(pool_settings):
        raise WebAuthnNotEnabledException(
            "WebAuthn is not enabled for the user pool: SignInPolicy.AllowedFirstAuthFactors "
            "does not include WEB_AUTHN."
        )


def relying_party_id(conn: Connection, pool_pk: int, settings: dict[str, Any], host: str) -> str:
    configured = webauthn_settings(settings).get("RelyingPartyId")
    if configured:
        return str(configured)
    for domain in domains_repo.of_pool(conn, pool_pk):
        if domain.kind == "custom":
            return domain.domain
    return host


def origin_of(client_data: dict[str, Any], rp_id: str) -> str:
    """The origin the client saw, when this relying party accepts it."""
    origin = str(client_data.get("origin") or "")
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    scheme_ok = parts.scheme == "https" or (parts.scheme == "http" and host in _LOCAL_HOSTS)
    rp = rp_id.lower()
    if not scheme_ok or not (host == rp or host.endswith("." + rp)):
        raise WebAuthnOriginNotAllowedException(
            f"The origin {origin or '(none)'} is not allowed for the relying party {rp_id}."
        )
    return origin


def client_data_of(credential: dict[str, Any]) -> dict[str, Any]:
    """The decoded clientDataJSON of a RegistrationResponseJSON or
    AuthenticationResponseJSON."""
    response = credential.get("response")
    raw = response.get("clientDataJSON") if isinstance(response, dict) else None
    if not isinstance(raw, str):
        raise InvalidParameterException("The credential has no response.clientDataJSON.")
    try:
        decoded = json.loads(b64url_decode(raw))
    except (ValueError, binascii.Error):
        raise InvalidParameterException("The credential's clientDataJSON is not valid.") from None
    if not isinstance(decoded, dict):
        raise InvalidParameterException("The credential's clientDataJSON is not valid.")
    return decoded


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def library_error(exc: WebAuthnException) -> Exception:
    """The Cognito error for what the webauthn package refused."""
    text = str(exc)
    if "RP ID" in text:
        return WebAuthnRelyingPartyMismatchException(
            "The credential was not created for this relying party."
        )
    if "algorithm" in text.lower() or "Unsupported" in text:
        return WebAuthnCredentialNotSupportedException(f"The credential is not supported: {text}")
    return InvalidParameterException(f"The credential could not be verified: {text}")


@dataclass(frozen=True, slots=True)
class _Who:
    user: UserRow
    client_id: str
    pool_pk: int
    settings: dict[str, Any]


# ----------------------------------------------------------------------------- the operations


class PasskeyService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        access: AccessCheck,
        tokens: PageTokens,
        public_host: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._access = access
        self._tokens = tokens
        self._host = public_host

    def start_registration(self, access_token: str) -> dict[str, Any]:
        who = self._who(access_token)
        require_enabled(who.settings)
        user = who.user
        now = self._clock.now_ms()

        def start_txn(conn: Connection) -> str:
            existing = passkeys_repo.of_user(conn, user.pk)
            if len(existing) >= MAX_PASSKEYS:
                raise LimitExceededException(
                    f"The user already has the maximum number of passkeys ({MAX_PASSKEYS})."
                )
            rp_id = relying_party_id(conn, who.pool_pk, who.settings, self._host)
            options = generate_registration_options(
                rp_id=rp_id,
                rp_name=rp_id,
                user_name=user.username,
                user_id=user.sub.encode(),
                user_display_name=user.username,
                timeout=CEREMONY_TIMEOUT_MS,
                authenticator_selection=AuthenticatorSelectionCriteria(
                    resident_key=ResidentKeyRequirement.REQUIRED,
                    require_resident_key=True,
                    user_verification=UserVerificationRequirement(user_verification(who.settings)),
                ),
                exclude_credentials=[
                    PublicKeyCredentialDescriptor(id=b64url_decode(c.credential_id))
                    for c in existing
                ],
            )
            passkeys_repo.put_registration(
                conn,
                RegistrationRow(
                    user.pk,
                    who.client_id,
                    bytes_to_base64url(options.challenge),
                    rp_id,
                    now + REGISTRATION_MS,
                ),
            )
            return options_to_json(options)

        document = self._db.write("start_webauthn_registration", start_txn)
        return {"CredentialCreationOptions": json.loads(document)}

    def complete_registration(self, access_token: str, credential: Any) -> None:
        who = self._who(access_token)
        require_enabled(who.settings)
        if not isinstance(credential, dict):
            raise InvalidParameterException("Credential must be a RegistrationResponseJSON object.")
        user = who.user
        now = self._clock.now_ms()
        required = user_verification(who.settings) == "required"

        def complete_txn(conn: Connection) -> None:
            pending = passkeys_repo.take_registration(conn, user.pk)
            if pending is None or pending.expires_at <= now:
                raise WebAuthnChallengeNotFoundException(
                    "No passkey registration was started for the user, or it has expired."
                )
            if pending.client_id != who.client_id:
                raise WebAuthnClientMismatchException(
                    "The passkey registration was started by another app client."
                )
            client_data = client_data_of(credential)
            if client_data.get("challenge") != pending.challenge:
                raise WebAuthnChallengeNotFoundException(
                    "The credential does not answer the user's registration challenge."
                )
            origin = origin_of(client_data, pending.relying_party_id)
            try:
                verified = verify_registration_response(
                    credential=credential,
                    expected_challenge=b64url_decode(pending.challenge),
                    expected_rp_id=pending.relying_party_id,
                    expected_origin=origin,
                    require_user_verification=required,
                )
            except WebAuthnException as exc:
                raise library_error(exc) from None
            credential_id = bytes_to_base64url(verified.credential_id)
            if passkeys_repo.by_id(conn, credential_id) is not None:
                raise InvalidParameterException("The passkey is already registered.")
            if passkeys_repo.count(conn, user.pk) >= MAX_PASSKEYS:
                raise LimitExceededException(
                    f"The user already has the maximum number of passkeys ({MAX_PASSKEYS})."
                )
            response = credential.get("response") or {}
            transports = response.get("transports") if isinstance(response, dict) else None
            attachment = credential.get("authenticatorAttachment")
            passkeys_repo.insert(
                conn,
                user_pk=user.pk,
                credential_id=credential_id,
                public_key=bytes_to_base64url(verified.credential_public_key),
                sign_count=verified.sign_count,
                relying_party_id=pending.relying_party_id,
                friendly_name=_friendly_name(verified.aaguid),
                attachment=attachment if isinstance(attachment, str) else None,
                transports=[str(t) for t in transports] if isinstance(transports, list) else [],
                now=now,
            )

        self._db.write("complete_webauthn_registration", complete_txn)

    def list_credentials(
        self, access_token: str, next_token: str | None, max_results: int | None, request_id: str
    ) -> dict[str, Any]:
        user = self._who(access_token).user
        scope = f"passkeys/{user.pk}"
        after = self._tokens.decode(scope, next_token, request_id)
        size = max_results or 20
        rows = self._db.read(
            "list_webauthn_credentials",
            lambda c: passkeys_repo.of_user(c, user.pk, after_pk=after, limit=size + 1),
        )
        more = len(rows) > size
        rows = rows[:size]
        result: dict[str, Any] = {"Credentials": [_description(r) for r in rows]}
        if more:
            result["NextToken"] = self._tokens.encode(scope, rows[-1].pk)
        return result

    def delete_credential(self, access_token: str, credential_id: str) -> None:
        user = self._who(access_token).user
        deleted = self._db.write(
            "delete_webauthn_credential",
            lambda c: passkeys_repo.delete(c, user.pk, credential_id),
        )
        if not deleted:
            raise ResourceNotFoundException("Credential not found.")

    def _who(self, access_token: str) -> _Who:
        context = self._access.signed_in(access_token).context
        pool = self._db.read("passkey_pool", lambda c: pools_repo.by_pk(c, context.user.pool_pk))
        assert pool is not None
        return _Who(context.user, context.client.client_id, pool.pk, pool.settings)


def _friendly_name(aaguid: str) -> str:
    """Cognito names a passkey after its authenticator model when it knows it; this server
    knows no model names, so a passkey with an AAGUID is named after it."""
    if not aaguid or uuid.UUID(aaguid).int == 0:
        return DEFAULT_NAME
    return f"{DEFAULT_NAME} {aaguid}"


def _description(row: passkeys_repo.CredentialRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "CredentialId": row.credential_id,
        "FriendlyCredentialName": row.friendly_name or DEFAULT_NAME,
        "RelyingPartyId": row.relying_party_id,
        "AuthenticatorTransports": row.transports,
        "CreatedAt": ms_to_seconds(row.created_at),
    }
    if row.attachment:
        out["AuthenticatorAttachment"] = row.attachment
    return out
