"""CUSTOM_AUTH: sign-in driven by the pool's DefineAuthChallenge, CreateAuthChallenge and
VerifyAuthChallengeResponse triggers.

Each round asks DefineAuthChallenge what comes next, given the challenge history
(`session`: `{challengeName, challengeResult, challengeMetadata}` for each answered
step): `issueTokens` ends the sign-in, `failAuthentication` refuses it ("Incorrect username
or password."), `challengeName` CUSTOM_CHALLENGE has CreateAuthChallenge make the challenge
(its publicChallengeParameters go to the client, the private ones stay in the sealed
session) and PASSWORD_VERIFIER asks for the SRP password proof. A CUSTOM_CHALLENGE answer
(`ANSWER`) goes to VerifyAuthChallengeResponse, whose `answerCorrect` joins the history.

Starting with `CHALLENGE_NAME: SRP_A` and `SRP_A` (amazon-cognito-identity-js's
CUSTOM_WITH_SRP) puts `SRP_A` first in the history. Unknown users get UserNotFoundException,
or, when the client prevents user-existence errors, the same rounds with `userNotFound`
true and a sign-in that can never succeed. Triggers run between transactions.
"""

from __future__ import annotations

from typing import Any

from cognate.api.exceptions import (
    InvalidLambdaResponseException,
    NotAuthorizedException,
    UserNotFoundException,
)
from cognate.domain import messages
from cognate.domain.auth import srp_exchange
from cognate.domain.auth.context import SignInUser, prevents_user_existence_errors
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.challenge_sessions import ChallengeSessions
from cognate.domain.client_auth import ClientScope
from cognate.domain.triggers import Triggers, event_attributes, flag, string_map
from cognate.domain.user_store import USER_NOT_FOUND
from cognate.storage.db import Database

CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"
DEFINE = "DefineAuthChallenge"
CREATE = "CreateAuthChallenge"
VERIFY = "VerifyAuthChallengeResponse"
ISSUE_TOKENS = "ISSUE_TOKENS"
MAX_ROUNDS = 16  # a DefineAuthChallenge that never decides cannot loop forever
_NEXT = (CUSTOM_CHALLENGE, srp_exchange.PASSWORD_VERIFIER)


def history_entry(name: str, result: bool, metadata: str | None = None) -> dict[str, Any]:
    return {"challengeName": name, "challengeResult": result, "challengeMetadata": metadata}


def with_result(
    custom: dict[str, Any], name: str, result: bool, metadata: str | None = None
) -> dict[str, Any]:
    """The flow's state with one more answered challenge in its history."""
    history = [*(custom.get("history") or []), history_entry(name, result, metadata)]
    return {**custom, "history": history}


