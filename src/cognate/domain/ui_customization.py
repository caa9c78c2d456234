"""Hosted UI (classic) branding: SetUICustomization and GetUICustomization.

A customization is CSS plus a logo image, for one app client or for every client of the
pool (ClientId "ALL"); a client's own customization replaces the pool-wide one entirely
(no merging). Each SetUICustomization replaces both the CSS and the image: Cognito can't
set them separately. The pool needs a domain first.

Cognito's rules (Developer Guide, "Hosted UI (classic) branding"): the CSS may only style
the listed `-customizable` classes, and may not hold `@import`, `@supports`, `@page` or
`@media` statements or JavaScript; the logo is a PNG or JPEG of at most 100 KB. The CSS is
otherwise kept as given. `CSSVersion` is the time of the last change (yyyyMMddHHmmss, as
Cognito reports it) and names the logo this server serves at `ImageUrl`.

The hosted pages read a client's effective customization with `ui_customization_for`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import InvalidParameterException
from cognate.domain.clients import require_client
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.ids import region_of_pool_id
from cognate.domain.pools import require_pool
from cognate.storage.db import Database
from cognate.storage.repos import domains as domains_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import ui_customizations as ui_repo
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.ui_customizations import UICustomizationRow

ALL = "ALL"
MAX_IMAGE_BYTES = 100 * 1024
ASSETS_PATH = "/_cognate/assets"

ALLOWED_SELECTORS = frozenset(
    {
        ".background-customizable",
        ".banner-customizable",
        ".errorMessage-customizable",
        ".idpButton-customizable",
        ".idpButton-customizable:hover",
        ".idpDescription-customizable",
        ".inputField-customizable",
        ".inputField-customizable:focus",
        ".label-customizable",
        ".legalText-customizable",
        ".logo-customizable",
        ".passwordCheck-valid-customizable",
        ".passwordCheck-notValid-customizable",
        ".redirect-customizable",
        ".socialButton-customizable",
        ".submitButton-customizable",
        ".submitButton-customizable:hover",
        ".textDescription-customizable",
    }
)
_FORBIDDEN = re.compile(
    r"@(import|supports|page|media)\b|javascript:|<\s*script|expression\s*\(", re.I
)
_AT_RULE = re.compile(r"@[\w-]+")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


def css_version(now_ms: int) -> str:
    return dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC).strftime("%Y%m%d%H%M%S")


def check_css(css: str) -> None:
    """Cognito's CSS restrictions; InvalidParameterException naming the first violation."""
    bare = _COMMENT.sub("", css)
    forbidden = _FORBIDDEN.search(bare) or _AT_RULE.search(bare)
    if forbidden:
        raise InvalidParameterException(f"CSS is not valid: {forbidden.group(0)} is not allowed.")
    rest = bare
    while rest.strip():
        open_at = rest.find("{")
        close_at = rest.find("}")
        if open_at < 0 or close_at < open_at:
            raise InvalidParameterException("CSS is not valid: it could not be parsed.")
        body = rest[open_at + 1 : close_at]
        if "{" in body:
            raise InvalidParameterException("CSS is not valid: nested blocks are not allowed.")
        for selector in rest[:open_at].split(","):
            name = " ".join(selector.split())
            if name not in ALLOWED_SELECTORS:
                raise InvalidParameterException(
                    f"CSS is not valid: {name or 'an empty selector'} is not a customizable "
                    "class name."
                )
        rest = rest[close_at + 1 :]


def image_extension(image: bytes) -> str:
    """The logo's file extension, or InvalidParameterException unless PNG/JPEG ≤ 100 KB."""
    if len(image) > MAX_IMAGE_BYTES:
        raise InvalidParameterException(
            f"The image file is too large: the maximum size is {MAX_IMAGE_BYTES} bytes."
        )
    if image.startswith(_PNG):
        return "png"
    if image.startswith(_JPEG):
        return "jpg"
    raise InvalidParameterException("The image file must be a PNG or JPEG image.")


def image_path(pool_id: str, row: UICustomizationRow) -> str | None:
    """Where this server serves the customization's logo (relative to its base URL)."""
    if row.image is None or row.image_extension is None:
        return None
    return f"{ASSETS_PATH}/{pool_id}/{row.client_id}/{row.version}.{row.image_extension}"


