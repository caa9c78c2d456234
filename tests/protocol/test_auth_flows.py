"""Sign-in through boto3: InitiateAuth, AdminInitiateAuth and (Admin)RespondToAuthChallenge.

Every password flow, SRP computed by pycognito (an independent client), the checks in
Cognito's order (flow pairing, client, ExplicitAuthFlows, parameters, SECRET_HASH, user
state, password), NEW_PASSWORD_REQUIRED, challenge sessions, the brute-force lockout,
choice-based sign-in (USER_AUTH) and sign-in with aliases. Messages are Cognito's own, as
researched in /work/research/auth.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP, N_HEX

from tests.support.auth import (
    INCORRECT,
    NEW_PASSWORD,
    PASSWORD,
    TEMPORARY_PASSWORD,
    WRONG_PASSWORD,
    Srp,
    attributes_of,
    claims,
    cognito_timestamp,
    error,
    new_client,
    new_pool,
    new_user,
    password_auth,
    secret_hash,
    sign_in,
    unsigned_client,
)

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX = re.compile(r"[0-9a-f]+")
ATTEMPTS_EXCEEDED = ("NotAuthorizedException", "Password attempts exceeded")
USED_SESSION = (
    "NotAuthorizedException",
    "Invalid session for the user, session can only be used once.",
)
INVALID_SESSION = ("NotAuthorizedException", "Invalid session for the user.")


@pytest.fixture
def pool_id(cognito: Any) -> str:
    return new_pool(cognito)


@pytest.fixture
def client_id(cognito: Any, pool_id: str) -> str:
    client_id: str = new_client(cognito, pool_id)["ClientId"]
    return client_id


@pytest.fixture
def alice(cognito: Any, pool_id: str) -> str:
    return new_user(cognito, pool_id, "alice", attributes={"email": "alice@example.com"})


def check_tokens(response: dict[str, Any], client_id: str, username: str = "alice") -> None:
    """A completed sign-in: Cognito's result shape, and tokens for this user and client."""
    assert response["ChallengeParameters"] == {}
    assert "ChallengeName" not in response
    assert "Session" not in response
    result = response["AuthenticationResult"]
    assert set(result) == {"AccessToken", "ExpiresIn", "TokenType", "RefreshToken", "IdToken"}
    assert (result["TokenType"], result["ExpiresIn"]) == ("Bearer", 3600)
    access, identity = claims(result["AccessToken"]), claims(result["IdToken"])
    assert (access["token_use"], access["username"], access["client_id"]) == (
        "access",
        username,
        client_id,
    )
    assert (identity["token_use"], identity["cognito:username"], identity["aud"]) == (
        "id",
        username,
        client_id,
    )
    assert access["sub"] == identity["sub"]


def refused(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


# ----------------------------------------------------------------------------- password flows


def test_user_password_auth(
    server: Any, region: str, cognito: Any, client_id: str, alice: str
) -> None:
    # a public operation: a browser app without AWS credentials can call it
    public = unsigned_client(server.endpoint, region)
    response = password_auth(public, client_id)
    check_tokens(response, client_id)
    user = public.get_user(AccessToken=response["AuthenticationResult"]["AccessToken"])
    assert user["Username"] == "alice"
    assert refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD)) == INCORRECT


def test_admin_user_password_auth(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    response = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )
    check_tokens(response, client_id)
    wrong = refused(
        lambda: cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": WRONG_PASSWORD},
        )
    )
    assert wrong == INCORRECT


def test_admin_no_srp_auth_with_legacy_client_flows(cognito: Any, pool_id: str, alice: str) -> None:
    legacy = new_client(cognito, pool_id, ["ADMIN_NO_SRP_AUTH"])["ClientId"]
    response = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=legacy,
        AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )
    check_tokens(response, legacy)
    # the legacy list allows what it names (and SRP, as every legacy client), not the
    # public password flow
    assert refused(lambda: password_auth(cognito, legacy)) == (
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    )
    check_tokens(Srp(cognito, pool_id, legacy).run(), legacy)


# ----------------------------------------------------------------------------- SRP


