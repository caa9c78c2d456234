"""User attribute values checked against the pool's schema, in Cognito's words.

Attribute problems are reported together, one `<name>: <problem>` line each:

* on creation (AdminCreateUser, SignUp): `Attributes did not conform to the schema: `
  followed by the lines, each ending in a newline (real SignUp output);
* on updates ((Admin)UpdateUserAttributes): the lines alone, names prefixed `user.`
  (real UpdateUserAttributes output: `user.email: Attribute cannot be updated.\\n`).

A malformed email address or phone number is its own error (`Invalid phone number
format.`), as in Cognito. Values are normalized where Cognito compares them: Booleans as
"true"/"false".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from cognate.api.exceptions import InvalidParameterException

SUB = "sub"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[0-9]{4,20}$")
_CREATE_LEAD = "Attributes did not conform to the schema: "


class AttributeSchema:
    """A pool's SchemaAttributes, indexed for checking values."""

    def __init__(self, schema: list[dict[str, Any]]) -> None:
        self._by_name = {attribute["Name"]: attribute for attribute in schema}

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def attribute(self, name: str) -> dict[str, Any] | None:
        return self._by_name.get(name)

    def required(self) -> list[str]:
        return [n for n, a in self._by_name.items() if a.get("Required") and n != SUB]

    def check_new(self, pairs: Iterable[dict[str, Any]]) -> dict[str, str]:
        """Attribute values for a new user; empty values are left out."""
        values, problems = self._check(pairs, updating=False)
        if problems:
            raise InvalidParameterException(_CREATE_LEAD + "".join(f"{p}\n" for p in problems))
        return {name: value for name, value in values.items() if value != ""}

    def check_changes(self, pairs: Iterable[dict[str, Any]]) -> dict[str, str]:
        """Attribute changes for an existing user; an empty value deletes the attribute."""
        values, problems = self._check(pairs, updating=True)
        if problems:
            raise InvalidParameterException("".join(f"user.{p}\n" for p in problems))
        return values

    def check_deletions(self, names: Iterable[str]) -> list[str]:
        problems = []
        for name in names:
            attribute = self._by_name.get(name)
            if attribute is None:
                problems.append(f"{name}: Attribute does not exist in the schema.")
            elif name == SUB or not attribute.get("Mutable", True):
                problems.append(f"{name}: Attribute cannot be updated.")
            elif attribute.get("Required"):
                problems.append(f"{name}: The attribute is required")
        if problems:
            raise InvalidParameterException("".join(f"user.{p}\n" for p in problems))
        return list(dict.fromkeys(names))

    def missing_required(self, values: dict[str, str]) -> list[str]:
        return [name for name in self.required() if not values.get(name)]

    def _check(
        self, pairs: Iterable[dict[str, Any]], *, updating: bool
    ) -> tuple[dict[str, str], list[str]]:
        values: dict[str, str] = {}
        problems: list[str] = []
        for pair in pairs:
            name = pair["Name"]
            value = pair.get("Value") or ""
            attribute = self._by_name.get(name)
            if attribute is None:
                problems.append(f"{name}: Attribute does not exist in the schema.")
                continue
            if name == SUB or (updating and not attribute.get("Mutable", True)):
                problems.append(f"{name}: Attribute cannot be updated.")
                continue
            if value == "":
                values[name] = ""
                continue
            problem, normalized = _check_value(name, attribute, value)
            if problem:
                problems.append(f"{name}: {problem}")
            else:
                values[name] = normalized
        return values, problems


def _check_value(name: str, attribute: dict[str, Any], value: str) -> tuple[str | None, str]:
    data_type = attribute.get("AttributeDataType", "String")
    if name == "email" and not _EMAIL.fullmatch(value):
        raise InvalidParameterException("Invalid email address format.")
    if name == "phone_number" and not _PHONE.fullmatch(value):
        raise InvalidParameterException("Invalid phone number format.")
    if data_type == "Boolean":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            return "Value must be true or false.", value
        return None, lowered
    if data_type == "Number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return "Value must be a number.", value
        if not number.is_finite():
            return "Value must be a number.", value
        limits = attribute.get("NumberAttributeConstraints") or {}
        if "MinValue" in limits and number < Decimal(limits["MinValue"]):
            return f"Value must be at least {limits['MinValue']}.", value
        if "MaxValue" in limits and number > Decimal(limits["MaxValue"]):
            return f"Value must be at most {limits['MaxValue']}.", value
        return None, value
    limits = attribute.get("StringAttributeConstraints") or {}
    if "MinLength" in limits and len(value) < int(limits["MinLength"]):
        return f"Value must be at least {limits['MinLength']} characters long.", value
    if "MaxLength" in limits and len(value) > int(limits["MaxLength"]):
        return f"Value must be at most {limits['MaxLength']} characters long.", value
    return None, value


def search_key(value: str, *, fold: bool) -> str:
    """The indexed form of a value for ListUsers filters: its first 200 characters."""
    return (value.casefold() if fold else value)[:200]


def as_pairs(values: dict[str, str]) -> list[dict[str, str]]:
    """AttributeType list, `sub` first, as Cognito lists a user's attributes."""
    ordered = sorted(values.items(), key=lambda item: (item[0] != SUB, item[0]))
    return [{"Name": name, "Value": value} for name, value in ordered]
