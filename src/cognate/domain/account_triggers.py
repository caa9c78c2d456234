"""The sign-up and confirmation triggers: PreSignUp and PostConfirmation.

PreSignUp runs before a user is created, by SignUp (`PreSignUp_SignUp`) and AdminCreateUser
(`PreSignUp_AdminCreateUser`), with the new user's attributes, the request's ValidationData
(as a map) and ClientMetadata. Its reply may auto-confirm the user and mark their email or
phone number verified; Cognito ignores the reply for AdminCreateUser.

PostConfirmation runs once a confirmation is committed: ConfirmSignUp, AdminConfirmSignUp
and a SignUp that PreSignUp auto-confirmed (`PostConfirmation_ConfirmSignUp`), and
ConfirmForgotPassword (`PostConfirmation_ConfirmForgotPassword`). It receives the user's
attributes as they are now (with `sub` and `cognito:user_status`). Its reply carries
nothing. When it fails the caller gets the trigger's error, but what was confirmed stays
confirmed: Cognito runs the trigger after the change, and so does Cognate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cognate.api.exceptions import InvalidParameterException
from cognate.domain.triggers import Triggers, event_attributes, flag
from cognate.domain.usernames import EMAIL, PHONE
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

PRE_SIGN_UP = "PreSignUp"
POST_CONFIRMATION = "PostConfirmation"
SIGN_UP = "PreSignUp_SignUp"
ADMIN_CREATE_USER = "PreSignUp_AdminCreateUser"
CONFIRM_SIGN_UP = "PostConfirmation_ConfirmSignUp"
CONFIRM_FORGOT_PASSWORD = "PostConfirmation_ConfirmForgotPassword"

# Observed (a function answering autoVerifyEmail without autoConfirmUser).
VERIFY_WITHOUT_CONFIRM = (
    "Phone or email cannot be auto verified, when user is not being auto confirmed."
)
# Cognito documents only that "an error will occur"; these words are Cognate's.
_NOTHING_TO_VERIFY = "{name} cannot be auto verified: the user has no {name}."


@dataclass(frozen=True, slots=True)
class SignUpDecision:
    """What a PreSignUp reply asked for."""

    confirm: bool = False
    verify_email: bool = False
    verify_phone: bool = False

    def verified_flags(self, values: Mapping[str, str]) -> dict[str, str]:
        """The *_verified attributes the reply sets; Cognito's errors when it cannot."""
        if (self.verify_email or self.verify_phone) and not self.confirm:
            raise InvalidParameterException(VERIFY_WITHOUT_CONFIRM)
        flags: dict[str, str] = {}
        for wanted, name, flag_name in (
            (self.verify_email, EMAIL, "email_verified"),
            (self.verify_phone, PHONE, "phone_number_verified"),
        ):
            if not wanted:
                continue
            if not values.get(name):
                raise InvalidParameterException(_NOTHING_TO_VERIFY.format(name=name))
            flags[flag_name] = "true"
        return flags


def name_value_map(pairs: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """A request's list of AttributeType (ValidationData) as the map triggers receive."""
    return {str(p["Name"]): str(p.get("Value") or "") for p in pairs or []}


def pre_sign_up(
    triggers: Triggers,
    pool: PoolRow,
    source: str,
    *,
    username: str,
    client_id: str | None,
    attributes: Mapping[str, str],
    validation_data: Mapping[str, str],
    client_metadata: Mapping[str, str],
) -> SignUpDecision:
    """Run PreSignUp (if the pool has it) and read its reply."""
    response = triggers.run(
        pool,
        PRE_SIGN_UP,
        source,
        username=username,
        client_id=client_id,
        request={
            "userAttributes": dict(attributes),
            "validationData": dict(validation_data),
            "clientMetadata": dict(client_metadata),
        },
        response={"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    )
    if response is None or source != SIGN_UP:
        return SignUpDecision()  # AdminCreateUser: Cognito ignores the reply
    return SignUpDecision(
        confirm=flag(response, "autoConfirmUser"),
        verify_email=flag(response, "autoVerifyEmail"),
        verify_phone=flag(response, "autoVerifyPhone"),
    )


def post_confirmation(
    triggers: Triggers,
    pool: PoolRow,
    source: str,
    *,
    user: UserRow,
    attributes: Mapping[str, str],
    client_id: str | None,
    client_metadata: Mapping[str, str],
) -> None:
    """Run PostConfirmation (if the pool has it) for a confirmation already committed."""
    triggers.run(
        pool,
        POST_CONFIRMATION,
        source,
        username=user.username,
        client_id=client_id,
        request={
            "userAttributes": event_attributes(user, dict(attributes)),
            "clientMetadata": dict(client_metadata),
        },
        response={},
    )
