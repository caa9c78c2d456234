"""What the admin console's buttons do, each as the API operation would: the request is
checked against the operation's input shape (the API's validation and wording), then
handed to the domain service the operation's handler calls (operations/users_admin.py),
so triggers, messages and errors are Cognito's. Blocking: run in the thread pool.
"""

from __future__ import annotations

from typing import Any

from cognate.api.exceptions import InvalidParameterException
from cognate.services import Services
from cognate.web.admin.views import checked, region_of

PERMANENT_NEEDS_PASSWORD = "A permanent password needs a password."


def create_user(services: Services, pool_id: str, form: dict[str, str]) -> str:
    """AdminCreateUser from the console's form (then AdminSetUserPassword with Permanent
    when the password is to be permanent, as Cognito's console does); the new user's
    name."""
    password = form.get("password") or ""
    permanent = form.get("permanent") == "on"
    if permanent and not password:
        raise InvalidParameterException(PERMANENT_NEEDS_PASSWORD)
    attributes = []
    for name in ("email", "phone_number"):
        value = (form.get(name) or "").strip()
        if value:
            attributes.append({"Name": name, "Value": value})
            if form.get(f"{name}_verified") == "on":
                attributes.append({"Name": f"{name}_verified", "Value": "true"})
    request: dict[str, Any] = {"UserPoolId": pool_id, "Username": form.get("username") or ""}
    if attributes:
        request["UserAttributes"] = attributes
    if password:
        request["TemporaryPassword"] = password
    if form.get("invite") == "on":
        mediums = [
            medium
            for medium, name in (("EMAIL", "email"), ("SMS", "phone_number"))
            if (form.get(name) or "").strip()
        ]
        if mediums:
            request["DesiredDeliveryMediums"] = mediums
    else:
        request["MessageAction"] = "SUPPRESS"
    region = region_of(pool_id)
    created = services.users.admin_create_user(region, checked("AdminCreateUser", request))
    username = str(created["Username"])
    if permanent:
        set_password(services, pool_id, username, password, permanent=True)
    return username


def _user(operation: str, pool_id: str, username: str) -> dict[str, Any]:
    return checked(operation, {"UserPoolId": pool_id, "Username": username})


def set_enabled(services: Services, pool_id: str, username: str, *, enabled: bool) -> None:
    """AdminEnableUser / AdminDisableUser."""
    p = _user("AdminEnableUser" if enabled else "AdminDisableUser", pool_id, username)
    services.users.set_enabled(region_of(pool_id), pool_id, p["Username"], enabled=enabled)


def delete_user(services: Services, pool_id: str, username: str) -> None:
    """AdminDeleteUser."""
    p = _user("AdminDeleteUser", pool_id, username)
    services.users.admin_delete_user(region_of(pool_id), pool_id, p["Username"])


def reset_password(services: Services, pool_id: str, username: str) -> None:
    """AdminResetUserPassword: RESET_REQUIRED and a code sent to the user."""
    p = _user("AdminResetUserPassword", pool_id, username)
    services.user_passwords.admin_reset_user_password(
        region_of(pool_id), pool_id, p["Username"], None
    )


def set_password(
    services: Services, pool_id: str, username: str, password: str, *, permanent: bool
) -> None:
    """AdminSetUserPassword: a permanent password, or a temporary one
    (FORCE_CHANGE_PASSWORD)."""
    request = {
        "UserPoolId": pool_id,
        "Username": username,
        "Password": password,
        "Permanent": permanent,
    }
    services.user_passwords.admin_set_user_password(
        region_of(pool_id), checked("AdminSetUserPassword", request)
    )
