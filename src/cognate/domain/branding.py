"""Managed login branding styles: Create/Describe/DescribeByClient/Update/Delete.

A style belongs to one app client (a second one for the same client is
ManagedLoginBrandingExistsException) and has a `Settings` JSON document and up to 40 image
`Assets`, one per (Category, ColorMode). `UseCognitoProvidedValues=true` means Cognito's
defaults, and may not come with Settings or Assets. UpdateManagedLoginBranding keeps what
it is not given ("preserves existing style settings that you don't specify"): Settings are
merged into the stored document, assets replace those of the same category and color mode.
`ReturnMergedResources` describes the style merged over the defaults.

Cognate's defaults are a small document in Cognito's settings layout, not Cognito's full
default style. Asset bytes must be what the extension says (UNCONFIRMED that Cognito checks);
an asset given by ResourceId alone keeps the stored bytes of that asset.

The hosted pages read a client's style with `branding_for`.
"""

from __future__ import annotations

import base64
import copy
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cognate.api.exceptions import (
    InvalidParameterException,
    ManagedLoginBrandingExistsException,
    ResourceNotFoundException,
)
from cognate.domain.clients import require_client
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.ids import region_of_pool_id
from cognate.domain.pools import require_pool
from cognate.storage.db import Database
from cognate.storage.repos import brandings as brandings_repo
from cognate.storage.repos import clients as clients_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos.brandings import BrandingRow
from cognate.storage.repos.pools import PoolRow

DEFAULT_SETTINGS: dict[str, Any] = {
    "categories": {
        "auth": {
            "authMethodOrder": [
                [
                    {"display": "BUTTON", "type": "FEDERATED"},
                    {"display": "INPUT", "type": "USERNAME_PASSWORD"},
                ]
            ],
            "federation": {"interfaceStyle": "BUTTON_LIST", "order": []},
        },
        "form": {
            "displayGraphics": True,
            "instructions": {"enabled": False},
            "languageSelector": {"enabled": False},
            "location": {"horizontal": "CENTER", "vertical": "CENTER"},
            "sessionTimerDisplay": "NONE",
        },
        "global": {
            "colorSchemeMode": "LIGHT",
            "pageFooter": {"enabled": False},
            "pageHeader": {"enabled": False},
            "spacingDensity": "REGULAR",
        },
        "signUp": {"acceptanceElements": [{"enforcement": "NONE", "textKey": "en"}]},
    },
    "components": {
        "pageBackground": {
            "darkMode": {"color": "0f1b2aff"},
            "image": {"enabled": True},
            "lightMode": {"color": "ffffffff"},
        },
        "primaryButton": {
            "darkMode": {"defaults": {"backgroundColor": "539fe5ff", "textColor": "000716ff"}},
            "lightMode": {"defaults": {"backgroundColor": "0972d3ff", "textColor": "ffffffff"}},
        },
    },
}

