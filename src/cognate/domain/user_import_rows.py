"""The rows of a user import CSV: the header, each row checked with Cognito's rules, and a
batch of rows written as users.

The file (developer guide, "Creating the user import CSV file"): the first line is the
header GetCSVHeader gives, columns in any order, every column present; each later line is
one user. Values are trimmed; a comma inside a value is written `\\,` (quoted values are
accepted too); at most 16,000 characters a line. A row is imported when:

* `cognito:username` is set, has no spaces or tabs, and suits the pool's sign-in
  configuration (in pools that sign in with email or phone it is that email or phone, and
  the user gets a UUID as username, as AdminCreateUser does);
* `cognito:mfa_enabled` is true or false (true needs a phone_number: it turns SMS MFA on;
  a pool with MFA OFF takes only false);
* at least one of the pool's auto-verified attributes is verified (`email_verified` or
  `phone_number_verified` true), with the email / phone number it verifies;
* the values conform to the pool's schema and every required attribute is set;
* no user holds the username (the row is then *skipped*: the existing user is left as it
  is) nor the email / phone / preferred_username it would claim as a unique sign-in
  identifier (the row *fails*).

Imported users are RESET_REQUIRED with no password, stored as AdminCreateUser stores
them (the same username rules, attribute rows with their search keys, and unique sign-in
identifiers from `SignIn.claimed_identifiers`), and sent nothing; no trigger runs. A
batch is written with a few bulk statements, after every row of it was checked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.errors import ServiceError
from cognate.domain import mfa_preferences
from cognate.domain.attributes import SUB
from cognate.domain.user_store import PoolScope, UserStatus, search_key
from cognate.domain.usernames import PHONE, VERIFIED_FLAG, SignIn
from cognate.storage.repos import user_imports as jobs_repo

USERNAME = "cognito:username"
MFA_ENABLED = "cognito:mfa_enabled"
MAX_LINE = 16_000
MAX_ROWS = 500_000

IMPORTED = "IMPORTED"
SKIPPED = "SKIPPED"
FAILED = "FAILED"


class RowError(Exception):
    """Why a row was not imported (the message goes to the job's log)."""

    def __init__(self, message: str, outcome: str = FAILED) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True, slots=True)
class Outcome:
    line: int
    username: str
    result: str  # IMPORTED, SKIPPED or FAILED
    message: str


def csv_header(scope: PoolScope) -> list[str]:
    """GetCSVHeader: the pool's attributes in schema order (not `sub`), then the two
    `cognito:` columns, as Cognito lists them."""
    names = [a["Name"] for a in scope.settings.get("SchemaAttributes", []) if a["Name"] != SUB]
    return [*names, MFA_ENABLED, USERNAME]


def check_header(scope: PoolScope, given: list[str]) -> str | None:
    """What is wrong with a file's header line, or None."""
    names = [name.strip() for name in given]
    expected = csv_header(scope)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        return f"The CSV header repeats the column(s): {', '.join(duplicates)}."
    unknown = [n for n in names if n not in expected]
    if unknown:
        return f"The CSV header has column(s) that are not in the user pool: {', '.join(unknown)}."
    missing = [n for n in expected if n not in names]
    if missing:
        return f"The CSV header is missing the column(s): {', '.join(missing)}."
    return None


class RowChecker:
    """Checks a pool's rows (the pool's rules read once per batch)."""

    def __init__(self, scope: PoolScope, header: list[str]) -> None:
        self.scope = scope
        self.header = [name.strip() for name in header]
        settings = scope.settings
        self.auto_verified = [
            a for a in (settings.get("AutoVerifiedAttributes") or []) if a in VERIFIED_FLAG
        ]
        self.mfa_off = settings.get("MfaConfiguration", "OFF") == "OFF"
        self._username_at = self.header.index(USERNAME)

    def username_of(self, fields: list[str]) -> str:
        return fields[self._username_at].strip() if len(fields) > self._username_at else ""

    def check(self, fields: list[str]) -> tuple[str, str | None, dict[str, str], bool]:
        """(the row's cognito:username, the username to store or None for a generated one,
        attribute values, MFA on); RowError when the row cannot be imported."""
        if len(fields) != len(self.header):
            raise RowError(
                f"The row has {len(fields)} values but the header has {len(self.header)} columns."
            )
        if sum(len(f) for f in fields) + len(fields) > MAX_LINE:
            raise RowError(f"The line is longer than {MAX_LINE} characters.")
        row = {name: value.strip() for name, value in zip(self.header, fields, strict=True)}
        requested = row.pop(USERNAME)
        if not requested:
            raise RowError("cognito:username is required.")
        if any(c.isspace() for c in requested):
            raise RowError("cognito:username cannot contain spaces or tabs.")
        mfa = row.pop(MFA_ENABLED).lower()
        if mfa not in ("true", "false"):
            raise RowError("cognito:mfa_enabled must be true or false.")
        try:
            username, from_username = self.scope.sign_in.new_user_name(requested)
            values = self.scope.schema.check_new(
                {"Name": name, "Value": value} for name, value in row.items() if value
            )
        except ServiceError as exc:
            raise RowError(str(exc.message).strip()) from None
        for name, value in from_username.items():
            if values.setdefault(name, value) != value:
                raise RowError(f"cognito:username and {name} must be the same.")
        for name, flag in VERIFIED_FLAG.items():
            if values.get(flag) == "true" and not values.get(name):
                raise RowError(f"No {name} provided but {flag} was set to true.")
        if self.auto_verified and not any(
            values.get(VERIFIED_FLAG[a]) == "true" for a in self.auto_verified
        ):
            raise RowError(
                "The User Record does not set any of the auto verified attributes to true. "
                "(Example: email_verified to true)."
            )
        missing = self.scope.schema.missing_required(values)
        if missing:
            raise RowError(f"Missing required attribute(s): {', '.join(missing)}.")
        if mfa == "true":
            if self.mfa_off:
                raise RowError("cognito:mfa_enabled is true but MFA is off in the user pool.")
            if not values.get(PHONE):
                raise RowError("cognito:mfa_enabled is true but the user has no phone_number.")
        return requested, username, values, mfa == "true"


