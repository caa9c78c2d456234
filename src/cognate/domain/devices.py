"""Remembered devices: device tracking at sign-in, ConfirmDevice, and the device
operations (Get/List/Forget/UpdateDeviceStatus and their Admin forms).

A pool tracks devices when its DeviceConfiguration sets anything. A sign-in that
completes without a known DEVICE_KEY then creates a device and returns its keys in
NewDeviceMetadata (DeviceKey `<region>_<uuid>`, DeviceGroupKey `-` and 8 characters).
ConfirmDevice stores the device's SRP salt and verifier (sealed) and its name; the device
is remembered at once unless DeviceOnlyRememberedOnUserPrompt, when the app asks the user
and calls UpdateDeviceStatus (UserConfirmationNecessary tells it which). A confirmed
device then signs in with device SRP (device_auth.py). ForgetDevice deletes the device
and ends the sessions started on it. Unconfirmed devices are not listed.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import uuid
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    InvalidParameterException,
    ResourceNotFoundException,
    UserNotFoundException,
)
from cognate.domain import srp
from cognate.domain.auth.access import AccessCheck
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.domain.pools import Page
from cognate.domain.secretbox import SecretBox
from cognate.domain.user_store import load_scope, require_user
from cognate.storage.db import Database
from cognate.storage.jsoncol import dumps, loads
from cognate.storage.repos import devices as devices_repo
from cognate.storage.repos import pools as pools_repo
from cognate.storage.repos import token_sessions as sessions_repo
from cognate.storage.repos.devices import DeviceRow
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

DEVICE_NOT_FOUND = "Device does not exist."  # observed
INVALID_DEVICE_KEY = "Invalid device key given."  # observed
INVALID_VERIFIER = "PasswordVerifier is not a valid SRP verifier"
REMEMBERED = "remembered"
NOT_REMEMBERED = "not_remembered"
_GROUP_ALPHABET = string.ascii_letters + string.digits


def tracking(settings: dict[str, Any]) -> bool:
    return bool(settings.get("DeviceConfiguration"))


def new_device_key(region: str) -> str:
    return f"{region}_{uuid.uuid4()}"


def new_group_key() -> str:
    return "-" + "".join(secrets.choice(_GROUP_ALPHABET) for _ in range(8))


def verifier_of(device: DeviceRow, box: SecretBox) -> tuple[int, int] | None:
    """The device's SRP (salt, verifier), if ConfirmDevice gave one."""
    if device.verifier_enc is None:
        return None
    data = loads(box.open(device.verifier_enc, f"device/{device.device_key}"))
    return int(data["salt"], 16), int(data["verifier"], 16)


def device_view(device: DeviceRow, pool: PoolRow, username: str, account_id: str) -> dict[str, Any]:
    owner = f"{username}.{pool.id}"
    attributes = [{"Name": "device_status", "Value": "valid"}]
    if device.name:
        attributes.append({"Name": "device_name", "Value": device.name})
    attributes += [
        {
            "Name": "dev:device_arn",
            "Value": f"arn:aws:cognito-idp:{pool.region}:{account_id}:owner/{owner}/device/"
            f"{device.device_key}",
        },
        {"Name": "dev:device_owner", "Value": owner},
    ]
    if device.last_ip:
        attributes.append({"Name": "last_ip_used", "Value": device.last_ip})
    if device.remembered:
        attributes.append({"Name": "dev:device_remembered_status", "Value": device.remembered})
    attributes.append({"Name": "dev:device_sdk", "Value": "aws-sdk"})
    view: dict[str, Any] = {
        "DeviceKey": device.device_key,
        "DeviceAttributes": attributes,
        "DeviceCreateDate": ms_to_seconds(device.created_at),
        "DeviceLastModifiedDate": ms_to_seconds(device.updated_at),
    }
    if device.last_authenticated_at is not None:
        view["DeviceLastAuthenticatedDate"] = ms_to_seconds(device.last_authenticated_at)
    return view


