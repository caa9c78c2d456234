"""Email MFA set up during sign-in with Amplify JS v6 (tests/js/amplify_auth.mjs), against a
live Cognate: in a pool requiring MFA that offers TOTP and email, a user without any factor
signs in (SRP, Amplify's default) and is asked to choose (CONTINUE_SIGN_IN_WITH_MFA_SETUP_
SELECTION), chooses EMAIL (CONTINUE_SIGN_IN_WITH_EMAIL_SETUP), gives an address (which
Amplify sends as RespondToAuthChallenge MFA_SETUP with EMAIL), is asked for the code
(CONFIRM_SIGN_IN_WITH_EMAIL_CODE), mistypes it (CodeMismatchException) and gives the one the
server queued in its outbox (read by the test and written to the script's stdin), and is
signed in with the address as their verified email. A second run signs in with the email
code directly. Needs Node.js and tests/js/node_modules.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.test_js_auth import (
    PASSWORD,
    check_error,
    create_app,
    results_by_action,
    targets,
)
from tests.e2e.test_js_mfa import run_js_answering
from tests.support.auth import new_user
from tests.support.outbox import read_outbox
from tests.support.server import CognateServer

pytestmark = pytest.mark.node

ADDRESS = "ada@example.com"
DEVELOPER_EMAIL = {
    "EmailSendingAccount": "DEVELOPER",
    "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/no-reply@example.com",
    "From": "no-reply@example.com",
}
EMAIL_MFA = {"Message": "Your sign-in code: {####}", "Subject": "Sign-in code"}
CODE = re.compile(r"Your sign-in code: (\d{6})")
CODE_MISMATCH = "Invalid code or auth state for the user."


def amplify_answering(
    server: CognateServer, pool_id: str, client_id: str, actions: list[Any]
) -> list[dict[str, Any]]:
    """Run amplify_auth.mjs as ada, answering its prompts with the last code sent to her
    (for the label "wrong", another code)."""

    def answer(prompt: dict[str, Any]) -> str:
        messages = [m for m in read_outbox(server, pool_id) if m.kind == "sign_in_code"]
        assert messages, "no sign-in code was sent"
        assert messages[-1].destination == ADDRESS
        match = CODE.fullmatch(messages[-1].body)
        assert match, messages[-1].body
        code = match.group(1)
        return f"{(int(code) + 1) % 1_000_000:06d}" if prompt["label"] == "wrong" else code

    argument = {
        "endpoint": server.endpoint,
        "poolId": pool_id,
        "clientId": client_id,
        "username": "ada",
        "password": PASSWORD,
        "actions": actions,
    }
    observed, _ = run_js_answering("amplify_auth.mjs", argument, answer)
    results = results_by_action(observed, "aws-amplify")
    assert [r["action"] for r in results] == [
        a if isinstance(a, str) else a["action"] for a in actions
    ]
    return results


def test_amplify_sets_up_email_mfa_at_sign_in(server: CognateServer, cognito: Any) -> None:
    pool_id = cognito.create_user_pool(
        PoolName="js-email-mfa-setup", EmailConfiguration=DEVELOPER_EMAIL
    )["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration=EMAIL_MFA,
    )
    client_id = create_app(cognito, pool_id)
    new_user(cognito, pool_id, "ada", PASSWORD)

    results = amplify_answering(
        server,
        pool_id,
        client_id,
        [
            "sign_in",
            {"action": "confirm_sign_in", "challengeResponse": "EMAIL"},
            {"action": "confirm_sign_in", "challengeResponse": ADDRESS},
            {"action": "confirm_sign_in", "codeFrom": "prompt", "label": "wrong"},
            {"action": "confirm_sign_in", "codeFrom": "prompt", "label": "right"},
            "fetch_user_attributes",
        ],
    )
    started, chose, addressed, wrong, signed_in, fetched = results

    assert started["ok"], started
    assert started["isSignedIn"] is False
    assert started["nextStep"] == {
        "signInStep": "CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION",
        "allowedMFATypes": ["TOTP", "EMAIL"],
    }
    assert targets(started) == ["InitiateAuth", "RespondToAuthChallenge"]  # SRP
    # choosing EMAIL is Amplify's own step: nothing is sent
    assert chose["ok"], chose
    assert chose["nextStep"] == {"signInStep": "CONTINUE_SIGN_IN_WITH_EMAIL_SETUP"}
    assert targets(chose) == []
    # the address goes out as the MFA_SETUP answer; the server asks for the code it sent
    assert addressed["ok"], addressed
    assert addressed["nextStep"] == {
        "signInStep": "CONFIRM_SIGN_IN_WITH_EMAIL_CODE",
        "codeDeliveryDetails": {"deliveryMedium": "EMAIL", "destination": "a***@e***"},
    }
    assert targets(addressed) == ["RespondToAuthChallenge"]
    request = addressed["calls"][0]["request"]
    assert request["ChallengeName"] == "MFA_SETUP"
    # (the recorder keeps the shape of the answers, not their values)
    assert sorted(request["ChallengeResponses"]) == ["EMAIL", "USERNAME"]
    # a mistyped code, then the right one on the same session
    check_error(wrong, "CodeMismatchException", CODE_MISMATCH)
    assert wrong["calls"][0]["request"]["ChallengeName"] == "EMAIL_OTP"
    assert signed_in["ok"], signed_in
    assert signed_in["isSignedIn"] is True
    assert signed_in["nextStep"] == {"signInStep": "DONE"}
    assert targets(signed_in) == ["RespondToAuthChallenge"]
    assert signed_in["calls"][0]["request"]["Session"] == wrong["calls"][0]["request"]["Session"]
    assert fetched["ok"], fetched
    assert fetched["attributes"]["email"] == ADDRESS
    assert fetched["attributes"]["email_verified"] == "true"
    sent = [m for m in read_outbox(server, pool_id) if m.kind == "sign_in_code"]
    assert [(m.channel, m.destination, m.subject) for m in sent] == [
        ("EMAIL", ADDRESS, "Sign-in code")
    ]
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="ada")
    assert (user["UserMFASettingList"], user["PreferredMfaSetting"]) == (
        ["EMAIL_OTP"],
        "EMAIL_OTP",
    )

    # the next sign-in asks for an email code straight away
    again, confirmed = amplify_answering(
        server,
        pool_id,
        client_id,
        ["sign_in", {"action": "confirm_sign_in", "codeFrom": "prompt", "label": "right"}],
    )
    assert again["nextStep"] == {
        "signInStep": "CONFIRM_SIGN_IN_WITH_EMAIL_CODE",
        "codeDeliveryDetails": {"deliveryMedium": "EMAIL", "destination": "a***@e***"},
    }
    assert confirmed["isSignedIn"] is True, json.dumps(confirmed)
    assert len([m for m in read_outbox(server, pool_id) if m.kind == "sign_in_code"]) == 2