class CustomAuth:
    def __init__(self, db: Database, challenges: ChallengeSessions, triggers: Triggers) -> None:
        self._db = db
        self._challenges = challenges
        self._triggers = triggers

    def check_configured(self, scope: ClientScope) -> None:
        pool = scope.pool.pool
        if not (
            self._triggers.configured(pool, DEFINE) and self._triggers.configured(pool, CREATE)
        ):
            raise NotAuthorizedException(
                "Custom auth lambda trigger is not configured for the user pool."
            )

    def start(
        self,
        scope: ClientScope,
        found: SignInUser | None,
        username: str,
        activity: Activity,
        custom: dict[str, Any],
    ) -> str | dict[str, Any]:
        """The first round. Returns the next challenge's response, or the name of the
        step the caller must open itself (PASSWORD_VERIFIER) or ISSUE_TOKENS. `custom` is
        the flow's state: {"history": [...], "srp_a": the SRP_A it started with}."""
        if found is None and not prevents_user_existence_errors(scope.client):
            raise UserNotFoundException(USER_NOT_FOUND)
        return self.next_round(scope, found, username, activity, custom)

    def next_round(
        self,
        scope: ClientScope,
        found: SignInUser | None,
        username: str,
        activity: Activity,
        custom: dict[str, Any],
    ) -> str | dict[str, Any]:
        """Ask DefineAuthChallenge; answer with a CUSTOM_CHALLENGE, or the name of what the
        caller does next: ISSUE_TOKENS or PASSWORD_VERIFIER."""
        history = list(custom.get("history") or [])
        if len(history) >= MAX_ROUNDS:
            raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
        pool = scope.pool.pool
        common = self._common(found, username, activity)
        decision = self._triggers.run(
            pool,
            DEFINE,
            "DefineAuthChallenge_Authentication",
            username=self._user_name(found, username),
            client_id=scope.client.client_id,
            request={**common, "session": history},
            response={"challengeName": None, "issueTokens": None, "failAuthentication": None},
        )
        if decision is None:
            raise NotAuthorizedException(
                "Custom auth lambda trigger is not configured for the user pool."
            )
        if flag(decision, "failAuthentication"):
            raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
        if flag(decision, "issueTokens"):
            if found is None:  # a simulated user can never sign in
                raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
            return ISSUE_TOKENS
        name = decision.get("challengeName")
        if name not in _NEXT:
            raise InvalidLambdaResponseException(
                f"DefineAuthChallenge returned challengeName {name!r}: Cognate's CUSTOM_AUTH "
                "continues with CUSTOM_CHALLENGE or PASSWORD_VERIFIER."
            )
        if name == srp_exchange.PASSWORD_VERIFIER:
            return srp_exchange.PASSWORD_VERIFIER
        created = self._triggers.run(
            pool,
            CREATE,
            "CreateAuthChallenge_Authentication",
            username=self._user_name(found, username),
            client_id=scope.client.client_id,
            request={**common, "challengeName": CUSTOM_CHALLENGE, "session": history},
            response={
                "publicChallengeParameters": None,
                "privateChallengeParameters": None,
                "challengeMetadata": None,
            },
        )
        if created is None:
            raise NotAuthorizedException(
                "Custom auth lambda trigger is not configured for the user pool."
            )
        public = string_map(created.get("publicChallengeParameters"))
        private = string_map(created.get("privateChallengeParameters"))
        metadata = created.get("challengeMetadata")
        state = {
            "username": found.row.username if found else username,
            "given": username,
            "custom": custom,
            "private": private,
            "metadata": metadata if isinstance(metadata, str) else None,
        }
        user_pk = found.row.pk if found else None
        session = self._db.write(
            "custom_challenge",
            lambda c: self._challenges.open_step(c, scope, user_pk, CUSTOM_CHALLENGE, state),
        )
        return {
            "ChallengeName": CUSTOM_CHALLENGE,
            "Session": session,
            "ChallengeParameters": {**public, "USERNAME": state["username"]},
        }

    def verify(
        self,
        scope: ClientScope,
        found: SignInUser | None,
        state: dict[str, Any],
        answer: str,
        activity: Activity,
    ) -> dict[str, Any]:
        """VerifyAuthChallengeResponse on an ANSWER; the flow's state with its result."""
        username = str(state.get("given") or state.get("username") or "")
        verdict = self._triggers.run(
            scope.pool.pool,
            VERIFY,
            "VerifyAuthChallengeResponse_Authentication",
            username=self._user_name(found, username),
            client_id=scope.client.client_id,
            request={
                **self._common(found, username, activity),
                "privateChallengeParameters": state.get("private") or {},
                "challengeAnswer": answer,
            },
            response={"answerCorrect": None},
        )
        if verdict is None:
            raise NotAuthorizedException(
                "Custom auth lambda trigger is not configured for the user pool."
            )
        correct = flag(verdict, "answerCorrect") and found is not None
        return with_result(
            state.get("custom") or {}, CUSTOM_CHALLENGE, correct, state.get("metadata")
        )

    @staticmethod
    def _user_name(found: SignInUser | None, username: str) -> str:
        return found.row.username if found is not None else username

    @staticmethod
    def _common(found: SignInUser | None, username: str, activity: Activity) -> dict[str, Any]:
        attributes = event_attributes(found.row, found.attributes) if found else {}
        return {
            "userAttributes": attributes,
            "userNotFound": found is None,
            "clientMetadata": dict(activity.client_metadata),
        }
