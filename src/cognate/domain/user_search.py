"""ListUsers: Cognito's filter grammar, answered from indexes.

A filter is `AttributeName Operator "Value"`: one attribute, `=` (equals) or `^=`
(starts with), a double-quoted value with `\\"` and `\\\\` escapes, spaces around the
operator optional. Searchable: username, email, phone_number, name, given_name,
family_name, preferred_username, cognito:user_status (case-insensitive), status
("Enabled"/"Disabled", case-sensitive) and sub. Anything else is refused.

Every filter is one index range scan ordered by the user's key, which is also what the
opaque PaginationToken records, so a page costs the same at 1,000 and 100,000 users.
In case-insensitive pools, username, email and preferred_username match regardless of case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cognate.api.exceptions import InvalidParameterException
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page
from cognate.domain.user_store import PoolScope, fetch_scope, search_key, user_summary
from cognate.storage.db import Database, Fetch
from cognate.storage.repos import user_search as search_repo

_FILTER = re.compile(r'\s*([A-Za-z_:]+)\s*(\^=|=)\s*"((?:[^"\\]|\\.)*)"\s*')
_ATTRIBUTE_FILTERS = frozenset(
    {"email", "phone_number", "name", "given_name", "family_name", "preferred_username"}
)
_STATUSES = (
    "UNCONFIRMED",
    "CONFIRMED",
    "EXTERNAL_PROVIDER",
    "RESET_REQUIRED",
    "FORCE_CHANGE_PASSWORD",
    "ARCHIVED",
    "COMPROMISED",
    "UNKNOWN",
)
PARSE_ERROR = "Error while parsing filter."  # observed


@dataclass(frozen=True, slots=True)
class Filter:
    attribute: str
    prefix: bool
    value: str


def parse_filter(text: str | None) -> Filter | None:
    if text is None or not text.strip():
        return None
    match = _FILTER.fullmatch(text)
    if match is None:
        raise InvalidParameterException(PARSE_ERROR)
    name, operator, raw = match.groups()
    value = re.sub(r"\\(.)", r"\1", raw)
    searchable = _ATTRIBUTE_FILTERS | {"username", "cognito:user_status", "status", "sub"}
    if name not in searchable:
        raise InvalidParameterException(f"Invalid search attribute: {name}")
    return Filter(name, operator == "^=", value)


def _matches(candidate: str, filt: Filter, *, fold: bool = False) -> bool:
    value = filt.value.casefold() if fold else filt.value
    candidate = candidate.casefold() if fold else candidate
    return candidate.startswith(value) if filt.prefix else candidate == value


class UserSearch:
    def __init__(self, db: Database, tokens: PageTokens) -> None:
        self._db = db
        self._tokens = tokens

    def list_users(self, region: str, request: dict[str, Any], request_id: str) -> Page:
        pool_id = request["UserPoolId"]
        filt = parse_filter(request.get("Filter"))
        limit = request.get("Limit") or 60
        wanted = request.get("AttributesToGet")
        scope_name = f"users/{pool_id}/{request.get('Filter') or ''}"
        after = self._tokens.decode(scope_name, request.get("PaginationToken"), request_id)

        # Two single statements, each consistent on its own (as a READ COMMITTED
        # transaction around them would be): the pool, then one page of users.
        scope = fetch_scope(self._db.fetch, region, pool_id)
        if wanted is not None:
            _check_attributes_to_get(scope, wanted)
        found = self._query(self._db.fetch, scope, filt, after, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        items = []
        for entry in found:
            summary = user_summary(entry.user, entry.attributes)
            if wanted is not None:
                keep = set(wanted)
                summary["Attributes"] = [a for a in summary["Attributes"] if a["Name"] in keep]
            items.append(summary)
        token = self._tokens.encode(scope_name, found[-1].user.pk) if more else None
        return Page(items, token)

    def _query(
        self, fetch: Fetch, scope: PoolScope, filt: Filter | None, after: int, limit: int
    ) -> list[Any]:
        pool_pk = scope.pool.pk
        if filt is None:
            return search_repo.all_users(fetch, pool_pk, after, limit)
        name = filt.attribute
        if name == "username":
            key = scope.sign_in.username_key(filt.value)
            return search_repo.by_username(fetch, pool_pk, key, filt.prefix, after, limit)
        if name == "sub":
            return search_repo.by_sub(fetch, pool_pk, filt.value, filt.prefix, after, limit)
        if name == "status":
            enabled = [s == "Enabled" for s in ("Enabled", "Disabled") if _matches(s, filt)]
            return search_repo.by_enabled(fetch, pool_pk, enabled, after, limit)
        if name == "cognito:user_status":
            statuses = [s for s in _STATUSES if _matches(s, filt, fold=True)]
            return search_repo.by_status(fetch, pool_pk, statuses, after, limit)
        key = search_key(scope, name, filt.value)
        return search_repo.by_attribute(
            fetch, pool_pk, name, key, filt.value, filt.prefix, after, limit
        )


def _check_attributes_to_get(scope: PoolScope, names: list[str]) -> None:
    for name in names:
        if name not in scope.schema:
            raise InvalidParameterException(f"Invalid attributes requested: {name}")
