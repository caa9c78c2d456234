"""Which pool domain a request is for.

Two ways in: the path prefix `/_cognate/domains/<domain>/...` (local use, no DNS; the
URL to give an OAuth client), and the Host header: `<prefix>.auth.<region>.<auth domain
base>` (default base `localhost`, which browsers resolve to loopback), Cognito's own
`<prefix>.auth.<region>.amazoncognito.com` (with a hosts-file entry), or a custom domain
(any other host naming one) — CognateApp rewrites such requests to the path form, marking
the scope so that URLs and cookies use the host's root.

`<domain>` in the path is the same name: `<prefix>.auth.<region>.amazoncognito.com`,
`<prefix>.auth.<region>.<base>`, a bare prefix (the server's default region), or a custom
domain.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.engine import Connection

from cognate.storage.db import Database
from cognate.storage.repos import domains as domains_repo
from cognate.storage.repos.domains import DomainRow

PATH_PREFIX = "/_cognate/domains"
HOST_ROOT = "cognate.domain_host"
DOMAIN_PATHS = (
    "/oauth2/",
    "/login",
    "/logout",
    "/signup",
    "/confirm",  # and /confirmForgotPassword
    "/forgotPassword",
    "/.well-known/",
)  # scope key: the request came by Host
_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class DomainNames:
    def __init__(self, db: Database, default_region: str, auth_domain_base: str) -> None:
        self._db = db
        self._region = default_region
        self._base = auth_domain_base.strip(".").lower()
        suffixes = "|".join(re.escape(s) for s in ("amazoncognito.com", self._base))
        self._hosted = re.compile(rf"({_PREFIX.pattern})\.auth\.([a-z0-9-]+)\.(?:{suffixes})")

    def find(self, name: str) -> DomainRow | None:
        name = name.lower().split(":", 1)[0]
        if "\x00" in name:  # no domain has one (and PostgreSQL's text cannot hold it)
            return None
        hosted = self._hosted.fullmatch(name)

        def find(conn: Connection) -> DomainRow | None:
            if hosted is not None:
                return domains_repo.find(conn, hosted.group(1), (hosted.group(2),))
            if _PREFIX.fullmatch(name):
                return domains_repo.find(conn, name, (self._region,))
            return domains_repo.find(conn, name, ("*",))

        return self._db.read("find_domain", find)

    def is_domain_host(self, host: str, path: str, public_hosts: frozenset[str]) -> bool:
        """Whether a request is for a pool domain by its Host header: a prefix domain's
        name, or (custom domains) any other name with a dot, but only for the domain
        endpoints' paths, so that the API and this server's pages answer under any name
        a proxy gives them."""
        name = host.lower().split(":", 1)[0]
        if name in public_hosts or name.startswith("["):
            return False
        if self._hosted.fullmatch(name):
            return True
        if "." not in name or name.replace(".", "").isdigit():
            return False
        return path.startswith(DOMAIN_PATHS)


def rewrite_for_host(scope: dict[str, Any], host: str) -> dict[str, Any]:
    """The request `scope` of a Host-addressed domain request, in its path-prefix form."""
    name = host.lower().split(":", 1)[0]
    prefix = f"{PATH_PREFIX}/{name}"
    return {
        **scope,
        "path": prefix + scope["path"],
        "raw_path": prefix.encode() + scope.get("raw_path", scope["path"].encode()),
        HOST_ROOT: True,
    }
