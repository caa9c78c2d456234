"""CUSTOM_AUTH against a live Cognate with amazon-cognito-identity-js.

The server runs the pool's triggers in this process (tests/support/trigger_server.py): a
passwordless "secret code" challenge (tests/support/secret_code.py). Each test sets up a
pool, a client allowing CUSTOM_AUTH and a user with boto3, runs tests/js/identity_custom.mjs
(one JSON argument, one JSON line out, every request recorded) and asserts on what the
library saw and did and on the exact events the trigger functions got:

* `initiateAuth` with flow type CUSTOM_AUTH → the `customChallenge` callback with the
  public challenge parameters → `sendCustomChallengeAnswer` wrong → `customChallenge`
  again → right → `onSuccess` with a valid session;
* CUSTOM_WITH_SRP: `authenticateUser` with flow type CUSTOM_AUTH and a password starts
  with CHALLENGE_NAME SRP_A, DefineAuthChallenge asks PASSWORD_VERIFIER, the library
  answers it, then the custom challenge; with a wrong password DefineAuthChallenge fails
  the sign-in;
* three wrong answers → NotAuthorizedException;
* a PreAuthentication function that throws → UserLambdaValidationException.

Needs Node.js and tests/js/node_modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_js_auth import (
    INCORRECT,
    PASSWORD,
    WRONG_PASSWORD,
    check_access_token,
    check_error,
    check_id_token,
    results_by_action,
    run_js,
    targets,
)
from tests.support.functions import Fail, FunctionHost, function_host
from tests.support.secret_code import (
    CODE,
    CREATE_DEFAULTS,
    DEFINE_DEFAULTS,
    VERIFY_DEFAULTS,
    WRONG,
    Setup,
    entry,
)
from tests.support.server import CognateServer
from tests.support.trigger_server import trigger_server

pytestmark = pytest.mark.node

LIBRARY = "amazon-cognito-identity-js"


@pytest.fixture(scope="module")
def functions() -> Iterator[FunctionHost]:
    with function_host() as host:
        yield host


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest,
    functions: FunctionHost,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CognateServer]:
    workdir = tmp_path_factory.mktemp("js-custom-auth")
    with trigger_server(request.param, workdir, functions) as (srv, _clock):
        yield srv


def identity_custom(
    server: CognateServer, s: Setup, actions: list[Any], password: str = PASSWORD
) -> list[dict[str, Any]]:
    observed = run_js(
        "identity_custom.mjs",
        {
            "endpoint": server.endpoint,
            "poolId": s.pool_id,
            "clientId": s.client_id,
            "username": "alice",
            "password": password,
            "actions": actions,
        },
    )
    results = results_by_action(observed, LIBRARY)
    assert [r["action"] for r in results] == [
        a if isinstance(a, str) else a["action"] for a in actions
    ]
    return results


def check_session(server: CognateServer, s: Setup, record: dict[str, Any]) -> None:
    assert record["ok"] is True, record
    assert record["outcome"] == "success"
    assert record["isValid"] is True
    claims = dict(
        issuer=f"{server.endpoint}/{s.pool_id}", client_id=s.client_id, username="alice", sub=s.sub
    )
    assert check_id_token(record["idToken"], **claims)["email"] == "alice@example.com"
    check_access_token(record["accessToken"], **claims)
    assert isinstance(record["refreshToken"], str)


def custom_answer_call(call: dict[str, Any], next_challenge: str | None) -> None:
    assert call["target"] == "RespondToAuthChallenge"
    assert call["request"]["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert call["request"]["ChallengeResponses"] == {"ANSWER": "<string>", "USERNAME": "<string>"}
    assert call["status"] == 200
    assert call.get("challengeName") == next_challenge


def test_custom_challenge_wrong_then_right_answer(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions, also=("PreAuthentication",))
    started, wrong, right, session, attributes = identity_custom(
        server,
        s,
        [
            {"action": "initiate_auth", "clientMetadata": {"screen": "sign-in"}},
            {"action": "send_answer", "answer": WRONG, "clientMetadata": {"attempt": "1"}},
            {"action": "send_answer", "answer": CODE, "clientMetadata": {"attempt": "2"}},
            "get_session",
            "get_user_attributes",
        ],
    )

    # The public challenge parameters reach the customChallenge callback.
    assert started["outcome"] == "customChallenge", started
    assert started["challengeParameters"] == {"hint": "code 1", "USERNAME": "alice"}
    (initiate,) = started["calls"]
    assert initiate["target"] == "InitiateAuth"
    assert initiate["request"]["AuthFlow"] == "CUSTOM_AUTH"
    assert initiate["request"]["AuthParameters"] == {"USERNAME": "<string>"}
    assert initiate["request"]["ClientMetadata"] == {"screen": "<string>"}
    assert initiate["challengeName"] == "CUSTOM_CHALLENGE"
    assert wrong["outcome"] == "customChallenge", wrong
    assert wrong["challengeParameters"] == {"hint": "code 2", "USERNAME": "alice"}
    custom_answer_call(wrong["calls"][0], "CUSTOM_CHALLENGE")
    assert wrong["calls"][0]["request"]["ClientMetadata"] == {"attempt": "<string>"}
    check_session(server, s, right)
    (answered,) = right["calls"]
    custom_answer_call(answered, None)
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(answered["authenticationResultKeys"])
    # The library keeps the session: getSession answers from memory.
    check_session(server, s, session)
    assert session["calls"] == []
    assert session["idToken"]["token"] == right["idToken"]["token"]
    assert attributes["ok"] is True, attributes
    assert targets(attributes) == ["GetUser"]
    assert attributes["attributes"]["email"] == "alice@example.com"

    # What the functions got. The ClientMetadata of InitiateAuth (AuthenticationDetails')
    # goes to PreAuthentication only, as validationData; the history grows with each
    # answer, and the clientMetadata of sendCustomChallengeAnswer goes to the triggers of
    # that step.
    base = {"userAttributes": s.event_attributes(), "userNotFound": False}
    assert functions.events(s.function("PreAuthentication")) == [
        {
            **s.envelope("PreAuthentication_Authentication"),
            "request": {
                "userAttributes": s.event_attributes(),
                "validationData": {"screen": "sign-in"},
                "userNotFound": False,
            },
            "response": {},
        }
    ]
    one = [entry("CUSTOM_CHALLENGE", False, "CODE-1")]
    two = [*one, entry("CUSTOM_CHALLENGE", True, "CODE-2")]
    first, second = {"attempt": "1"}, {"attempt": "2"}
    define = s.envelope("DefineAuthChallenge_Authentication")
    assert functions.events(s.code.define) == [
        {**define, "request": {**base, "clientMetadata": {}, "session": []},
         "response": DEFINE_DEFAULTS},
        {**define, "request": {**base, "clientMetadata": first, "session": one},
         "response": DEFINE_DEFAULTS},
        {**define, "request": {**base, "clientMetadata": second, "session": two},
         "response": DEFINE_DEFAULTS},
    ]  # fmt: skip
    create = s.envelope("CreateAuthChallenge_Authentication")
    custom = {"challengeName": "CUSTOM_CHALLENGE"}
    assert functions.events(s.code.create) == [
        {**create, "request": {**base, "clientMetadata": {}, **custom, "session": []},
         "response": CREATE_DEFAULTS},
        {**create, "request": {**base, "clientMetadata": first, **custom, "session": one},
         "response": CREATE_DEFAULTS},
    ]  # fmt: skip
    verify = s.envelope("VerifyAuthChallengeResponse_Authentication")
    private = {"privateChallengeParameters": {"answer": CODE}}
    assert functions.events(s.code.verify) == [
        {**verify,
         "request": {**base, "clientMetadata": first, **private, "challengeAnswer": WRONG},
         "response": VERIFY_DEFAULTS},
        {**verify,
         "request": {**base, "clientMetadata": second, **private, "challengeAnswer": CODE},
         "response": VERIFY_DEFAULTS},
    ]  # fmt: skip


def test_custom_with_srp(server: CognateServer, cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    challenged, signed_in, refused = identity_custom(
        server,
        s,
        [
            "authenticate",
            {"action": "send_answer", "answer": CODE},
            {"action": "authenticate", "password": WRONG_PASSWORD},
        ],
    )

    # authenticateUser: InitiateAuth with SRP_A, the library answers PASSWORD_VERIFIER
    # itself, and the custom challenge reaches the customChallenge callback.
    assert challenged["outcome"] == "customChallenge", challenged
    assert challenged["challengeParameters"] == {"hint": "code 1", "USERNAME": "alice"}
    assert challenged["username"] == "alice"  # USER_ID_FOR_SRP
    initiate, verifier = challenged["calls"]
    assert initiate["target"] == "InitiateAuth"
    assert initiate["request"]["AuthFlow"] == "CUSTOM_AUTH"
    assert initiate["request"]["AuthParameters"] == {
        "CHALLENGE_NAME": "<string>",
        "SRP_A": "<string>",
        "USERNAME": "<string>",
    }
    assert initiate["challengeName"] == "PASSWORD_VERIFIER"
    assert verifier["target"] == "RespondToAuthChallenge"
    assert verifier["request"]["ChallengeName"] == "PASSWORD_VERIFIER"
    assert verifier["challengeName"] == "CUSTOM_CHALLENGE"
    check_session(server, s, signed_in)
    custom_answer_call(signed_in["calls"][0], None)

    # A wrong password: PASSWORD_VERIFIER false in the history, DefineAuthChallenge fails.
    check_error(refused, "NotAuthorizedException", INCORRECT)
    assert targets(refused) == ["InitiateAuth", "RespondToAuthChallenge"]

    srp_ok = [entry("SRP_A", True), entry("PASSWORD_VERIFIER", True)]
    assert [e["request"]["session"] for e in functions.events(s.code.define)] == [
        [entry("SRP_A", True)],
        srp_ok,
        [*srp_ok, entry("CUSTOM_CHALLENGE", True, "CODE-1")],
        [entry("SRP_A", True)],
        [entry("SRP_A", True), entry("PASSWORD_VERIFIER", False)],
    ]
    assert [e["request"]["session"] for e in functions.events(s.code.create)] == [srp_ok]
    assert [e["request"]["challengeAnswer"] for e in functions.events(s.code.verify)] == [CODE]


def test_three_wrong_answers(server: CognateServer, cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    answer = {"action": "send_answer", "answer": WRONG}
    started, *wrong, failed = identity_custom(server, s, ["initiate_auth", answer, answer, answer])
    assert started["outcome"] == "customChallenge", started
    assert [w["outcome"] for w in wrong] == ["customChallenge"] * 2
    assert [w["challengeParameters"]["hint"] for w in wrong] == ["code 2", "code 3"]
    check_error(failed, "NotAuthorizedException", INCORRECT)
    assert targets(failed) == ["RespondToAuthChallenge"]
    assert failed["calls"][0]["errorType"] == "NotAuthorizedException"
    last = functions.events(s.code.define)[-1]["request"]["session"]
    assert last == [entry("CUSTOM_CHALLENGE", False, f"CODE-{n}") for n in (1, 2, 3)]


def test_pre_authentication_that_throws(
    server: CognateServer, cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions, also=("PreAuthentication",))

    def deny(event: dict[str, Any]) -> Any:
        raise Fail("Sign-in is closed for maintenance")

    functions.on(s.function("PreAuthentication"), deny)
    passwordless, with_srp = identity_custom(
        server, s, [{"action": "initiate_auth", "clientMetadata": {"app": "kiosk"}}, "authenticate"]
    )
    message = "PreAuthentication failed with error Sign-in is closed for maintenance."
    for record in (passwordless, with_srp):
        assert record["outcome"] == "failure", record
        check_error(record, "UserLambdaValidationException", message)
        assert targets(record) == ["InitiateAuth"]
    events = functions.events(s.function("PreAuthentication"))
    assert [e["request"]["validationData"] for e in events] == [{"app": "kiosk"}, {}]
    assert {e["triggerSource"] for e in events} == {"PreAuthentication_Authentication"}
    assert functions.events(s.code.define) == []
