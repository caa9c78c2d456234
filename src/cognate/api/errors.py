"""The base of every error Cognate returns on the AWS wire, and the protocol-level errors.

`ServiceError` subclasses carry the AWS error code (the `__type` clients switch on), the
HTTP status and Cognito's message text. The classes for the model's 60 error shapes are
generated into `cognate.api.exceptions`; the few errors that come from the protocol
framework rather than from Cognito itself (Coral's `SerializationException`,
`UnknownOperationException`) are declared here by hand because the model has no shapes
for them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """An error answered to the client as `{"__type": code, "message": message}`."""

    code: ClassVar[str] = "InternalErrorException"
    status: ClassVar[int] = 400

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        """Extra members of the error shape (e.g. `reasonCode`), serialized beside message."""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.code, "message": self.message}
        body.update(self.fields)
        return body


class SerializationException(ServiceError):
    """The body is not JSON, or a member has the wrong JSON type (raised by Coral, not Cognito)."""

    code = "SerializationException"


class UnknownOperationException(ServiceError):
    """The X-Amz-Target header is missing or names no operation of the service."""

    code = "UnknownOperationException"


# HTTP statuses on the wire. Cognito answers every client error with 400, including the
# ones its Smithy model tags 401/403/404/429 (NotAuthorizedException, ResourceNotFound...):
# captures of real responses show 400. Server faults are 500; ForbiddenException comes
# from AWS WAF in front of Cognito, which answers 403.
ERROR_STATUS: dict[str, int] = {
    "InternalErrorException": 500,
    "InternalServerException": 500,
    "ForbiddenException": 403,
}


# Errors of AWS's request authentication (SigV4), answered before an operation runs when
# Cognate is in secure mode (wire/sigv4.py). The model has no shapes for them: like Coral's,
# they are common to every AWS JSON service.


class MissingAuthenticationTokenException(ServiceError):
    """An operation that needs IAM credentials got a request without a SigV4 signature."""

    code = "MissingAuthenticationTokenException"


class IncompleteSignatureException(ServiceError):
    """The Authorization header (or the date) is malformed or lacks a parameter."""

    code = "IncompleteSignatureException"


class InvalidSignatureException(ServiceError):
    """The signature is wrong, expired, or scoped to another service / date."""

    code = "InvalidSignatureException"


class UnrecognizedClientException(ServiceError):
    """The access key id is not one of the configured keys."""

    code = "UnrecognizedClientException"


AUTH_ERRORS = (
    MissingAuthenticationTokenException.code,
    IncompleteSignatureException.code,
    InvalidSignatureException.code,
    UnrecognizedClientException.code,
    "AccessDeniedException",  # cognate.api.exceptions has the class (one operation declares it)
)
