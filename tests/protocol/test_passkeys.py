"""Passkeys (WebAuthn) through boto3: registration (StartWebAuthnRegistration's creation
options, CompleteWebAuthnRegistration and what it refuses: a pool without WEB_AUTHN, no or
a used challenge, another app client, a foreign origin or relying party, missing user
verification, the 20-passkey limit), ListWebAuthnCredentials / DeleteWebAuthnCredential,
and signing in with a passkey by USER_AUTH's WEB_AUTHN challenge (preferred or chosen from
SELECT_CHALLENGE, by InitiateAuth and AdminInitiateAuth), with what it refuses (another
user's passkey, a replayed or cloned assertion), passkeys under required MFA, and how
(Admin)GetUserAuthFactors report them.

Credentials are made by a software authenticator (tests/support/authenticator.py) at the
origin http://localhost:3000; the server's relying party is `localhost` unless the pool's
WebAuthnConfiguration names one. The module's server has a clock the tests move
(tests/support/clock.py) for expiry and lockout. Passwordless codes are test_passwordless.py's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.auth import INCORRECT, claims, error
from tests.support.authenticator import SoftwareAuthenticator, b64url
from tests.support.clock import ShiftedClock
from tests.support.clocked_server import clocked_server
from tests.support.mfa import assert_tokens, challenge_of
from tests.support.server import CognateServer
from tests.support.user_auth import (
    ORIGIN,
    VERIFIED_EMAIL,
    ChoicePool,
    choice_pool,
    request_options,
)

USED_SESSION = (
    "NotAuthorizedException",
    "Invalid session for the user, session can only be used once.",
)
EXPIRED_SESSION = ("NotAuthorizedException", "Invalid session for the user, session is expired.")
ATTEMPTS_EXCEEDED = ("NotAuthorizedException", "Password attempts exceeded")
PASSKEY_MFA = "MULTI_FACTOR_WITH_USER_VERIFICATION"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clocked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CognateServer, ShiftedClock]]:
    workdir = tmp_path_factory.mktemp(f"passkeys-{request.param}")
    with clocked_server(request.param, workdir) as pair:
        yield pair


@pytest.fixture
def server(clocked: tuple[CognateServer, ShiftedClock]) -> CognateServer:
    """This module's server (the `cognito` fixture talks to it)."""
    return clocked[0]


@pytest.fixture
def clock(clocked: tuple[CognateServer, ShiftedClock]) -> Iterator[ShiftedClock]:
    shifted = clocked[1]
    shifted.reset()
    yield shifted
    shifted.reset()


@pytest.fixture
def pool(server: CognateServer, cognito: Any) -> ChoicePool:
    """A pool allowing every first factor, with alice (a verified email)."""
    made = choice_pool(server, cognito)
    made.user("alice", **VERIFIED_EMAIL)
    return made


@pytest.fixture
def key() -> SoftwareAuthenticator:
    return SoftwareAuthenticator()


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return error(exc)


def code_of(call: Callable[[], Any]) -> str:
    return refused(call)[0]