def import_rows(
    conn: Connection, checker: RowChecker, rows: list[tuple[int, list[str]]], now: int
) -> list[Outcome]:
    """Write a batch of (line number, fields) as users, in bulk statements.

    Every check comes before any write (the usernames and sign-in identifiers the pool's
    users hold are read for the whole batch; rows of the batch are checked against each
    other too), so no row fails half-written. A concurrent writer claiming the same name
    meanwhile makes the insert fail; the batch's transaction then runs again and sees it.
    """
    scope = checker.scope
    sign_in = scope.sign_in
    pool_pk = scope.pool.pk
    outcomes: list[Outcome] = []
    accepted: list[tuple[int, str, str | None, dict[str, str], bool]] = []
    for line, fields in rows:
        requested = checker.username_of(fields)
        try:
            requested, username, values, mfa = checker.check(fields)
        except RowError as exc:
            outcomes.append(Outcome(line, requested, exc.outcome, str(exc)))
            continue
        accepted.append((line, requested, username, values, mfa))
    keys = [sign_in.username_key(u) for _, _, u, _, _ in accepted if u is not None]
    taken = jobs_repo.taken_usernames(conn, pool_pk, keys)
    claims = {
        line: {
            kind: sign_in.identifier_hash(kind, value)
            for kind, value in sign_in.claimed_identifiers(values).items()
        }
        for line, _, _, values, _ in accepted
    }
    held = jobs_repo.held_identifiers(
        conn, pool_pk, [pair for claim in claims.values() for pair in claim.items()]
    )
    new_users: list[dict[str, Any]] = []
    attributes: dict[str, dict[str, str]] = {}
    identifiers: dict[str, dict[str, str]] = {}
    for line, requested, username, values, mfa in accepted:
        key = sign_in.username_key(username) if username is not None else None
        problem = _conflict(sign_in, key, claims[line], taken, held)
        if problem is not None:
            outcomes.append(Outcome(line, requested, problem.outcome, str(problem)))
            continue
        if key is not None:
            taken.add(key)
        held.update(claims[line].items())
        sub = str(uuid.uuid4())
        name = username or sub
        record: dict[str, Any] = {}
        if mfa:
            record[mfa_preferences.SMS_MFA] = {"enabled": True, "preferred": False}
        new_users.append(
            {
                "pool_pk": pool_pk,
                "username": name,
                "username_key": sign_in.username_key(name),
                "sub": sub,
                "status": UserStatus.RESET_REQUIRED.value,
                "enabled": True,
                "password_enc": None,
                "password_history_enc": None,
                "password_expires_at": None,
                "pending": None,
                "tokens_valid_after": 0,
                "mfa": mfa_preferences.encode(record),
                "created_at": now,
                "updated_at": now,
            }
        )
        attributes[sub] = values
        identifiers[sub] = claims[line]
        outcomes.append(Outcome(line, requested, IMPORTED, ""))
    pks = jobs_repo.insert_users(conn, new_users)
    jobs_repo.insert_attributes(
        conn,
        [
            {
                "user_pk": pks[sub],
                "pool_pk": pool_pk,
                "name": name,
                "value": value,
                "value_key": search_key(scope, name, value),
            }
            for sub, values in attributes.items()
            for name, value in values.items()
        ],
    )
    jobs_repo.insert_identifiers(
        conn,
        [
            {"pool_pk": pool_pk, "kind": kind, "value_hash": value_hash, "user_pk": pks[sub]}
            for sub, claim in identifiers.items()
            for kind, value_hash in claim.items()
        ],
    )
    outcomes.sort(key=lambda o: o.line)
    return outcomes


def _conflict(
    sign_in: SignIn,
    key: str | None,
    claim: dict[str, str],
    taken: set[str],
    held: set[tuple[str, str]],
) -> RowError | None:
    if key is not None and key in taken:
        return RowError("User already exists.", SKIPPED)
    for kind, value_hash in claim.items():
        if (kind, value_hash) in held:
            if kind in sign_in.username_attributes:
                return RowError("User already exists.", SKIPPED)
            return RowError(f"An account with the given {kind} already exists.")
    return None
