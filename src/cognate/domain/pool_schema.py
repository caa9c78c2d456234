"""A user pool's attribute schema: the standard attributes and the rules for custom ones.

The 20 standard attributes and their constraints are what DescribeUserPool shows for a
pool created through the API (real CLI output, 2019-2024: `sub` is required and
immutable with length 1-2048, `birthdate` is exactly 10 characters, `updated_at` is a
Number with MinValue 0, the `*_verified` attributes are Booleans without constraints).

`build_schema` turns CreateUserPool's `Schema` into SchemaAttributes (standard ones
adjusted, custom ones added with their `custom:` / `dev:custom:` prefix);
`add_custom_attributes` does the same for AddCustomAttributes. Both raise
InvalidParameterException with Cognito's wording where it is known.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from cognate.api.exceptions import InvalidParameterException

MAX_CUSTOM_ATTRIBUTES = 50
MAX_STRING_LENGTH = 2048


def _string(name: str, *, min_length: str = "0", mutable: bool = True) -> dict[str, Any]:
    return {
        "Name": name,
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": mutable,
        "Required": False,
        "StringAttributeConstraints": {"MinLength": min_length, "MaxLength": "2048"},
    }


def _boolean(name: str) -> dict[str, Any]:
    return {
        "Name": name,
        "AttributeDataType": "Boolean",
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": False,
    }


_SUB = _string("sub", min_length="1", mutable=False)
_SUB["Required"] = True
_BIRTHDATE = _string("birthdate", min_length="10")
_BIRTHDATE["StringAttributeConstraints"]["MaxLength"] = "10"

STANDARD_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    _SUB,
    _string("name"),
    _string("given_name"),
    _string("family_name"),
    _string("middle_name"),
    _string("nickname"),
    _string("preferred_username"),
    _string("profile"),
    _string("picture"),
    _string("website"),
    _string("email"),
    _boolean("email_verified"),
    _string("gender"),
    _BIRTHDATE,
    _string("zoneinfo"),
    _string("locale"),
    _string("phone_number"),
    _boolean("phone_number_verified"),
    _string("address"),
    {
        "Name": "updated_at",
        "AttributeDataType": "Number",
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": False,
        "NumberAttributeConstraints": {"MinValue": "0"},
    },
)
STANDARD_NAMES = frozenset(a["Name"] for a in STANDARD_ATTRIBUTES)


def default_schema() -> list[dict[str, Any]]:
    return copy.deepcopy(list(STANDARD_ATTRIBUTES))


def build_schema(requested: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """SchemaAttributes for CreateUserPool's `Schema` parameter."""
    schema = default_schema()
    by_name = {attr["Name"]: attr for attr in schema}
    seen: set[str] = set()
    custom: list[dict[str, Any]] = []
    for entry in requested or []:
        name = entry.get("Name")
        if not name:
            raise InvalidParameterException("Attribute name is required.")
        if name in by_name:
            full_name = name
        else:
            full_name = ("dev:custom:" if entry.get("DeveloperOnlyAttribute") else "custom:") + name
        if full_name in seen:
            raise InvalidParameterException(
                f"Duplicate custom attribute names {full_name} are not allowed in a user pool "
                "schema."
            )
        seen.add(full_name)
        if name in by_name:
            _adjust_standard(by_name[name], entry)
        else:
            custom.append(_custom_attribute(entry))
    if len(custom) > MAX_CUSTOM_ATTRIBUTES:
        raise InvalidParameterException(
            f"A user pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes."
        )
    return schema + custom


