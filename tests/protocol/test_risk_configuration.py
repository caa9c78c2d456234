"""SetRiskConfiguration / DescribeRiskConfiguration (pool-wide and per-client override) and
what ENFORCED threat protection does with them at sign-in: the breached-password list
(`breached_passwords_file`) at sign-in, sign-up and password change, the IP block and skip
lists, and account-takeover actions (MFA_IF_CONFIGURED, MFA_REQUIRED, BLOCK with a
notification whose feedback token UpdateAuthEventFeedback accepts). The server sees
127.0.0.1; the admin sign-ins pass other addresses as ContextData IpAddress, which Cognito
evaluates for server-side flows."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.support.auth import (
    NEW_PASSWORD,
    PASSWORD,
    WRONG_PASSWORD,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    sign_in,
)
from tests.support.mfa import MfaPool, mfa_pool
from tests.support.outbox import read_outbox
from tests.support.server import CognateServer, postgres_database, start_server

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")
BREACHED = "Breached-Passw0rd!"  # listed by its SHA-1 digest (HIBP format)
PWNED = "Pwned-Passw0rd!"  # listed in plain text
ENFORCED = {"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}
AUDIT = {"UserPoolTier": "PLUS", "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}
BLOCKED_IP = ("NotAuthorizedException", "Request not allowed due to security reasons.")
BLOCKED = ("NotAuthorizedException", "Unable to login because of security reasons.")
NOTIFY = {
    "From": "security@example.com",
    "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/security@example.com",
    "BlockEmail": {
        "Subject": "Blocked sign-in for {username}",
        "TextBody": "We blocked {username} from {ip-address}. Yes: {one-click-link-valid} "
        "No: {one-click-link-invalid}",
    },
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CognateServer]:
    """A server with a breached-password list."""
    workdir = tmp_path_factory.mktemp(f"risk-{request.param}")
    listing = workdir / "breached.txt"
    digest = hashlib.sha1(BREACHED.encode()).hexdigest().upper()
    listing.write_text(f"{digest}:42\n{PWNED}\n")
    env = {"COGNATE_BREACHED_PASSWORDS_FILE": str(listing)}
    if request.param == "sqlite":
        with start_server(workdir, db=f"sqlite:///{workdir}/c.db", env=env) as srv:
            yield srv
        return
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set")
    with postgres_database(POSTGRES_URL) as url, start_server(workdir, db=url, env=env) as srv:
        yield srv


@pytest.fixture
def idp(guarded: CognateServer, region: str) -> Any:
    return make_client(guarded.endpoint, region)


def events(cognito: Any, pool_id: str, username: str = "alice") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cognito.admin_list_user_auth_events(
        UserPoolId=pool_id, Username=username
    )["AuthEvents"]
    return found


def admin_auth(
    cognito: Any, pool_id: str, client_id: str, ip: str, password: str = PASSWORD
) -> dict[str, Any]:
    response: dict[str, Any] = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": password},
        ContextData={
            "IpAddress": ip,
            "ServerName": "app.example.com",
            "ServerPath": "/",
            "HttpHeaders": [],
        },
    )
    return response


def takeover(medium: str, notify: bool = False, **extra: Any) -> dict[str, Any]:
    actions = {
        "LowAction": {"EventAction": "NO_ACTION", "Notify": False},
        "MediumAction": {"EventAction": medium, "Notify": notify},
        "HighAction": {"EventAction": "BLOCK", "Notify": notify},
    }
    return {"Actions": actions, **extra}


# ----------------------------------------------------------------------------- configuration


def test_round_trip_and_client_override(idp: Any) -> None:
    pool_id = new_pool(idp, **ENFORCED)
    client_a = new_client(idp, pool_id)["ClientId"]
    client_b = new_client(idp, pool_id)["ClientId"]
    assert idp.describe_risk_configuration(UserPoolId=pool_id)["RiskConfiguration"] == {
        "UserPoolId": pool_id
    }
    pool_config = {
        "CompromisedCredentialsRiskConfiguration": {
            "EventFilter": ["SIGN_IN", "SIGN_UP"],
            "Actions": {"EventAction": "BLOCK"},
        },
        "AccountTakeoverRiskConfiguration": takeover(
            "MFA_IF_CONFIGURED", True, NotifyConfiguration=NOTIFY
        ),
        "RiskExceptionConfiguration": {
            "BlockedIPRangeList": ["192.0.2.0/24"],
            "SkippedIPRangeList": ["10.0.0.0/8"],
        },
    }
    answer = idp.set_risk_configuration(UserPoolId=pool_id, **pool_config)["RiskConfiguration"]
    assert "LastModifiedDate" in answer
    described = idp.describe_risk_configuration(UserPoolId=pool_id)["RiskConfiguration"]
    assert described.pop("LastModifiedDate") == answer["LastModifiedDate"]
    assert described == {"UserPoolId": pool_id, **pool_config}

    override = {"RiskExceptionConfiguration": {"SkippedIPRangeList": ["0.0.0.0/0"]}}
    idp.set_risk_configuration(UserPoolId=pool_id, ClientId=client_a, **override)
    of_a = idp.describe_risk_configuration(UserPoolId=pool_id, ClientId=client_a)
    of_a = of_a["RiskConfiguration"]
    of_a.pop("LastModifiedDate")
    assert of_a == {"UserPoolId": pool_id, "ClientId": client_a, **override}
    # a client without its own inherits the pool's
    of_b = idp.describe_risk_configuration(UserPoolId=pool_id, ClientId=client_b)
    assert "ClientId" not in of_b["RiskConfiguration"]
    assert (
        of_b["RiskConfiguration"]["RiskExceptionConfiguration"]
        == pool_config["RiskExceptionConfiguration"]
    )
    # UserPoolId + ClientId only: the client inherits again; UserPoolId only: defaults
    idp.set_risk_configuration(UserPoolId=pool_id, ClientId=client_a)
    of_a = idp.describe_risk_configuration(UserPoolId=pool_id, ClientId=client_a)
    assert "ClientId" not in of_a["RiskConfiguration"]
    idp.set_risk_configuration(UserPoolId=pool_id)
    assert idp.describe_risk_configuration(UserPoolId=pool_id)["RiskConfiguration"] == {
        "UserPoolId": pool_id
    }


def test_invalid_configurations(idp: Any) -> None:
    pool_id = new_pool(idp, **ENFORCED)
    with pytest.raises(ClientError) as exc:
        idp.set_risk_configuration(
            UserPoolId=pool_id,
            RiskExceptionConfiguration={"BlockedIPRangeList": ["not-a-cidr"]},
        )
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        idp.describe_risk_configuration(UserPoolId=pool_id, ClientId="nosuchclient1234567890")
    assert error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        idp.set_risk_configuration(
            UserPoolId=pool_id, AccountTakeoverRiskConfiguration=takeover("BLOCK", notify=True)
        )
    assert error(exc)[0] == "InvalidParameterException"


# ----------------------------------------------------------------------------- compromised


def test_compromised_password_blocked_at_sign_in(idp: Any) -> None:
    pool_id = new_pool(idp, **ENFORCED)
    client_id = new_client(idp, pool_id)["ClientId"]
    new_user(idp, pool_id, password=BREACHED)
    # no configuration: detected and recorded, not blocked
    sign_in(idp, client_id, password=BREACHED)
    assert events(idp, pool_id)[0]["EventRisk"]["CompromisedCredentialsDetected"] is True
    idp.set_risk_configuration(
        UserPoolId=pool_id,
        CompromisedCredentialsRiskConfiguration={
            "EventFilter": ["SIGN_IN"],
            "Actions": {"EventAction": "BLOCK"},
        },
    )
    with pytest.raises(ClientError) as exc:
        password_auth(idp, client_id, password=BREACHED)
    assert error(exc) == BLOCKED
    newest = events(idp, pool_id)[0]
    assert newest["EventResponse"] == "Fail"
    assert newest["EventRisk"]["RiskDecision"] == "Block"
    assert newest["EventRisk"]["CompromisedCredentialsDetected"] is True
    # a wrong password is still just a wrong password
    with pytest.raises(ClientError) as exc:
        password_auth(idp, client_id, password=WRONG_PASSWORD)
    assert error(exc) == ("NotAuthorizedException", "Incorrect username or password.")
    # a clean password signs in
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True
    )
    sign_in(idp, client_id)
    assert events(idp, pool_id)[0]["EventRisk"]["CompromisedCredentialsDetected"] is False


def test_audit_mode_only_records(idp: Any) -> None:
    pool_id = new_pool(idp, **AUDIT)
    client_id = new_client(idp, pool_id)["ClientId"]
    new_user(idp, pool_id, password=PWNED)
    idp.set_risk_configuration(
        UserPoolId=pool_id,
        CompromisedCredentialsRiskConfiguration={"Actions": {"EventAction": "BLOCK"}},
        RiskExceptionConfiguration={"BlockedIPRangeList": ["127.0.0.0/8"]},
    )
    sign_in(idp, client_id, password=PWNED)
    newest = events(idp, pool_id)[0]
    assert newest["EventResponse"] == "Pass"
    assert newest["EventRisk"] == {"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": True}


def test_compromised_password_blocked_at_sign_up_and_change(idp: Any) -> None:
    pool_id = new_pool(idp, **ENFORCED)
    client_id = new_client(idp, pool_id)["ClientId"]
    idp.set_risk_configuration(
        UserPoolId=pool_id,
        CompromisedCredentialsRiskConfiguration={
            "EventFilter": ["SIGN_UP", "PASSWORD_CHANGE"],
            "Actions": {"EventAction": "BLOCK"},
        },
    )
    with pytest.raises(ClientError) as exc:
        idp.sign_up(ClientId=client_id, Username="bob", Password=PWNED)
    assert error(exc)[0] == "InvalidPasswordException"
    with pytest.raises(ClientError) as exc:
        idp.admin_get_user(UserPoolId=pool_id, Username="bob")
    assert error(exc)[0] == "UserNotFoundException"
    idp.sign_up(ClientId=client_id, Username="bob", Password=PASSWORD)
    assert events(idp, pool_id, "bob")[0]["EventType"] == "SignUp"

    new_user(idp, pool_id)
    token = sign_in(idp, client_id)["AccessToken"]  # SIGN_IN is not in the filter
    with pytest.raises(ClientError) as exc:
        idp.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=BREACHED)
    assert error(exc)[0] == "InvalidPasswordException"
    newest = events(idp, pool_id)[0]
    assert (newest["EventType"], newest["EventResponse"]) == ("PasswordChange", "Fail")
    assert newest["EventRisk"]["CompromisedCredentialsDetected"] is True
    idp.change_password(AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD)


# ----------------------------------------------------------------------------- IP lists


def test_ip_block_list_and_client_override(idp: Any) -> None:
    pool_id = new_pool(idp, **ENFORCED)
    client_id = new_client(idp, pool_id)["ClientId"]
    other = new_client(idp, pool_id)["ClientId"]
    new_user(idp, pool_id)
    idp.set_risk_configuration(
        UserPoolId=pool_id,
        RiskExceptionConfiguration={"BlockedIPRangeList": ["127.0.0.0/8", "192.0.2.0/24"]},
    )
    with pytest.raises(ClientError) as exc:
        password_auth(idp, client_id)  # the server sees 127.0.0.1
    assert error(exc) == BLOCKED_IP
    with pytest.raises(ClientError) as exc:
        admin_auth(idp, pool_id, client_id, "192.0.2.55")
    assert error(exc) == BLOCKED_IP
    newest = events(idp, pool_id)[0]
    assert newest["EventResponse"] == "Fail"
    assert newest["EventRisk"]["RiskDecision"] == "Block"
    assert newest["EventContextData"]["IpAddress"] == "192.0.2.55"
    assert "AuthenticationResult" in admin_auth(idp, pool_id, client_id, "198.51.100.1")
    # the other client has a configuration of its own: nothing blocked there
    idp.set_risk_configuration(
        UserPoolId=pool_id,
        ClientId=other,
        RiskExceptionConfiguration={"SkippedIPRangeList": ["127.0.0.0/8"]},
    )
    sign_in(idp, other)


# ----------------------------------------------------------------------------- takeover


def sms_pool(guarded: CognateServer, idp: Any) -> MfaPool:
    pool = mfa_pool(guarded, idp, "OPTIONAL", sms=True, totp=False, **ENFORCED)
    new_user(
        idp, pool.pool_id, attributes={"phone_number": "+15555550100", "email": "alice@example.com"}
    )
    return pool


def test_new_ip_and_device_asks_for_mfa_if_configured(guarded: CognateServer, idp: Any) -> None:
    pool = sms_pool(guarded, idp)
    idp.set_risk_configuration(
        UserPoolId=pool.pool_id, AccountTakeoverRiskConfiguration=takeover("MFA_IF_CONFIGURED")
    )
    # the first sign-in is the baseline; a known address is no risk
    assert "AuthenticationResult" in admin_auth(idp, pool.pool_id, pool.client_id, "198.51.100.1")
    assert "AuthenticationResult" in admin_auth(idp, pool.pool_id, pool.client_id, "198.51.100.1")
    assert "RiskLevel" not in events(idp, pool.pool_id)[0]["EventRisk"]
    # a new address from an unknown device: Medium -> the SMS MFA the user can do
    challenge = admin_auth(idp, pool.pool_id, pool.client_id, "203.0.113.9")
    assert challenge["ChallengeName"] == "SMS_MFA"
    in_progress = events(idp, pool.pool_id)[0]
    assert in_progress["EventResponse"] == "InProgress"
    assert in_progress["EventRisk"]["RiskLevel"] == "Medium"
    assert in_progress["EventRisk"]["RiskDecision"] == "AccountTakeover"
    done = pool.answer(challenge, "ADMIN_USER_PASSWORD_AUTH", SMS_MFA_CODE=pool.last_code())
    assert "AuthenticationResult" in done
    passed = events(idp, pool.pool_id)[0]
    assert passed["EventId"] == in_progress["EventId"]
    assert passed["EventResponse"] == "Pass"
    assert passed["ChallengeResponses"] == [
        {"ChallengeName": "Password", "ChallengeResponse": "Success"},
        {"ChallengeName": "Mfa", "ChallengeResponse": "Success"},
    ]
    # that address is known now
    assert "AuthenticationResult" in admin_auth(idp, pool.pool_id, pool.client_id, "203.0.113.9")
    # a skipped range is not evaluated
    idp.set_risk_configuration(
        UserPoolId=pool.pool_id,
        AccountTakeoverRiskConfiguration=takeover("MFA_IF_CONFIGURED"),
        RiskExceptionConfiguration={"SkippedIPRangeList": ["100.64.0.0/10"]},
    )
    assert "AuthenticationResult" in admin_auth(idp, pool.pool_id, pool.client_id, "100.64.1.1")


def test_mfa_required_without_a_factor_blocks(guarded: CognateServer, idp: Any) -> None:
    pool = mfa_pool(guarded, idp, "OPTIONAL", sms=True, totp=False, **ENFORCED)
    new_user(idp, pool.pool_id)  # no phone number: no MFA possible
    idp.set_risk_configuration(
        UserPoolId=pool.pool_id, AccountTakeoverRiskConfiguration=takeover("MFA_REQUIRED")
    )
    admin_auth(idp, pool.pool_id, pool.client_id, "198.51.100.1")
    with pytest.raises(ClientError) as exc:
        admin_auth(idp, pool.pool_id, pool.client_id, "203.0.113.9")
    assert error(exc) == BLOCKED
    assert events(idp, pool.pool_id)[0]["EventRisk"]["RiskDecision"] == "Block"
    # MFA_IF_CONFIGURED lets the same sign-in through
    idp.set_risk_configuration(
        UserPoolId=pool.pool_id, AccountTakeoverRiskConfiguration=takeover("MFA_IF_CONFIGURED")
    )
    assert "AuthenticationResult" in admin_auth(idp, pool.pool_id, pool.client_id, "203.0.113.9")


def test_block_notifies_with_feedback_links(guarded: CognateServer, idp: Any) -> None:
    pool = sms_pool(guarded, idp)
    idp.set_risk_configuration(
        UserPoolId=pool.pool_id,
        AccountTakeoverRiskConfiguration=takeover("BLOCK", True, NotifyConfiguration=NOTIFY),
    )
    admin_auth(idp, pool.pool_id, pool.client_id, "198.51.100.1")
    with pytest.raises(ClientError) as exc:
        admin_auth(idp, pool.pool_id, pool.client_id, "203.0.113.9")
    assert error(exc) == BLOCKED
    blocked = events(idp, pool.pool_id)[0]
    assert blocked["EventResponse"] == "Fail"
    assert blocked["EventRisk"] == {
        "RiskDecision": "Block",
        "RiskLevel": "Medium",
        "CompromisedCredentialsDetected": False,
    }
    notices = [m for m in read_outbox(guarded, pool.pool_id) if m.kind == "risk_notification"]
    assert len(notices) == 1
    notice = notices[0]
    assert notice.destination == "alice@example.com"
    assert notice.subject == "Blocked sign-in for alice"
    assert "We blocked alice from 203.0.113.9." in notice.body
    links = re.findall(r"https?://\S+", notice.body)
    assert len(links) == 2
    query = {k: v[0] for k, v in parse_qs(urlparse(links[1]).query).items()}
    assert query["event"] == blocked["EventId"]
    assert query["value"] == "Invalid"
    # the "it was me" link works in a browser
    page = httpx.get(links[0])
    assert page.status_code == 200, page.text
    feedback = events(idp, pool.pool_id)[0]["EventFeedback"]
    assert (feedback["FeedbackValue"], feedback["Provider"]) == ("Valid", "User")
    assert httpx.get(links[0].replace("token=", "token=x")).status_code == 400
    idp.update_auth_event_feedback(
        UserPoolId=pool.pool_id,
        Username="alice",
        EventId=query["event"],
        FeedbackToken=query["token"],
        FeedbackValue="Invalid",
    )
    feedback = events(idp, pool.pool_id)[0]["EventFeedback"]
    assert (feedback["FeedbackValue"], feedback["Provider"]) == ("Invalid", "User")
    # the token is the event's only
    other = events(idp, pool.pool_id)[1]["EventId"]
    with pytest.raises(ClientError) as exc:
        idp.update_auth_event_feedback(
            UserPoolId=pool.pool_id,
            Username="alice",
            EventId=other,
            FeedbackToken=query["token"],
            FeedbackValue="Valid",
        )
    assert error(exc)[0] == "NotAuthorizedException"


def test_repeated_failures_then_new_address_is_high_risk(idp: Any) -> None:
    pool_id = new_pool(idp, **ENFORCED)
    client_id = new_client(idp, pool_id)["ClientId"]
    new_user(idp, pool_id)
    idp.set_risk_configuration(
        UserPoolId=pool_id, AccountTakeoverRiskConfiguration=takeover("NO_ACTION")
    )
    admin_auth(idp, pool_id, client_id, "198.51.100.1")
    for _ in range(3):
        with pytest.raises(ClientError):
            admin_auth(idp, pool_id, client_id, "203.0.113.50", password=WRONG_PASSWORD)
    with pytest.raises(ClientError) as exc:
        admin_auth(idp, pool_id, client_id, "203.0.113.50")
    assert error(exc) == BLOCKED  # HighAction BLOCK
    assert events(idp, pool_id)[0]["EventRisk"]["RiskLevel"] == "High"
