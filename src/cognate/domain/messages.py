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
