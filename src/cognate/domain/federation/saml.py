"""SAML 2.0 identity providers: the pool domain as a SAML service provider, through
pysaml2 (XML signatures, encryption and their checks are pysaml2's, with Debian's xmlsec1).
Reading the verified response into a `FederatedIdentity`, and the refusals' wording, are
in saml_messages.py.

Cognito's behaviour (developer guide: "SAML identity providers", "The IdP SAML assertion
endpoint", "SAML session initiation", "SAML signing and encryption", "SAML sign-out flow");
*chosen* marks what it leaves open.
- The service provider's entity id is `urn:amazon:cognito:sp:<UserPoolId>` (the audience
  an assertion must name); the assertion consumer service is `<domain>/saml2/idpresponse`
  (HTTP-POST binding), sign-out answers come to `<domain>/saml2/logout` (HTTP-POST).
- SP-initiated sign-in: an AuthnRequest through the HTTP-Redirect binding to the
  provider's SingleSignOnService. RelayState is an opaque reference to state Cognate keeps
  (pending.py: the authorize query and the request's ID), used once, for 15 minutes.
  With RequestSigningAlgorithm rsa-sha256 the request is signed (SigAlg/Signature) with
  the pool's signing key, whose certificate is what GetSigningCertificate returns ("signs
  requests with the most recent signing certificate").
- The response: signed (the Response or its Assertion) by a signing certificate of the
  provider's metadata, Audience the entity id, Destination / Recipient the ACS URL, within
  NotBefore / NotOnOrAfter (*chosen*: 60 seconds of clock skew), InResponseTo the request
  it answers, EncryptedAssertion decrypted with the provider's key when EncryptedResponses
  is true (and then required). An assertion is taken once ("no replayed assertions").
- IdP-initiated sign-in, when IDPInit is true: the RelayState posted with the response
  carries what would have been the /oauth2/authorize query (response_type, client_id,
  redirect_uri, identity_provider or idp_identifier, scope); no InResponseTo is expected.
- The user: NameID is the subject (`<ProviderName>_<NameID>`), the attributes are claims
  under their SAML names (AttributeMapping maps them); *chosen*: an attribute with several
  values is passed as `[v1, v2]`.
- Sign-out, when IDPSignout is true: /logout sends the user on to the provider's
  SingleLogoutService with a LogoutRequest (NameID and SessionIndex of the sign-in) signed
  with the pool's signing key; the LogoutResponse comes back to /saml2/logout, which sends
  the user where /logout would have.
- Refusals after the client is known are redirects with `error=invalid_request`; the
  descriptions are "Invalid SAML response received: <reason>" (Cognito's prefix; the
  reasons are *chosen*), and for a bad signature "Error in SAML response processing: SAML
  Assertion signature is invalid" (as users report Cognito's answer).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.mdstore import locations
from saml2.saml import NameID
from saml2.xmldsig import SIG_RSA_SHA256
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import NotAuthorizedException
from cognate.domain.challenge_sessions import ChallengeSessions, token_hash
from cognate.domain.federation.details import SAML
from cognate.domain.federation.pending import PendingSignIns, StateError
from cognate.domain.federation.providers import ProviderRecord, provider_by_name
from cognate.domain.federation.saml_messages import (
    ENTITY_PREFIX,
    INVALID,
    SamlBadRequest,
    SamlRefused,
    SamlSignIn,
    description,
    envelope,
    sign_in,
)
from cognate.domain.keys import SAML as SAML_KEY
from cognate.domain.keys import KeyService
from cognate.domain.oauth import codes
from cognate.domain.oauth.authorize import AuthorizeRequest
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos import auth_sessions as sessions_repo

# pysaml2 logs every refused response at ERROR (with tracebacks); refusals are answered
# to the browser, and the server log is kept for Cognate's own failures.
logging.getLogger("saml2").setLevel(logging.CRITICAL)

ACS_PATH = "/saml2/idpresponse"
LOGOUT_PATH = "/saml2/logout"
LOGOUT_RELAY = "SAML_LOGOUT_RELAY"  # a sign-out waiting for the provider's answer
SAML_SESSION = "SAML_SESSION"  # what sign-out needs of a hosted session's SAML sign-in
SEEN_ASSERTION = "SAML_ASSERTION"  # an assertion already used
RELAY_MINUTES = 15
SESSION_MINUTES = 60  # hosted.SESSION_MINUTES
SKEW_SECONDS = 60


def entity_id(pool_id: str) -> str:
    return ENTITY_PREFIX + pool_id


def _pem(base64_der: str) -> str:
    body = "\n".join(base64_der[i : i + 64] for i in range(0, len(base64_der), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


class SamlFederation:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        keys: KeyService,
        challenges: ChallengeSessions,
        pending: PendingSignIns,
    ) -> None:
        self._db = db
        self._box = box
        self._keys = keys
        self._challenges = challenges
        self._pending = pending

    # ------------------------------------------------------------------ pysaml2

    @contextmanager
    def _client(
        self, pool_pk: int, pool_id: str, provider: ProviderRecord, base_url: str
    ) -> Iterator[Saml2Client]:
        """A pysaml2 service provider for one provider of the pool, keys in a private
        temporary directory that is gone when the block ends (xmlsec1 reads files)."""
        key = self._keys.active_key(pool_pk, pool_id, SAML_KEY)
        assert key.certificate is not None
        signing_pem = self._box.open(key.private_key_enc, f"signing-key/{key.kid}")
        encrypted = provider.details.get("EncryptedResponses") == "true"
        with tempfile.TemporaryDirectory(prefix="cognate-saml-") as folder:

            def write(name: str, text: str) -> str:
                path = os.path.join(folder, name)
                with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                    f.write(text)
                return path

            config: dict[str, Any] = {
                "entityid": entity_id(pool_id),
                "metadata": {"inline": [provider.metadata or ""]},
                "key_file": write("signing.key", signing_pem),
                "cert_file": write("signing.crt", _pem(key.certificate)),
                "accepted_time_diff": SKEW_SECONDS,
                "allow_unknown_attributes": True,
                "service": {
                    "sp": {
                        "endpoints": {
                            "assertion_consumer_service": [
                                (base_url + ACS_PATH, BINDING_HTTP_POST)
                            ],
                            "single_logout_service": [(base_url + LOGOUT_PATH, BINDING_HTTP_POST)],
                        },
                        "allow_unsolicited": provider.details.get("IDPInit") == "true",
                        "want_response_signed": False,
                        "want_assertions_signed": False,
                        "want_assertions_or_response_signed": True,
                        "authn_requests_signed": "RequestSigningAlgorithm" in provider.details,
                        "logout_requests_signed": True,
                        "signing_algorithm": SIG_RSA_SHA256,
                    }
                },
            }
            if encrypted:
                secrets = provider.secrets(self._box)
                config["encryption_keypairs"] = [
                    {
                        "key_file": write("encryption.key", secrets["encryption_private_key"]),
                        "cert_file": write(
                            "encryption.crt", _pem(provider.details["ActiveEncryptionCertificate"])
                        ),
                    }
                ]
            sp_config = SPConfig()
            sp_config.load(config)
            yield Saml2Client(config=sp_config)

    @staticmethod
    def _idp_entity(client: Saml2Client) -> str:
        found = list(client.metadata.identity_providers())
        if len(found) != 1:
            raise SamlBadRequest("The provider's metadata names no single identity provider.")
        return str(found[0])

    # ------------------------------------------------------------------ sign-in

    def sign_in_url(
        self,
        request: AuthorizeRequest,
        query: dict[str, str],
        provider: ProviderRecord,
        base_url: str,
    ) -> str:
        """Where /oauth2/authorize sends the browser for a SAML provider: its
        SingleSignOnService with an AuthnRequest and an opaque RelayState."""
        pool = request.scope.pool.pool
        with self._client(pool.pk, pool.id, provider, base_url) as client:
            idp = self._idp_entity(client)
            destination = _redirect_endpoint(client, idp, "SingleSignOnService")
            request_id, authn_request = client.create_authn_request(
                destination=destination,
                binding=BINDING_HTTP_POST,
                nameid_format=None,
            )
            relay = self._pending.begin(request, query, provider.name, {"request_id": request_id})
            info = client.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(authn_request),
                destination,
                relay,
                sign="RequestSigningAlgorithm" in provider.details,
                sigalg=SIG_RSA_SHA256,
            )
        return _location(info)

    def receive(
        self,
        pool_pk: int,
        pool_id: str,
        form: dict[str, str],
        base_url: str,
        lookup: Callable[[dict[str, str]], tuple[str | None, int]],
    ) -> SamlSignIn:
        """Check a response posted to /saml2/idpresponse. `lookup(query)` checks an
        authorize query for this domain and returns the provider name it names (the
        IdP-initiated case) and the client's pk; SamlRefused / SamlBadRequest when
        refused."""
        relay = form.get("RelayState") or form.get("Relaystate") or ""
        saml_response = form.get("SAMLResponse") or ""
        state: dict[str, Any] | None = None
        if codes.from_url(relay) is not None:  # SP-initiated: Cognate's own RelayState
            try:
                taken = self._pending.take(relay)
            except StateError:
                raise SamlBadRequest("Invalid RelayState.") from None
            if taken.pool_pk != pool_pk:
                raise SamlBadRequest("Invalid RelayState.")
            state = taken.extra
            query = taken.query
            provider_name = taken.provider
            client_pk = taken.client_pk
        else:
            query = dict(parse_qsl(relay, keep_blank_values=False))
            if not query.get("client_id") or not query.get("redirect_uri"):
                raise SamlBadRequest("Invalid RelayState.")
            named, client_pk = lookup(query)  # raises when the query is refused
            if named is None:
                raise SamlRefused(query, "identity_provider or idp_identifier is required")
            provider_name = named
        name = provider_name
        provider = self._db.read("saml_provider", lambda c: provider_by_name(c, pool_pk, name))
        if provider is None or provider.provider_type != SAML:
            raise SamlRefused(query, f"{provider_name} is not a SAML identity provider")
        if state is None and provider.details.get("IDPInit") != "true":
            raise SamlRefused(
                query, f"{INVALID}: IdP-initiated sign-in is not enabled for {provider.name}"
            )
        if not saml_response:
            raise SamlRefused(query, f"{INVALID}: SAMLResponse is required")
        outer = envelope(saml_response, query)
        if outer.get("Destination") not in (None, base_url + ACS_PATH):
            raise SamlRefused(query, f"{INVALID}: the Destination is not {base_url}{ACS_PATH}")
        encrypted = outer.get("encrypted") == "true"
        if provider.details.get("EncryptedResponses") == "true" and not encrypted:
            raise SamlRefused(query, f"{INVALID}: the assertion must be encrypted")
        with self._client(pool_pk, pool_id, provider, base_url) as client:
            outstanding = {state["request_id"]: "/"} if state is not None else {}
            try:
                parsed = client.parse_authn_request_response(
                    saml_response, BINDING_HTTP_POST, outstanding=outstanding
                )
            except Exception as exc:  # noqa: BLE001 - pysaml2 refuses with many types
                raise SamlRefused(query, description(exc)) from None
            if parsed is None or parsed.assertion is None:
                raise SamlRefused(query, f"{INVALID}: no assertion")
            if state is not None and parsed.in_response_to != state["request_id"]:
                raise SamlRefused(query, f"{INVALID}: InResponseTo does not match the request")
            signin = sign_in(provider, query, parsed)
        self._once(pool_pk, client_pk, provider, parsed.assertion.id, query)
        return signin

    def _once(
        self,
        pool_pk: int,
        client_pk: int,
        provider: ProviderRecord,
        assertion_id: str,
        query: dict[str, str],
    ) -> None:
        """Refuse an assertion that was already used."""
        token = f"saml-assertion/{provider.pk}/{assertion_id}"

        def remember(conn: Connection) -> bool:
            if sessions_repo.known(conn, token_hash(token), None):
                return False
            self._challenges.open(
                conn,
                pool_pk=pool_pk,
                client_pk=client_pk,
                user_pk=None,
                challenge=SEEN_ASSERTION,
                state={},
                minutes=SESSION_MINUTES,
                token=token,
            )
            return True

        try:
            fresh = self._db.write("saml_seen_assertion", remember)
        except IntegrityError:
            fresh = False
        if not fresh:
            raise SamlRefused(query, f"{INVALID}: the assertion has already been used")

    # ------------------------------------------------------------------ sign-out

    def remember_session(
        self, pool_pk: int, client_pk: int, cookie: str, session: dict[str, str]
    ) -> None:
        """Keep, next to a hosted session (its cookie), what SAML sign-out needs of its
        sign-in."""
        token = codes.from_url(cookie)
        assert token is not None
        self._db.write(
            "open_saml_session",
            lambda c: self._challenges.open(
                c,
                pool_pk=pool_pk,
                client_pk=client_pk,
                user_pk=None,
                challenge=SAML_SESSION,
                state=dict(session),
                minutes=SESSION_MINUTES,
                token=_session_token(token),
            ),
        )

    def logout_url(
        self, pool_pk: int, pool_id: str, client_pk: int, cookie: str | None, target: str,
        base_url: str,
    ) -> str | None:  # fmt: skip
        """The provider's SingleLogoutService with a signed LogoutRequest, when the hosted
        session was opened by a SAML provider with IDPSignout; None otherwise."""
        token = codes.from_url(cookie)
        if token is None:
            return None
        found = self._challenges.peek(_session_token(token), SAML_SESSION)
        if found is None or found.pool_pk != pool_pk:
            return None
        provider = self._db.read(
            "saml_provider", lambda c: provider_by_name(c, pool_pk, found.state["provider"])
        )
        if provider is None or provider.details.get("IDPSignout") != "true":
            return None
        with self._client(pool_pk, pool_id, provider, base_url) as client:
            try:
                idp = self._idp_entity(client)
                destination = _redirect_endpoint(client, idp, "SingleLogoutService")
            except SamlBadRequest:  # no SingleLogoutService: a plain sign-out
                return None
            name_id = NameID(
                text=found.state["name_id"], format=found.state.get("name_id_format") or None
            )
            request_id, request = client.create_logout_request(
                destination,
                idp,
                name_id=name_id,
                session_indexes=[found.state["session_index"]]
                if found.state.get("session_index")
                else None,
                sign=False,
            )
            relay = self._db.write(
                "open_saml_logout",
                lambda c: self._challenges.open(
                    c,
                    pool_pk=pool_pk,
                    client_pk=client_pk,
                    user_pk=None,
                    challenge=LOGOUT_RELAY,
                    state={"target": target, "provider": provider.name, "request_id": request_id},
                    minutes=RELAY_MINUTES,
                ),
            )
            info = client.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(request),
                destination,
                codes.to_url(relay),
                sign=True,
                sigalg=SIG_RSA_SHA256,
            )
        self._challenges.discard(_session_token(token))
        return _location(info)

    def logout_answered(
        self, pool_pk: int, pool_id: str, form: dict[str, str], base_url: str
    ) -> str:
        """Check the LogoutResponse posted to /saml2/logout; where the browser goes next."""
        token = codes.from_url(form.get("RelayState"))
        if token is None:
            raise SamlBadRequest("Invalid RelayState.")
        try:
            taken = self._challenges.take(token, None)
        except NotAuthorizedException:
            raise SamlBadRequest("Invalid RelayState.") from None
        if taken.name != LOGOUT_RELAY or taken.pool_pk != pool_pk:
            raise SamlBadRequest("Invalid RelayState.")
        provider = self._db.read(
            "saml_provider", lambda c: provider_by_name(c, pool_pk, taken.state["provider"])
        )
        if provider is None:
            raise SamlBadRequest("The identity provider no longer exists.")
        with self._client(pool_pk, pool_id, provider, base_url) as client:
            try:
                answer = client.parse_logout_request_response(
                    form.get("SAMLResponse") or "", BINDING_HTTP_POST
                )
            except Exception:  # noqa: BLE001 - pysaml2 refuses with many types
                raise SamlBadRequest("Invalid SAML logout response received.") from None
            if answer is None or answer.in_response_to != taken.state["request_id"]:
                raise SamlBadRequest("Invalid SAML logout response received.")
        return str(taken.state["target"])


def _redirect_endpoint(client: Saml2Client, idp: str, service: str) -> str:
    """The location of the provider's HTTP-Redirect SingleSignOnService or
    SingleLogoutService; SamlBadRequest when its metadata has none."""
    if service == "SingleSignOnService":
        found = client.metadata.single_sign_on_service(idp, BINDING_HTTP_REDIRECT)
    else:
        found = client.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    location = next(locations(found), None) if found else None
    if not location:
        raise SamlBadRequest(
            f"The identity provider's metadata has no {service} with the HTTP-Redirect binding."
        )
    return str(location)


def _session_token(cookie_token: str) -> str:
    return f"saml-session/{cookie_token}"


def _location(info: dict[str, Any]) -> str:
    for name, value in info.get("headers") or ():
        if name.lower() == "location":
            return str(value)
    raise SamlBadRequest("pysaml2 gave no redirect location")
