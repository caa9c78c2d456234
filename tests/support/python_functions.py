"""Trigger functions the server runs in its own process (the `python:` invoker).

The server imports this module (its working directory is the test's; PYTHONPATH holds the
repository). Each function records the event it got in the JSON-lines file named by
COGNATE_TEST_FUNCTION_LOG, so the test can read what the server sent.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any


def _record(name: str, event: dict[str, Any]) -> None:
    path = os.environ.get("COGNATE_TEST_FUNCTION_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"function": name, "event": event}) + "\n")


def py_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Accepts: the event back unchanged."""
    _record("py_echo", event)
    return event


def py_auto_confirm(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """PreSignUp: confirm the user and verify their email."""
    _record("py_auto_confirm", event)
    event["response"]["autoConfirmUser"] = True
    if "email" in event["request"].get("userAttributes", {}):
        event["response"]["autoVerifyEmail"] = True
    return event


def py_reject(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails with a message, as a function that throws does."""
    _record("py_reject", event)
    raise ValueError("Registration from this domain is not allowed.")


def py_slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Takes longer than the trigger timeout."""
    _record("py_slow", event)
    time.sleep(context.get_remaining_time_in_millis() / 1000 + 1)
    return event


def py_garbage(event: dict[str, Any], context: Any) -> Any:
    """Answers something that is not an event."""
    _record("py_garbage", event)
    return "not an event"


# CUSTOM_AUTH: a "secret code" challenge that decides from the event alone (the same logic
# as tests/support/secret_code.py): the code is PY_CODE, three wrong answers fail.
PY_CODE = "py-2718"


def py_define_secret_code(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DefineAuthChallenge: CUSTOM_CHALLENGE until one is answered right (tokens), or
    three are answered wrong (failAuthentication)."""
    _record("py_define_secret_code", event)
    session = event["request"]["session"]
    wrong = [s for s in session if s["challengeName"] == "CUSTOM_CHALLENGE"]
    wrong = [s for s in wrong if not s["challengeResult"]]
    done = bool(session) and session[-1]["challengeResult"] is True
    done = done and session[-1]["challengeName"] == "CUSTOM_CHALLENGE"
    event["response"]["issueTokens"] = done
    event["response"]["failAuthentication"] = not done and len(wrong) >= 3
    if not done and len(wrong) < 3:
        event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def py_create_secret_code(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CreateAuthChallenge: a hint in public, the code in private."""
    _record("py_create_secret_code", event)
    n = 1 + len(event["request"]["session"])
    event["response"]["publicChallengeParameters"] = {"hint": f"py code {n}"}
    event["response"]["privateChallengeParameters"] = {"answer": PY_CODE}
    event["response"]["challengeMetadata"] = f"PY-{n}"
    return event


def py_verify_secret_code(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """VerifyAuthChallengeResponse: the answer is right when it is the private code."""
    _record("py_verify_secret_code", event)
    expected = event["request"]["privateChallengeParameters"]["answer"]
    event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == expected
    return event


# ----------------------------------------------------------------------------- PreTokenGeneration
# (tests/protocol/test_triggers_tokens.py; the test process runs the same functions behind its
# HTTP and Lambda API invokers, so every invoker is held to the same expectations)

PRETOKEN_GROUP_OVERRIDE = {
    "groupsToOverride": ["auditors", "readers"],
    "iamRolesToOverride": ["arn:aws:iam::123456789012:role/auditor"],
    "preferredRole": "arn:aws:iam::123456789012:role/auditor",
}


def py_pretoken(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """PreTokenGeneration in the event's version's shape. V1: the ID token gains `tenant`,
    `seats` (a number: "5") and `trial` (a boolean: "true"), `name` is replaced, `email`
    is both replaced and suppressed (suppressed), and reserved claims (`sub`,
    `cognito:username`, `exp`, `aud`) are asked for in vain. V2/V3: the ID token as in V1 but
    with JSON values (an object, an array); the access token gains `tenant`, `seats` 5 and
    `trial` true, and tries `username`, `client_id`, `scope` and `auth_time`; scopes
    orders/read and orders/write are added, orders/write and orders/admin suppressed."""
    _record("py_pretoken", event)
    reserved = {"sub": "forged", "cognito:username": "forged", "exp": "1"}
    if event["version"] == "1":
        event["response"]["claimsOverrideDetails"] = {
            "claimsToAddOrOverride": {
                "tenant": "acme",
                "seats": 5,
                "trial": True,
                "name": "Renamed",
                "email": "masked@example.com",
                **reserved,
            },
            "claimsToSuppress": ["email", "aud"],
        }
        return event
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {
            "claimsToAddOrOverride": {
                "tenant": "acme",
                "plan": {"tier": "gold", "seats": 5},
                "tags": ["a", 1, True],
                "name": "Renamed",
                "email": "masked@example.com",
                **reserved,
            },
            "claimsToSuppress": ["email", "aud"],
        },
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {
                "tenant": "acme",
                "seats": 5,
                "trial": True,
                "username": "forged",
                "client_id": "forged",
                "scope": "forged",
            },
            "claimsToSuppress": ["auth_time", "origin_jti"],
            "scopesToAdd": ["orders/read", "orders/write"],
            "scopesToSuppress": ["orders/write", "orders/admin"],
        },
    }
    return event


def py_pretoken_groups(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """PreTokenGeneration: the tokens name PRETOKEN_GROUP_OVERRIDE's groups and role
    instead of the user's (in the event's version's shape)."""
    _record("py_pretoken_groups", event)
    field = "claimsOverrideDetails" if event["version"] == "1" else "claimsAndScopeOverrideDetails"
    event["response"][field] = {"groupOverrideDetails": dict(PRETOKEN_GROUP_OVERRIDE)}
    return event


# ----------------------------------------------------------------------------- user migration

LEGACY_PASSWORD = "legacy"  # meets no pool's policy: a migration does not check it


def py_migrate_user(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """UserMigration: a user named `legacy-*` moves over (at sign-in only with the password
    LEGACY_PASSWORD) with a verified email `<name>@legacy.example.com`; others are refused."""
    _record("py_migrate_user", event)
    name = event["userName"]
    signing_in = event["triggerSource"] == "UserMigration_Authentication"
    if not name.startswith("legacy-") or (
        signing_in and event["request"]["password"] != LEGACY_PASSWORD
    ):
        raise ValueError("Bad password")
    event["response"]["userAttributes"] = {
        "email": f"{name}@legacy.example.com",
        "email_verified": "true",
    }
    event["response"]["finalUserStatus"] = "CONFIRMED"
    event["response"]["messageAction"] = "SUPPRESS"
    return event


# CustomMessage and the custom senders (tests/protocol/test_triggers_messages.py).


def custom_message_reply(event: dict[str, Any]) -> dict[str, Any]:
    """CustomMessage: every medium's text names the triggerSource and the user, and carries
    the placeholders the request offers (the username one only for invitations)."""
    request = event["request"]
    source, code = event["triggerSource"], request["codeParameter"]
    who = request.get("usernameParameter") or event["userName"]
    event["response"]["smsMessage"] = f"[{source}] {who}: {code}"
    event["response"]["emailMessage"] = f"<p>{source}: hello {who}, your code is {code}</p>"
    event["response"]["emailSubject"] = f"Subject of {source}"
    return event


def py_custom_message(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record("py_custom_message", event)
    return custom_message_reply(event)


def py_custom_message_sms(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CustomMessage writing only the SMS text (for pools that send email from Cognito)."""
    _record("py_custom_message_sms", event)
    event["response"]["smsMessage"] = custom_message_reply(event)["response"]["smsMessage"]
    event["response"]["emailMessage"] = event["response"]["emailSubject"] = None
    return event


def py_custom_message_no_code(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CustomMessage forgetting the code placeholder: Cognito falls back to the template."""
    _record("py_custom_message_no_code", event)
    event["response"]["smsMessage"] = "Welcome, but no code"
    event["response"]["emailMessage"] = "Welcome, but no code"
    event["response"]["emailSubject"] = "Custom subject"
    return event


def py_custom_sender(event: dict[str, Any], context: Any) -> None:
    """CustomEmailSender / CustomSMSSender: takes the event and answers nothing (as a Node
    function that returns nothing does)."""
    _record("py_custom_sender", event)
