"""Brute-force protection: Cognito's lockout after repeated wrong passwords.

Cognito (developer guide, "Lockout behavior for failed sign-in attempts"): after five
failed sign-in attempts with a wrong password the user is locked out, first for one
second, and every further failure doubles the lockout, up to about 15 minutes. Attempts
while locked out fail with NotAuthorizedException "Password attempts exceeded" without
the password being checked and without extending the lockout. A successful sign-in
resets the count; so does a quiet period of 15 minutes after the last lockout ended.

State is two columns of the user row, read with a row lock and written in the same
transaction, so concurrent failures from several processes all count.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from cognate.api.exceptions import NotAuthorizedException
from cognate.storage.repos import users as users_repo
from cognate.storage.repos.users import UserRow

FREE_ATTEMPTS = 5
FIRST_LOCKOUT_MS = 1_000
MAX_LOCKOUT_MS = 15 * 60 * 1000
FORGET_AFTER_MS = 15 * 60 * 1000
ATTEMPTS_EXCEEDED = "Password attempts exceeded"


def lockout_ms(failures: int) -> int:
    """How long the user is locked out after `failures` consecutive failures."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(FIRST_LOCKOUT_MS << min(failures - FREE_ATTEMPTS, 20), MAX_LOCKOUT_MS)


def check_not_locked(user: UserRow, now: int) -> None:
    """Refuse an attempt while the user is locked out."""
    if user.locked_until > now:
        raise NotAuthorizedException(ATTEMPTS_EXCEEDED)


def _failures_so_far(user_row_failures: int, locked_until: int, now: int) -> int:
    if user_row_failures and locked_until and now - locked_until > FORGET_AFTER_MS:
        return 0
    return user_row_failures


def record_failure(conn: Connection, user: UserRow, now: int) -> None:
    """Count a wrong password (atomically, against the row's current count)."""
    current = users_repo.by_pk(conn, user.pk, for_update=True)
    if current is None:
        return
    failures = _failures_so_far(current.failed_sign_ins, current.locked_until, now) + 1
    locked = lockout_ms(failures)
    users_repo.update(
        conn,
        user.pk,
        failed_sign_ins=failures,
        locked_until=now + locked if locked else current.locked_until,
    )


def reset(conn: Connection, user: UserRow) -> None:
    """Forget failures after a successful sign-in (no write when there were none)."""
    if user.failed_sign_ins or user.locked_until:
        users_repo.update(conn, user.pk, failed_sign_ins=0, locked_until=0)
