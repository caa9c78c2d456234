"""Passwords: the pool's policy, generated temporary passwords, and what is stored.

Only SRP material is kept: a random salt and the verifier v = g^x (see `srp.py`), which
is what SRP sign-in needs and also checks a plaintext password (recompute v, compare in
constant time). The record is sealed with the master key by the caller, so a copy of
the database alone reveals nothing to guess passwords against. Password history keeps
the previous records and compares a new password against each one's salt.

Policy violations are `InvalidPasswordException` with Cognito's rule texts; the lead-in
differs by operation in Cognito (`PREFIX_*`), and one rule is reported at a time:
length first, then upper case, lower case, digits and symbols.
"""

from __future__ import annotations

import hmac
import secrets
import string
from dataclasses import dataclass
from typing import Any

from cognate.api.exceptions import InvalidPasswordException, PasswordHistoryPolicyViolationException
from cognate.domain import srp

PREFIX_SIGN_UP = "Password did not conform with policy"
PREFIX_ADMIN_CREATE = "Password did not conform with password policy"
PREFIX_CHANGE = "Password does not conform to policy"

# Cognito's special characters (the space counts too).
SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "
_GENERATED_SYMBOLS = "^$*.[]{}()?!@#%&/,><:;|_~=+-"


def policy_of(settings: dict[str, Any]) -> dict[str, Any]:
    return dict(settings.get("Policies", {}).get("PasswordPolicy", {}))


def check_policy(password: str, policy: dict[str, Any], prefix: str) -> None:
    rule = _broken_rule(password, policy)
    if rule is not None:
        raise InvalidPasswordException(f"{prefix}: {rule}")


def _broken_rule(password: str, policy: dict[str, Any]) -> str | None:
    if len(password) < policy.get("MinimumLength", 8):
        return "Password not long enough"
    if policy.get("RequireUppercase") and not any(c in string.ascii_uppercase for c in password):
        return "Password must have uppercase characters"
    if policy.get("RequireLowercase") and not any(c in string.ascii_lowercase for c in password):
        return "Password must have lowercase characters"
    if policy.get("RequireNumbers") and not any(c in string.digits for c in password):
        return "Password must have numeric characters"
    if policy.get("RequireSymbols") and not any(c in SYMBOLS for c in password):
        return "Password must have symbol characters"
    return None


def generate_temporary(policy: dict[str, Any]) -> str:
    """A random password that satisfies the policy (every character class, so any policy)."""
    length = max(int(policy.get("MinimumLength", 8)), 12)
    classes = [string.ascii_uppercase, string.ascii_lowercase, string.digits, _GENERATED_SYMBOLS]
    chars = [secrets.choice(c) for c in classes]
    alphabet = "".join(classes)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    # Shuffle so the class-guaranteeing characters are not always first.
    for i in range(len(chars) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@dataclass(frozen=True, slots=True)
class PasswordRecord:
    """What is kept of a password: SRP salt and verifier (hex, unpadded)."""

    salt: str
    verifier: str

    def to_json(self) -> dict[str, str]:
        return {"salt": self.salt, "verifier": self.verifier}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> PasswordRecord:
        return cls(data["salt"], data["verifier"])


def make_record(pool_id: str, username: str, password: str) -> PasswordRecord:
    salt = srp.new_salt()
    v = srp.verifier(srp.pool_name(pool_id), username, password, salt)
    return PasswordRecord(format(salt, "x"), format(v, "x"))


def matches(record: PasswordRecord, pool_id: str, username: str, password: str) -> bool:
    candidate = srp.verifier(srp.pool_name(pool_id), username, password, int(record.salt, 16))
    return hmac.compare_digest(format(candidate, "x"), record.verifier)


def check_history(
    history: list[PasswordRecord], pool_id: str, username: str, password: str, size: int
) -> None:
    """PasswordHistoryPolicyViolationException if the password is among the last `size`."""
    recent = history[-size:] if size else []
    if any(matches(record, pool_id, username, password) for record in recent):
        raise PasswordHistoryPolicyViolationException(
            "The password history policy of the user pool forbids reusing one of the last "
            f"{size} passwords."
        )


def with_history(
    history: list[PasswordRecord], record: PasswordRecord, size: int
) -> list[PasswordRecord]:
    """The history after `record` becomes the current password (kept to `size` entries)."""
    if size <= 0:
        return []
    return [*history, record][-size:]