_MAGIC: dict[str, tuple[bytes, ...]] = {
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPEG": (b"\xff\xd8\xff",),
    "ICO": (b"\x00\x00\x01\x00",),
    "WEBP": (b"RIFF",),
}
ASSETS_PATH = "/_cognate/branding"
CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "ICO": "image/x-icon",
    "SVG": "image/svg+xml",
    "WEBP": "image/webp",
}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` deep-merged into a copy of `base` (objects merge; anything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _check_bytes(extension: str, data: bytes) -> None:
    if extension == "SVG":
        ok = b"<svg" in data[:4096].lower()
    elif extension == "WEBP":
        ok = data.startswith(b"RIFF") and data[8:12] == b"WEBP"
    else:
        ok = data.startswith(_MAGIC[extension])
    if not ok:
        raise InvalidParameterException(f"Asset bytes are not a valid {extension} image.")


def _check_asset_kind(category: str, extension: str) -> None:
    if category == "FAVICON_ICO" and extension != "ICO":
        raise InvalidParameterException("A FAVICON_ICO asset must have the extension ICO.")
    if category == "FAVICON_SVG" and extension != "SVG":
        raise InvalidParameterException("A FAVICON_SVG asset must have the extension SVG.")
    if extension == "ICO" and category != "FAVICON_ICO":
        raise InvalidParameterException(f"The extension ICO is not allowed for {category}.")


def _assets(
    given: list[dict[str, Any]] | None, existing: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The stored asset list after applying the request's assets to `existing`."""
    by_key = {(a["Category"], a["ColorMode"]): a for a in existing}
    by_resource = {a["ResourceId"]: a for a in existing}
    seen: set[tuple[str, str]] = set()
    for asset in given or []:
        key = (asset["Category"], asset["ColorMode"])
        if key in seen:
            raise InvalidParameterException(
                f"Duplicate asset for category {key[0]} and color mode {key[1]}."
            )
        seen.add(key)
        extension = asset["Extension"]
        _check_asset_kind(key[0], extension)
        data: bytes | None = asset.get("Bytes")
        if data:
            _check_bytes(extension, data)
            encoded = base64.b64encode(data).decode()
            resource = uuid.uuid4().hex
        else:
            resource_id = asset.get("ResourceId")
            if resource_id is None:
                raise InvalidParameterException("An asset needs Bytes or a ResourceId.")
            stored = by_resource.get(resource_id)
            if stored is None:
                raise InvalidParameterException(f"Asset {resource_id} does not exist.")
            if stored["Extension"] != extension:
                raise InvalidParameterException(
                    f"Asset {resource_id} is a {stored['Extension']} image."
                )
            encoded = stored["Bytes"]
            resource = resource_id
        by_key[key] = {
            "Category": key[0],
            "ColorMode": key[1],
            "Extension": extension,
            "Bytes": encoded,
            "ResourceId": resource,
        }
    return list(by_key.values())


def _asset_view(asset: dict[str, Any]) -> dict[str, Any]:
    return {
        "Category": asset["Category"],
        "ColorMode": asset["ColorMode"],
        "Extension": asset["Extension"],
        "Bytes": base64.b64decode(asset["Bytes"]),
        "ResourceId": asset["ResourceId"],
    }


def _settings_of(request: dict[str, Any]) -> dict[str, Any] | None:
    settings = request.get("Settings")
    if settings is not None and not isinstance(settings, dict):
        raise InvalidParameterException("Settings must be a JSON object.")
    return settings


def _check_defaults_alone(request: dict[str, Any]) -> bool:
    use_defaults = bool(request.get("UseCognitoProvidedValues"))
    if use_defaults and (request.get("Settings") is not None or request.get("Assets")):
        raise InvalidParameterException(
            "Settings and Assets can't be provided when UseCognitoProvidedValues is true."
        )
    return use_defaults


def _view(pool: PoolRow, row: BrandingRow, *, merge: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "ManagedLoginBrandingId": row.branding_id,
        "UserPoolId": pool.id,
        "UseCognitoProvidedValues": row.use_cognito_provided_values,
        "Assets": [_asset_view(a) for a in row.assets],
        "CreationDate": ms_to_seconds(row.created_at),
        "LastModifiedDate": ms_to_seconds(row.updated_at),
    }
    if merge:
        view["Settings"] = merged(DEFAULT_SETTINGS, row.settings or {})
    elif row.settings is not None:
        view["Settings"] = row.settings
    return view


def _not_found(branding_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Managed login branding {branding_id} does not exist.")


def _exists() -> ManagedLoginBrandingExistsException:
    return ManagedLoginBrandingExistsException(
        "A managed login branding style already exists for this app client."
    )


def asset_path(pool_id: str, branding_id: str, asset: dict[str, Any]) -> str:
    """Where this server serves a style's asset (relative to its base URL)."""
    extension = str(asset["Extension"]).lower()
    return f"{ASSETS_PATH}/{pool_id}/{branding_id}/{asset['ResourceId']}.{extension}"


def branding_for(conn: Connection, pool_pk: int, client_id: str) -> dict[str, Any] | None:
    """For the hosted pages: an app client's style merged over the defaults, or None.

    {"ManagedLoginBrandingId", "UseCognitoProvidedValues", "Settings" (merged), "Assets":
    [{"Category", "ColorMode", "Extension", "Bytes" (raw bytes), "ResourceId"}]}.
    """
    client = clients_repo.get(conn, pool_pk, client_id)
    if client is None:
        return None
    row = brandings_repo.by_client(conn, client.pk)
    if row is None:
        return None
    return {
        "ManagedLoginBrandingId": row.branding_id,
        "UseCognitoProvidedValues": row.use_cognito_provided_values,
        "Settings": merged(DEFAULT_SETTINGS, row.settings or {}),
        "Assets": [_asset_view(a) for a in row.assets],
    }


@dataclass(frozen=True, slots=True)
class Asset:
    data: bytes
    content_type: str


class BrandingService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def create(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        use_defaults = _check_defaults_alone(request)
        settings = _settings_of(request)
        assets = _assets(request.get("Assets"), [])

        def create_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            client = require_client(conn, pool, request["ClientId"])
            if brandings_repo.by_client(conn, client.pk) is not None:
                raise _exists()
            branding_id = str(uuid.uuid4())
            brandings_repo.insert(
                conn,
                pool_pk=pool.pk,
                client_pk=client.pk,
                branding_id=branding_id,
                use_cognito_provided_values=use_defaults,
                settings=settings,
                assets=assets,
                now=self._clock.now_ms(),
            )
            row = brandings_repo.by_id(conn, pool.pk, branding_id)
            assert row is not None
            return _view(pool, row)

        try:
            return self._db.write("create_managed_login_branding", create_txn)
        except IntegrityError:  # a style created for the client concurrently
            raise _exists() from None

    def describe(self, region: str, pool_id: str, branding_id: str, merge: bool) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            row = brandings_repo.by_id(conn, pool.pk, branding_id)
            if row is None:
                raise _not_found(branding_id)
            return _view(pool, row, merge=merge)

        return self._db.read("describe_managed_login_branding", describe_txn)

    def describe_by_client(
        self, region: str, pool_id: str, client_id: str, merge: bool
    ) -> dict[str, Any]:
        def describe_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, pool_id)
            client = require_client(conn, pool, client_id)
            row = brandings_repo.by_client(conn, client.pk)
            if row is None:
                raise ResourceNotFoundException(
                    f"Managed login branding for app client {client_id} does not exist."
                )
            return _view(pool, row, merge=merge)

        return self._db.read("describe_managed_login_branding_by_client", describe_txn)

    def update(self, region: str, request: dict[str, Any]) -> dict[str, Any]:
        for required in ("UserPoolId", "ManagedLoginBrandingId"):
            if not request.get(required):
                raise InvalidParameterException(f"{required} is required.")
        branding_id = request["ManagedLoginBrandingId"]
        use_defaults = _check_defaults_alone(request)
        settings = _settings_of(request)

        def update_txn(conn: Connection) -> dict[str, Any]:
            pool = require_pool(conn, region, request["UserPoolId"])
            row = brandings_repo.by_id(conn, pool.pk, branding_id)
            if row is None:
                raise _not_found(branding_id)
            if use_defaults:
                new_settings, new_assets = None, []
            else:
                new_settings = row.settings
                if settings is not None:
                    new_settings = merged(row.settings or {}, settings)
                new_assets = _assets(request.get("Assets"), row.assets)
            brandings_repo.update(
                conn,
                row.pk,
                use_cognito_provided_values=use_defaults,
                settings=new_settings,
                assets=new_assets,
                now=self._clock.now_ms(),
            )
            updated = brandings_repo.by_id(conn, pool.pk, branding_id)
            assert updated is not None
            return _view(pool, updated)

        return self._db.write("update_managed_login_branding", update_txn)

    def delete(self, region: str, pool_id: str, branding_id: str) -> None:
        def delete_txn(conn: Connection) -> None:
            pool = require_pool(conn, region, pool_id)
            row = brandings_repo.by_id(conn, pool.pk, branding_id)
            if row is None:
                raise _not_found(branding_id)
            brandings_repo.delete(conn, row.pk)

        self._db.write("delete_managed_login_branding", delete_txn)

    def asset(self, pool_id: str, branding_id: str, file_name: str) -> Asset | None:
        """An asset of a style, by the path `asset_path` gives (for the hosted pages)."""
        resource_id, _, extension = file_name.partition(".")
        region = region_of_pool_id(pool_id)
        if region is None:
            return None

        def asset_txn(conn: Connection) -> Asset | None:
            pool = pools_repo.get(conn, pool_id, region)
            row = brandings_repo.by_id(conn, pool.pk, branding_id) if pool else None
            for stored in row.assets if row else []:
                kind = stored["Extension"]
                if stored["ResourceId"] == resource_id and kind.lower() == extension:
                    return Asset(base64.b64decode(stored["Bytes"]), CONTENT_TYPES[kind])
            return None

        return self._db.read("get_managed_login_branding_asset", asset_txn)