def effective(conn: Connection, pool_pk: int, client_id: str | None) -> UICustomizationRow | None:
    """The client's own customization, else the pool-wide one, else None."""
    if client_id and client_id != ALL:
        own = ui_repo.get(conn, pool_pk, client_id)
        if own is not None:
            return own
    return ui_repo.get(conn, pool_pk, ALL)


def ui_customization_for(
    conn: Connection, pool_pk: int, client_id: str
) -> tuple[str | None, bytes | None] | None:
    """For the hosted pages: the (CSS, logo image) that apply to an app client, or None."""
    row = effective(conn, pool_pk, client_id)
    if row is None:
        return None
    return row.css, row.image


def logo_path_for(conn: Connection, pool_pk: int, pool_id: str, client_id: str) -> str | None:
    """For the hosted pages: the path of the logo that applies to an app client, if any."""
    row = effective(conn, pool_pk, client_id)
    return image_path(pool_id, row) if row is not None else None


@dataclass(frozen=True, slots=True)
class Logo:
    image: bytes
    content_type: str


class UICustomizationService:
    def __init__(self, db: Database, clock: Clock, base_url: str) -> None:
        self._db = db
        self._clock = clock
        self._base_url = base_url.rstrip("/")

    def _view(self, pool: PoolRow, row: UICustomizationRow) -> dict[str, Any]:
        view: dict[str, Any] = {
            "UserPoolId": pool.id,
            "ClientId": row.client_id,
            "CSSVersion": row.version,
            "CreationDate": ms_to_seconds(row.created_at),
            "LastModifiedDate": ms_to_seconds(row.updated_at),
        }
        if row.css is not None:
            view["CSS"] = row.css
        path = image_path(pool.id, row)
        if path is not None:
            view["ImageUrl"] = self._base_url + path
        return view

    def set(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        client_id = request.get("ClientId") or ALL
        css: str | None = request.get("CSS")
        if css is not None:
            check_css(css)
        image: bytes | None = request.get("ImageFile") or None
        extension = image_extension(image) if image is not None else None

        def set_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"], for_update=True)
            if not domains_repo.of_pool(conn, pool.pk):
                # observed (amazon-connect/voicemail-for-amazon-connect#5)
                raise InvalidParameterException("A domain must be associated with this user pool.")
            client_pk = None
            if client_id != ALL:
                client_pk = require_client(conn, pool, client_id).pk
            now = self._clock.now_ms()
            version = css_version(now)
            existing = ui_repo.get(conn, pool.pk, client_id)
            if existing is None:
                ui_repo.insert(
                    conn,
                    pool_pk=pool.pk,
                    client_pk=client_pk,
                    client_id=client_id,
                    css=css,
                    image=image,
                    image_extension=extension,
                    version=version,
                    now=now,
                )
            else:
                ui_repo.update(
                    conn,
                    existing.pk,
                    css=css,
                    image=image,
                    image_extension=extension,
                    version=version,
                    now=now,
                )
            row = ui_repo.get(conn, pool.pk, client_id)
            assert row is not None
            return self._view(pool, row)

        try:
            return self._db.write("set_ui_customization", set_txn)
        except IntegrityError:  # the same customization created concurrently: set it again
            return self._db.write("set_ui_customization", set_txn)

    def get(self, region: str, pool_id: str, client_id: str | None) -> dict[str, Any]:
        def get_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            if client_id and client_id != ALL:
                require_client(conn, pool, client_id)
            row = effective(conn, pool.pk, client_id)
            if row is None:  # "If nothing is present, then an empty shape is returned."
                return {"UserPoolId": pool.id, "ClientId": client_id or ALL}
            return self._view(pool, row)

        return self._db.read("get_ui_customization", get_txn)

    def logo(self, pool_id: str, client_id: str, file_name: str) -> Logo | None:
        """The logo named by an ImageUrl this server handed out, while it is current."""
        version, _, extension = file_name.partition(".")
        region = region_of_pool_id(pool_id)
        if region is None or extension not in CONTENT_TYPES:
            return None

        def logo_txn(conn: Connection) -> Logo | None:
            pool = pools_repo.get(conn, pool_id, region)
            if pool is None:
                return None
            row = ui_repo.get(conn, pool.pk, client_id)
            if (
                row is None
                or row.image is None
                or row.version != version
                or row.image_extension != extension
            ):
                return None
            return Logo(row.image, CONTENT_TYPES[extension])

        return self._db.read("get_ui_customization_logo", logo_txn)
