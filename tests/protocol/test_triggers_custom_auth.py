"""CUSTOM_AUTH with boto3 against a live Cognate whose triggers run in the test process.

A passwordless "secret code" challenge (tests/support/secret_code.py): DefineAuthChallenge,
CreateAuthChallenge and VerifyAuthChallengeResponse through the HTTP invoker (the exact
events: envelope, userAttributes, challenge history with challengeResult and
challengeMetadata, private parameters, answers, clientMetadata, response defaults), the
Lambda Invoke API invoker and the in-process Python invoker (py_*_secret_code in
tests/support/python_functions.py); CUSTOM_WITH_SRP (CHALLENGE_NAME SRP_A → PASSWORD_VERIFIER
→ CUSTOM_CHALLENGE), three wrong answers, AdminInitiateAuth. Errors, unknown users,
PreAuthentication and PostAuthentication: test_triggers_custom_auth_errors.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import INCORRECT, Srp, error, secret_hash
from tests.support.clock import ShiftedClock
from tests.support.functions import FunctionHost, arn, function_host
from tests.support.secret_code import (
    CODE,
    CREATE_DEFAULTS,
    DEFINE_DEFAULTS,
    EXPIRED,
    SDK,
    SPENT,
    VERIFY_DEFAULTS,
    WRONG,
    Setup,
    check_tokens,
    entry,
)
from tests.support.server import CognateServer
from tests.support.trigger_server import python_events, trigger_server


@pytest.fixture(scope="module")
def functions() -> Iterator[FunctionHost]:
    with function_host() as host:
        yield host


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest,
    functions: FunctionHost,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp("custom-auth")
    with trigger_server(request.param, workdir, functions) as pair:
        yield pair


@pytest.fixture(scope="module")
def server(served: tuple[CognateServer, ShiftedClock]) -> CognateServer:
    return served[0]


@pytest.fixture
def clock(served: tuple[CognateServer, ShiftedClock]) -> Iterator[ShiftedClock]:
    served[1].reset()
    yield served[1]
    served[1].reset()


# ----------------------------------------------------------------------------- HTTP invoker


def test_wrong_then_right_answer_gives_tokens_and_the_exact_events(
    cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions)

    first = s.start()
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"] == {"hint": "code 1", "USERNAME": "alice"}
    second = s.answer(first["Session"], WRONG, ClientMetadata={"app": "web"})
    assert second["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert second["ChallengeParameters"] == {"hint": "code 2", "USERNAME": "alice"}
    assert second["Session"] != first["Session"]
    done = s.answer(second["Session"], CODE, ClientMetadata={"app": "web", "try": "2"})
    assert "ChallengeName" not in done
    check_tokens(s, done["AuthenticationResult"])

    attributes = s.event_attributes()
    one = [entry("CUSTOM_CHALLENGE", False, "CODE-1")]
    two = [*one, entry("CUSTOM_CHALLENGE", True, "CODE-2")]
    base = {"userAttributes": attributes, "userNotFound": False}
    define = s.envelope("DefineAuthChallenge_Authentication")
    assert functions.events(s.code.define) == [
        {**define, "request": {**base, "clientMetadata": {}, "session": []},
         "response": DEFINE_DEFAULTS},
        {**define, "request": {**base, "clientMetadata": {"app": "web"}, "session": one},
         "response": DEFINE_DEFAULTS},
        {**define,
         "request": {**base, "clientMetadata": {"app": "web", "try": "2"}, "session": two},
         "response": DEFINE_DEFAULTS},
    ]  # fmt: skip
    create = s.envelope("CreateAuthChallenge_Authentication")
    challenge = {"challengeName": "CUSTOM_CHALLENGE"}
    assert functions.events(s.code.create) == [
        {**create, "request": {**base, "clientMetadata": {}, **challenge, "session": []},
         "response": CREATE_DEFAULTS},
        {**create,
         "request": {**base, "clientMetadata": {"app": "web"}, **challenge, "session": one},
         "response": CREATE_DEFAULTS},
    ]  # fmt: skip
    verify = s.envelope("VerifyAuthChallengeResponse_Authentication")
    private = {"privateChallengeParameters": {"answer": CODE}}
    assert functions.events(s.code.verify) == [
        {**verify,
         "request": {**base, "clientMetadata": {"app": "web"}, **private,
                     "challengeAnswer": WRONG},
         "response": VERIFY_DEFAULTS},
        {**verify,
         "request": {**base, "clientMetadata": {"app": "web", "try": "2"}, **private,
                     "challengeAnswer": CODE},
         "response": VERIFY_DEFAULTS},
    ]  # fmt: skip

    # An answered challenge's session is spent.
    with pytest.raises(ClientError) as exc:
        s.answer(second["Session"], CODE)
    assert error(exc) == SPENT


def test_client_metadata_of_initiate_auth_does_not_reach_define_and_create(
    cognito: Any, functions: FunctionHost
) -> None:
    """Cognito passes InitiateAuth's ClientMetadata to PreSignUp, PreAuthentication and
    UserMigration only (the InitiateAuth API reference; observed: localstack#11687)."""
    s = Setup(cognito, functions, also=("PreAuthentication",))
    step = s.start(ClientMetadata={"source": "initiate"})
    (pre,) = functions.events(s.function("PreAuthentication"))
    assert pre["request"]["validationData"] == {"source": "initiate"}
    assert functions.events(s.code.define)[0]["request"]["clientMetadata"] == {}
    assert functions.events(s.code.create)[0]["request"]["clientMetadata"] == {}
    # RespondToAuthChallenge's ClientMetadata reaches every trigger of that call.
    s.answer(step["Session"], CODE, ClientMetadata={"source": "respond"})
    define, verify = functions.events(s.code.define)[1], functions.events(s.code.verify)[0]
    assert define["request"]["clientMetadata"] == {"source": "respond"}
    assert verify["request"]["clientMetadata"] == {"source": "respond"}


def test_three_wrong_answers_fail_the_sign_in(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    step = s.start()
    for n in (2, 3):
        step = s.answer(step["Session"], WRONG)
        assert step["ChallengeParameters"]["hint"] == f"code {n}"
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], WRONG)
    assert error(exc) == INCORRECT
    sessions = [e["request"]["session"] for e in functions.events(s.code.define)]
    assert sessions[-1] == [entry("CUSTOM_CHALLENGE", False, f"CODE-{n}") for n in (1, 2, 3)]
    assert len(sessions) == 4
    assert len(functions.events(s.code.create)) == 3
    # Failed: the last challenge's session cannot be answered again.
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], CODE)
    assert error(exc) == SPENT


