"""The PreAuthentication and PostAuthentication triggers of sign-in.

PreAuthentication runs when a sign-in starts (InitiateAuth / AdminInitiateAuth, every
flow but refresh), before any password or challenge is checked; a function that throws
denies the sign-in (UserLambdaValidationException). Its request carries the user's
attributes, `validationData` (the request's ClientMetadata, which is how apps pass it) and
`userNotFound` (true for an unknown user when the client prevents user-existence errors;
Cognito then still asks). PostAuthentication runs after a successful sign-in, before the
tokens are returned, with `newDeviceUsed` and the ClientMetadata.
"""

from __future__ import annotations

from cognate.domain.auth.context import SignInUser
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.client_auth import ClientScope
from cognate.domain.triggers import Triggers, event_attributes


class AuthTriggers:
    def __init__(self, triggers: Triggers) -> None:
        self._triggers = triggers

    def pre_authentication(
        self, scope: ClientScope, found: SignInUser | None, username: str, activity: Activity
    ) -> None:
        attributes = event_attributes(found.row, found.attributes) if found else {}
        self._triggers.run(
            scope.pool.pool,
            "PreAuthentication",
            "PreAuthentication_Authentication",
            username=found.row.username if found else username,
            client_id=scope.client.client_id,
            request={
                "userAttributes": attributes,
                "validationData": dict(activity.client_metadata),
                "userNotFound": found is None,
            },
        )

    def post_authentication(
        self, scope: ClientScope, found: SignInUser, activity: Activity, new_device_used: bool
    ) -> None:
        self._triggers.run(
            scope.pool.pool,
            "PostAuthentication",
            "PostAuthentication_Authentication",
            username=found.row.username,
            client_id=scope.client.client_id,
            request={
                "userAttributes": event_attributes(found.row, found.attributes),
                "newDeviceUsed": new_device_used,
                "clientMetadata": dict(activity.client_metadata),
            },
        )
