"""User pool domains: prefix domains (`<prefix>.auth.<region>...`) and custom domains.

A pool has at most one prefix domain and one custom domain; a prefix is unique within
its region and a custom domain everywhere. Both rules are unique indexes, so two pools
racing for one prefix get exactly one winner. Which rule a failed insert broke decides
Cognito's message ("Domain already associated with another user pool." or "User pool
already has a domain configured.").

Cognate serves the domain's web endpoints itself, so the "CloudFront" names that Cognito
reports are this server's public host name, and no S3 asset bucket is reported.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import FeatureUnavailableInTierException, InvalidParameterException
from cognate.domain import messages
from cognate.domain.clock import Clock
from cognate.domain.pools import require_pool
from cognate.storage.db import Database
from cognate.storage.repos import domains as domains_repo
from cognate.storage.repos.domains import DomainRow

_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$")
_CUSTOM_SCOPE = "*"


def _version(now_ms: int) -> str:
    return dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC).strftime("%Y%m%d%H%M%S")


def _check_prefix(domain: str) -> None:
    if not _PREFIX.fullmatch(domain):
        raise InvalidParameterException(messages.INVALID_DOMAIN_CHARACTER)
    words = domain.split("-")
    for reserved in ("aws", "amazon", "cognito"):
        # "cognito" and "amazon" are refused anywhere in the prefix, "aws" as a whole
        # hyphen-separated word (real prefixes like "awsome-app" are accepted).
        if (reserved == "aws" and reserved in words) or (reserved != "aws" and reserved in domain):
            raise InvalidParameterException(messages.reserved_domain_word(reserved))


def _check_custom(domain: str) -> None:
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253 or not all(_LABEL.fullmatch(lb) for lb in labels):
        raise InvalidParameterException(messages.INVALID_DOMAIN_CHARACTER)


class DomainService:
    def __init__(self, db: Database, clock: Clock, account_id: str, public_host: str) -> None:
        self._db = db
        self._clock = clock
        self._account_id = account_id
        self._public_host = public_host

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        domain = request["Domain"]
        custom = request.get("CustomDomainConfig")
        if custom is None:
            _check_prefix(domain)
        else:
            _check_custom(domain)
        version = request.get("ManagedLoginVersion", 1)
        if version not in (1, 2):
            raise InvalidParameterException("ManagedLoginVersion must be 1 or 2.")
        settings: dict[str, Any] = {"ManagedLoginVersion": version}
        if custom is not None:
            settings["CustomDomainConfig"] = dict(custom)
        if "Routing" in request:
            if custom is None:
                raise InvalidParameterException("Routing is supported only for custom domains.")
            settings["Routing"] = request["Routing"]
        kind = "prefix" if custom is None else "custom"
        scope = region if custom is None else _CUSTOM_SCOPE
        now = self._clock.now_ms()

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            _check_tier(pool.settings.get("UserPoolTier", "ESSENTIALS"), version)
            try:
                with conn.begin_nested():
                    domains_repo.insert(
                        conn,
                        pool_pk=pool.pk,
                        domain=domain,
                        kind=kind,
                        scope=scope,
                        settings=settings,
                        version=_version(now),
                        now=now,
                    )
            except IntegrityError:
                if domains_repo.find(conn, domain, (scope,)) is not None:
                    raise InvalidParameterException(messages.DOMAIN_TAKEN) from None
                raise InvalidParameterException(messages.POOL_HAS_DOMAIN) from None
            return self._changed(settings)

        return self._db.write("create_user_pool_domain", create_txn)

    def _changed(self, settings: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"ManagedLoginVersion": settings["ManagedLoginVersion"]}
        if "CustomDomainConfig" in settings:
            out["CloudFrontDomain"] = self._public_host
        if "Routing" in settings:
            out["Routing"] = settings["Routing"]
        return out

    def describe(self, region: str, domain: str) -> dict[str, Any]:
        row = self._db.read(
            "describe_user_pool_domain",
            lambda conn: domains_repo.find(conn, domain, (region, _CUSTOM_SCOPE)),
        )
        if row is None:
            return {}  # Cognito answers an unknown domain with an empty description
        description: dict[str, Any] = {
            "UserPoolId": row.pool_id,
            "AWSAccountId": self._account_id,
            "Domain": row.domain,
            "CloudFrontDistribution": self._public_host,
            "Version": row.version,
            "Status": "ACTIVE",
            "CustomDomainConfig": row.settings.get("CustomDomainConfig", {}),
            "ManagedLoginVersion": row.settings["ManagedLoginVersion"],
        }
        if "Routing" in row.settings:
            description["Routing"] = row.settings["Routing"]
        return description

    def _owned(self, conn: Connection, region: str, pool_id: str, domain: str) -> DomainRow:
        pool = require_pool(conn, region, pool_id)
        row = domains_repo.find(conn, domain, (region, _CUSTOM_SCOPE))
        if row is None or row.pool_pk != pool.pk:
            raise InvalidParameterException(messages.NO_SUCH_DOMAIN)
        return row

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        def update_txn(conn: Connection) -> dict[str, Any]:
            row = self._owned(conn, region, request["UserPoolId"], request["Domain"])
            settings = dict(row.settings)
            if row.kind == "custom":
                if "CustomDomainConfig" not in request:
                    raise InvalidParameterException(messages.CUSTOM_TO_PREFIX)
                settings["CustomDomainConfig"] = dict(request["CustomDomainConfig"])
            elif "CustomDomainConfig" in request:
                raise InvalidParameterException(
                    "A prefix domain cannot be converted to a custom domain."
                )
            if "ManagedLoginVersion" in request:
                version = request["ManagedLoginVersion"]
                if version not in (1, 2):
                    raise InvalidParameterException("ManagedLoginVersion must be 1 or 2.")
                pool = require_pool(conn, region, request["UserPoolId"])
                _check_tier(pool.settings.get("UserPoolTier", "ESSENTIALS"), version)
                settings["ManagedLoginVersion"] = version
            if "Routing" in request:
                settings["Routing"] = request["Routing"]
            now = self._clock.now_ms()
            domains_repo.update(conn, row.pk, settings=settings, version=_version(now), now=now)
            return self._changed(settings)

        return self._db.write("update_user_pool_domain", update_txn)

    def delete(self, region: str, pool_id: str, domain: str) -> None:
        def delete_txn(conn: Connection) -> None:
            domains_repo.delete(conn, self._owned(conn, region, pool_id, domain).pk)

        self._db.write("delete_user_pool_domain", delete_txn)


def _check_tier(tier: str, version: int) -> None:
    if version == 2 and tier == "LITE":
        raise FeatureUnavailableInTierException(
            "The following feature is not available for the LITE pricing tier configured: "
            "Managed Login Version 2"
        )
