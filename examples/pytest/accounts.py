"""A tiny application that uses Amazon Cognito: email sign-up with a confirmation code,
sign-in (retrying when Cognito throttles), and reading the signed-in user's profile.

It knows nothing about Cognate: pointed at AWS it works the same. Its tests
(test_accounts.py) run it against Cognate with the `cognate` pytest fixture.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

RETRYABLE = frozenset({"TooManyRequestsException", "InternalErrorException"})


def cognito_client(**kwargs: Any) -> Any:
    """The app's client: retries are the app's own (see Accounts.sign_in)."""
    return boto3.client(
        "cognito-idp",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        **kwargs,
    )


class Accounts:
    def __init__(
        self, cognito: Any, client_id: str, *, attempts: int = 3, backoff_s: float = 0.05
    ) -> None:
        self.cognito = cognito
        self.client_id = client_id
        self.attempts = attempts
        self.backoff_s = backoff_s

    def register(self, email: str, password: str) -> str:
        """Sign up; Cognito emails a confirmation code. The new user's sub."""
        response = self.cognito.sign_up(
            ClientId=self.client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        return str(response["UserSub"])

    def confirm(self, email: str, code: str) -> None:
        self.cognito.confirm_sign_up(ClientId=self.client_id, Username=email, ConfirmationCode=code)

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        """The tokens, retrying throttled attempts with exponential backoff."""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.cognito.initiate_auth(
                    ClientId=self.client_id,
                    AuthFlow="USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": email, "PASSWORD": password},
                )
                return dict(response["AuthenticationResult"])
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in RETRYABLE or attempt == self.attempts:
                    raise
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def email_of(self, access_token: str) -> str:
        user = self.cognito.get_user(AccessToken=access_token)
        return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "email")