def listed(pool: ChoicePool, token: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = pool.cognito.list_web_authn_credentials(
        AccessToken=token, **params
    )["Credentials"]
    return found


# ----------------------------------------------------------------------------- registration


def test_creation_options(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    token = pool.access_token()
    options = pool.creation_options(token)
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == "alice"
    sub = pool.cognito.get_user(AccessToken=token)["UserAttributes"]
    assert options["user"]["id"] == b64url(
        next(a["Value"] for a in sub if a["Name"] == "sub").encode()
    )
    assert len(options["challenge"]) >= 22
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    selection = options["authenticatorSelection"]
    assert (selection["userVerification"], selection["residentKey"]) == ("preferred", "required")
    assert not options.get("excludeCredentials")
    # a new start has a new challenge, and excludes the passkeys the user already has
    credential_id = pool.register(key, access_token=token)
    again = pool.creation_options(token)
    assert again["challenge"] != options["challenge"]
    assert [c["id"] for c in again["excludeCredentials"]] == [credential_id]


def test_configured_relying_party_and_user_verification(
    pool: ChoicePool, key: SoftwareAuthenticator
) -> None:
    configured = pool.cognito.set_user_pool_mfa_config(
        UserPoolId=pool.pool_id,
        WebAuthnConfiguration={
            "RelyingPartyId": "auth.example.com",
            "UserVerification": "required",
        },
    )
    assert configured["WebAuthnConfiguration"]["RelyingPartyId"] == "auth.example.com"
    token = pool.access_token()
    options = pool.creation_options(token)
    assert options["rp"]["id"] == "auth.example.com"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    # the app may run on a subdomain of the relying party, over https
    pool.register(key, access_token=token, origin="https://app.auth.example.com")
    assert [c["RelyingPartyId"] for c in listed(pool, token)] == ["auth.example.com"]
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    options = request_options(challenge)
    assert (options["rpId"], options["userVerification"]) == ("auth.example.com", "required")
    done = pool.passkey_answer(challenge, key, origin="https://auth.example.com")
    assert_tokens(done, pool.client_id)


def test_register_list_and_delete(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    token = pool.access_token()
    before = dt.datetime.now(dt.UTC)
    first = pool.register(key, access_token=token)
    second = pool.register(key, access_token=token)
    credentials = listed(pool, token)
    assert [c["CredentialId"] for c in credentials] == [first, second]
    described = credentials[0]
    created = described.pop("CreatedAt")
    assert abs((created - before).total_seconds()) < 60
    assert described == {
        "CredentialId": first,
        "FriendlyCredentialName": "Passkey",
        "RelyingPartyId": "localhost",
        "AuthenticatorAttachment": "platform",
        "AuthenticatorTransports": ["internal", "hybrid"],
    }
    page = pool.cognito.list_web_authn_credentials(AccessToken=token, MaxResults=1)
    assert [c["CredentialId"] for c in page["Credentials"]] == [first]
    rest = pool.cognito.list_web_authn_credentials(
        AccessToken=token, MaxResults=1, NextToken=page["NextToken"]
    )
    assert [c["CredentialId"] for c in rest["Credentials"]] == [second]
    assert "NextToken" not in rest
    # another user sees none of them and cannot delete them
    pool.user("bob")
    bob = pool.access_token("bob")
    assert listed(pool, bob) == []
    delete = pool.cognito.delete_web_authn_credential
    assert code_of(lambda: delete(AccessToken=bob, CredentialId=first)) == (
        "ResourceNotFoundException"
    )
    delete(AccessToken=token, CredentialId=first)
    assert [c["CredentialId"] for c in listed(pool, token)] == [second]
    assert code_of(lambda: delete(AccessToken=token, CredentialId=first)) == (
        "ResourceNotFoundException"
    )
    assert code_of(lambda: delete(AccessToken=token, CredentialId="bm8tc3VjaA")) == (
        "ResourceNotFoundException"
    )


def test_passkeys_need_web_authn_among_first_factors(
    server: CognateServer, cognito: Any, key: SoftwareAuthenticator
) -> None:
    pool = choice_pool(server, cognito, ["PASSWORD", "EMAIL_OTP"])
    pool.user()
    token = pool.access_token()
    start = pool.cognito.start_web_authn_registration
    assert code_of(lambda: start(AccessToken=token)) == "WebAuthnNotEnabledException"
    assert listed(pool, token) == []


def test_complete_needs_a_started_registration(
    pool: ChoicePool, key: SoftwareAuthenticator
) -> None:
    complete = pool.cognito.complete_web_authn_registration
    token = pool.access_token()
    credential = key.create(pool.creation_options(token), ORIGIN)
    # bob never started one: alice's challenge is not his
    pool.user("bob")
    bob = pool.access_token("bob")
    assert code_of(lambda: complete(AccessToken=bob, Credential=credential)) == (
        "WebAuthnChallengeNotFoundException"
    )
    complete(AccessToken=token, Credential=credential)
    # a challenge is answered once
    assert code_of(lambda: complete(AccessToken=token, Credential=credential)) == (
        "WebAuthnChallengeNotFoundException"
    )
    assert len(listed(pool, token)) == 1


def test_complete_by_another_app_client(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    started_by = pool.access_token()
    other = pool.access_token(client_id=pool.client())
    credential = key.create(pool.creation_options(started_by), ORIGIN)
    assert code_of(
        lambda: pool.cognito.complete_web_authn_registration(
            AccessToken=other, Credential=credential
        )
    ) == ("WebAuthnClientMismatchException")
    assert listed(pool, started_by) == []


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("https://localhost", True),
        ("https://app.localhost", True),  # a subdomain of the relying party
        ("https://evil.example", False),
        ("https://localhost.evil.example", False),
        ("https://notlocalhost", False),
        ("http://app.localhost", False),  # plain http only for localhost itself
    ],
)
def test_registration_origin(
    pool: ChoicePool, key: SoftwareAuthenticator, origin: str, allowed: bool
) -> None:
    token = pool.access_token()
    credential = key.create(pool.creation_options(token), origin)
    complete = pool.cognito.complete_web_authn_registration
    if allowed:
        complete(AccessToken=token, Credential=credential)
        assert [c["CredentialId"] for c in listed(pool, token)] == [credential["id"]]
    else:
        assert code_of(lambda: complete(AccessToken=token, Credential=credential)) == (
            "WebAuthnOriginNotAllowedException"
        )
        assert listed(pool, token) == []


def test_credential_for_another_relying_party(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    token = pool.access_token()
    credential = key.create(pool.creation_options(token), ORIGIN, rp_id="other.example")
    assert code_of(
        lambda: pool.cognito.complete_web_authn_registration(
            AccessToken=token, Credential=credential
        )
    ) == ("WebAuthnRelyingPartyMismatchException")
    assert listed(pool, token) == []


def test_required_user_verification(pool: ChoicePool) -> None:
    pool.cognito.set_user_pool_mfa_config(
        UserPoolId=pool.pool_id, WebAuthnConfiguration={"UserVerification": "required"}
    )
    token = pool.access_token()
    unverified = SoftwareAuthenticator(user_verified=False)
    credential = unverified.create(pool.creation_options(token), ORIGIN)
    assert code_of(
        lambda: pool.cognito.complete_web_authn_registration(
            AccessToken=token, Credential=credential
        )
    ) == ("InvalidParameterException")
    assert listed(pool, token) == []
    pool.register(SoftwareAuthenticator(), access_token=token)
    assert len(listed(pool, token)) == 1


def test_at_most_twenty_passkeys(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    token = pool.access_token()
    for _ in range(20):
        pool.register(key, access_token=token)
    start = pool.cognito.start_web_authn_registration
    assert code_of(lambda: start(AccessToken=token)) == "LimitExceededException"
    page = pool.cognito.list_web_authn_credentials(AccessToken=token)
    assert (len(page["Credentials"]), "NextToken" in page) == (20, False)
    pool.cognito.delete_web_authn_credential(
        AccessToken=token, CredentialId=page["Credentials"][0]["CredentialId"]
    )
    pool.register(key, access_token=token)  # room for one again


# ----------------------------------------------------------------------------- sign-in


@pytest.mark.parametrize("admin", [False, True], ids=["public", "admin"])
def test_sign_in_with_preferred_web_authn(
    pool: ChoicePool, key: SoftwareAuthenticator, admin: bool
) -> None:
    credential_id = pool.register(key)
    challenge = pool.start(admin=admin, PREFERRED_CHALLENGE="WEB_AUTHN")
    parameters = challenge_of(challenge, "WEB_AUTHN")
    assert parameters["USERNAME"] == "alice"
    options = request_options(challenge)
    assert options["rpId"] == "localhost"
    assert options["userVerification"] == "preferred"
    assert [c["id"] for c in options["allowCredentials"]] == [credential_id]
    done = pool.passkey_answer(challenge, key, admin=admin)
    assert_tokens(done, pool.client_id)
    assert "RefreshToken" in done["AuthenticationResult"]
    # the counter moved on; the next sign-in (a new challenge) works too
    again = pool.start(admin=admin, PREFERRED_CHALLENGE="WEB_AUTHN")
    assert request_options(again)["challenge"] != options["challenge"]
    assert_tokens(pool.passkey_answer(again, key, admin=admin), pool.client_id)


def test_sign_in_with_web_authn_from_the_menu(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    pool.register(key)
    assert pool.available() == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "WEB_AUTHN"]
    challenge = pool.select("WEB_AUTHN")
    done = pool.passkey_answer(challenge, key)
    assert_tokens(done, pool.client_id)
    assert claims(done["AuthenticationResult"]["IdToken"])["cognito:username"] == "alice"


def test_another_users_passkey_is_refused(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    pool.register(key)
    pool.user("bob")
    bobs = SoftwareAuthenticator()
    pool.register(bobs, "bob")
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    options = request_options(challenge)
    assertion = bobs.get(options, ORIGIN, passkey=bobs.passkeys[0])
    answer = json.dumps(assertion)
    assert refused(lambda: pool.answer(challenge, CREDENTIAL=answer)) == INCORRECT
    # bob's own passkey signs bob in
    bob_challenge = pool.start("bob", PREFERRED_CHALLENGE="WEB_AUTHN")
    assert_tokens(pool.passkey_answer(bob_challenge, bobs, "bob"), pool.client_id, "bob")


def test_replayed_assertion_is_refused(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    pool.register(key)
    first = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assertion = json.dumps(key.get(request_options(first), ORIGIN))
    assert_tokens(pool.answer(first, CREDENTIAL=assertion), pool.client_id)
    # the same session is used up; a new one has a challenge the old assertion did not sign
    assert refused(lambda: pool.answer(first, CREDENTIAL=assertion)) == USED_SESSION
    second = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assert refused(lambda: pool.answer(second, CREDENTIAL=assertion)) == INCORRECT


def test_cloned_authenticator_is_refused(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    pool.register(key)
    assert_tokens(
        pool.passkey_answer(pool.start(PREFERRED_CHALLENGE="WEB_AUTHN"), key), pool.client_id
    )
    assert_tokens(
        pool.passkey_answer(pool.start(PREFERRED_CHALLENGE="WEB_AUTHN"), key), pool.client_id
    )
    key.passkeys[0].sign_count = 0  # a copy of the key that has signed less
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assert refused(lambda: pool.passkey_answer(challenge, key)) == INCORRECT


def test_answer_without_credential_and_deleted_passkey(
    pool: ChoicePool, key: SoftwareAuthenticator
) -> None:
    token = pool.access_token()
    credential_id = pool.register(key, access_token=token)
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assert code_of(lambda: pool.answer(challenge)) == "InvalidParameterException"
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    pool.cognito.delete_web_authn_credential(AccessToken=token, CredentialId=credential_id)
    assert refused(lambda: pool.passkey_answer(challenge, key)) == INCORRECT


def test_no_passkey_no_web_authn(pool: ChoicePool) -> None:
    assert "WEB_AUTHN" not in pool.available()
    # preferring it falls back to the menu
    menu = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assert menu["ChallengeName"] == "SELECT_CHALLENGE"
    assert "WEB_AUTHN" not in menu["AvailableChallenges"]
    assert code_of(lambda: pool.answer(menu, ANSWER="WEB_AUTHN")) == "InvalidParameterException"


def test_disabled_user_with_a_passkey(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    pool.register(key)
    pool.cognito.admin_disable_user(UserPoolId=pool.pool_id, Username="alice")
    disabled = ("NotAuthorizedException", "User is disabled.")
    assert refused(lambda: pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")) == disabled
    # disabled while the challenge was open: the passkey no longer signs in
    pool.cognito.admin_enable_user(UserPoolId=pool.pool_id, Username="alice")
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    pool.cognito.admin_disable_user(UserPoolId=pool.pool_id, Username="alice")
    assert refused(lambda: pool.passkey_answer(challenge, key)) == disabled


def test_passkeys_under_required_mfa(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    token = pool.access_token()
    pool.register(key, access_token=token)
    pool.cognito.set_user_mfa_preference(AccessToken=token, WebAuthnMfaSettings={"Enabled": True})
    # MFA required, passkeys a single factor: a passkey is not enough
    pool.cognito.set_user_pool_mfa_config(
        UserPoolId=pool.pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"FactorConfiguration": "SINGLE_FACTOR"},
    )
    assert pool.available() == ["PASSWORD", "PASSWORD_SRP"]
    assert pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")["ChallengeName"] == "SELECT_CHALLENGE"
    # passkeys with user verification count as MFA for users who turned that on
    pool.cognito.set_user_pool_mfa_config(
        UserPoolId=pool.pool_id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"FactorConfiguration": PASSKEY_MFA},
    )
    assert pool.available() == ["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"]
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assert request_options(challenge)["userVerification"] == "required"
    key.user_verified = False
    assert refused(lambda: pool.passkey_answer(challenge, key)) == INCORRECT
    key.user_verified = True
    done = pool.passkey_answer(pool.start(PREFERRED_CHALLENGE="WEB_AUTHN"), key)
    assert_tokens(done, pool.client_id)
    # turned off for the user: the passkey is no longer offered
    pool.cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.pool_id, Username="alice", WebAuthnMfaSettings={"Enabled": False}
    )
    assert "WEB_AUTHN" not in pool.available()
    # another user of the pool, without WebAuthn MFA, is not offered it either
    pool.user("bob")
    assert "WEB_AUTHN" not in pool.available("bob")


def test_auth_factors_list_web_authn(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    token = pool.access_token()

    def factors() -> list[str]:
        own = pool.cognito.get_user_auth_factors(AccessToken=token)
        admin = pool.cognito.admin_get_user_auth_factors(UserPoolId=pool.pool_id, Username="alice")
        assert own["ConfiguredUserAuthFactors"] == admin["ConfiguredUserAuthFactors"]
        assert own["Username"] == admin["Username"] == "alice"
        found: list[str] = own["ConfiguredUserAuthFactors"]
        return found

    assert factors() == ["PASSWORD", "EMAIL_OTP"]
    credential_id = pool.register(key, access_token=token)
    assert factors() == ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"]
    pool.cognito.delete_web_authn_credential(AccessToken=token, CredentialId=credential_id)
    assert factors() == ["PASSWORD", "EMAIL_OTP"]


def test_sign_in_from_a_foreign_origin(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    pool.register(key)
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    assert refused(lambda: pool.passkey_answer(challenge, key, origin="https://evil.example")) == (
        INCORRECT
    )
    # from the app's own origin (a subdomain of the relying party) it works
    done = pool.passkey_answer(
        pool.start(PREFERRED_CHALLENGE="WEB_AUTHN"), key, origin="https://app.localhost"
    )
    assert_tokens(done, pool.client_id)


def test_passkeys_go_with_their_user(pool: ChoicePool, key: SoftwareAuthenticator) -> None:
    pool.register(key)
    pool.cognito.admin_delete_user(UserPoolId=pool.pool_id, Username="alice")
    pool.user("alice", **VERIFIED_EMAIL)
    token = pool.access_token()
    assert listed(pool, token) == []
    assert "WEB_AUTHN" not in pool.available()
    # the old passkey does not sign the new alice in
    pool.register(SoftwareAuthenticator(), access_token=token)
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    old = json.dumps(key.get(request_options(challenge), ORIGIN, passkey=key.passkeys[0]))
    assert refused(lambda: pool.answer(challenge, CREDENTIAL=old)) == INCORRECT


# ----------------------------------------------------------------------------- time


def test_registration_lasts_five_minutes(
    pool: ChoicePool, key: SoftwareAuthenticator, clock: ShiftedClock
) -> None:
    token = pool.access_token()
    complete = pool.cognito.complete_web_authn_registration
    late = key.create(pool.creation_options(token), ORIGIN)
    clock.shift(minutes=5, seconds=1)
    assert code_of(lambda: complete(AccessToken=token, Credential=late)) == (
        "WebAuthnChallengeNotFoundException"
    )
    in_time = key.create(pool.creation_options(token), ORIGIN)
    clock.shift(minutes=4)
    complete(AccessToken=token, Credential=in_time)
    assert [c["CredentialId"] for c in listed(pool, token)] == [in_time["id"]]


def test_web_authn_session_expires(
    pool: ChoicePool, key: SoftwareAuthenticator, clock: ShiftedClock
) -> None:
    pool.register(key)
    challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
    clock.shift(minutes=3, seconds=5)  # the client's AuthSessionValidity: 3 minutes
    assert refused(lambda: pool.passkey_answer(challenge, key)) == EXPIRED_SESSION


def test_refused_passkeys_lock_the_user_out(
    pool: ChoicePool, key: SoftwareAuthenticator, clock: ShiftedClock
) -> None:
    pool.register(key)
    forger = SoftwareAuthenticator()
    pool.user("mallory")
    pool.register(forger, "mallory")
    for _ in range(5):
        challenge = pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")
        forged = forger.get(request_options(challenge), ORIGIN, passkey=forger.passkeys[0])
        with pytest.raises(ClientError) as exc:
            pool.answer(challenge, CREDENTIAL=json.dumps(forged))
        assert error(exc) == INCORRECT
    # locked out: even the right passkey (and the password) are refused for now
    assert refused(lambda: pool.start(PREFERRED_CHALLENGE="WEB_AUTHN")) == ATTEMPTS_EXCEEDED
    clock.shift(seconds=2)
    done = pool.passkey_answer(pool.start(PREFERRED_CHALLENGE="WEB_AUTHN"), key)
    assert_tokens(done, pool.client_id)