def test_srp_with_pycognito(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    srp = AWSSRP("alice", PASSWORD, pool_id, client_id, client=cognito)
    check_tokens(srp.authenticate_user(), client_id)
    wrong = AWSSRP("alice", WRONG_PASSWORD, pool_id, client_id, client=cognito)
    with pytest.raises(ClientError) as exc:
        wrong.authenticate_user()
    assert error(exc) == INCORRECT


def test_srp_challenge_parameters(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    started = Srp(cognito, pool_id, client_id).initiate()
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    assert "Session" not in started  # the SECRET_BLOCK carries the state
    parameters = started["ChallengeParameters"]
    assert set(parameters) == {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME", "USER_ID_FOR_SRP"}
    assert parameters["USERNAME"] == parameters["USER_ID_FOR_SRP"] == "alice"
    assert HEX.fullmatch(parameters["SALT"])
    assert HEX.fullmatch(parameters["SRP_B"])
    # a fresh B at every attempt, the user's salt every time
    again = Srp(cognito, pool_id, client_id).initiate()["ChallengeParameters"]
    assert again["SRP_B"] != parameters["SRP_B"]
    assert again["SALT"] == parameters["SALT"]
    assert again["SECRET_BLOCK"] != parameters["SECRET_BLOCK"]


@pytest.mark.parametrize(
    "srp_a",
    ["0", "00", N_HEX, format(2 * int(N_HEX, 16), "x"), "not-hex"],
)
def test_srp_a_that_is_zero_mod_n_is_refused(
    cognito: Any, client_id: str, alice: str, srp_a: str
) -> None:
    # A = 0 (mod N) would let anyone compute the session key without the password
    code, _message = refused(
        lambda: cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": "alice", "SRP_A": srp_a},
        )
    )
    assert code == "InvalidParameterException"


def test_srp_through_the_admin_operations(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    check_tokens(Srp(cognito, pool_id, client_id).run(admin=True), client_id)


@pytest.mark.parametrize(
    "timestamp",
    ["2024-01-01T00:00:00Z", "not a time", "Tue Sep 3 08:05:09 2019", "1700000000"],
)
def test_srp_timestamp_format(
    cognito: Any, pool_id: str, client_id: str, alice: str, timestamp: str
) -> None:
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    answer = srp.responses(started["ChallengeParameters"], timestamp=timestamp)
    assert refused(lambda: srp.respond(answer)) == (
        "InvalidParameterException",
        "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.",
    )


def test_srp_timestamp_is_signed_as_cognito_renders_it(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    # the day zero-padded: only a different string on days 1-9 (the clock tests shift the
    # server's clock to such a day); otherwise the weekday of tomorrow
    padded = f"{now:%a %b %d %H:%M:%S} UTC {now:%Y}"
    tomorrow = now + dt.timedelta(days=1)
    wrong_weekday = f"{tomorrow:%a} {cognito_timestamp(now)[4:]}"
    for timestamp in {padded, wrong_weekday} - {cognito_timestamp(now)}:
        srp = Srp(cognito, pool_id, client_id)
        started = srp.initiate()
        answer = srp.responses(started["ChallengeParameters"], timestamp=timestamp)
        assert refused(lambda answer=answer, srp=srp: srp.respond(answer)) == INCORRECT
    # the well-formed timestamp of the same moment is accepted
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    answer = srp.responses(started["ChallengeParameters"], timestamp=cognito_timestamp(now))
    check_tokens(srp.respond(answer), client_id)


def test_srp_proof_errors(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    good = srp.responses(started["ChallengeParameters"])
    # the signature over another SECRET_BLOCK (a real one, of another attempt)
    other = Srp(cognito, pool_id, client_id).initiate()["ChallengeParameters"]
    forged = {**good, "PASSWORD_CLAIM_SECRET_BLOCK": other["SECRET_BLOCK"]}
    assert refused(lambda: srp.respond(forged)) == INCORRECT
    for missing in ("PASSWORD_CLAIM_SIGNATURE", "PASSWORD_CLAIM_SECRET_BLOCK", "TIMESTAMP"):
        partial = {k: v for k, v in good.items() if k != missing}
        assert refused(lambda partial=partial: srp.respond(partial)) == (
            "InvalidParameterException",
            f"Missing required parameter {missing}",
        )
    # the original answer is still good: nothing above used its SECRET_BLOCK
    check_tokens(srp.respond(good), client_id)
    # ...once
    assert refused(lambda: srp.respond(good)) == USED_SESSION


def test_srp_unknown_secret_block_is_a_wrong_password(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    good = srp.responses(started["ChallengeParameters"])
    garbage = {**good, "PASSWORD_CLAIM_SECRET_BLOCK": "bm90LWEtc2VjcmV0LWJsb2Nr"}
    assert refused(lambda: srp.respond(garbage)) == INCORRECT


def test_wrong_srp_proof_uses_up_the_secret_block(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    srp = Srp(cognito, pool_id, client_id)
    started = srp.initiate()
    wrong = srp.responses(started["ChallengeParameters"], password=WRONG_PASSWORD)
    assert refused(lambda: srp.respond(wrong)) == INCORRECT
    right = srp.responses(started["ChallengeParameters"])
    assert refused(lambda: srp.respond(right)) == USED_SESSION


# ----------------------------------------------------------------------------- flows and clients


def test_flow_not_enabled_messages(cognito: Any, pool_id: str, alice: str) -> None:
    srp_only = new_client(cognito, pool_id, ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])[
        "ClientId"
    ]
    password_only = new_client(
        cognito, pool_id, ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["ClientId"]
    credentials = {"USERNAME": "alice", "PASSWORD": PASSWORD}
    assert refused(lambda: password_auth(cognito, srp_only)) == (
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    )
    assert refused(lambda: Srp(cognito, pool_id, password_only).initiate()) == (
        "InvalidParameterException",
        "USER_SRP_AUTH is not enabled for the client.",
    )
    for flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        assert refused(
            lambda flow=flow: cognito.admin_initiate_auth(
                UserPoolId=pool_id, ClientId=srp_only, AuthFlow=flow, AuthParameters=credentials
            )
        ) == ("InvalidParameterException", "Auth flow not enabled for this client")
    assert refused(
        lambda: cognito.initiate_auth(
            ClientId=srp_only,
            AuthFlow="USER_AUTH",
            AuthParameters={**credentials, "PREFERRED_CHALLENGE": "PASSWORD"},
        )
    ) == ("InvalidParameterException", "USER_AUTH flow not enabled for this client")


def test_default_client_flows_are_srp_refresh_and_custom(
    cognito: Any, pool_id: str, alice: str
) -> None:
    default = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="default")[
        "UserPoolClient"
    ]["ClientId"]
    check_tokens(Srp(cognito, pool_id, default).run(), default)
    assert refused(lambda: password_auth(cognito, default)) == (
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    )


def test_initiate_auth_method_not_supported(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    credentials = {"USERNAME": "alice", "PASSWORD": PASSWORD}
    not_supported = ("InvalidParameterException", "Initiate Auth method not supported.")
    for flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        assert (
            refused(
                lambda flow=flow: cognito.initiate_auth(
                    ClientId=client_id, AuthFlow=flow, AuthParameters=credentials
                )
            )
            == not_supported
        )
    assert (
        refused(
            lambda: cognito.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters=credentials,
            )
        )
        == not_supported
    )


@pytest.mark.parametrize(
    ("flow", "parameters", "missing"),
    [
        ("USER_PASSWORD_AUTH", {"PASSWORD": PASSWORD}, "USERNAME"),
        ("USER_PASSWORD_AUTH", {"USERNAME": "alice"}, "PASSWORD"),
        ("USER_PASSWORD_AUTH", {}, "USERNAME"),
        ("USER_SRP_AUTH", {"USERNAME": "alice"}, "SRP_A"),
        ("USER_SRP_AUTH", {"SRP_A": "0a"}, "USERNAME"),
        ("USER_PASSWORD_AUTH", {"UserName": "alice", "Password": PASSWORD}, "USERNAME"),
    ],
)
def test_missing_auth_parameters(
    cognito: Any,
    client_id: str,
    alice: str,
    flow: str,
    parameters: dict[str, str],
    missing: str,
) -> None:
    assert refused(
        lambda: cognito.initiate_auth(ClientId=client_id, AuthFlow=flow, AuthParameters=parameters)
    ) == ("InvalidParameterException", f"Missing required parameter {missing}")


def test_missing_admin_auth_parameters(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    assert refused(
        lambda: cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice"},
        )
    ) == ("InvalidParameterException", "Missing required parameter PASSWORD")


def test_unknown_client_and_client_of_another_pool(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    missing = "a" * 26
    assert refused(lambda: password_auth(cognito, missing)) == (
        "ResourceNotFoundException",
        f"User pool client {missing} does not exist.",
    )
    other_pool = new_pool(cognito, "other")
    other_client = new_client(cognito, other_pool)["ClientId"]
    code, _message = refused(
        lambda: cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=other_client,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
    )
    assert code == "ResourceNotFoundException"
    missing_pool = f"{pool_id.split('_')[0]}_AAAAAAAAA"
    assert refused(
        lambda: cognito.admin_initiate_auth(
            UserPoolId=missing_pool,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
    ) == ("ResourceNotFoundException", f"User pool {missing_pool} does not exist.")
    # the client's own pool does not have alice either
    assert refused(
        lambda: cognito.admin_initiate_auth(
            UserPoolId=other_pool,
            ClientId=other_client,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
    ) == ("UserNotFoundException", "User does not exist.")


# ----------------------------------------------------------------------------- SECRET_HASH


def test_secret_hash_rules(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    client = new_client(cognito, pool_id, GenerateSecret=True)
    confidential, secret = client["ClientId"], client["ClientSecret"]
    assert refused(lambda: password_auth(cognito, confidential)) == (
        "NotAuthorizedException",
        f"Client {confidential} is configured with secret but SECRET_HASH was not received",
    )
    wrong = secret_hash(secret, "bob", confidential)
    assert refused(lambda: password_auth(cognito, confidential, SECRET_HASH=wrong)) == (
        "NotAuthorizedException",
        f"Unable to verify secret hash for client {confidential}",
    )
    # the hash of another client's id does not do either
    other_id = secret_hash(secret, "alice", client_id)
    assert refused(lambda: password_auth(cognito, confidential, SECRET_HASH=other_id))[0] == (
        "NotAuthorizedException"
    )
    right = secret_hash(secret, "alice", confidential)
    assert refused(lambda: password_auth(cognito, client_id, SECRET_HASH=right)) == (
        "InvalidParameterException",
        f"App client {client_id} is not configured for secret but secret hash was received",
    )
    check_tokens(password_auth(cognito, confidential, SECRET_HASH=right), confidential)
    # the secret is checked before the password
    assert refused(
        lambda: password_auth(cognito, confidential, password=WRONG_PASSWORD, SECRET_HASH=wrong)
    ) == ("NotAuthorizedException", f"Unable to verify secret hash for client {confidential}")


def test_secret_hash_with_srp(cognito: Any, pool_id: str, alice: str) -> None:
    client = new_client(cognito, pool_id, GenerateSecret=True)
    confidential, secret = client["ClientId"], client["ClientSecret"]
    srp = AWSSRP("alice", PASSWORD, pool_id, confidential, client=cognito, client_secret=secret)
    check_tokens(srp.authenticate_user(), confidential)
    # the challenge answer needs its own SECRET_HASH
    mine = Srp(cognito, pool_id, confidential, secret=secret)
    started = mine.initiate()
    answer = mine.responses(started["ChallengeParameters"])
    del answer["SECRET_HASH"]
    assert refused(lambda: mine.respond(answer)) == (
        "NotAuthorizedException",
        f"Client {confidential} is configured with secret but SECRET_HASH was not received",
    )
    assert refused(
        lambda: Srp(cognito, pool_id, confidential).initiate()  # no SECRET_HASH
    ) == (
        "NotAuthorizedException",
        f"Client {confidential} is configured with secret but SECRET_HASH was not received",
    )


def test_secret_hash_with_admin_flow(cognito: Any, pool_id: str, alice: str) -> None:
    client = new_client(cognito, pool_id, GenerateSecret=True)
    confidential, secret = client["ClientId"], client["ClientSecret"]

    def admin(**extra: str) -> Any:
        return cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=confidential,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD, **extra},
        )

    assert refused(admin)[0] == "NotAuthorizedException"
    check_tokens(admin(SECRET_HASH=secret_hash(secret, "alice", confidential)), confidential)


# ----------------------------------------------------------------------------- user states


def test_unknown_user_legacy(cognito: Any, pool_id: str, client_id: str) -> None:
    not_found = ("UserNotFoundException", "User does not exist.")
    assert refused(lambda: password_auth(cognito, client_id, "ghost")) == not_found
    assert refused(lambda: Srp(cognito, pool_id, client_id, "ghost").initiate()) == not_found
    assert (
        refused(
            lambda: cognito.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "ghost", "PASSWORD": PASSWORD},
            )
        )
        == not_found
    )


def test_unknown_user_with_prevent_user_existence_errors(
    cognito: Any, pool_id: str, alice: str
) -> None:
    masked = new_client(cognito, pool_id, PreventUserExistenceErrors="ENABLED")["ClientId"]
    assert refused(lambda: password_auth(cognito, masked, "ghost")) == INCORRECT
    assert (
        refused(
            lambda: cognito.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=masked,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "ghost", "PASSWORD": PASSWORD},
            )
        )
        == INCORRECT
    )
    # SRP: a simulated challenge, stable for the username...
    first = Srp(cognito, pool_id, masked, "ghost")
    one = first.initiate()
    two = Srp(cognito, pool_id, masked, "ghost").initiate()
    other = Srp(cognito, pool_id, masked, "phantom").initiate()
    assert one["ChallengeName"] == two["ChallengeName"] == "PASSWORD_VERIFIER"
    p1, p2, p3 = (r["ChallengeParameters"] for r in (one, two, other))
    assert set(p1) == {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME", "USER_ID_FOR_SRP"}
    assert UUID.fullmatch(p1["USER_ID_FOR_SRP"])
    assert (p1["SALT"], p1["USER_ID_FOR_SRP"]) == (p2["SALT"], p2["USER_ID_FOR_SRP"])
    assert p1["SRP_B"] != p2["SRP_B"]
    assert (p3["SALT"], p3["USER_ID_FOR_SRP"]) != (p1["SALT"], p1["USER_ID_FOR_SRP"])
    # ...that fails only at the proof, like a wrong password
    assert refused(lambda: first.respond(first.responses(p1))) == INCORRECT
    # a real user with a wrong password looks the same
    assert refused(lambda: Srp(cognito, pool_id, masked, password=WRONG_PASSWORD).run()) == (
        INCORRECT
    )


def test_disabled_user(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    cognito.admin_disable_user(UserPoolId=pool_id, Username="alice")
    disabled = ("NotAuthorizedException", "User is disabled.")
    assert refused(lambda: password_auth(cognito, client_id)) == disabled
    assert refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD)) == disabled
    assert refused(lambda: Srp(cognito, pool_id, client_id).run()) == disabled
    cognito.admin_enable_user(UserPoolId=pool_id, Username="alice")
    check_tokens(password_auth(cognito, client_id), client_id)


def test_unconfirmed_user(
    server: Any, region: str, cognito: Any, pool_id: str, client_id: str
) -> None:
    public = unsigned_client(server.endpoint, region)
    public.sign_up(ClientId=client_id, Username="uma", Password=PASSWORD)
    not_confirmed = ("UserNotConfirmedException", "User is not confirmed.")
    assert refused(lambda: password_auth(public, client_id, "uma")) == not_confirmed
    # whatever the password: AWS calls this intended
    assert refused(lambda: password_auth(public, client_id, "uma", WRONG_PASSWORD)) == not_confirmed
    assert refused(lambda: Srp(public, pool_id, client_id, "uma").run()) == not_confirmed
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username="uma")
    check_tokens(password_auth(public, client_id, "uma"), client_id, "uma")


def reset_user(cognito: Any, pool_id: str) -> None:
    """A CONFIRMED user with a verified email, reset by the administrator."""
    new_user(
        cognito,
        pool_id,
        "rita",
        attributes={"email": "rita@example.com", "email_verified": "true"},
    )
    cognito.admin_reset_user_password(UserPoolId=pool_id, Username="rita")
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="rita")["UserStatus"] == (
        "RESET_REQUIRED"
    )


def test_reset_required_user(cognito: Any, pool_id: str, client_id: str) -> None:
    reset_user(cognito, pool_id)
    reset = ("PasswordResetRequiredException", "Password reset required for the user")
    assert refused(lambda: password_auth(cognito, client_id, "rita")) == reset
    assert refused(lambda: Srp(cognito, pool_id, client_id, "rita").run()) == reset


def test_reset_required_user_cannot_sign_in(cognito: Any, pool_id: str, client_id: str) -> None:
    reset_user(cognito, pool_id)
    # the old password no longer signs in; a new one set by an administrator does
    code, _message = refused(lambda: password_auth(cognito, client_id, "rita"))
    assert code == "PasswordResetRequiredException"
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="rita", Password=NEW_PASSWORD, Permanent=True
    )
    check_tokens(password_auth(cognito, client_id, "rita", NEW_PASSWORD), client_id, "rita")


# ----------------------------------------------------------------------------- new password


@pytest.fixture
def name_pool(cognito: Any) -> str:
    """A pool that requires `name` and `email`."""
    return new_pool(
        cognito,
        "required",
        Schema=[
            {"Name": "name", "AttributeDataType": "String", "Required": True, "Mutable": True},
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        ],
    )


def new_password_challenge(cognito: Any, client_id: str, username: str = "bob") -> dict[str, Any]:
    response = password_auth(cognito, client_id, username, TEMPORARY_PASSWORD)
    assert response["ChallengeName"] == "NEW_PASSWORD_REQUIRED", response
    return response


def answer_new_password(
    cognito: Any, client_id: str, session: str, username: str = "bob", **responses: str
) -> dict[str, Any]:
    result: dict[str, Any] = cognito.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=session,
        ChallengeResponses={"USERNAME": username, **responses},
    )
    return result


