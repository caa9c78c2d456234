"""CUSTOM_AUTH refusals and the PreAuthentication / PostAuthentication triggers, with boto3
against a live Cognate whose triggers run in the test process (tests/support/secret_code.py).

Unknown users (PreventUserExistenceErrors ENABLED: the triggers run with userNotFound and
the sign-in never succeeds; LEGACY: UserNotFoundException), a client without
ALLOW_CUSTOM_AUTH, a pool without the triggers, DefineAuthChallenge replies Cognate cannot
follow (InvalidLambdaResponseException), triggers that throw (UserLambdaValidationException)
or time out (UnexpectedLambdaException), PreAuthentication (validationData = ClientMetadata,
userNotFound, denial) and PostAuthentication (newDeviceUsed, clientMetadata, a failure
failing the sign-in). The flow itself: test_triggers_custom_auth.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import INCORRECT, error
from tests.support.functions import Fail, FunctionHost, arn, function_host, slow
from tests.support.secret_code import CODE, WRONG, Setup, check_tokens, entry
from tests.support.server import CognateServer
from tests.support.trigger_server import trigger_server

NOT_CONFIGURED = (
    "NotAuthorizedException",
    "Custom auth lambda trigger is not configured for the user pool.",
)
UNRECOGNIZABLE = ("InvalidLambdaResponseException", "Unrecognizable lambda output")
TIMED_OUT = "invocation failed due to error Socket timeout while invoking Lambda function."


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
    workdir = tmp_path_factory.mktemp("custom-auth-errors")
    with trigger_server(request.param, workdir, functions) as (srv, _clock):
        yield srv


def fail(message: str) -> Any:
    def handler(event: dict[str, Any]) -> Any:
        raise Fail(message)

    return handler


# ----------------------------------------------------------------------------- unknown users


def test_unknown_user_with_prevented_existence_errors_gets_challenges_but_never_tokens(
    cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions, also=("PreAuthentication",), PreventUserExistenceErrors="ENABLED")
    step = s.start("nobody", ClientMetadata={"app": "kiosk"})
    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert step["ChallengeParameters"] == {"hint": "code 1", "USERNAME": "nobody"}
    # Every answer is "right" as far as the function can tell, yet never accepted.
    for n in (2, 3):
        step = s.answer(step["Session"], CODE, username="nobody")
        assert step["ChallengeParameters"] == {"hint": f"code {n}", "USERNAME": "nobody"}
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], CODE, username="nobody")
    assert error(exc) == INCORRECT

    assert functions.events(s.function("PreAuthentication")) == [
        {
            **s.envelope("PreAuthentication_Authentication", "nobody"),
            "request": {
                "userAttributes": {},
                "validationData": {"app": "kiosk"},
                "userNotFound": True,
            },
            "response": {},
        }
    ]
    define = functions.events(s.code.define)
    assert {e["userName"] for e in define} == {"nobody"}
    assert [e["request"]["userNotFound"] for e in define] == [True] * 4
    assert [e["request"]["userAttributes"] for e in define] == [{}] * 4
    # Cognate's choice: an unknown user's answers are never correct, whatever Verify says.
    assert define[-1]["request"]["session"] == [
        entry("CUSTOM_CHALLENGE", False, f"CODE-{n}") for n in (1, 2, 3)
    ]
    verify = functions.events(s.code.verify)
    assert [(e["request"]["userNotFound"], e["request"]["challengeAnswer"]) for e in verify] == [
        (True, CODE)
    ] * 3

    # Even a DefineAuthChallenge that issues tokens at once cannot sign in an unknown user.
    functions.respond(s.code.define, issueTokens=True, failAuthentication=False)
    with pytest.raises(ClientError) as exc:
        s.start("nobody")
    assert error(exc) == INCORRECT


def test_unknown_user_without_prevention_is_user_not_found(
    cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions, also=("PreAuthentication",), PreventUserExistenceErrors="LEGACY")
    with pytest.raises(ClientError) as exc:
        s.start("nobody")
    assert error(exc) == ("UserNotFoundException", "User does not exist.")
    assert functions.events(s.function("PreAuthentication")) == []
    assert functions.events(s.code.define) == []


def test_disabled_and_unconfirmed_users_never_sign_in(
    cognito: Any, functions: FunctionHost
) -> None:
    """Refused at InitiateAuth or, at the latest, instead of the tokens (Cognate runs the
    challenge first; where Cognito refuses is not documented)."""
    s = Setup(cognito, functions)

    def refusal(username: str) -> tuple[str, str]:
        try:
            step = s.start(username)
            s.answer(step["Session"], CODE, username=username)
        except ClientError as exc:
            return exc.response["Error"]["Code"], exc.response["Error"]["Message"]
        raise AssertionError(f"{username} signed in")

    cognito.admin_disable_user(UserPoolId=s.pool_id, Username="alice")
    assert refusal("alice") == ("NotAuthorizedException", "User is disabled.")
    cognito.sign_up(ClientId=s.client_id, Username="bob", Password="Corr3ct-Horse!")
    assert refusal("bob") == ("UserNotConfirmedException", "User is not confirmed.")


# ----------------------------------------------------------------------------- configuration


def test_client_without_allow_custom_auth(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions, flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc) == (
        "InvalidParameterException",
        "CUSTOM_AUTH flow not enabled for this client",
    )
    assert functions.events(s.code.define) == []


def test_pool_without_the_custom_auth_triggers(cognito: Any, functions: FunctionHost) -> None:
    bare = Setup(cognito, functions, lambda_config={})
    with pytest.raises(ClientError) as exc:
        bare.start()
    assert error(exc) == NOT_CONFIGURED

    config = bare.code.lambda_config()
    del config["CreateAuthChallenge"]
    no_create = Setup(cognito, functions, lambda_config=config)
    with pytest.raises(ClientError) as exc:
        no_create.start()
    assert error(exc) == NOT_CONFIGURED


# ----------------------------------------------------------------------------- bad replies


@pytest.mark.parametrize("name", ["SMS_MFA", "DEVICE_SRP_AUTH", "CAPTCHA"])
def test_define_naming_a_challenge_cognate_cannot_run(
    cognito: Any, functions: FunctionHost, name: str
) -> None:
    s = Setup(cognito, functions)
    functions.respond(s.code.define, challengeName=name)
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc)[0] == "InvalidLambdaResponseException"
    assert functions.events(s.code.create) == []


def test_define_replying_a_non_boolean_flag(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    functions.respond(s.code.define, issueTokens="yes")
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc) == UNRECOGNIZABLE


def test_create_replying_parameters_that_are_no_map(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    functions.respond(s.code.create, publicChallengeParameters=["hint"])
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc) == UNRECOGNIZABLE


# ----------------------------------------------------------------------------- failing functions


DEFINE_FAILURES = {
    "throws": (
        "UserLambdaValidationException",
        "DefineAuthChallenge failed with error Registration from this domain is not allowed..",
    ),
    "times_out": ("UnexpectedLambdaException", f"DefineAuthChallenge {TIMED_OUT}"),
    "garbage": UNRECOGNIZABLE,
}
PYTHON_FUNCTIONS = {"throws": "py_reject", "times_out": "py_slow", "garbage": "py_garbage"}


def misbehaving(failure: str) -> Any:
    if failure == "throws":
        return fail("Registration from this domain is not allowed.")
    if failure == "times_out":
        return slow(2)
    return lambda event: "not an event"


@pytest.mark.parametrize("kind", ["http", "lambda", "py"])
@pytest.mark.parametrize("failure", list(DEFINE_FAILURES))
def test_define_that_fails(cognito: Any, functions: FunctionHost, kind: str, failure: str) -> None:
    """The three failure kinds, through each invoker (py: tests/support/python_functions.py)."""
    if kind == "py":
        s = Setup(cognito, functions)
        config = {**s.code.lambda_config(), "DefineAuthChallenge": arn(PYTHON_FUNCTIONS[failure])}
        cognito.update_user_pool(UserPoolId=s.pool_id, LambdaConfig=config)
    else:
        s = Setup(cognito, functions, kind)
        functions.on(s.code.define, misbehaving(failure))
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc) == DEFINE_FAILURES[failure]
    assert functions.events(s.code.create) == []


def test_create_that_times_out(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    functions.on(s.code.create, slow(2))
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc) == ("UnexpectedLambdaException", f"CreateAuthChallenge {TIMED_OUT}")


def test_verify_that_throws_through_the_lambda_api(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions, "lambda")
    step = s.start()
    functions.on(s.code.verify, fail("code store unavailable"))
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], CODE)
    assert error(exc) == (
        "UserLambdaValidationException",
        "VerifyAuthChallengeResponse failed with error code store unavailable.",
    )
    # The answer was never judged: DefineAuthChallenge was not asked again.
    assert len(functions.events(s.code.define)) == 1


def test_verify_that_times_out(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions)
    step = s.start()
    functions.on(s.code.verify, slow(2))
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], WRONG)
    assert error(exc) == ("UnexpectedLambdaException", f"VerifyAuthChallengeResponse {TIMED_OUT}")


# ----------------------------------------------------------------------------- PreAuthentication


def test_pre_authentication_gets_client_metadata_as_validation_data(
    cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions, also=("PreAuthentication",))
    step = s.start(ClientMetadata={"device": "kiosk-7"})
    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert functions.events(s.function("PreAuthentication")) == [
        {
            **s.envelope("PreAuthentication_Authentication"),
            "request": {
                "userAttributes": s.event_attributes(),
                "validationData": {"device": "kiosk-7"},
                "userNotFound": False,
            },
            "response": {},
        }
    ]
    # Once per sign-in: answering the challenge does not run it again.
    check_tokens(s, s.answer(step["Session"], CODE)["AuthenticationResult"])
    assert len(functions.events(s.function("PreAuthentication"))) == 1


def test_pre_authentication_that_throws_denies_the_sign_in(
    cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions, also=("PreAuthentication",))
    functions.on(s.function("PreAuthentication"), fail("Sign-in is closed for maintenance"))
    with pytest.raises(ClientError) as exc:
        s.start()
    assert error(exc) == (
        "UserLambdaValidationException",
        "PreAuthentication failed with error Sign-in is closed for maintenance.",
    )
    assert functions.events(s.code.define) == []


# ----------------------------------------------------------------------------- PostAuthentication


def test_post_authentication_event(cognito: Any, functions: FunctionHost) -> None:
    s = Setup(cognito, functions, also=("PostAuthentication",))
    step = s.start()
    assert functions.events(s.function("PostAuthentication")) == []
    done = s.answer(step["Session"], CODE, ClientMetadata={"screen": "login"})
    check_tokens(s, done["AuthenticationResult"])
    assert functions.events(s.function("PostAuthentication")) == [
        {
            **s.envelope("PostAuthentication_Authentication"),
            "request": {
                "userAttributes": s.event_attributes(),
                "newDeviceUsed": False,
                "clientMetadata": {"screen": "login"},
            },
            "response": {},
        }
    ]


def test_post_authentication_sees_a_new_device(cognito: Any, functions: FunctionHost) -> None:
    devices = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False}
    s = Setup(
        cognito, functions, also=("PostAuthentication",), pool={"DeviceConfiguration": devices}
    )
    step = s.start()
    done = s.answer(step["Session"], CODE)
    assert "NewDeviceMetadata" in done["AuthenticationResult"]
    (event,) = functions.events(s.function("PostAuthentication"))
    assert event["request"]["newDeviceUsed"] is True


def test_post_authentication_that_throws_fails_the_sign_in(
    cognito: Any, functions: FunctionHost
) -> None:
    s = Setup(cognito, functions, also=("PostAuthentication",))
    functions.on(s.function("PostAuthentication"), fail("account under review"))
    step = s.start()
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], CODE)
    assert error(exc) == (
        "UserLambdaValidationException",
        "PostAuthentication failed with error account under review.",
    )


def test_a_sign_in_post_authentication_refused_leaves_no_session(
    cognito: Any, functions: FunctionHost
) -> None:
    """PostAuthentication runs before the sign-in is recorded: no token session remains."""
    s = Setup(cognito, functions, also=("PostAuthentication",))
    cognito.set_user_pool_session_configuration(
        UserPoolId=s.pool_id, UserSessionTracking="ENABLED", TokenSession={"MaxPerUser": 20}
    )
    functions.on(s.function("PostAuthentication"), fail("account under review"))
    step = s.start()
    with pytest.raises(ClientError) as exc:
        s.answer(step["Session"], CODE)
    assert error(exc)[0] == "UserLambdaValidationException"
    sessions = cognito.admin_list_user_sessions(UserPoolId=s.pool_id, Username="alice")
    assert sessions["Sessions"] == []


def test_post_authentication_after_initiate_auth_gets_no_client_metadata(
    cognito: Any, functions: FunctionHost
) -> None:
    """When InitiateAuth itself issues the tokens, its ClientMetadata does not reach
    PostAuthentication (the InitiateAuth API reference; the Cognito team in
    aws-amplify/docs#2793: null when the tokens come from InitiateAuth)."""
    s = Setup(cognito, functions, also=("PostAuthentication",))
    functions.respond(s.code.define, issueTokens=True, failAuthentication=False)
    s.start(ClientMetadata={"screen": "login"})
    (event,) = functions.events(s.function("PostAuthentication"))
    assert event["request"]["clientMetadata"] == {}
