"""A passwordless "secret code" CUSTOM_AUTH challenge, as test-process trigger handlers,
and a pool that uses it (`Setup`), for the CUSTOM_AUTH tests.

`SecretCode(host, kind)` registers the three functions `<kind>_<id>_define`,
`<kind>_<id>_create` and `<kind>_<id>_verify` on a FunctionHost
(tests/support/functions.py); `lambda_config()` is the pool's LambdaConfig naming them.
The handlers are the typical ones (each answers a copy of its event, so that the host
records the event exactly as it came):

* DefineAuthChallenge: no history → CUSTOM_CHALLENGE; a history starting with SRP_A → the
  PASSWORD_VERIFIER step (CUSTOM_WITH_SRP), a failed SRP_A / PASSWORD_VERIFIER →
  failAuthentication; the last CUSTOM_CHALLENGE answered right → issueTokens;
  `max_wrong` wrong answers → failAuthentication; otherwise another CUSTOM_CHALLENGE.
* CreateAuthChallenge: publicChallengeParameters {"hint": "code <n>"},
  privateChallengeParameters {"answer": <code>}, challengeMetadata "CODE-<n>" (n = the
  round, from 1).
* VerifyAuthChallengeResponse: answerCorrect = challengeAnswer == the private answer.

tests/support/python_functions.py has the same trio for the in-process Python invoker
(`py_define_secret_code`, …, code PY_CODE).

`Setup(cognito, host)` creates a pool whose LambdaConfig names the trio, an app client
allowing CUSTOM_AUTH and the CONFIRMED user alice; `start` / `answer` drive the flow with
boto3, `envelope` is the event envelope the triggers must get.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.support.auth import claims, new_client, new_user
from tests.support.functions import FunctionHost, arn

CUSTOM_FLOWS = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
SDK = "aws-sdk-unknown-unknown"
DEFINE_DEFAULTS = {"challengeName": None, "issueTokens": None, "failAuthentication": None}
CREATE_DEFAULTS = {
    "publicChallengeParameters": None,
    "privateChallengeParameters": None,
    "challengeMetadata": None,
}
VERIFY_DEFAULTS = {"answerCorrect": None}
SPENT = ("NotAuthorizedException", "Invalid session for the user, session can only be used once.")
EXPIRED = ("NotAuthorizedException", "Invalid session for the user, session is expired.")
CODE = "4242-7"
WRONG = "0000-0"
CUSTOM = "CUSTOM_CHALLENGE"
SRP_STEPS = ("SRP_A", "PASSWORD_VERIFIER")


def decide(session: list[dict[str, Any]], max_wrong: int = 3) -> dict[str, Any]:
    """DefineAuthChallenge's decision for a challenge history."""
    wrong = [s for s in session if s["challengeName"] == CUSTOM and not s["challengeResult"]]
    if any(s["challengeName"] in SRP_STEPS and not s["challengeResult"] for s in session):
        return {"issueTokens": False, "failAuthentication": True}
    if session and session[-1]["challengeName"] == CUSTOM and session[-1]["challengeResult"]:
        return {"issueTokens": True, "failAuthentication": False}
    if len(wrong) >= max_wrong:
        return {"issueTokens": False, "failAuthentication": True}
    if session and session[-1]["challengeName"] == "SRP_A":
        return {"challengeName": "PASSWORD_VERIFIER", "issueTokens": False,
                "failAuthentication": False}  # fmt: skip
    return {"challengeName": CUSTOM, "issueTokens": False, "failAuthentication": False}


def round_of(session: list[dict[str, Any]]) -> int:
    """The number of the CUSTOM_CHALLENGE about to be created (1 for the first)."""
    return 1 + sum(1 for s in session if s["challengeName"] == CUSTOM)


class SecretCode:
    def __init__(
        self,
        host: FunctionHost,
        kind: str = "http",
        *,
        code: str = CODE,
        max_wrong: int = 3,
    ) -> None:
        self.host = host
        self.prefix = f"{kind}_{uuid.uuid4().hex[:12]}"
        self.code = code
        self.max_wrong = max_wrong
        host.on(self.define, self._define)
        host.on(self.create, self._create)
        host.on(self.verify, self._verify)

    @property
    def define(self) -> str:
        return f"{self.prefix}_define"

    @property
    def create(self) -> str:
        return f"{self.prefix}_create"

    @property
    def verify(self) -> str:
        return f"{self.prefix}_verify"

    def name(self, trigger: str) -> str:
        """The function name for another trigger of the same pool (pre_auth, …)."""
        return f"{self.prefix}_{trigger}"

    def lambda_config(self, **others: str) -> dict[str, str]:
        """LambdaConfig with the three challenge triggers, plus others: {Trigger: name}."""
        return {
            "DefineAuthChallenge": arn(self.define),
            "CreateAuthChallenge": arn(self.create),
            "VerifyAuthChallengeResponse": arn(self.verify),
            **{trigger: arn(function) for trigger, function in others.items()},
        }

    def events(self, function: str) -> list[dict[str, Any]]:
        return self.host.events(function)

    # ------------------------------------------------------------------ handlers

    # Each handler answers a copy: the host records the event exactly as it came.

    def _define(self, event: dict[str, Any]) -> dict[str, Any]:
        event = copy.deepcopy(event)
        event["response"].update(decide(event["request"]["session"], self.max_wrong))
        return event

    def _create(self, event: dict[str, Any]) -> dict[str, Any]:
        event = copy.deepcopy(event)
        n = round_of(event["request"]["session"])
        event["response"].update(
            publicChallengeParameters={"hint": f"code {n}"},
            privateChallengeParameters={"answer": self.code},
            challengeMetadata=f"CODE-{n}",
        )
        return event

    def _verify(self, event: dict[str, Any]) -> dict[str, Any]:
        event = copy.deepcopy(event)
        expected = event["request"]["privateChallengeParameters"].get("answer")
        event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == expected
        return event


