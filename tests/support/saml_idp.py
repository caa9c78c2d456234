"""A SAML 2.0 identity provider for the federation tests, built with pysaml2 (the library
Cognate's service provider side uses) and Debian's xmlsec1: its own RSA key and
self-signed certificate, metadata to give CreateIdentityProvider as MetadataFile, and
responses (signed, optionally encrypted, or spoiled on purpose) to post to a pool
domain's /saml2/idpresponse. It answers the AuthnRequest of a redirect URL Cognate
produced, or signs in a user unsolicited (IdP-initiated)."""

from __future__ import annotations

import base64
import datetime
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.samlp import response_from_string
from saml2.server import Server
from saml2.sigver import pre_signature_part, verify_redirect_signature

EMAIL_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
BASE = "https://idp.example.test"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


def _key_and_cert(name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def pem(base64_der: str) -> str:
    body = "\n".join(base64_der[i : i + 64] for i in range(0, len(base64_der), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def _body(cert_pem: str) -> str:
    return "".join(line for line in cert_pem.splitlines() if "CERTIFICATE" not in line)


def sp_metadata(entity_id: str, acs: str, logout: str, signing: str, encryption: str) -> str:
    """The metadata an administrator gives the IdP for a pool: its entity id, ACS,
    sign-out endpoint, signing certificate (GetSigningCertificate) and encryption
    certificate (ActiveEncryptionCertificate); certificates as base64 DER."""
    keys = ""
    for use, der in (("signing", signing), ("encryption", encryption)):
        if der:
            keys += (
                f'<md:KeyDescriptor use="{use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
                f"{der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            )
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}"
        f'<md:SingleLogoutService Binding="{BINDING_HTTP_POST}" Location="{logout}"/>'
        f'<md:AssertionConsumerService index="1" Binding="{BINDING_HTTP_POST}" '
        f'Location="{acs}"/></md:SPSSODescriptor></md:EntityDescriptor>'
    )


@dataclass
class Answer:
    saml_response: str  # base64, as posted
    relay_state: str | None
    xml: str


class SamlIdP:
    def __init__(self, base: str = BASE) -> None:
        self.base = base
        self.entity_id = f"{base}/metadata"
        self._folder = tempfile.mkdtemp(prefix="test-saml-idp-")
        key_pem, self.cert_pem = _key_and_cert("test idp")
        self._key_file = self._write("idp.key", key_pem)
        self._cert_file = self._write("idp.crt", self.cert_pem)
        self._sp_metadata: list[str] = []
        self.metadata = create_metadata_string(None, config=self._config(), sign=False).decode()

    def _write(self, name: str, text: str) -> str:
        path = os.path.join(self._folder, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def _config(self) -> IdPConfig:
        conf = IdPConfig()
        conf.load(
            {
                "entityid": self.entity_id,
                "key_file": self._key_file,
                "cert_file": self._cert_file,
                "metadata": {"inline": list(self._sp_metadata)} if self._sp_metadata else {},
                "allow_unknown_attributes": True,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(f"{self.base}/sso", BINDING_HTTP_REDIRECT)],
                            "single_logout_service": [(f"{self.base}/slo", BINDING_HTTP_REDIRECT)],
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                    }
                },
            }
        )
        return conf

    def trust(self, metadata: str) -> None:
        """Add a service provider's metadata (the pool's, or a decoy's)."""
        self._sp_metadata.append(metadata)

    def server(self) -> Server:
        return Server(config=self._config())

    # ------------------------------------------------------------------ requests

    def request_query(self, url: str) -> dict[str, str]:
        assert url.startswith(self.base), url
        return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    def read_request(self, url: str, signing_cert: str | None = None) -> Any:
        """The AuthnRequest (or LogoutRequest) of a redirect-binding URL; with a
        certificate (base64 DER), its signature must verify."""
        query = self.request_query(url)
        server = self.server()
        if signing_cert is not None:
            assert "Signature" in query, query.keys()
            assert query.get("SigAlg"), query.keys()
            assert verify_redirect_signature(query, server.sec.sec_backend, cert=signing_cert)
        if "/slo" in url:
            return server.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
        return server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)

    # ------------------------------------------------------------------ responses

    def respond(
        self,
        *,
        name_id: str,
        attributes: dict[str, list[str]],
        destination: str,
        sp_entity_id: str,
        in_response_to: str | None,
        relay_state: str | None,
        encrypt_cert: str | None = None,
        spoil: str | None = None,
        sign: str = "response",
    ) -> Answer:
        """A Response for `sp_entity_id` at `destination`. `spoil`: "tamper" (change the
        NameID after signing), "expire" (an assertion whose conditions ended an hour ago),
        "unsigned". `sign`: "response" or "assertion"."""
        server = self.server()
        expire = spoil == "expire"
        response = server.create_authn_response(
            identity=attributes,
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
            authn={
                "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
                "authn_auth": self.entity_id,
            },
            sign_response=sign == "response" and not expire and spoil != "unsigned",
            sign_assertion=sign == "assertion" and not expire and spoil != "unsigned",
            encrypt_assertion=encrypt_cert is not None,
            encrypt_cert_assertion=encrypt_cert,
        )
        if expire:  # conditions that ended an hour ago, signed afterwards
            if isinstance(response, str):
                response = response_from_string(response)
            response.signature = pre_signature_part(response.id, server.sec.my_cert, 1)
            past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
            stamp = past.strftime("%Y-%m-%dT%H:%M:%SZ")
            xml = re.sub(r'NotOnOrAfter="[^"]+"', f'NotOnOrAfter="{stamp}"', str(response))
            xml = server.sec.sign_statement(xml, f"{SAMLP}:Response", node_id=response.id)
        else:
            xml = str(response)
        if spoil == "tamper":
            assert f">{name_id}<" in xml
            xml = xml.replace(f">{name_id}<", ">mallory<")
        encoded = base64.b64encode(xml.encode()).decode()
        return Answer(encoded, relay_state, xml)

    def logout_response(self, request: Any, destination: str) -> str:
        """A signed LogoutResponse (base64) answering a parsed LogoutRequest."""
        server = self.server()
        response = server.create_logout_response(request.message, [BINDING_HTTP_POST])
        response.destination = destination
        response.signature = pre_signature_part(response.id, server.sec.my_cert, 1)
        xml = server.sec.sign_statement(
            str(response), f"{SAMLP}:LogoutResponse", node_id=response.id
        )
        return base64.b64encode(xml.encode()).decode()