def test_force_change_password_challenge(cognito: Any, name_pool: str) -> None:
    client_id = new_client(cognito, name_pool)["ClientId"]
    new_user(cognito, name_pool, "bob", None, {"email": "bob@example.com", "locale": "en"})
    response = new_password_challenge(cognito, client_id)
    assert isinstance(response["Session"], str)
    assert len(response["Session"]) >= 20
    parameters = response["ChallengeParameters"]
    assert parameters["USER_ID_FOR_SRP"] == "bob"
    # JSON documents in strings, as amazon-cognito-identity-js parses them
    assert json.loads(parameters["userAttributes"]) == {
        "email": "bob@example.com",
        "locale": "en",
    }
    assert json.loads(parameters["requiredAttributes"]) == ["userAttributes.name"]
    assert "AuthenticationResult" not in response
    # the wrong temporary password is just a wrong password
    assert refused(lambda: password_auth(cognito, client_id, "bob", WRONG_PASSWORD)) == INCORRECT
    # the SRP flow reaches the same challenge
    srp = Srp(cognito, name_pool, client_id, "bob", TEMPORARY_PASSWORD).run()
    assert srp["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert json.loads(srp["ChallengeParameters"]["requiredAttributes"]) == ["userAttributes.name"]


def test_new_password_answers_and_retries(cognito: Any, name_pool: str) -> None:
    client_id = new_client(cognito, name_pool)["ClientId"]
    new_user(cognito, name_pool, "bob", None, {"email": "bob@example.com"})
    session = new_password_challenge(cognito, client_id)["Session"]

    def answer(**responses: str) -> Any:
        return answer_new_password(cognito, client_id, session, **responses)

    # every refusal for the answer's content leaves the session usable
    assert refused(lambda: answer(NEW_PASSWORD="short", **{"userAttributes.name": "Bob"})) == (
        "InvalidPasswordException",
        "Password does not conform to policy: Password not long enough",
    )
    assert refused(lambda: answer(NEW_PASSWORD=NEW_PASSWORD)) == (
        "InvalidParameterException",
        "Invalid attributes given, name is missing",
    )
    assert refused(
        lambda: answer(
            NEW_PASSWORD=NEW_PASSWORD,
            **{"userAttributes.name": "Bob", "userAttributes.email": "new@example.com"},
        )
    ) == ("NotAuthorizedException", "Cannot modify an already provided email")
    assert refused(lambda: answer(**{"userAttributes.name": "Bob"})) == (
        "InvalidParameterException",
        "Missing required parameter NEW_PASSWORD",
    )
    result = answer(NEW_PASSWORD=NEW_PASSWORD, **{"userAttributes.name": "Bob"})
    check_tokens(result, client_id, "bob")
    assert claims(result["AuthenticationResult"]["IdToken"])["name"] == "Bob"
    user = cognito.admin_get_user(UserPoolId=name_pool, Username="bob")
    assert user["UserStatus"] == "CONFIRMED"
    assert attributes_of(user)["name"] == "Bob"
    assert attributes_of(user)["email"] == "bob@example.com"
    # the session is spent; the new password is the password now
    assert refused(lambda: answer(NEW_PASSWORD=NEW_PASSWORD)) == USED_SESSION
    assert (
        refused(lambda: password_auth(cognito, client_id, "bob", TEMPORARY_PASSWORD)) == INCORRECT
    )
    check_tokens(password_auth(cognito, client_id, "bob", NEW_PASSWORD), client_id, "bob")


def test_new_password_with_several_missing_attributes(cognito: Any, name_pool: str) -> None:
    client_id = new_client(cognito, name_pool)["ClientId"]
    new_user(cognito, name_pool, "bob", None)
    response = new_password_challenge(cognito, client_id)
    required = json.loads(response["ChallengeParameters"]["requiredAttributes"])
    assert sorted(required) == ["userAttributes.email", "userAttributes.name"]
    code, message = refused(
        lambda: answer_new_password(
            cognito, client_id, response["Session"], NEW_PASSWORD=NEW_PASSWORD
        )
    )
    assert code == "InvalidParameterException"
    assert message.startswith("Invalid attributes given, ")
    assert message.endswith(" is missing")
    assert "name" in message
    assert "email" in message
    result = answer_new_password(
        cognito,
        client_id,
        response["Session"],
        NEW_PASSWORD=NEW_PASSWORD,
        **{"userAttributes.name": "Bob", "userAttributes.email": "bob@example.com"},
    )
    check_tokens(result, client_id, "bob")


def test_new_password_may_set_other_writable_attributes(cognito: Any, name_pool: str) -> None:
    limited = new_client(cognito, name_pool, WriteAttributes=["name", "email", "nickname"])[
        "ClientId"
    ]
    new_user(cognito, name_pool, "bob", None, {"email": "bob@example.com"})
    session = new_password_challenge(cognito, limited)["Session"]
    assert refused(
        lambda: answer_new_password(
            cognito,
            limited,
            session,
            NEW_PASSWORD=NEW_PASSWORD,
            **{"userAttributes.name": "Bob", "userAttributes.family_name": "Builder"},
        )
    ) == ("NotAuthorizedException", "A client attempted to write unauthorized attribute")
    result = answer_new_password(
        cognito,
        limited,
        session,
        NEW_PASSWORD=NEW_PASSWORD,
        **{"userAttributes.name": "Bob", "userAttributes.nickname": "bobby"},
    )
    check_tokens(result, limited, "bob")
    values = attributes_of(cognito.admin_get_user(UserPoolId=name_pool, Username="bob"))
    assert (values["name"], values["nickname"]) == ("Bob", "bobby")
    assert "family_name" not in values


def test_new_password_refuses_verification_flags(cognito: Any, name_pool: str) -> None:
    client_id = new_client(cognito, name_pool)["ClientId"]
    new_user(cognito, name_pool, "bob", None, {"email": "bob@example.com"})
    session = new_password_challenge(cognito, client_id)["Session"]
    with pytest.raises(ClientError):
        answer_new_password(
            cognito,
            client_id,
            session,
            NEW_PASSWORD=NEW_PASSWORD,
            **{"userAttributes.name": "Bob", "userAttributes.email_verified": "true"},
        )
    user = cognito.admin_get_user(UserPoolId=name_pool, Username="bob")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert "email_verified" not in attributes_of(user)


def test_new_password_through_pycognito_and_admin(cognito: Any, pool_id: str) -> None:
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "bob", None)
    srp = AWSSRP("bob", TEMPORARY_PASSWORD, pool_id, client_id, client=cognito)
    check_tokens(srp.set_new_password_challenge(NEW_PASSWORD), client_id, "bob")
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="bob")["UserStatus"] == ("CONFIRMED")
    new_user(cognito, pool_id, "carl", None)
    started = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "carl", "PASSWORD": TEMPORARY_PASSWORD},
    )
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool_id,
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": "carl", "NEW_PASSWORD": NEW_PASSWORD},
    )
    check_tokens(done, client_id, "carl")