# ----------------------------------------------------------------- a pool using it


class Setup:
    """A pool whose LambdaConfig names the secret-code trio (plus `also`: more triggers,
    each with a function of its own, `function(trigger)`), an app client allowing
    CUSTOM_AUTH (`flows`, `client`: its other settings), and the CONFIRMED user alice
    (email alice@example.com), who signs in as `login` ("alice", or the email in a pool
    whose usernames are emails) and whose Username is `username`."""

    def __init__(
        self,
        cognito: Any,
        functions: FunctionHost,
        kind: str = "http",
        *,
        also: tuple[str, ...] = (),
        flows: list[str] | None = None,
        lambda_config: dict[str, str] | None = None,
        pool: dict[str, Any] | None = None,
        login: str = "alice",
        **client: Any,
    ) -> None:
        self.cognito = cognito
        self.code = SecretCode(functions, kind)
        others = {trigger: self.function(trigger) for trigger in also}
        config = self.code.lambda_config(**others) if lambda_config is None else lambda_config
        self.pool_id = cognito.create_user_pool(
            PoolName="custom", LambdaConfig=config, **(pool or {})
        )["UserPool"]["Id"]
        self.client_id = new_client(cognito, self.pool_id, flows or CUSTOM_FLOWS, **client)[
            "ClientId"
        ]
        self.login = login
        attributes = {"email": "alice@example.com"}
        self.username = new_user(cognito, self.pool_id, login, attributes=attributes)
        user = cognito.admin_get_user(UserPoolId=self.pool_id, Username=self.username)
        self.attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        self.sub = self.attributes["sub"]

    def function(self, trigger: str) -> str:
        """The function name of another trigger of this pool (PreAuthentication, …)."""
        return self.code.name(trigger.lower())

    def start(self, username: str | None = None, **params: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.cognito.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="CUSTOM_AUTH",
            AuthParameters={"USERNAME": username or self.login},
            **params,
        )
        return response

    def answer(
        self, session: str, answer: str, username: str | None = None, **params: Any
    ) -> dict[str, Any]:
        response: dict[str, Any] = self.cognito.respond_to_auth_challenge(
            ClientId=self.client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=session,
            ChallengeResponses={"USERNAME": username or self.login, "ANSWER": answer},
            **params,
        )
        return response

    def event_attributes(self) -> dict[str, str]:
        """userAttributes as the triggers get them: the user's attributes (sub included)
        plus cognito:user_status."""
        return {**self.attributes, "cognito:user_status": "CONFIRMED"}

    def envelope(self, source: str, username: str | None = None) -> dict[str, Any]:
        return {
            "version": "1",
            "triggerSource": source,
            "region": self.cognito.meta.region_name,
            "userPoolId": self.pool_id,
            "userName": username or self.username,
            "callerContext": {"awsSdkVersion": SDK, "clientId": self.client_id},
        }


def entry(name: str, result: bool, metadata: str | None = None) -> dict[str, Any]:
    return {"challengeName": name, "challengeResult": result, "challengeMetadata": metadata}


def check_tokens(s: Setup, result: dict[str, Any]) -> None:
    username = s.username
    assert set(result) >= {"AccessToken", "IdToken", "RefreshToken", "ExpiresIn", "TokenType"}
    id_claims = claims(result["IdToken"])
    assert id_claims["token_use"] == "id"
    assert id_claims["sub"] == s.sub
    assert id_claims["cognito:username"] == username
    assert id_claims["aud"] == s.client_id
    assert id_claims["email"] == "alice@example.com"
    access = claims(result["AccessToken"])
    assert access["token_use"] == "access"
    assert access["client_id"] == s.client_id
    assert access["username"] == username
    assert access["sub"] == s.sub
    # The tokens work against Cognito's own API.
    user = s.cognito.get_user(AccessToken=result["AccessToken"])
    assert user["Username"] == username
