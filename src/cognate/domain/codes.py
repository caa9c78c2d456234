"""Checking and using up the one-time codes users are sent.

A user holds at most one code per purpose (confirm_sign_up, forgot_password,
verify:email, verify:phone_number); issuing a new one replaces the old, so earlier codes
stop working (Cognito's behaviour; presenting one is an expired code, not a wrong one).
Only HMACs of codes are stored. A verification code is for the value it was sent to:
changing the attribute withdraws it.

`check` runs inside the transaction that applies what the code authorizes:
- the right code, in time: the code row is deleted (a conditional DELETE, so two
  concurrent uses of one code cannot both succeed: the loser sees it gone) and MATCH is
  returned; the caller applies the change in the same transaction;
- a wrong code: the attempt is counted (the caller commits, then raises
  CodeMismatchException "Invalid verification code provided, please try again.");
- expired, used, replaced or never issued: ExpiredCodeException "Invalid code provided,
  please request a code again.";
- after five wrong attempts on a code: LimitExceededException "Attempt limit exceeded,
  please try after some time." (Cognito answers the sixth attempt so).
Errors are raised by `raise_for`, after the transaction has committed the count.
"""

from __future__ import annotations

import enum
import hmac

from sqlalchemy.engine import Connection

from cognate.api.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    LimitExceededException,
)
from cognate.domain.notifications import Notifier
from cognate.storage.repos import messages as messages_repo

CODE_MISMATCH = "Invalid verification code provided, please try again."  # observed
CODE_EXPIRED = "Invalid code provided, please request a code again."  # observed
ATTEMPT_LIMIT = "Attempt limit exceeded, please try after some time."  # observed
MAX_WRONG_ATTEMPTS = 5


class Verdict(enum.Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    EXPIRED = "expired"
    LIMITED = "limited"


def check(
    conn: Connection, notifier: Notifier, user_pk: int, purpose: str, code: str, now: int
) -> Verdict:
    """Judge a presented code (see the module docstring); a MATCH has used it up."""
    row = messages_repo.code(conn, user_pk, purpose, for_update=True)
    if row is None or row.expires_at <= now:
        return Verdict.EXPIRED
    if row.attempts >= MAX_WRONG_ATTEMPTS:
        return Verdict.LIMITED
    presented = notifier.code_hash(user_pk, purpose, code)
    if not hmac.compare_digest(presented, row.code_hash):
        if any(hmac.compare_digest(presented, old) for old in row.replaced_hashes):
            return Verdict.EXPIRED  # a code a newer one replaced
        messages_repo.count_wrong_attempt(conn, row.pk)
        return Verdict.MISMATCH
    if not messages_repo.use_code(conn, row.pk):
        return Verdict.EXPIRED  # used concurrently
    return Verdict.MATCH


def raise_for(verdict: Verdict) -> None:
    """The error Cognito answers for a verdict other than MATCH."""
    if verdict is Verdict.MISMATCH:
        raise CodeMismatchException(CODE_MISMATCH)
    if verdict is Verdict.EXPIRED:
        raise ExpiredCodeException(CODE_EXPIRED)
    if verdict is Verdict.LIMITED:
        raise LimitExceededException(ATTEMPT_LIMIT)