def _b64_number(text: str, member: str) -> int:
    try:
        return int.from_bytes(base64.b64decode(text, validate=True), "big")
    except (binascii.Error, ValueError):
        raise InvalidParameterException(f"{member} is not valid base64") from None


class DeviceService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        box: SecretBox,
        access: AccessCheck,
        tokens: PageTokens,
        account_id: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._box = box
        self._access = access
        self._tokens = tokens
        self._account_id = account_id

    # ------------------------------------------------------------------ at sign-in

    def new_device(
        self, conn: Connection, pool: PoolRow, user_pk: int, ip: str | None
    ) -> DeviceRow:
        """A device for a sign-in that came without one (NewDeviceMetadata)."""
        now = self._clock.now_ms()
        key = new_device_key(pool.region)
        devices_repo.insert(
            conn,
            user_pk=user_pk,
            device_key=key,
            group_key=new_group_key(),
            verifier_enc=None,
            name=None,
            remembered=None,
            confirmed=False,
            created_at=now,
            updated_at=now,
            last_authenticated_at=now,
            last_ip=ip,
        )
        device = devices_repo.by_key(conn, key)
        assert device is not None
        return device

    def of_user(self, user_pk: int, device_key: str) -> DeviceRow:
        """The user's device with this key; "Device does not exist." otherwise."""
        device = devices_repo.fetch_by_key(self._db.fetch, device_key)
        if device is None or device.user_pk != user_pk:
            raise ResourceNotFoundException(DEVICE_NOT_FOUND)
        return device

    @staticmethod
    def authenticated(conn: Connection, device_key: str, now: int, ip: str | None) -> None:
        devices_repo.update(conn, device_key, last_authenticated_at=now, last_ip=ip)

    # ------------------------------------------------------------------ ConfirmDevice

    def confirm(self, access_token: str, request: dict[str, Any]) -> dict[str, Any]:
        context = self._access.signed_in(access_token).context
        user, key = context.user, request["DeviceKey"]
        sealed = self._sealed_verifier(key, request.get("DeviceSecretVerifierConfig"))
        now = self._clock.now_ms()

        def confirm_txn(conn: Connection) -> bool:
            device = devices_repo.by_key(conn, key)
            if device is None or device.user_pk != user.pk:
                raise InvalidParameterException(INVALID_DEVICE_KEY)
            pool = pools_repo.by_pk(conn, user.pool_pk)
            assert pool is not None
            settings = pool.settings.get("DeviceConfiguration") or {}
            on_prompt = bool(settings.get("DeviceOnlyRememberedOnUserPrompt"))
            devices_repo.update(
                conn,
                key,
                verifier_enc=sealed,
                name=request.get("DeviceName"),
                confirmed=True,
                remembered=NOT_REMEMBERED if on_prompt else REMEMBERED,
                updated_at=now,
            )
            return on_prompt

        necessary = self._db.write("confirm_device", confirm_txn)
        return {"UserConfirmationNecessary": necessary}

    def _sealed_verifier(self, key: str, config: dict[str, Any] | None) -> str | None:
        """The device's SRP salt and verifier, sealed. A device confirmed without them has
        none (every device proof then fails). A verifier that is not g^x mod N for some x
        (0 or N and their multiples, 1, anything >= N, e.g. from empty members) would let
        anyone prove the device without its password, so it is refused."""
        if config is None:
            return None
        salt = _b64_number(config.get("Salt", ""), "Salt")
        verifier = _b64_number(config.get("PasswordVerifier", ""), "PasswordVerifier")
        if not 1 < verifier < srp.N:
            raise InvalidParameterException(INVALID_VERIFIER)
        return self._box.seal(
            dumps({"salt": format(salt, "x"), "verifier": format(verifier, "x")}),
            f"device/{key}",
        )

    # ------------------------------------------------------------------ device operations

    def get(self, access_token: str | None, device_key: str) -> dict[str, Any]:
        user = self._access.signed_in(access_token).context.user
        return self._get(user, device_key)

    def admin_get(
        self, region: str, pool_id: str, username: str, device_key: str
    ) -> dict[str, Any]:
        return self._get(self._admin_user(region, pool_id, username, declared=False), device_key)

    def list(
        self, access_token: str, limit: int | None, token: str | None, request_id: str
    ) -> Page:
        user = self._access.signed_in(access_token).context.user
        return self._list(user, limit, token, request_id)

    def admin_list(
        self,
        region: str,
        pool_id: str,
        username: str,
        limit: int | None,
        token: str | None,
        request_id: str,
    ) -> Page:
        user = self._admin_user(region, pool_id, username, declared=False)
        return self._list(user, limit, token, request_id)

    def forget(self, access_token: str | None, device_key: str) -> None:
        self._forget(self._access.signed_in(access_token).context.user, device_key)

    def admin_forget(self, region: str, pool_id: str, username: str, device_key: str) -> None:
        self._forget(self._admin_user(region, pool_id, username), device_key)

    def update_status(self, access_token: str, device_key: str, status: str | None) -> None:
        self._update_status(self._access.signed_in(access_token).context.user, device_key, status)

    def admin_update_status(
        self, region: str, pool_id: str, username: str, device_key: str, status: str | None
    ) -> None:
        self._update_status(self._admin_user(region, pool_id, username), device_key, status)

    # ------------------------------------------------------------------ helpers

    def _admin_user(
        self, region: str, pool_id: str, username: str, *, declared: bool = True
    ) -> UserRow:
        """The user an admin device operation names. AdminGetDevice and AdminListDevices do
        not declare UserNotFoundException, so for them (declared=False) an unknown user is
        the ResourceNotFoundException the model allows, with the same message."""
        try:
            return self._db.read(
                "device_user", lambda c: require_user(c, load_scope(c, region, pool_id), username)
            )
        except UserNotFoundException as missing:
            if declared:
                raise
            raise ResourceNotFoundException(missing.message) from None

    def _get(self, user: UserRow, device_key: str) -> dict[str, Any]:
        def get_txn(conn: Connection) -> dict[str, Any]:
            device = devices_repo.by_key(conn, device_key)
            if device is None or device.user_pk != user.pk or not device.confirmed:
                raise ResourceNotFoundException(DEVICE_NOT_FOUND)
            pool = pools_repo.by_pk(conn, user.pool_pk)
            assert pool is not None
            return device_view(device, pool, user.username, self._account_id)

        return {"Device": self._db.read("get_device", get_txn)}

    def _list(self, user: UserRow, limit: int | None, token: str | None, request_id: str) -> Page:
        scope_name = f"devices/{user.pk}"
        after = self._tokens.decode(scope_name, token, request_id)
        size = limit or 60

        def list_txn(conn: Connection) -> Page:
            pool = pools_repo.by_pk(conn, user.pool_pk)
            assert pool is not None
            rows = devices_repo.page(conn, user.pk, after, size + 1)
            more = len(rows) > size
            rows = rows[:size]
            views = [device_view(d, pool, user.username, self._account_id) for d in rows]
            next_token = self._tokens.encode(scope_name, rows[-1].pk) if more else None
            return Page(views, next_token)

        return self._db.read("list_devices", list_txn)

    def _forget(self, user: UserRow, device_key: str) -> None:
        now = self._clock.now_ms()

        def forget_txn(conn: Connection) -> None:
            device = devices_repo.by_key(conn, device_key)
            if device is None or device.user_pk != user.pk:
                raise ResourceNotFoundException(DEVICE_NOT_FOUND)
            devices_repo.delete(conn, device_key)
            sessions_repo.revoke_of_device(conn, device_key, now)

        self._db.write("forget_device", forget_txn)

    def _update_status(self, user: UserRow, device_key: str, status: str | None) -> None:
        now = self._clock.now_ms()

        def update_txn(conn: Connection) -> None:
            device = devices_repo.by_key(conn, device_key)
            if device is None or device.user_pk != user.pk or not device.confirmed:
                raise ResourceNotFoundException(DEVICE_NOT_FOUND)
            devices_repo.update(
                conn, device_key, remembered=status or NOT_REMEMBERED, updated_at=now
            )

        self._db.write("update_device_status", update_txn)