def test_new_password_follows_the_pool_policy(cognito: Any) -> None:
    pool_id = new_pool(
        cognito,
        "strict",
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": False}},
    )
    client_id = new_client(cognito, pool_id)["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="bob",
        TemporaryPassword="Temporary1234",
        MessageAction="SUPPRESS",
    )
    session = password_auth(cognito, client_id, "bob", "Temporary1234")["Session"]
    assert refused(
        lambda: answer_new_password(cognito, client_id, session, NEW_PASSWORD="Short1Aa")
    ) == (
        "InvalidPasswordException",
        "Password does not conform to policy: Password not long enough",
    )
    check_tokens(
        answer_new_password(cognito, client_id, session, NEW_PASSWORD="NoSymbolsNeeded1"),
        client_id,
        "bob",
    )


# ----------------------------------------------------------------------------- sessions


def test_challenge_session_errors(cognito: Any, pool_id: str, client_id: str) -> None:
    new_user(cognito, pool_id, "bob", None)
    session = new_password_challenge(cognito, client_id)["Session"]
    for garbage in ("x" * 40, "bm90IGEgc2Vzc2lvbg==", "!" * 30):
        assert (
            refused(
                lambda garbage=garbage: answer_new_password(
                    cognito, client_id, garbage, NEW_PASSWORD=NEW_PASSWORD
                )
            )
            == INVALID_SESSION
        )
    # a challenge name the session was not opened for
    assert refused(
        lambda: cognito.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SMS_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": "bob", "SMS_MFA_CODE": "123456"},
        )
    )[0] == ("NotAuthorizedException")
    check_tokens(
        answer_new_password(cognito, client_id, session, NEW_PASSWORD=NEW_PASSWORD),
        client_id,
        "bob",
    )
    assert (
        refused(lambda: answer_new_password(cognito, client_id, session, NEW_PASSWORD=NEW_PASSWORD))
        == USED_SESSION
    )