def test_define_can_issue_tokens_without_a_challenge(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    functions.respond(s.code.define, issueTokens=True, failAuthentication=False)
    done = s.start()
    check_tokens(s, done["AuthenticationResult"])
    assert functions.events(s.code.create) == []


def test_admin_initiate_auth_custom_auth(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    first = cognito.admin_initiate_auth(
        UserPoolId=s.pool_id,
        ClientId=s.client_id,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": "alice"},
    )
    assert first["ChallengeParameters"] == {"hint": "code 1", "USERNAME": "alice"}
    done = cognito.admin_respond_to_auth_challenge(
        UserPoolId=s.pool_id,
        ClientId=s.client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": "alice", "ANSWER": CODE},
        ClientMetadata={"via": "admin"},
    )
    check_tokens(s, done["AuthenticationResult"])
    verify = functions.events(s.code.verify)
    assert [e["request"]["clientMetadata"] for e in verify] == [{"via": "admin"}]
    assert verify[0]["callerContext"] == {"awsSdkVersion": SDK, "clientId": s.client_id}


def test_an_expired_challenge_session_is_refused(
    cognito: Any, functions: FunctionHost, clock: ShiftedClock
) -> None:
    s = Setup(cognito, functions)
    step = s.start()
    clock.shift(minutes=3, seconds=10)  # the default AuthSessionValidity is 3 minutes
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], CODE)
    assert error(exc) == EXPIRED
    assert functions.events(s.code.verify) == []


