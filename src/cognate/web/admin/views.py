"""What the admin console's pages show, read through the same domain services the API's
operations use (ListUserPools, DescribeUserPool, ListUserPoolClients, ListGroups,
ListUsers, AdminGetUser, AdminListDevices, AdminListGroupsForUser,
AdminListUserAuthEvents), so a page shows exactly what the API answers. Blocking: the
routes call these in the thread pool.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from cognate.api.exceptions import UserPoolAddOnNotEnabledException
from cognate.domain.ids import region_of_pool_id
from cognate.services import Services
from cognate.wire import model
from cognate.wire.validator import validate_request

PAGE_SIZE = 60
LIST_SIZE = 60  # clients and groups shown on a pool's page
EVENTS_SHOWN = 10


def request_id() -> str:
    """A request id for a page's domain calls (page tokens name it in their errors)."""
    return str(uuid.uuid4())


def checked(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` checked against the operation's input shape as the API endpoint checks a
    request (InvalidParameterException with the API's wording)."""
    spec = model.input_spec(operation)
    return params if spec is None else validate_request(spec, params)


def region_of(pool_id: str) -> str:
    return region_of_pool_id(pool_id) or ""


def when(seconds: float | int | None) -> str:
    """An API timestamp (epoch seconds) as UTC text."""
    if seconds is None:
        return ""
    moment = dt.datetime.fromtimestamp(float(seconds), tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def attributes_of(pairs: list[dict[str, str]]) -> dict[str, str]:
    return {pair["Name"]: pair.get("Value", "") for pair in pairs}


@dataclass
class RegionPools:
    region: str
    pools: list[dict[str, Any]]
    next_token: str | None


def pools_by_region(
    services: Services, region: str | None = None, next_token: str | None = None
) -> list[RegionPools]:
    """Every region's pools (a page of PAGE_SIZE each), or one region's page `next_token`."""
    if region:
        regions = [region]
    else:
        found = services.pools.all_pool_ids()
        regions = sorted({region_of(pool_id) for _, pool_id in found} - {""})
    listed = []
    for name in regions:
        page = services.pools.list_pools(name, PAGE_SIZE, next_token, request_id())
        listed.append(RegionPools(name, page.items, page.next_token))
    return listed


@dataclass
class PoolPage:
    pool: dict[str, Any]
    clients: list[dict[str, Any]]
    more_clients: bool
    groups: list[dict[str, Any]]
    more_groups: bool
    users: list[dict[str, Any]]
    users_next: str | None
    prefix: str
    mfa: str = "OFF"
    summary: list[tuple[str, str]] = field(default_factory=list)


def user_filter(prefix: str) -> str | None:
    """ListUsers' Filter for usernames starting with `prefix` (None: no filter)."""
    if not prefix:
        return None
    escaped = prefix.replace("\\", "\\\\").replace('"', '\\"')
    return f'username ^= "{escaped}"'


def pool_page(services: Services, pool_id: str, prefix: str, users_token: str | None) -> PoolPage:
    region = region_of(pool_id)
    checked("DescribeUserPool", {"UserPoolId": pool_id})
    pool = services.pools.describe(region, pool_id)
    rid = request_id()
    clients = services.clients.list_clients(region, pool_id, LIST_SIZE, None, None, rid)
    groups = services.groups.list_groups(region, pool_id, LIST_SIZE, None, rid)
    listing: dict[str, Any] = {"UserPoolId": pool_id, "Limit": PAGE_SIZE}
    found_filter = user_filter(prefix)
    if found_filter:
        listing["Filter"] = found_filter
    if users_token:
        listing["PaginationToken"] = users_token
    users = services.user_search.list_users(region, checked("ListUsers", listing), rid)
    mfa = str(pool.get("MfaConfiguration") or "OFF")
    add_ons = pool.get("UserPoolAddOns") or {}
    summary = [
        ("Id", pool["Id"]),
        ("ARN", pool["Arn"]),
        ("Region", region),
        ("Created", when(pool.get("CreationDate"))),
        ("Estimated users", str(pool.get("EstimatedNumberOfUsers", 0))),
        ("MFA", mfa),
        ("Tier", str(pool.get("UserPoolTier") or "ESSENTIALS")),
        ("Threat protection", str(add_ons.get("AdvancedSecurityMode") or "OFF")),
        ("Sign-in with", ", ".join(pool.get("UsernameAttributes") or ["username"])),
        ("Domain", str(pool.get("Domain") or "—")),
    ]
    return PoolPage(
        pool=pool,
        clients=clients.items,
        more_clients=clients.next_token is not None,
        groups=groups.items,
        more_groups=groups.next_token is not None,
        users=[_listed_user(u) for u in users.items],
        users_next=users.next_token,
        prefix=prefix,
        mfa=mfa,
        summary=summary,
    )


def _listed_user(user: dict[str, Any]) -> dict[str, Any]:
    values = attributes_of(user.get("Attributes") or [])
    return {
        "username": user["Username"],
        "status": user["UserStatus"],
        "enabled": user["Enabled"],
        "email": values.get("email", ""),
        "phone": values.get("phone_number", ""),
        "created": when(user.get("UserCreateDate")),
    }


@dataclass
class UserPage:
    pool_id: str
    pool_name: str
    user: dict[str, Any]
    attributes: list[tuple[str, str]]
    mfa: list[tuple[str, str]]
    devices: list[dict[str, Any]]
    groups: list[str]
    events: list[dict[str, Any]] | None  # None: the pool's threat protection is off
    created: str
    modified: str


def user_page(services: Services, pool_id: str, username: str) -> UserPage:
    region = region_of(pool_id)
    params = checked("AdminGetUser", {"UserPoolId": pool_id, "Username": username})
    pool = services.pools.describe(region, pool_id)
    user = services.users.admin_get_user(region, pool_id, params["Username"])
    name = user["Username"]  # the user's own name, when `username` was an alias
    rid = request_id()
    devices = services.devices.admin_list(region, pool_id, name, PAGE_SIZE, None, rid)
    groups = services.groups.groups_of_user(region, pool_id, name, LIST_SIZE, None, rid)
    token = services.mfa_settings.admin_token_status(region, pool_id, name)
    try:
        history = services.auth_event_history.list(
            region,
            {"UserPoolId": pool_id, "Username": name, "MaxResults": EVENTS_SHOWN},
            rid,
        )
        events: list[dict[str, Any]] | None = [_event(e) for e in history["AuthEvents"]]
    except UserPoolAddOnNotEnabledException:
        events = None
    return UserPage(
        pool_id=pool_id,
        pool_name=str(pool.get("Name") or ""),
        user=user,
        attributes=sorted(attributes_of(user.get("UserAttributes") or []).items()),
        mfa=_mfa_rows(user, token),
        devices=[_device(d) for d in devices.items],
        groups=[g["GroupName"] for g in groups.items],
        events=events,
        created=when(user.get("UserCreateDate")),
        modified=when(user.get("UserLastModifiedDate")),
    )


def _mfa_rows(user: dict[str, Any], token: dict[str, Any]) -> list[tuple[str, str]]:
    enabled = list(user.get("UserMFASettingList") or [])
    if token["configured"]:
        totp = "configured" + (f" ({token['name']})" if token["name"] else "")
    else:
        totp = "not configured"
    if token["pending"]:
        totp += "; a new authenticator awaits verification"
    options = [
        f"{o.get('DeliveryMedium', '')} to {o.get('AttributeName', '')}"
        for o in user.get("MFAOptions") or []
    ]
    return [
        ("Enabled factors", ", ".join(enabled) or "none"),
        ("Preferred factor", str(user.get("PreferredMfaSetting") or "none")),
        ("TOTP authenticator", totp),
        ("SMS MFA", "enabled" if "SMS_MFA" in enabled else "not enabled"),
        ("Email MFA", "enabled" if "EMAIL_OTP" in enabled else "not enabled"),
        ("Legacy MFAOptions", ", ".join(options) or "none"),
    ]


def _device(device: dict[str, Any]) -> dict[str, Any]:
    values = attributes_of(device.get("DeviceAttributes") or [])
    return {
        "key": device["DeviceKey"],
        "name": values.get("device_name", ""),
        "remembered": values.get("dev:device_remembered_status", ""),
        "last_ip": values.get("last_ip_used", ""),
        "created": when(device.get("DeviceCreateDate")),
        "last_used": when(device.get("DeviceLastAuthenticatedDate")),
    }


def _event(event: dict[str, Any]) -> dict[str, Any]:
    risk = event.get("EventRisk") or {}
    context = event.get("EventContextData") or {}
    feedback = event.get("EventFeedback") or {}
    return {
        "id": event["EventId"],
        "type": event["EventType"],
        "when": when(event.get("CreationDate")),
        "response": event.get("EventResponse", ""),
        "risk": " / ".join(str(risk[k]) for k in ("RiskDecision", "RiskLevel") if risk.get(k)),
        "ip": context.get("IpAddress", ""),
        "challenges": ", ".join(
            f"{c.get('ChallengeName')}: {c.get('ChallengeResponse')}"
            for c in event.get("ChallengeResponses") or []
        ),
        "feedback": feedback.get("FeedbackValue", ""),
    }