def test_session_of_another_client(cognito: Any, pool_id: str, client_id: str) -> None:
    other = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "bob", None)
    session = new_password_challenge(cognito, client_id)["Session"]
    assert (
        refused(lambda: answer_new_password(cognito, other, session, NEW_PASSWORD=NEW_PASSWORD))
        == INVALID_SESSION
    )
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="bob")["UserStatus"] == (
        "FORCE_CHANGE_PASSWORD"
    )
    # The session stays usable by its own client: the other client's attempt did not use it.
    done = answer_new_password(cognito, client_id, session, NEW_PASSWORD=NEW_PASSWORD)
    assert "AuthenticationResult" in done
    # An SRP SECRET_BLOCK is bound to its client too; to another client it is an unknown
    # block, which is a wrong proof (Cognito: "Incorrect username or password.").
    new_user(cognito, pool_id, "carl")
    srp = Srp(cognito, pool_id, client_id, "carl")
    answer = srp.responses(srp.initiate()["ChallengeParameters"])
    assert refused(
        lambda: cognito.respond_to_auth_challenge(
            ClientId=other, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer
        )
    ) == ("NotAuthorizedException", "Incorrect username or password.")


def test_session_answered_for_another_username(cognito: Any, pool_id: str, client_id: str) -> None:
    new_user(cognito, pool_id, "bob", None)
    new_user(cognito, pool_id, "carl", None)
    session = new_password_challenge(cognito, client_id)["Session"]
    code, _message = refused(
        lambda: answer_new_password(
            cognito, client_id, session, username="carl", NEW_PASSWORD=NEW_PASSWORD
        )
    )
    assert code == "NotAuthorizedException"
    for username in ("bob", "carl"):
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
        assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"


