"""Running a pool's Lambda triggers: Cognito's event envelope, the call, and its errors.

`Triggers.run(pool, "PreSignUp", "PreSignUp_SignUp", …)` builds the event
(`version`, `triggerSource`, `region`, `userPoolId`, `userName`, `callerContext`,
`request`, `response`), runs the function the pool's LambdaConfig names through the
function router, and returns the `response` object of the event the function gave back.
It returns None when the pool has no such trigger. Errors are Cognito's:

* the function raised → UserLambdaValidationException "<Trigger> failed with error <msg>."
* it could not be run (timeout after 5 s, unreachable, not mapped) →
  UnexpectedLambdaException "<Trigger> invocation failed due to error <reason>."
* its reply is not an event with an object `response` → InvalidLambdaResponseException
  "Unrecognizable lambda output"

Callers run triggers between transactions, never inside one, and check the fields of the
response that their trigger defines (helpers below).
"""

from __future__ import annotations

import logging
from typing import Any

from cognate import metrics
from cognate.api.exceptions import (
    InvalidLambdaResponseException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from cognate.functions import FunctionError, InvokeFailure
from cognate.functions.router import HOW_TO_MAP, FunctionRouter
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

log = logging.getLogger("cognate.triggers")

SDK_VERSION = "aws-sdk-unknown-unknown"
UNRECOGNIZABLE = "Unrecognizable lambda output"
# LambdaConfig members whose value is {"LambdaArn", "LambdaVersion"} rather than an ARN.
_VERSIONED = {
    "PreTokenGeneration": "PreTokenGenerationConfig",
    "CustomSMSSender": "CustomSMSSender",
    "CustomEmailSender": "CustomEmailSender",
    "InboundFederation": "InboundFederation",
}


def trigger_arn(pool_settings: dict[str, Any], trigger: str) -> str | None:
    """The function ARN the pool's LambdaConfig names for a trigger, or None."""
    config = pool_settings.get("LambdaConfig") or {}
    member = _VERSIONED.get(trigger)
    if member is not None:
        versioned = config.get(member)
        if isinstance(versioned, dict) and versioned.get("LambdaArn"):
            return str(versioned["LambdaArn"])
        if trigger == "PreTokenGeneration" and config.get("PreTokenGeneration"):
            return str(config["PreTokenGeneration"])
        return None
    arn = config.get(trigger)
    return str(arn) if arn else None


def trigger_version(pool_settings: dict[str, Any], trigger: str) -> str:
    """The LambdaVersion of a versioned trigger (V1_0 when not given)."""
    config = pool_settings.get("LambdaConfig") or {}
    versioned = config.get(_VERSIONED.get(trigger, ""))
    if isinstance(versioned, dict) and versioned.get("LambdaVersion"):
        return str(versioned["LambdaVersion"])
    return "V1_0"


class Triggers:
    def __init__(self, router: FunctionRouter, timeout_seconds: float) -> None:
        self._router = router
        self._timeout = timeout_seconds

    def configured(self, pool: PoolRow, trigger: str) -> bool:
        return trigger_arn(pool.settings, trigger) is not None

    def run(
        self,
        pool: PoolRow,
        trigger: str,
        source: str,
        *,
        username: str | None,
        client_id: str | None,
        request: dict[str, Any],
        version: str = "1",
        response: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Run the trigger if the pool has it; its response object, else None."""
        arn = trigger_arn(pool.settings, trigger)
        if arn is None:
            return None
        event = {
            "version": version,
            "triggerSource": source,
            "region": pool.region,
            "userPoolId": pool.id,
            "userName": username,
            "callerContext": {
                "awsSdkVersion": SDK_VERSION,
                "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE",
            },
            "request": request,
            "response": dict(response or {}),
        }
        reply = metrics.trigger_call(source, lambda: self._call(trigger, arn, event))
        if not isinstance(reply, dict):
            raise InvalidLambdaResponseException(UNRECOGNIZABLE)
        answer = reply.get("response")
        if answer is None:
            return {}
        if not isinstance(answer, dict):
            raise InvalidLambdaResponseException(UNRECOGNIZABLE)
        return answer

    def run_async(
        self,
        pool: PoolRow,
        trigger: str,
        source: str,
        *,
        username: str | None,
        client_id: str | None,
        request: dict[str, Any],
        version: str = "1",
    ) -> None:
        """A trigger whose reply Cognito ignores (custom senders): run it and log a failure
        instead of failing the caller."""
        try:
            self.run(
                pool,
                trigger,
                source,
                username=username,
                client_id=client_id,
                request=request,
                version=version,
            )
        except (UserLambdaValidationException, UnexpectedLambdaException) as exc:
            log.warning("%s trigger of pool %s failed: %s", trigger, pool.id, exc.message)
        except InvalidLambdaResponseException:
            pass  # its reply does not matter

    def _call(self, trigger: str, arn: str, event: dict[str, Any]) -> Any:
        try:
            return self._router.invoke(arn, event, self._timeout)
        except FunctionError as exc:
            message = f"{trigger} failed with error {exc.message}."
            raise UserLambdaValidationException(message) from None
        except InvokeFailure as exc:
            if exc.reason == "ResourceNotFoundException" and self._router.rule_for(arn) is None:
                log.warning(
                    "the %s trigger's function %s is not mapped: %s", trigger, arn, HOW_TO_MAP
                )
            elif exc.reason == UNRECOGNIZABLE:
                raise InvalidLambdaResponseException(UNRECOGNIZABLE) from None
            else:
                log.warning(
                    "the %s trigger's function %s could not run: %s", trigger, arn, exc.reason
                )
            message = f"{trigger} invocation failed due to error {exc.reason}."
            raise UnexpectedLambdaException(message) from None


def event_attributes(user: UserRow, attributes: dict[str, str]) -> dict[str, str]:
    """`request.userAttributes` as Cognito sends it: every attribute as a string, plus
    `sub` and `cognito:user_status`."""
    out = dict(attributes)
    out["sub"] = user.sub
    out["cognito:user_status"] = user.status
    return out


def flag(response: dict[str, Any], name: str) -> bool:
    """A boolean response field (absent = False); anything but a boolean or null is an
    unrecognizable reply."""
    value = response.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return value


def string_map(value: Any) -> dict[str, str]:
    """A map of strings in a response (attributes, challenge parameters); null = empty."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return {k: v if isinstance(v, str) else str(v) for k, v in value.items() if v is not None}
