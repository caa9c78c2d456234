"""RespondToAuthChallenge and AdminRespondToAuthChallenge.

Answers this server can take: PASSWORD_VERIFIER (the SRP proof; the SECRET_BLOCK names
the session), NEW_PASSWORD_REQUIRED (a permanent password and the missing required
attributes), SELECT_CHALLENGE (USER_AUTH's menu, answered with ANSWER and that factor's
parameters), PASSWORD / PASSWORD_SRP (the same factors chosen directly with the session),
the MFA and passwordless code challenges (SMS_MFA, EMAIL_OTP, SOFTWARE_TOKEN_MFA, SMS_OTP,
SELECT_MFA_TYPE, MFA_SETUP with a verified authenticator or an email address to set up),
WEB_AUTHN (a passkey assertion) and the device proofs. Every other challenge name belongs
to a flow this server did not start, so its session cannot be valid.

NEW_PASSWORD_REQUIRED follows Cognito's rules: required attributes without a value must
be given ("Invalid attributes given, X is missing"), required ones that have a value
cannot be changed ("Cannot modify an already provided X"), and the client must be allowed
to write what it sends. When the answer is refused for its content (these rules, the
password policy or history), the session stays usable so that the user can correct it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy.engine import Connection

from cognate import metrics
from cognate.api.errors import ServiceError
from cognate.api.exceptions import (
    AliasExistsException,
    InvalidParameterException,
    NotAuthorizedException,
    PasswordHistoryPolicyViolationException,
)
from cognate.domain import auth_events, messages, passwords, srp
from cognate.domain.auth import srp_exchange
from cognate.domain.auth.context import (
    SignInUser,
    admin_client_of,
    check_client_secret_hash,
    client_of,
    find_sign_in_user,
    require_parameter,
    user_by_pk,
)
from cognate.domain.auth.custom_auth import CUSTOM_CHALLENGE, CustomAuth, with_result
from cognate.domain.auth.device_auth import DEVICE_PASSWORD_VERIFIER, DEVICE_SRP_AUTH
from cognate.domain.auth.mfa_challenge import CODE_CHALLENGES, SELECT_MFA_TYPE
from cognate.domain.auth.mfa_setup import SETUP_EMAIL, EmailMfaSetup
from cognate.domain.auth.password_check import NEW_PASSWORD_REQUIRED
from cognate.domain.auth.steps import PASSWORDLESS, SELECT_CHALLENGE, SignInSteps, StepDeps
from cognate.domain.auth.token_customization import AUTHENTICATE_DEVICE, NEW_PASSWORD_CHALLENGE
from cognate.domain.auth.token_sessions import Activity
from cognate.domain.challenge_sessions import INVALID_SESSION, OTHER_USERS_SESSION, Challenge
from cognate.domain.client_auth import ClientScope
from cognate.domain.clock import Clock
from cognate.domain.mfa_settings import MFA_SETUP
from cognate.domain.passkeys import WEB_AUTHN
from cognate.domain.secretbox import SecretBox
from cognate.domain.sign_up import check_writable
from cognate.domain.user_store import UserStatus, write_attributes
from cognate.storage.repos import users as users_repo

_ANSWERABLE = frozenset(
    {
        srp_exchange.PASSWORD_VERIFIER,
        NEW_PASSWORD_REQUIRED,
        SELECT_CHALLENGE,
        "PASSWORD",
        "PASSWORD_SRP",
        SELECT_MFA_TYPE,
        MFA_SETUP,
        *CODE_CHALLENGES,
        WEB_AUTHN,
        DEVICE_SRP_AUTH,
        DEVICE_PASSWORD_VERIFIER,
        CUSTOM_CHALLENGE,
    }
)


class RespondToAuthChallenge:
    def __init__(
        self,
        deps: StepDeps,
        steps: SignInSteps,
        clock: Clock,
        box: SecretBox,
        custom: CustomAuth,
    ) -> None:
        self._d = deps
        self._steps = steps
        self._clock = clock
        self._box = box
        self._custom = custom
        self._email_setup = EmailMfaSetup(deps.db, clock, deps.mfa, deps.challenges)

    def respond(
        self, region: str, request: dict[str, Any], *, admin: bool, activity: Activity
    ) -> dict[str, Any]:
        with metrics.sign_in_attempt(request["ChallengeName"]):  # cognate_sign_ins_total
            return self._respond(region, request, admin=admin, activity=activity)

    def _respond(
        self, region: str, request: dict[str, Any], *, admin: bool, activity: Activity
    ) -> dict[str, Any]:
        name = request["ChallengeName"]
        responses: dict[str, str] = request.get("ChallengeResponses") or {}
        client_id = request["ClientId"]
        db = self._d.db
        if admin:
            scope = admin_client_of(db, region, request["UserPoolId"], client_id)
        else:
            scope = client_of(db, client_id)
        if name not in _ANSWERABLE:
            raise NotAuthorizedException(INVALID_SESSION)
        username = require_parameter(responses, "USERNAME")
        self._check_secret(scope, username, responses.get("SECRET_HASH"))
        if name == srp_exchange.PASSWORD_VERIFIER:
            return self._password_verifier(scope, responses, activity)
        session = request.get("Session")
        if name == DEVICE_PASSWORD_VERIFIER and not session:
            session = responses.get("PASSWORD_CLAIM_SECRET_BLOCK")  # the same token
        challenge = self._d.challenges.take(session, scope.client.pk)
        expected = SELECT_CHALLENGE if name in ("PASSWORD", "PASSWORD_SRP") else name
        if challenge.name != expected:  # not this session's challenge: it stays usable
            assert session is not None
            self._d.challenges.release(session)
            raise NotAuthorizedException(INVALID_SESSION)
        self._check_same_user(scope, challenge, username)
        assert session is not None
        if name == NEW_PASSWORD_REQUIRED:
            return self._new_password(scope, challenge, session, responses, activity)
        if name in CODE_CHALLENGES or name in (SELECT_MFA_TYPE, MFA_SETUP):
            return self._mfa(scope, challenge, session, responses, activity)
        if name == WEB_AUTHN:
            return self._passkey(scope, challenge, responses, activity)
        if name == CUSTOM_CHALLENGE:
            return self._custom_answer(scope, challenge, session, responses, activity)
        if name in (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER):
            return self._device(scope, challenge, responses, activity)
        answer = responses.get("ANSWER") if name == SELECT_CHALLENGE else name
        return self._selected(scope, challenge, answer, responses, activity)

    # ------------------------------------------------------------------------- MFA

    def _mfa(
        self,
        scope: ClientScope,
        challenge: Challenge,
        session: str,
        responses: dict[str, str],
        activity: Activity,
    ) -> dict[str, Any]:
        found = self._challenged_user(challenge)
        mfa = self._d.mfa
        if challenge.name == SELECT_MFA_TYPE:
            answer = require_parameter(responses, "ANSWER")
            if answer not in challenge.state.get("can", []):
                self._d.challenges.release(session)
                raise InvalidParameterException(f"Invalid MFA type: {answer}")
            carry = {k: v for k, v in challenge.state.items() if k == "device_key"}
            return mfa.challenge(scope, found, answer, carry)
        if challenge.name == MFA_SETUP:
            if "EMAIL" in responses:  # setting email MFA up: a code goes to the address
                return self._email_setup.start(scope, challenge, session, found, responses["EMAIL"])
            if not challenge.state.get("totp_verified"):
                raise NotAuthorizedException(INVALID_SESSION)
            mfa.set_up_totp(found)
        else:
            try:
                right = mfa.check_code(challenge, found, responses)
            except InvalidParameterException:  # no code given: the session stays usable
                self._d.challenges.release(session)
                raise
            auth_events.mfa_answered(scope, found, right)
            if not right:
                raise mfa.wrong_code(scope, challenge, session)
            if SETUP_EMAIL in challenge.state:
                found = self._email_setup.finish(scope, challenge, found)
        device_key = responses.get("DEVICE_KEY") or challenge.state.get("device_key")
        return self._steps.after_mfa(scope, found, activity, device_key, session)

    # ------------------------------------------------------------------------- passkeys

    def _passkey(
        self,
        scope: ClientScope,
        challenge: Challenge,
        responses: dict[str, str],
        activity: Activity,
    ) -> dict[str, Any]:
        found = self._challenged_user(challenge)
        if not self._d.passkeys.verify(challenge, found, responses):
            self._d.passwords.failed(found.row)
        device_key = responses.get("DEVICE_KEY") or None
        return self._steps.after_mfa(scope, found, activity, device_key)

    # ------------------------------------------------------------------------- custom

    def _custom_answer(
        self,
        scope: ClientScope,
        challenge: Challenge,
        session: str,
        responses: dict[str, str],
        activity: Activity,
    ) -> dict[str, Any]:
        """A CUSTOM_CHALLENGE answer: VerifyAuthChallengeResponse, then the next round."""
        found = self._challenged_user(challenge) if challenge.user_pk is not None else None
        answer = responses.get("ANSWER")
        if answer is None:
            self._d.challenges.release(session)
            raise InvalidParameterException("Missing required parameter ANSWER")
        given = str(challenge.state.get("given") or challenge.state.get("username") or "")
        custom = self._custom.verify(scope, found, challenge.state, answer, activity)
        outcome = self._custom.next_round(scope, found, given, activity, custom)
        return self._steps.custom_outcome(scope, found, given, outcome, activity, custom)

    # ------------------------------------------------------------------------- devices

    def _device(
        self,
        scope: ClientScope,
        challenge: Challenge,
        responses: dict[str, str],
        activity: Activity,
    ) -> dict[str, Any]:
        found = self._challenged_user(challenge)
        device_auth = self._d.device_auth
        if challenge.name == DEVICE_SRP_AUTH:
            return device_auth.start(scope, found, challenge, responses)
        device_key = device_auth.verify(challenge, found, responses)
        return self._d.completion.sign_in(
            scope, found, activity=activity, device_key=device_key, source=AUTHENTICATE_DEVICE
        )

    # ------------------------------------------------------------------------- SRP proof

    def _password_verifier(
        self, scope: ClientScope, responses: dict[str, str], activity: Activity
    ) -> dict[str, Any]:
        block = require_parameter(responses, "PASSWORD_CLAIM_SECRET_BLOCK")
        signature = require_parameter(responses, "PASSWORD_CLAIM_SIGNATURE")
        timestamp = require_parameter(responses, "TIMESTAMP")
        try:
            challenge = self._d.challenges.take(block, scope.client.pk)
        except NotAuthorizedException as exc:
            if exc.message == INVALID_SESSION:  # a forged secret block: a wrong proof
                raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS) from None
            raise
        if challenge.name != srp_exchange.PASSWORD_VERIFIER:
            raise NotAuthorizedException(INVALID_SESSION)
        self._check_same_user(scope, challenge, responses["USERNAME"])
        exchange = srp_exchange.Ephemeral.from_state(challenge.state)
        signed = srp_exchange.canonical_timestamp(timestamp, self._clock.now_ms())
        found = self._user(challenge)
        if found is None:  # a simulated challenge, or the user was deleted meanwhile
            raise NotAuthorizedException(messages.INCORRECT_CREDENTIALS)
        user = found.row
        self._d.passwords.before_password(user)
        record = self._d.vault.open(user)
        pool_id = scope.pool.pool.id
        matched = record is not None and srp_exchange.signature_matches(
            exchange, srp.pool_name(pool_id), int(record.verifier, 16), block, signed, signature
        )
        custom = challenge.state.get("custom")
        if custom is not None:  # CUSTOM_AUTH's password step: DefineAuthChallenge decides
            if not matched:
                with contextlib.suppress(NotAuthorizedException):
                    self._d.passwords.failed(user)  # counts toward the lockout
            custom = with_result(custom, srp_exchange.PASSWORD_VERIFIER, matched)
            given = str(challenge.state.get("given") or user.username)
            outcome = self._custom.next_round(scope, found, given, activity, custom)
            return self._steps.custom_outcome(scope, found, given, outcome, activity, custom)
        if not matched:
            auth_events.failed_password(scope, user, activity)
            self._d.passwords.failed(user)
        device_key = responses.get("DEVICE_KEY") or challenge.state.get("device_key")
        return self._steps.after_password(scope, found, activity, device_key or None)

    # ------------------------------------------------------------------------- new password

    def _new_password(
        self,
        scope: ClientScope,
        challenge: Challenge,
        session: str,
        responses: dict[str, str],
        activity: Activity,
    ) -> dict[str, Any]:
        found = self._user(challenge)
        if found is None:
            raise NotAuthorizedException(INVALID_SESSION)
        try:
            password, changes = self._checked_answer(scope, found, responses)
        except ServiceError:
            self._d.challenges.release(session)
            raise
        user = found.row
        pool = scope.pool
        policy = passwords.policy_of(pool.settings)
        size = int(policy.get("PasswordHistorySize") or 0)
        vault = self._d.vault

        def apply(conn: Connection) -> None:
            current = users_repo.by_pk(conn, user.pk, for_update=True)
            if current is None or current.status != UserStatus.FORCE_CHANGE_PASSWORD.value:
                raise NotAuthorizedException(INVALID_SESSION)
            history = vault.open_history(current)
            passwords.check_history(history, pool.pool.id, user.username, password, size)
            record = passwords.make_record(pool.pool.id, user.username, password)
            if changes:
                old = users_repo.attributes(conn, user.pk)
                write_attributes(
                    conn, pool, user.pk, old, {**old, **changes}, creating=False, force_alias=False
                )
            users_repo.update(
                conn,
                user.pk,
                password_enc=vault.seal(user.sub, record),
                password_history_enc=vault.seal_history(
                    user.sub, passwords.with_history(history, record, size)
                ),
                password_expires_at=None,
                status=UserStatus.CONFIRMED.value,
                updated_at=self._clock.now_ms(),
            )

        try:
            self._d.db.write("new_password", apply)
        except (
            AliasExistsException,
            InvalidParameterException,
            PasswordHistoryPolicyViolationException,
        ):
            self._d.challenges.release(session)
            raise
        updated = user_by_pk(self._d.db, user.pk)
        if updated is None:
            raise NotAuthorizedException(INVALID_SESSION)
        return self._steps.after_new_password(
            scope, updated, activity, source=NEW_PASSWORD_CHALLENGE
        )

    def _checked_answer(
        self, scope: ClientScope, found: SignInUser, responses: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        password = require_parameter(responses, "NEW_PASSWORD")
        pool = scope.pool
        passwords.check_policy(
            password, passwords.policy_of(pool.settings), passwords.PREFIX_CHANGE
        )
        prefix = "userAttributes."
        given = {k[len(prefix) :]: v for k, v in responses.items() if k.startswith(prefix)}
        required = pool.schema.required()
        for name in required:
            if name in given and found.attributes.get(name):
                raise NotAuthorizedException(messages.cannot_modify_attribute(name))
        missing = [n for n in required if not found.attributes.get(n) and not given.get(n)]
        if missing:
            raise InvalidParameterException(messages.attribute_missing(" and ".join(missing)))
        if not given:
            return password, {}
        check_writable(scope, list(given))
        changes = pool.schema.check_changes([{"Name": k, "Value": v} for k, v in given.items()])
        return password, {k: v for k, v in changes.items() if v != ""}

    # ------------------------------------------------------------------------- USER_AUTH

    def _selected(
        self,
        scope: ClientScope,
        challenge: Challenge,
        answer: str | None,
        responses: dict[str, str],
        activity: Activity,
    ) -> dict[str, Any]:
        found = self._user(challenge)
        username = str(challenge.state.get("username", ""))
        available = self._steps.available_factors(scope, found)
        if answer not in available:
            raise InvalidParameterException(
                f"The challenge answer is not one of the available challenges: {answer}"
            )
        if answer == "PASSWORD":
            password = require_parameter(responses, "PASSWORD")
            return self._steps.password(scope, found, password, activity)
        if answer in PASSWORDLESS:
            return self._steps.first_factor(scope, found, answer)
        srp_a = require_parameter(responses, "SRP_A")
        return self._steps.start_srp(scope, found, username, srp_a)

    # ------------------------------------------------------------------------- helpers

    def _challenged_user(self, challenge: Challenge) -> SignInUser:
        """The user a later step's session belongs to, still able to sign in (not disabled,
        deleted or locked out since the step before)."""
        found = self._user(challenge)
        if found is None:
            raise NotAuthorizedException(INVALID_SESSION)
        self._d.passwords.before_password(found.row)
        return found

    def _user(self, challenge: Challenge) -> SignInUser | None:
        if challenge.user_pk is None:
            return None
        return user_by_pk(self._d.db, challenge.user_pk)

    def _check_same_user(self, scope: ClientScope, challenge: Challenge, username: str) -> None:
        """The answer's USERNAME must name the user the session belongs to (their username,
        USER_ID_FOR_SRP, or the name they signed in with)."""
        state = challenge.state
        names = {state.get("username"), state.get("user_id"), state.get("given")}
        if username in names:
            return
        if challenge.user_pk is not None:
            found = find_sign_in_user(self._d.db, scope.pool, username)
            if found is not None and found.row.pk == challenge.user_pk:
                return
        elif scope.pool.sign_in.username_key(username) in {
            scope.pool.sign_in.username_key(str(n)) for n in names if n
        }:
            return
        raise NotAuthorizedException(OTHER_USERS_SESSION)

    def _check_secret(self, scope: ClientScope, username: str, given: str | None) -> None:
        check_client_secret_hash(self._d.db, self._box, scope, username, given)