# ----------------------------------------------------------------------------- lockout


def srp_outcome(cognito: Any, pool_id: str, client_id: str, password: str) -> tuple[str, str]:
    """The error of an SRP attempt, at whichever step it comes."""
    try:
        Srp(cognito, pool_id, client_id, password=password).run()
    except ClientError as exc:
        return exc.response["Error"]["Code"], exc.response["Error"]["Message"]
    return ("OK", "")


def test_lockout_after_five_wrong_passwords(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    for _ in range(4):
        assert (
            refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD)) == INCORRECT
        )
    # a wrong SRP proof counts too: this is the fifth failure
    assert srp_outcome(cognito, pool_id, client_id, WRONG_PASSWORD) == INCORRECT
    locked_at = time.monotonic()
    # locked out for a second: even the right password, by every flow
    assert refused(lambda: password_auth(cognito, client_id)) == ATTEMPTS_EXCEEDED
    assert srp_outcome(cognito, pool_id, client_id, PASSWORD) == ATTEMPTS_EXCEEDED
    assert (
        refused(
            lambda: cognito.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
            )
        )
        == ATTEMPTS_EXCEEDED
    )
    # attempts during the lockout neither count nor extend it
    assert refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD)) == (
        ATTEMPTS_EXCEEDED
    )
    assert time.monotonic() - locked_at < 1.0, "the machine is too slow for this test"
    time.sleep(max(0.0, 1.15 - (time.monotonic() - locked_at)))
    # the lockout is over: the next attempt is evaluated again, and its success resets the
    # count (four more failures do not lock out again)
    check_tokens(password_auth(cognito, client_id), client_id)
    for _ in range(4):
        assert (
            refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD)) == INCORRECT
        )
    check_tokens(password_auth(cognito, client_id), client_id)


