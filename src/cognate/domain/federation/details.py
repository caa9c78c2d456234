"""ProviderDetails of each identity provider type: what a request must and may give,
and what Cognito adds to what DescribeIdentityProvider returns.

From the botocore documentation of ProviderDetails (create/update requests and describe
responses for each type) and the developer guide ("Using OIDC identity providers with a
user pool", "SAML identity providers"); *chosen* marks what the documentation leaves open.

- Social providers (Google, Facebook, LoginWithAmazon, SignInWithApple) are OAuth/OIDC
  providers at fixed endpoints: Describe adds them (`SOCIAL_ENDPOINTS`), with
  `token_request_method` and `attributes_url_add_attributes`. Facebook's endpoints carry
  its `api_version`; *chosen*: without one, the unversioned Graph API URLs.
- OIDC: client_id, client_secret, attributes_request_method (GET|POST), oidc_issuer and
  authorize_scopes are required. Cognito "accepts attributes_url, authorize_url,
  jwks_uri, token_url when it can't discover endpoint URLs from oidc_issuer"; otherwise it
  reads `<oidc_issuer>/.well-known/openid-configuration` when the provider is created or
  updated, and Describe shows the endpoints it found. Endpoints given win over discovered
  ones; discovery is skipped when all four are given. The guide requires HTTPS for OIDC
  endpoints; *chosen*: plain HTTP is accepted for localhost and 127.0.0.1 (local
  providers, tests), nothing else.
- SAML: MetadataURL or MetadataFile (one of them), optional IDPSignout, IDPInit,
  EncryptedResponses ("true"/"false") and RequestSigningAlgorithm (rsa-sha256). The
  metadata must be SAML 2.0 metadata of one identity provider (an EntityDescriptor with
  an IDPSSODescriptor); Describe adds SSORedirectBindingURI / SLORedirectBindingURI from
  it, and ActiveEncryptionCertificate when EncryptedResponses is true (the describe example
  in the model shows it): a certificate Cognate generates for the provider, whose private
  key is kept sealed for decrypting assertions.
- Secrets (client_secret, private_key, and the SAML encryption key) are sealed at rest.
  Describe returns client_secret, as the model's describe examples show; it does not
  return Sign in with Apple's private_key (the example leaves it out).
"""

from __future__ import annotations

import base64
import datetime
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cognate.api.exceptions import InvalidParameterException
from cognate.outbound.http import Outbound, OutboundError

SAML = "SAML"
OIDC = "OIDC"
SOCIAL_TYPES = ("Google", "Facebook", "LoginWithAmazon", "SignInWithApple")
SECRET_KEYS = frozenset({"client_secret", "private_key", "encryption_private_key"})
RETURNED_SECRETS = frozenset({"client_secret"})
INTERNAL = "__"  # prefix of stored keys Describe never shows
METADATA = "__metadata"  # the SAML metadata document (as fetched from MetadataURL)
GIVEN = "__given"  # the keys the request gave (comma-separated), for UpdateIdentityProvider

_REQUIRED: dict[str, tuple[str, ...]] = {
    "Google": ("client_id", "client_secret", "authorize_scopes"),
    "Facebook": ("client_id", "client_secret", "authorize_scopes"),
    "LoginWithAmazon": ("client_id", "client_secret", "authorize_scopes"),
    "SignInWithApple": ("client_id", "team_id", "key_id", "private_key", "authorize_scopes"),
    OIDC: (
        "client_id",
        "client_secret",
        "attributes_request_method",
        "oidc_issuer",
        "authorize_scopes",
    ),
    SAML: (),
}
_ENDPOINT_KEYS = ("authorize_url", "token_url", "attributes_url", "jwks_uri")
_DISCOVERY = {
    "authorize_url": "authorization_endpoint",
    "token_url": "token_endpoint",
    "attributes_url": "userinfo_endpoint",
    "jwks_uri": "jwks_uri",
}
_SAML_OPTIONS = ("IDPSignout", "IDPInit", "EncryptedResponses", "RequestSigningAlgorithm")
_SAML_DERIVED = ("SSORedirectBindingURI", "SLORedirectBindingURI", "ActiveEncryptionCertificate")
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "Facebook": ("api_version",),
    OIDC: _ENDPOINT_KEYS,
    SAML: ("MetadataURL", "MetadataFile", *_SAML_OPTIONS),
}
_DESCRIBED = ("attributes_url_add_attributes", "token_request_method")