def add_custom_attributes(
    schema: list[dict[str, Any]], requested: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The schema with AddCustomAttributes' attributes appended."""
    existing = {attr["Name"] for attr in schema}
    added: list[dict[str, Any]] = []
    for entry in requested:
        attribute = _custom_attribute(entry)
        full_name = attribute["Name"]
        short_name = "custom:" + entry["Name"]
        for candidate in (full_name, short_name, "dev:" + short_name):
            if candidate in existing:
                raise InvalidParameterException(
                    f"{full_name}: Existing attribute already has name {candidate}."
                )
        existing.add(full_name)
        added.append(attribute)
    total = sum(1 for a in schema if a["Name"] not in STANDARD_NAMES) + len(added)
    if total > MAX_CUSTOM_ATTRIBUTES:
        raise InvalidParameterException(
            f"A user pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes."
        )
    return schema + added


def _adjust_standard(attribute: dict[str, Any], entry: dict[str, Any]) -> None:
    name = attribute["Name"]
    data_type = entry.get("AttributeDataType")
    if (data_type is not None and data_type != attribute["AttributeDataType"]) or entry.get(
        "DeveloperOnlyAttribute"
    ):
        raise InvalidParameterException(
            "You can not change AttributeDataType or set developerOnlyAttribute for standard "
            f"schema attribute {name}"
        )
    if name == "sub":
        if entry.get("Mutable") is True or entry.get("Required") is False:
            raise InvalidParameterException(
                "The sub attribute is required and immutable; it cannot be changed."
            )
        return
    if "Mutable" in entry:
        attribute["Mutable"] = entry["Mutable"]
    if "Required" in entry:
        attribute["Required"] = entry["Required"]
    if attribute["AttributeDataType"] == "String" and "StringAttributeConstraints" in entry:
        attribute["StringAttributeConstraints"] = _string_constraints(
            name,
            entry["StringAttributeConstraints"],
            defaults=attribute["StringAttributeConstraints"],
        )
    if attribute["AttributeDataType"] == "Number" and "NumberAttributeConstraints" in entry:
        attribute["NumberAttributeConstraints"] = _number_constraints(
            name, entry["NumberAttributeConstraints"]
        )


def _custom_attribute(entry: dict[str, Any]) -> dict[str, Any]:
    name = entry.get("Name")
    if not name:
        raise InvalidParameterException("Attribute name is required.")
    if ":" in name:
        raise InvalidParameterException(f"Custom attribute name {name} must not contain ':'.")
    if entry.get("Required"):
        raise InvalidParameterException("Required custom attributes are not supported currently.")
    developer_only = bool(entry.get("DeveloperOnlyAttribute", False))
    data_type = entry.get("AttributeDataType", "String")
    full_name = ("dev:custom:" if developer_only else "custom:") + name
    attribute: dict[str, Any] = {
        "Name": full_name,
        "AttributeDataType": data_type,
        "DeveloperOnlyAttribute": developer_only,
        "Mutable": bool(entry.get("Mutable", True)),
        "Required": False,
    }
    if data_type == "String":
        attribute["StringAttributeConstraints"] = _string_constraints(
            full_name, entry.get("StringAttributeConstraints") or {}, defaults={"MaxLength": "2048"}
        )
    elif data_type == "Number":
        attribute["NumberAttributeConstraints"] = _number_constraints(
            full_name, entry.get("NumberAttributeConstraints") or {}
        )
    return attribute


def _string_constraints(
    name: str, given: dict[str, Any], *, defaults: dict[str, str]
) -> dict[str, str]:
    result = dict(defaults)
    for key in ("MinLength", "MaxLength"):
        if key in given:
            result[key] = given[key]
    bounds: dict[str, int] = {}
    for key, value in result.items():
        if not value.isdigit() or int(value) > MAX_STRING_LENGTH:
            raise InvalidParameterException(
                f"Invalid {key} for attribute {name}: must be an integer from 0 to "
                f"{MAX_STRING_LENGTH}."
            )
        bounds[key] = int(value)
    if bounds.get("MinLength", 0) > bounds.get("MaxLength", MAX_STRING_LENGTH):
        raise InvalidParameterException(
            f"Attribute {name} cannot have a max length shorter than it's min length"
        )
    return {k: str(bounds[k]) for k in ("MinLength", "MaxLength") if k in bounds}


def _number_constraints(name: str, given: dict[str, Any]) -> dict[str, str]:
    result: dict[str, str] = {}
    values: dict[str, Decimal] = {}
    for key in ("MinValue", "MaxValue"):
        if key not in given:
            continue
        try:
            values[key] = Decimal(given[key])
        except InvalidOperation:
            raise InvalidParameterException(
                f"Invalid {key} for attribute {name}: {given[key]} is not a number."
            ) from None
        if not values[key].is_finite():
            raise InvalidParameterException(
                f"Invalid {key} for attribute {name}: {given[key]} is not a number."
            )
        result[key] = given[key]
    if "MinValue" in values and "MaxValue" in values and values["MinValue"] > values["MaxValue"]:
        raise InvalidParameterException(
            f"Attribute {name} cannot have a max value smaller than it's min value"
        )
    return result
