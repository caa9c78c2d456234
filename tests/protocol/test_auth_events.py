"""Threat protection's user event history: AdminListUserAuthEvents after sign-ins of every
flow (success and failure), sign-up, resent code, forgot password and password change;
paging newest first; feedback by the administrator and by the user's feedback token; the
add-on gate on all five threat-protection operations (boto3 against the live server)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support.auth import (
    NEW_PASSWORD,
    PASSWORD,
    WRONG_PASSWORD,
    Srp,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.oauth import CALLBACK, hosted_login, login_form, oauth_pool, redirect_params
from tests.support.outbox import read_outbox
from tests.support.server import CognateServer

PLUS = {"UserPoolTier": "PLUS"}


def secured_pool(cognito: Any, mode: str = "AUDIT", **kwargs: Any) -> str:
    return new_pool(cognito, UserPoolAddOns={"AdvancedSecurityMode": mode}, **PLUS, **kwargs)


def events(cognito: Any, pool_id: str, username: str = "alice") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cognito.admin_list_user_auth_events(
        UserPoolId=pool_id, Username=username
    )["AuthEvents"]
    return found


def admin_sign_in(
    cognito: Any, pool_id: str, client_id: str, ip: str, password: str = PASSWORD
) -> Any:
    return cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": password},
        ContextData={
            "IpAddress": ip,
            "ServerName": "app.example.com",
            "ServerPath": "/login",
            "HttpHeaders": [{"headerName": "User-Agent", "headerValue": "TestBrowser/1.0"}],
        },
    )


# ----------------------------------------------------------------------------- the gate


def test_every_operation_needs_the_add_on(cognito: Any) -> None:
    pool_id = new_pool(cognito, **PLUS)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    calls = [
        lambda: cognito.admin_list_user_auth_events(UserPoolId=pool_id, Username="alice"),
        lambda: cognito.admin_update_auth_event_feedback(
            UserPoolId=pool_id, Username="alice", EventId="e-1", FeedbackValue="Valid"
        ),
        lambda: cognito.update_auth_event_feedback(
            UserPoolId=pool_id,
            Username="alice",
            EventId="e-1",
            FeedbackToken="abc",
            FeedbackValue="Valid",
        ),
        lambda: cognito.describe_risk_configuration(UserPoolId=pool_id),
        lambda: cognito.set_risk_configuration(UserPoolId=pool_id, ClientId=client_id),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc)[0] == "UserPoolAddOnNotEnabledException"
    # nothing is recorded while threat protection is off, even once it is turned on
    sign_in(cognito, client_id)
    cognito.update_user_pool(UserPoolId=pool_id, UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})
    assert events(cognito, pool_id) == []


def test_threat_protection_needs_the_plus_tier(cognito: Any) -> None:
    with pytest.raises(ClientError) as exc:
        new_pool(
            cognito, UserPoolTier="ESSENTIALS", UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"}
        )
    assert error(exc)[0] == "FeatureUnavailableInTierException"


# ----------------------------------------------------------------------------- sign-ins


def test_sign_ins_of_every_flow_are_recorded_newest_first(cognito: Any) -> None:
    pool_id = secured_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)

    sign_in(cognito, client_id)  # USER_PASSWORD_AUTH
    with pytest.raises(ClientError) as exc:
        password_auth(cognito, client_id, password=WRONG_PASSWORD)
    assert error(exc) == ("NotAuthorizedException", "Incorrect username or password.")
    result = Srp(cognito, pool_id, client_id).run()  # USER_SRP_AUTH
    assert "AuthenticationResult" in result
    with pytest.raises(ClientError):
        Srp(cognito, pool_id, client_id, password=WRONG_PASSWORD).run()
    admin_sign_in(cognito, pool_id, client_id, "203.0.113.7")

    found = events(cognito, pool_id)
    assert [(e["EventType"], e["EventResponse"]) for e in found] == [
        ("SignIn", "Pass"),
        ("SignIn", "Fail"),
        ("SignIn", "Pass"),
        ("SignIn", "Fail"),
        ("SignIn", "Pass"),
    ]
    dates = [e["CreationDate"] for e in found]
    assert dates == sorted(dates, reverse=True)
    assert len({e["EventId"] for e in found}) == 5
    newest = found[0]
    assert newest["EventContextData"]["IpAddress"] == "203.0.113.7"
    assert newest["EventContextData"]["DeviceName"] == "TestBrowser/1.0"
    assert newest["ChallengeResponses"] == [
        {"ChallengeName": "Password", "ChallengeResponse": "Success"}
    ]
    assert newest["EventRisk"]["RiskDecision"] == "NoRisk"
    assert newest["EventRisk"]["CompromisedCredentialsDetected"] is False
    assert "EventFeedback" not in newest
    assert found[1]["ChallengeResponses"] == [
        {"ChallengeName": "Password", "ChallengeResponse": "Failure"}
    ]
    assert found[3]["ChallengeResponses"] == found[1]["ChallengeResponses"]
    assert found[4]["EventContextData"]["IpAddress"] == "127.0.0.1"


def test_account_events_are_recorded(server: CognateServer, cognito: Any) -> None:
    pool_id = secured_pool(cognito, AutoVerifiedAttributes=["email"])
    client_id = new_client(cognito, pool_id)["ClientId"]
    cognito.sign_up(
        ClientId=client_id,
        Username="bob",
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
    )
    cognito.resend_confirmation_code(ClientId=client_id, Username="bob")
    assert [e["EventType"] for e in events(cognito, pool_id, "bob")] == ["ResendCode", "SignUp"]

    new_user(cognito, pool_id, attributes={"email": "alice@example.com", "email_verified": "true"})
    token = sign_in(cognito, client_id)["AccessToken"]
    cognito.change_password(
        AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD
    )
    cognito.forgot_password(ClientId=client_id, Username="alice")
    found = events(cognito, pool_id)
    assert [(e["EventType"], e["EventResponse"]) for e in found] == [
        ("ForgotPassword", "Pass"),
        ("PasswordChange", "Pass"),
        ("SignIn", "Pass"),
    ]
    assert found[1]["EventRisk"] == {
        "RiskDecision": "NoRisk",
        "CompromisedCredentialsDetected": False,
    }
    sent = [m for m in read_outbox(server, pool_id) if m.username == "alice"][-1]
    code = re.search(r"\b([0-9]{6})\b", sent.body)
    assert code is not None, sent.body
    cognito.confirm_forgot_password(
        ClientId=client_id, Username="alice", ConfirmationCode=code.group(1), Password=PASSWORD
    )
    assert events(cognito, pool_id)[0]["EventType"] == "PasswordChange"


# ----------------------------------------------------------------------------- paging


def test_paging_newest_first(cognito: Any) -> None:
    pool_id = secured_pool(cognito)
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    for _ in range(5):
        sign_in(cognito, client_id)
    everything = events(cognito, pool_id)
    assert len(everything) == 5
    seen: list[str] = []
    token: str | None = None
    pages = []
    while True:
        request: dict[str, Any] = {"UserPoolId": pool_id, "Username": "alice", "MaxResults": 2}
        if token:
            request["NextToken"] = token
        page = cognito.admin_list_user_auth_events(**request)
        pages.append(len(page["AuthEvents"]))
        seen.extend(e["EventId"] for e in page["AuthEvents"])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [2, 2, 1]
    assert seen == [e["EventId"] for e in everything]
    # MaxResults 0 means the default (60)
    page = cognito.admin_list_user_auth_events(UserPoolId=pool_id, Username="alice", MaxResults=0)
    assert len(page["AuthEvents"]) == 5
    assert "NextToken" not in page
    with pytest.raises(ClientError) as exc:
        cognito.admin_list_user_auth_events(
            UserPoolId=pool_id, Username="alice", NextToken="bm90LWEtdG9rZW4"
        )
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        cognito.admin_list_user_auth_events(UserPoolId=pool_id, Username="nobody")
    assert error(exc)[0] == "UserNotFoundException"


# ----------------------------------------------------------------------------- feedback


def test_admin_feedback(cognito: Any) -> None:
    pool_id = secured_pool(cognito, "ENFORCED")
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id)
    sign_in(cognito, client_id)
    event_id = events(cognito, pool_id)[0]["EventId"]
    cognito.admin_update_auth_event_feedback(
        UserPoolId=pool_id, Username="alice", EventId=event_id, FeedbackValue="Invalid"
    )
    feedback = events(cognito, pool_id)[0]["EventFeedback"]
    assert feedback["FeedbackValue"] == "Invalid"
    assert feedback["Provider"] == "Admin"
    assert "FeedbackDate" in feedback
    with pytest.raises(ClientError) as exc:
        cognito.admin_update_auth_event_feedback(
            UserPoolId=pool_id, Username="alice", EventId="no-such-event", FeedbackValue="Valid"
        )
    assert error(exc)[0] == "ResourceNotFoundException"
    # a feedback token that is not the event's is refused
    with pytest.raises(ClientError) as exc:
        cognito.update_auth_event_feedback(
            UserPoolId=pool_id,
            Username="alice",
            EventId=event_id,
            FeedbackToken="bm90LXRoZS10b2tlbg",
            FeedbackValue="Valid",
        )
    assert error(exc)[0] == "NotAuthorizedException"
    assert events(cognito, pool_id)[0]["EventFeedback"]["FeedbackValue"] == "Invalid"


def test_hosted_login_is_recorded(server: CognateServer, cognito: Any, region: str) -> None:
    setup = oauth_pool(cognito, server.endpoint, region, flows=("code",))
    cognito.update_user_pool(
        UserPoolId=setup.pool_id,
        UserPoolTier="PLUS",
        UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"},
    )
    url = (
        f"{setup.domain_url}/oauth2/authorize?response_type=code&client_id={setup.client_id}"
        f"&redirect_uri={CALLBACK}"
    )
    with httpx.Client() as browser:
        action, csrf = login_form(browser, url)
        wrong = browser.post(
            action, data={"_csrf": csrf, "username": "alice", "password": WRONG_PASSWORD}
        )
        assert wrong.status_code == 400
    with httpx.Client() as browser:
        assert redirect_params(hosted_login(browser, url))["code"]
    found = events(cognito, setup.pool_id)
    assert [(e["EventType"], e["EventResponse"]) for e in found] == [
        ("SignIn", "Pass"),
        ("SignIn", "Fail"),
    ]
    assert found[0]["EventContextData"]["IpAddress"] == "127.0.0.1"