def test_a_pool_whose_usernames_are_emails(cognito: Any, functions: FunctionHost) -> None:
    """The triggers and the challenge name the user by Username (a UUID); the answer may
    name them by email, as amazon-cognito-identity-js's initiateAuth path does."""
    s = Setup(cognito, functions, pool={"UsernameAttributes": ["email"]}, login="alice@example.com")
    assert s.username != s.login
    step = s.start()
    assert step["ChallengeParameters"] == {"hint": "code 1", "USERNAME": s.username}
    done = s.answer(step["Session"], CODE)
    check_tokens(s, done["AuthenticationResult"])
    events = [*functions.events(s.code.define), *functions.events(s.code.verify)]
    assert {e["userName"] for e in events} == {s.username}


def test_a_client_with_a_secret(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions, GenerateSecret=True)
    secret = cognito.describe_user_pool_client(UserPoolId=s.pool_id, ClientId=s.client_id)[
        "UserPoolClient"
    ]["ClientSecret"]
    hashed = secret_hash(secret, "alice", s.client_id)
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc) == (
        "NotAuthorizedException",
        f"Client {s.client_id} is configured with secret but SECRET_HASH was not received",
    )
    assert functions.events(s.code.define) == []
    step = cognito.initiate_auth(
        ClientId=s.client_id,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": "alice", "SECRET_HASH": hashed},
    )
    done = cognito.respond_to_auth_challenge(
        ClientId=s.client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=step["Session"],
        ChallengeResponses={"USERNAME": "alice", "ANSWER": CODE, "SECRET_HASH": hashed},
    )
    check_tokens(s, done["AuthenticationResult"])


# ----------------------------------------------------------------------------- CUSTOM_WITH_SRP


def srp_start(s: Setup, srp: Srp) -> dict[str, Any]:
    response: dict[str, Any] = s.cognito.initiate_auth(
        ClientId=s.client_id,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={"USERNAME": "alice", "CHALLENGE_NAME": "SRP_A", "SRP_A": srp.srp_a},
    )
    return response


def srp_answer(s: Setup, srp: Srp, step: dict[str, Any], **options: Any) -> dict[str, Any]:
    answer = srp.responses(step["ChallengeParameters"], **options)
    response: dict[str, Any] = s.cognito.respond_to_auth_challenge(
        ClientId=s.client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=answer,
        # As amazon-cognito-identity-js does: the Session of the step, if it had one.
        **({"Session": step["Session"]} if "Session" in step else {}),
    )
    return response