SOCIAL_ENDPOINTS: dict[str, dict[str, str]] = {
    "Google": {
        "attributes_url": "https://people.googleapis.com/v1/people/me?personFields=",
        "attributes_url_add_attributes": "true",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "oidc_issuer": "https://accounts.google.com",
        "token_request_method": "POST",
        "token_url": "https://www.googleapis.com/oauth2/v4/token",
    },
    "LoginWithAmazon": {
        "attributes_url": "https://api.amazon.com/user/profile",
        "attributes_url_add_attributes": "false",
        "authorize_url": "https://www.amazon.com/ap/oa",
        "token_request_method": "POST",
        "token_url": "https://api.amazon.com/auth/o2/token",
    },
    "SignInWithApple": {
        "attributes_url_add_attributes": "false",
        "authorize_url": "https://appleid.apple.com/auth/authorize",
        "oidc_issuer": "https://appleid.apple.com",
        "token_request_method": "POST",
        "token_url": "https://appleid.apple.com/auth/token",
    },
}
# The claim Cognito maps to `username` (the federated user's `<ProviderName>_<value>`).
DEFAULT_USERNAME_CLAIM = {
    "Google": "sub",
    "Facebook": "id",
    "LoginWithAmazon": "user_id",
    "SignInWithApple": "sub",
    OIDC: "sub",
}
_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


@dataclass(slots=True)
class Resolved:
    """ProviderDetails as stored: `details` (shown by Describe, plus internal keys) and
    `secrets` (sealed)."""

    details: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def facebook_endpoints(version: str | None) -> dict[str, str]:
    v = f"{version}/" if version else ""
    return {
        "attributes_url": f"https://graph.facebook.com/{v}me?fields=",
        "attributes_url_add_attributes": "true",
        "authorize_url": f"https://www.facebook.com/{v}dialog/oauth",
        "token_request_method": "GET",
        "token_url": f"https://graph.facebook.com/{v}oauth/access_token",
    }


def resolve(
    provider_type: str,
    given: dict[str, str],
    outbound: Outbound,
    previous: Resolved | None = None,
) -> Resolved:
    """Check a request's ProviderDetails and work out what is stored for them."""
    given = {k: v for k, v in given.items() if not k.startswith(INTERNAL)}
    given = {k: v for k, v in given.items() if k not in _DESCRIBED and k not in _SAML_DERIVED}
    if provider_type in SOCIAL_ENDPOINTS:
        given = {k: v for k, v in given.items() if k not in SOCIAL_ENDPOINTS[provider_type]}
    elif provider_type == "Facebook":
        given = {k: v for k, v in given.items() if k not in facebook_endpoints(None)}
    allowed = set(_REQUIRED[provider_type]) | set(_OPTIONAL.get(provider_type, ()))
    for key in given:
        if key not in allowed:
            raise InvalidParameterException(
                f"{key} is not a valid ProviderDetails key for {provider_type} providers."
            )
    for key in _REQUIRED[provider_type]:
        if not given.get(key):
            raise InvalidParameterException(f"{key} is required for {provider_type} providers.")
    resolved = Resolved()
    for key, value in given.items():
        (resolved.secrets if key in SECRET_KEYS else resolved.details)[key] = value
    resolved.details[GIVEN] = ",".join(sorted(given))
    if provider_type == OIDC:
        _oidc(resolved.details, outbound)
    elif provider_type == SAML:
        _saml(resolved, outbound, previous or Resolved())
    elif provider_type == "Facebook":
        resolved.details.update(facebook_endpoints(given.get("api_version")))
    else:
        resolved.details.update(SOCIAL_ENDPOINTS[provider_type])
    return resolved


def given_details(details: dict[str, str], secrets: dict[str, str]) -> dict[str, str]:
    """What the request that configured a provider gave (secrets included), so that an
    update can change some members and keep the others."""
    keys = [k for k in details.get(GIVEN, "").split(",") if k]
    given = {k: details[k] for k in keys if k in details}
    given.update({k: v for k, v in secrets.items() if k in keys})
    return given


def view(details: dict[str, str], secrets: dict[str, str]) -> dict[str, str]:
    """ProviderDetails as DescribeIdentityProvider shows them."""
    shown = {k: v for k, v in details.items() if not k.startswith(INTERNAL)}
    shown.update({k: v for k, v in secrets.items() if k in RETURNED_SECRETS})
    return dict(sorted(shown.items()))


# --------------------------------------------------------------------------- OIDC


def check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    local = parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise InvalidParameterException(f"{what} must be an HTTPS URL: {url}")


