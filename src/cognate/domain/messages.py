"""Cognito's error message texts, in one place.

Texts marked "observed" were captured from real Cognito responses (GitHub issues, CLI
output); the others follow Cognito's style where no capture was found.
"""

from __future__ import annotations


def user_pool_not_found(pool_id: str) -> str:
    return f"User pool {pool_id} does not exist."  # observed


def client_not_found(client_id: str) -> str:
    return f"User pool client {client_id} does not exist."  # observed


DELETION_PROTECTED = (  # observed
    "The user pool cannot be deleted because deletion protection is activated. "
    "Deletion protection must be inactivated first."
)
DOMAIN_TAKEN = "Domain already associated with another user pool."  # observed
POOL_HAS_DOMAIN = "User pool already has a domain configured."  # observed
POOL_HAS_DOMAIN_ON_DELETE = (  # observed
    "User pool cannot be deleted. It has a domain configured that should be deleted first."
)
NO_SUCH_DOMAIN = "No such domain or user pool exists."  # observed
CUSTOM_TO_PREFIX = "Cannot convert custom domain to prefix domain."  # observed
INVALID_DOMAIN_CHARACTER = (  # observed
    "The domain name contains an invalid character. Domain names can only contain "
    "lower-case letters, numbers, and hyphens. Please enter a different name that follows "
    "this format: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$"
)


def reserved_domain_word(word: str) -> str:
    return f"Domain cannot contain reserved word: {word}"  # observed


def paging_marker_invalid(token: str, request_id: str) -> str:
    return f"Paging marker {token} is invalid for request {request_id}"  # observed (ListUsers)


def scope_does_not_exist(scope: str) -> str:
    return f"Invalid scope requested: {scope}"  # observed


def domain_not_found(domain: str) -> str:
    return f"Domain {domain} does not exist."


def resource_not_found(arn: str) -> str:
    return f"Resource {arn} does not exist."


# ------------------------------------------------------------------------- sign-in, tokens

INCORRECT_CREDENTIALS = "Incorrect username or password."  # observed
USER_DISABLED = "User is disabled."  # observed
USER_NOT_CONFIRMED = "User is not confirmed."  # observed
PASSWORD_RESET_REQUIRED = "Password reset required for the user"
TEMPORARY_PASSWORD_EXPIRED = "Temporary password has expired and must be reset by an administrator."
INITIATE_AUTH_NOT_SUPPORTED = "Initiate Auth method not supported."  # observed
INVALID_REFRESH_TOKEN = "Invalid Refresh Token."  # observed (with the period)
REFRESH_TOKEN_REVOKED = "Refresh Token has been revoked"  # observed
REFRESH_TOKEN_EXPIRED = "Refresh Token has expired"
ACCESS_TOKEN_REVOKED = "Access Token has been revoked"  # observed


def flow_not_enabled(flow: str) -> str:
    """InvalidParameterException when the client's ExplicitAuthFlows lack the flow."""
    if flow == "USER_SRP_AUTH":
        return "USER_SRP_AUTH is not enabled for the client."  # observed
    if flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        return "Auth flow not enabled for this client"  # observed
    return f"{flow} flow not enabled for this client"  # observed (USER_PASSWORD_AUTH, USER_AUTH)


def missing_auth_parameter(name: str) -> str:
    return f"Missing required parameter {name}"  # observed (USERNAME, SRP_A)


def cannot_modify_attribute(name: str) -> str:
    return f"Cannot modify an already provided {name}"  # observed


def attribute_missing(name: str) -> str:
    return f"Invalid attributes given, {name} is missing"  # observed
