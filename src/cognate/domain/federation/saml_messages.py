"""Reading a SAML Response for federation/saml.py: the checks made before pysaml2 sees
it (its Destination, whether the assertion is encrypted), the wording of a refusal, and
what the verified assertion says about the user (NameID, attributes, SessionIndex) as a
`FederatedIdentity`. Signatures, decryption and conditions are pysaml2's.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from cognate.domain.federation.details import SAML
from cognate.domain.federation.identity import FederatedIdentity
from cognate.domain.federation.providers import ProviderRecord

ENTITY_PREFIX = "urn:amazon:cognito:sp:"
INVALID = "Invalid SAML response received"
_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
BAD_SIGNATURE = "Error in SAML response processing: SAML Assertion signature is invalid"


class SamlRefused(Exception):
    """A response refused once the sign-in's authorize query is known: the browser goes
    back to its redirect_uri with error=invalid_request."""

    def __init__(
        self, query: dict[str, str], description: str, error: str = "invalid_request"
    ) -> None:
        super().__init__(description)
        self.query = query
        self.description = description
        self.error = error


class SamlBadRequest(Exception):
    """A post to /saml2/idpresponse or /saml2/logout that leads nowhere (unknown or used
    RelayState): an error page."""


@dataclass(frozen=True, slots=True)
class SamlSignIn:
    query: dict[str, str]  # the /oauth2/authorize query the sign-in answers
    identity: FederatedIdentity
    session: dict[str, str]  # provider, name_id, name_id_format, session_index


def claim(values: list[str]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"


def envelope(saml_response: str, query: dict[str, str]) -> dict[str, str]:
    """The Response element's Destination, and whether it carries an EncryptedAssertion
    (read before pysaml2 checks the rest)."""
    malformed = SamlRefused(query, f"{INVALID}: the SAMLResponse is not a SAML Response")
    try:
        text = base64.b64decode(saml_response, validate=False).decode()
    except (binascii.Error, ValueError):
        raise malformed from None
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise malformed  # no DTDs: nothing to expand
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DTD (refused above): no entities
    except ET.ParseError:
        raise malformed from None
    if root.tag != f"{{{_PROTOCOL}}}Response":
        raise malformed
    found: dict[str, str] = {}
    if root.get("Destination") is not None:
        found["Destination"] = root.get("Destination", "")
    if root.find(f"{{{_ASSERTION}}}EncryptedAssertion") is not None:
        found["encrypted"] = "true"
    return found


def description(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc)
    if "ignature" in name or "ignature" in text or "Sigver" in name:
        return BAD_SIGNATURE
    reasons = {
        "ResponseLifetimeExceed": "the response has expired",
        "ToEarly": "the response is not yet valid",
        "UnsolicitedResponse": "the response does not answer a request",
        "DecryptError": "the assertion could not be decrypted",
    }
    for key, reason in reasons.items():
        if key in name:
            return f"{INVALID}: {reason}"
    if "subject confirmation" in text or "Condition not OK" in text:
        return f"{INVALID}: the assertion has expired or is not addressed to this domain"
    if "audience" in text.lower() or "restriction" in text.lower():
        return f"{INVALID}: the audience is not {ENTITY_PREFIX}<user pool id>"
    if "destination" in text.lower() or "recipient" in text.lower():
        return f"{INVALID}: the destination is not this domain's /saml2/idpresponse"
    return f"{INVALID}: {name}"


def sign_in(provider: ProviderRecord, query: dict[str, str], parsed: Any) -> SamlSignIn:
    assertion = parsed.assertion
    subject = assertion.subject.name_id if assertion.subject is not None else None
    if subject is None or not (subject.text or "").strip():
        raise SamlRefused(query, f"{INVALID}: the assertion has no NameID")
    claims: dict[str, str] = {}
    for statement in assertion.attribute_statement or ():
        for attribute in statement.attribute or ():
            values = [str(v.text) for v in attribute.attribute_value or () if v.text is not None]
            if attribute.name and values:
                claims[str(attribute.name)] = claim(values)
    session_index = ""
    for statement in assertion.authn_statement or ():
        if statement.session_index:
            session_index = str(statement.session_index)
            break
    issuer = parsed.issuer()
    identity = FederatedIdentity(
        provider_name=provider.name,
        provider_type=SAML,
        subject=subject.text.strip(),
        claims=claims,
        issuer=str(issuer) if issuer else None,
    )
    session = {
        "provider": provider.name,
        "name_id": subject.text.strip(),
        "name_id_format": str(subject.format or ""),
        "session_index": session_index,
    }
    return SamlSignIn(query, identity, session)