def _oidc(details: dict[str, str], outbound: Outbound) -> None:
    method = details["attributes_request_method"]
    if method not in ("GET", "POST"):
        raise InvalidParameterException("attributes_request_method must be GET or POST.")
    issuer = details["oidc_issuer"]
    check_url(issuer, "oidc_issuer")
    for key in _ENDPOINT_KEYS:
        if key in details:
            check_url(details[key], key)
    if not all(key in details for key in _ENDPOINT_KEYS):
        document = _discover(issuer, outbound)
        for key, member in _DISCOVERY.items():
            found = document.get(member)
            if key not in details and isinstance(found, str) and found:
                check_url(found, key)
                details[key] = found
        for key in ("authorize_url", "token_url", "jwks_uri"):
            if key not in details:
                raise InvalidParameterException(
                    f"The discovery document of {issuer} has no {_DISCOVERY[key]}."
                )
    details["attributes_url_add_attributes"] = "false"


def _discover(issuer: str, outbound: Outbound) -> dict[str, object]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        reply = outbound.get(url, headers={"Accept": "application/json"})
        document = reply.json() if reply.ok else None
    except OutboundError:
        document = None
    if not isinstance(document, dict):
        # Wording as remembered from the Cognito console (unconfirmed).
        raise InvalidParameterException("Unable to contact well-known endpoint")
    return document


# --------------------------------------------------------------------------- SAML


def _saml(resolved: Resolved, outbound: Outbound, previous: Resolved) -> None:
    details = resolved.details
    url, document = details.get("MetadataURL"), details.get("MetadataFile")
    if (url is None) == (document is None):
        raise InvalidParameterException(
            "Exactly one of MetadataURL and MetadataFile is required for SAML providers."
        )
    for key in ("IDPSignout", "IDPInit", "EncryptedResponses"):
        if details.get(key, "false") not in ("true", "false"):
            raise InvalidParameterException(f"{key} must be true or false.")
    if details.get("RequestSigningAlgorithm", "rsa-sha256") != "rsa-sha256":
        raise InvalidParameterException("RequestSigningAlgorithm must be rsa-sha256.")
    if url is not None:
        check_url(url, "MetadataURL")
        try:
            reply = outbound.get(url)
        except OutboundError as exc:
            raise InvalidParameterException(f"Unable to fetch metadata: {exc.message}") from None
        if not reply.ok:
            raise InvalidParameterException(
                f"Unable to fetch metadata: {url} answered HTTP {reply.status}"
            )
        document = reply.text()
        details[METADATA] = document
    assert document is not None
    details.update(saml_endpoints(document))
    if details.get("EncryptedResponses") == "true":
        key_pem = previous.secrets.get("encryption_private_key")
        certificate = previous.details.get("ActiveEncryptionCertificate")
        if key_pem is None or certificate is None:  # kept across updates once made
            certificate, key_pem = _encryption_certificate()
        details["ActiveEncryptionCertificate"] = certificate
        resolved.secrets["encryption_private_key"] = key_pem


def saml_endpoints(document: str) -> dict[str, str]:
    """The identity provider's redirect-binding sign-in and sign-out URLs; an
    InvalidParameterException when `document` is not SAML 2.0 IdP metadata."""
    invalid = InvalidParameterException(
        "The metadata is not valid SAML 2.0 metadata of an identity provider."
    )
    if "<!DOCTYPE" in document.upper() or "<!ENTITY" in document.upper():
        raise invalid  # no DTDs: nothing to expand
    try:
        root = ET.fromstring(document)  # noqa: S314 - no DTD (refused above): no entities
    except ET.ParseError:
        raise invalid from None
    entity = root if root.tag == f"{{{_MD}}}EntityDescriptor" else None
    if entity is None and root.tag == f"{{{_MD}}}EntitiesDescriptor":
        found = root.findall(f"{{{_MD}}}EntityDescriptor")
        entity = found[0] if len(found) == 1 else None
    idp = entity.find(f"{{{_MD}}}IDPSSODescriptor") if entity is not None else None
    if idp is None or not idp.findall(f"{{{_MD}}}SingleSignOnService"):
        raise invalid
    endpoints: dict[str, str] = {}
    for tag, key in (
        ("SingleSignOnService", "SSORedirectBindingURI"),
        ("SingleLogoutService", "SLORedirectBindingURI"),
    ):
        for service in idp.findall(f"{{{_MD}}}{tag}"):
            if service.get("Binding") == _REDIRECT and service.get("Location"):
                endpoints[key] = service.get("Location", "")
                break
    return endpoints


def _encryption_certificate() -> tuple[str, str]:
    """A new 2048-bit RSA key and a self-signed certificate for it: the certificate as
    base64 DER (as SAML metadata carries it), the key as PEM."""
    loaded = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = loaded.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cognate SAML encryption")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(loaded.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(loaded, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode(), key_pem