def test_lockout_is_per_user(cognito: Any, pool_id: str, client_id: str, alice: str) -> None:
    new_user(cognito, pool_id, "bob")
    for _ in range(5):
        refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD))
    assert refused(lambda: password_auth(cognito, client_id)) == ATTEMPTS_EXCEEDED
    check_tokens(password_auth(cognito, client_id, "bob"), client_id, "bob")


def test_wrong_password_after_lockout_is_evaluated(
    cognito: Any, pool_id: str, client_id: str, alice: str
) -> None:
    for _ in range(5):
        refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD))
    time.sleep(1.1)
    # evaluated again (not "exceeded"), and a sixth failure locks out again at once
    assert refused(lambda: password_auth(cognito, client_id, password=WRONG_PASSWORD)) == INCORRECT
    assert refused(lambda: password_auth(cognito, client_id)) == ATTEMPTS_EXCEEDED


# ----------------------------------------------------------------------------- USER_AUTH


@pytest.fixture
def choice_client(cognito: Any, pool_id: str) -> str:
    client_id: str = new_client(cognito, pool_id, ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])[
        "ClientId"
    ]
    return client_id


def user_auth(cognito: Any, client_id: str, **parameters: str) -> dict[str, Any]:
    response: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "alice", **parameters},
    )
    return response


