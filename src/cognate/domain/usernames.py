"""How a pool names its users: usernames, sign-in identifiers, aliases and case.

Three kinds of pool (Cognito's "Customizing sign-in attributes"):

* plain: the username is what the administrator or user chose;
* `UsernameAttributes` (email and/or phone_number): users sign in with their email or
  phone, the permanent username is a generated UUID (the user's `sub`), and those values
  must be unique in the pool whether or not they are verified;
* `AliasAttributes` (email, phone_number, preferred_username): users have a username and
  may also sign in with a *verified* email or phone, or their preferred_username; each
  alias value belongs to at most one user.

With `UsernameConfiguration.CaseSensitive` false, the username, preferred_username and
email compare case-insensitively; phone numbers always compare exactly. Uniqueness is a
key in the database: `username_key` for usernames, a hash of the normalized value for
the other identifiers (`identifier_hash`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cognate.api.exceptions import InvalidParameterException

EMAIL = "email"
PHONE = "phone_number"
PREFERRED_USERNAME = "preferred_username"
VERIFIED_FLAG = {EMAIL: "email_verified", PHONE: "phone_number_verified"}

# What Cognito accepts as an email or phone number where it must tell them apart.
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE_SHAPE = re.compile(r"^\+[0-9]+$")


def looks_like_email(value: str) -> bool:
    return _EMAIL_SHAPE.fullmatch(value) is not None


def looks_like_phone(value: str) -> bool:
    return _PHONE_SHAPE.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class SignIn:
    """A pool's sign-in configuration, read from its settings."""

    pool_id: str
    case_sensitive: bool
    username_attributes: frozenset[str]
    alias_attributes: frozenset[str]

    @classmethod
    def of(cls, pool_id: str, settings: dict[str, Any]) -> SignIn:
        config = settings.get("UsernameConfiguration") or {}
        return cls(
            pool_id=pool_id,
            case_sensitive=bool(config.get("CaseSensitive", True)),
            username_attributes=frozenset(settings.get("UsernameAttributes") or ()),
            alias_attributes=frozenset(settings.get("AliasAttributes") or ()),
        )

    @property
    def generated_usernames(self) -> bool:
        """True when users sign in with email/phone and get a UUID as their username."""
        return bool(self.username_attributes)

    def username_key(self, username: str) -> str:
        return username if self.case_sensitive else username.casefold()

    def identifier_key(self, kind: str, value: str) -> str:
        if kind == PHONE or self.case_sensitive:
            return value
        return value.casefold()

    def identifier_hash(self, kind: str, value: str) -> str:
        return hashlib.sha256(self.identifier_key(kind, value).encode()).hexdigest()

    def lookup_kinds(self) -> tuple[str, ...]:
        """Identifier kinds that a `Username` parameter may name besides the username."""
        kinds = self.username_attributes | self.alias_attributes
        return tuple(k for k in (EMAIL, PHONE, PREFERRED_USERNAME) if k in kinds)

    def claimed_identifiers(self, attributes: dict[str, str]) -> dict[str, str]:
        """The unique sign-in identifiers a user with these attributes holds."""
        claimed: dict[str, str] = {}
        for kind in self.username_attributes:
            if attributes.get(kind):
                claimed[kind] = attributes[kind]
        for kind in self.alias_attributes:
            value = attributes.get(kind)
            if not value:
                continue
            if kind == PREFERRED_USERNAME or attributes.get(VERIFIED_FLAG[kind]) == "true":
                claimed[kind] = value
        return claimed

    def new_user_name(self, username: str) -> tuple[str | None, dict[str, str]]:
        """Check a new user's Username. Returns (the username to use, or None for a
        generated one, and attributes the Username sets)."""
        if self.username_attributes:
            kinds = self.username_attributes
            if EMAIL in kinds and looks_like_email(username):
                return None, {EMAIL: username}
            if PHONE in kinds and looks_like_phone(username):
                return None, {PHONE: username}
            if kinds == {EMAIL}:
                raise InvalidParameterException("Username should be an email.")
            if kinds == {PHONE}:
                raise InvalidParameterException("Username should be a phone number.")
            raise InvalidParameterException("Username should be either an email or a phone number.")
        if EMAIL in self.alias_attributes and looks_like_email(username):
            raise InvalidParameterException(
                "Username cannot be of email format, since user pool is configured for email alias."
            )
        if PHONE in self.alias_attributes and looks_like_phone(username):
            raise InvalidParameterException(
                "Username cannot be of phone number format, since user pool is configured for "
                "phone number alias."
            )
        return username, {}