def test_custom_with_srp_password_then_secret_code(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    srp = Srp(cognito, s.pool_id, s.client_id)

    verifier = srp_start(s, srp)
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    assert set(verifier["ChallengeParameters"]) == {
        "SALT",
        "SRP_B",
        "SECRET_BLOCK",
        "USER_ID_FOR_SRP",
        "USERNAME",
    }
    assert functions.events(s.code.create) == []
    custom = srp_answer(s, srp, verifier)
    assert custom["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert custom["ChallengeParameters"] == {"hint": "code 1", "USERNAME": "alice"}
    done = s.answer(custom["Session"], CODE)
    check_tokens(s, done["AuthenticationResult"])

    srp_ok = [entry("SRP_A", True), entry("PASSWORD_VERIFIER", True)]
    assert [e["request"]["session"] for e in functions.events(s.code.define)] == [
        [entry("SRP_A", True)],
        srp_ok,
        [*srp_ok, entry("CUSTOM_CHALLENGE", True, "CODE-1")],
    ]
    assert [e["request"]["session"] for e in functions.events(s.code.create)] == [srp_ok]


def test_custom_with_srp_wrong_password_fails_in_define(
    cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions)
    srp = Srp(cognito, s.pool_id, s.client_id)
    verifier = srp_start(s, srp)
    with pytest.raises(ClientError) as exc:
        srp_answer(s, srp, verifier, password="Wr0ng-Passw0rd!")
    assert error(exc) == INCORRECT
    last = functions.events(s.code.define)[-1]["request"]["session"]
    assert last == [entry("SRP_A", True), entry("PASSWORD_VERIFIER", False)]
    assert functions.events(s.code.create) == []


def test_define_asking_password_verifier_after_a_passwordless_start(
    cognito: Any, functions: FunctionHost
) -> None:
    """PASSWORD_VERIFIER needs the SRP_A the sign-in started with."""
    s = Setup(cognito, functions)
    functions.respond(s.code.define, challengeName="PASSWORD_VERIFIER")
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc)[0] == "InvalidParameterException"


# ----------------------------------------------------------------------------- other invokers


def test_lambda_invoker_runs_the_challenge(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions, "lambda")
    first = s.start()
    assert first["ChallengeParameters"] == {"hint": "code 1", "USERNAME": "alice"}
    second = s.answer(first["Session"], WRONG)
    done = s.answer(second["Session"], CODE, ClientMetadata={"via": "lambda"})
    check_tokens(s, done["AuthenticationResult"])
    define = functions.events(s.code.define)
    assert [e["request"]["session"] for e in define] == [
        [],
        [entry("CUSTOM_CHALLENGE", False, "CODE-1")],
        [entry("CUSTOM_CHALLENGE", False, "CODE-1"), entry("CUSTOM_CHALLENGE", True, "CODE-2")],
    ]
    assert {k: v for k, v in define[2].items() if k not in ("request", "response")} == (
        s.envelope("DefineAuthChallenge_Authentication")
    )
    verify = functions.events(s.code.verify)
    assert [e["request"]["challengeAnswer"] for e in verify] == [WRONG, CODE]
    assert verify[1]["request"]["clientMetadata"] == {"via": "lambda"}


def test_python_invoker_runs_the_challenge(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    config = {
        "DefineAuthChallenge": arn("py_define_secret_code"),
        "CreateAuthChallenge": arn("py_create_secret_code"),
        "VerifyAuthChallengeResponse": arn("py_verify_secret_code"),
    }
    s = Setup(cognito, functions, lambda_config=config)
    first = s.start()
    assert first["ChallengeParameters"] == {"hint": "py code 1", "USERNAME": "alice"}
    second = s.answer(first["Session"], "not-it", ClientMetadata={"via": "python"})
    assert second["ChallengeParameters"] == {"hint": "py code 2", "USERNAME": "alice"}
    done = s.answer(second["Session"], "py-2718")
    check_tokens(s, done["AuthenticationResult"])

    def mine(function: str) -> list[dict[str, Any]]:
        return [e for e in python_events(server, function) if e["userPoolId"] == s.pool_id]

    define = mine("py_define_secret_code")
    assert [e["request"]["session"] for e in define] == [
        [],
        [entry("CUSTOM_CHALLENGE", False, "PY-1")],
        [entry("CUSTOM_CHALLENGE", False, "PY-1"), entry("CUSTOM_CHALLENGE", True, "PY-2")],
    ]
    assert define[0] == {
        **s.envelope("DefineAuthChallenge_Authentication"),
        "request": {
            "userAttributes": s.event_attributes(),
            "userNotFound": False,
            "clientMetadata": {},
            "session": [],
        },
        "response": DEFINE_DEFAULTS,
    }
    create = mine("py_create_secret_code")
    assert [e["triggerSource"] for e in create] == ["CreateAuthChallenge_Authentication"] * 2
    verify = mine("py_verify_secret_code")
    assert [(e["request"]["challengeAnswer"], e["request"]["clientMetadata"]) for e in verify] == [
        ("not-it", {"via": "python"}),
        ("py-2718", {}),
    ]
    assert verify[0]["request"]["privateChallengeParameters"] == {"answer": "py-2718"}