def test_user_auth_preferred_password(cognito: Any, choice_client: str, alice: str) -> None:
    done = user_auth(cognito, choice_client, PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    check_tokens(done, choice_client)
    assert (
        refused(
            lambda: user_auth(
                cognito, choice_client, PREFERRED_CHALLENGE="PASSWORD", PASSWORD=WRONG_PASSWORD
            )
        )
        == INCORRECT
    )
    # the client allows USER_AUTH only: not the password flow of its own
    assert refused(lambda: password_auth(cognito, choice_client))[0] == (
        "InvalidParameterException"
    )


def test_user_auth_select_challenge(cognito: Any, choice_client: str, alice: str) -> None:
    menu = user_auth(cognito, choice_client)
    assert menu["ChallengeName"] == "SELECT_CHALLENGE"
    assert set(menu["AvailableChallenges"]) == {"PASSWORD", "PASSWORD_SRP"}
    session = menu["Session"]
    done = cognito.respond_to_auth_challenge(
        ClientId=choice_client,
        ChallengeName="SELECT_CHALLENGE",
        Session=session,
        ChallengeResponses={"USERNAME": "alice", "ANSWER": "PASSWORD", "PASSWORD": PASSWORD},
    )
    check_tokens(done, choice_client)
    assert (
        refused(
            lambda: cognito.respond_to_auth_challenge(
                ClientId=choice_client,
                ChallengeName="SELECT_CHALLENGE",
                Session=session,
                ChallengeResponses={
                    "USERNAME": "alice",
                    "ANSWER": "PASSWORD",
                    "PASSWORD": PASSWORD,
                },
            )
        )
        == USED_SESSION
    )


def test_user_auth_password_srp(cognito: Any, pool_id: str, choice_client: str, alice: str) -> None:
    srp = Srp(cognito, pool_id, choice_client)
    started = user_auth(cognito, choice_client, PREFERRED_CHALLENGE="PASSWORD_SRP", SRP_A=srp.srp_a)
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    check_tokens(srp.respond(srp.responses(started["ChallengeParameters"])), choice_client)
    # and by the menu
    menu = user_auth(cognito, choice_client)
    srp = Srp(cognito, pool_id, choice_client)
    chosen = cognito.respond_to_auth_challenge(
        ClientId=choice_client,
        ChallengeName="SELECT_CHALLENGE",
        Session=menu["Session"],
        ChallengeResponses={"USERNAME": "alice", "ANSWER": "PASSWORD_SRP", "SRP_A": srp.srp_a},
    )
    assert chosen["ChallengeName"] == "PASSWORD_VERIFIER"
    check_tokens(srp.respond(srp.responses(chosen["ChallengeParameters"])), choice_client)


def test_user_auth_select_challenge_wrong_password(
    cognito: Any, choice_client: str, alice: str
) -> None:
    menu = user_auth(cognito, choice_client)
    assert (
        refused(
            lambda: cognito.respond_to_auth_challenge(
                ClientId=choice_client,
                ChallengeName="SELECT_CHALLENGE",
                Session=menu["Session"],
                ChallengeResponses={
                    "USERNAME": "alice",
                    "ANSWER": "PASSWORD",
                    "PASSWORD": WRONG_PASSWORD,
                },
            )
        )
        == INCORRECT
    )


def test_user_auth_unknown_user(cognito: Any, pool_id: str, choice_client: str) -> None:
    assert refused(
        lambda: cognito.initiate_auth(
            ClientId=choice_client,
            AuthFlow="USER_AUTH",
            AuthParameters={
                "USERNAME": "ghost",
                "PREFERRED_CHALLENGE": "PASSWORD",
                "PASSWORD": PASSWORD,
            },
        )
    ) == ("UserNotFoundException", "User does not exist.")
    masked = new_client(
        cognito,
        pool_id,
        ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
    )["ClientId"]
    assert (
        refused(
            lambda: cognito.initiate_auth(
                ClientId=masked,
                AuthFlow="USER_AUTH",
                AuthParameters={
                    "USERNAME": "ghost",
                    "PREFERRED_CHALLENGE": "PASSWORD",
                    "PASSWORD": PASSWORD,
                },
            )
        )
        == INCORRECT
    )


# ----------------------------------------------------------------------------- aliases


def test_sign_in_with_a_verified_email_alias(cognito: Any) -> None:
    pool_id = new_pool(cognito, "aliases", AliasAttributes=["email"])
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(
        cognito,
        pool_id,
        "alice",
        attributes={"email": "alice@example.com", "email_verified": "true"},
    )
    new_user(cognito, pool_id, "bob", attributes={"email": "bob@example.com"})
    result = sign_in(cognito, client_id, "alice@example.com")
    assert claims(result["AccessToken"])["username"] == "alice"
    assert claims(result["IdToken"])["cognito:username"] == "alice"
    # SRP with the alias: USER_ID_FOR_SRP is the username, and the proof is over it
    srp = Srp(cognito, pool_id, client_id, "alice@example.com")
    started = srp.initiate()
    assert started["ChallengeParameters"]["USER_ID_FOR_SRP"] == "alice"
    check_tokens(srp.respond(srp.responses(started["ChallengeParameters"])), client_id)
    # an unverified email is not an alias
    assert refused(lambda: password_auth(cognito, client_id, "bob@example.com")) == (
        "UserNotFoundException",
        "User does not exist.",
    )
    check_tokens(password_auth(cognito, client_id, "bob"), client_id, "bob")


def test_sign_in_with_email_as_username(cognito: Any) -> None:
    pool_id = new_pool(cognito, "by-email", UsernameAttributes=["email"])
    client_id = new_client(cognito, pool_id)["ClientId"]
    username = new_user(cognito, pool_id, "jane@example.com")
    assert UUID.fullmatch(username)
    result = sign_in(cognito, client_id, "jane@example.com")
    access, identity = claims(result["AccessToken"]), claims(result["IdToken"])
    assert access["username"] == username == access["sub"]
    assert identity["cognito:username"] == username
    assert identity["email"] == "jane@example.com"
    srp = Srp(cognito, pool_id, client_id, "jane@example.com")
    started = srp.initiate()
    assert started["ChallengeParameters"]["USER_ID_FOR_SRP"] == username
    check_tokens(srp.respond(srp.responses(started["ChallengeParameters"])), client_id, username)
    # pycognito with the email works the same way
    pyc = AWSSRP("jane@example.com", PASSWORD, pool_id, client_id, client=cognito)
    check_tokens(pyc.authenticate_user(), client_id, username)


def test_sign_in_to_a_case_insensitive_pool(cognito: Any) -> None:
    pool_id = new_pool(cognito, "folded", UsernameConfiguration={"CaseSensitive": False})
    client_id = new_client(cognito, pool_id)["ClientId"]
    new_user(cognito, pool_id, "Alice")
    result = sign_in(cognito, client_id, "aLiCe")
    assert claims(result["AccessToken"])["username"] == "Alice"
    # SRP: the proof is over the username as it was created, whatever case signs in
    srp = Srp(cognito, pool_id, client_id, "ALICE")
    started = srp.initiate()
    assert started["ChallengeParameters"]["USER_ID_FOR_SRP"] == "Alice"
    check_tokens(srp.respond(srp.responses(started["ChallengeParameters"])), client_id, "Alice")
    # a case-sensitive pool (the API's default) does not fold
    strict = new_pool(cognito, "strict")
    strict_client = new_client(cognito, strict)["ClientId"]
    new_user(cognito, strict, "Alice")
    assert refused(lambda: password_auth(cognito, strict_client, "alice")) == (
        "UserNotFoundException",
        "User does not exist.",
    )
