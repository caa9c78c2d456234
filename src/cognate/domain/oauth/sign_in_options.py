"""The sign-in options of /oauth2/authorize and /login: `prompt`, `lang`,
`identity_provider` / `idp_identifier`, and the app client's SupportedIdentityProviders;
what each request is answered with (`authorize_step`, `login_step`).

What Cognito documents (developer guide, "The redirect and authorization endpoint",
"The managed login sign-in endpoint: /login", "Managed login localization"), and what was
chosen where it is silent (marked *chosen*):

- `identity_provider` / `idp_identifier` present: /oauth2/authorize sends the user
  straight to that provider's sign-in page, otherwise to /login with the same query.
  `identity_provider=COGNITO` is the user pool's own directory (the hosted login).
  A name that is not one of the client's SupportedIdentityProviders is a problem with
  the request's parameters once client_id and redirect_uri are good, so (the guide's
  rule for those) a redirect with `error=invalid_request` (and `state`). *Chosen*: the
  wording of its `error_description`; `identity_provider` wins when both are given.
  `idp_identifier` names a provider through its IdpIdentifiers (an unknown one is
  `invalid_request` too).
- A provider other than COGNITO that the client supports: `Step.FEDERATION`, answered
  by web/oauth/federation.py with the redirect to that provider's sign-in page.
- A client without COGNITO in SupportedIdentityProviders (an empty list included) gets
  no username/password form: /login shows Cognito's "Login option is not available.
  Please try another one." (*chosen*: HTTP 400), or, when the client has other
  providers, a login page that offers only those (`Step.FEDERATION` with no provider).
  A hosted session does not sign such a client in either.
- `prompt` (OIDC; space-separated): `login` asks for the password again even with a
  hosted session (the session is kept, and replaced by the new sign-in's); `none`
  answers without any page: a code or tokens with a valid session, otherwise a redirect
  with `error=login_required` (and `state`). `select_account` and `consent` change
  nothing for the user pool's own directory (Cognito passes them on to third-party
  providers only). *Chosen*, after OIDC Core 3.1.2.1: `none` with another value, or a
  value outside these four, is `invalid_request`. A hosted session counts for
  `prompt=none` only when the request names no provider or COGNITO (Cognito answers
  `login_required` when the session is not the named provider's).
- `lang`: managed login is English by default and can be shown in the languages listed
  below. These pages exist in English only, so a listed code is kept on the request
  and carried in the query from page to page, the pages stay `<html lang="en">`, and
  there is no language cookie. *Chosen*: an unlisted code is ignored (not an error),
  matched without regard to case.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from cognate.domain.oauth.errors import OAuthError, PageError

COGNITO = "COGNITO"
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
# Managed login localization: the languages of the AWS Management Console.
LANGUAGES = ("de", "en", "es", "fr", "id", "it", "ja", "ko", "nl", "pt-BR", "zh-CN", "zh-TW")
# The key of a terms document's Links for each language (CreateTerms' LinksType).
TERMS_LANGUAGE = {
    "de": "german", "en": "english", "es": "spanish", "fr": "french",
    "id": "bahasa-indonesia", "it": "italian", "ja": "japanese", "ko": "korean",
    "nl": "dutch", "pt-BR": "portuguese-brazil", "zh-CN": "chinese-simplified",
    "zh-TW": "chinese-traditional",
}  # fmt: skip
_LANGUAGE_OF = {code.lower(): code for code in LANGUAGES}
NO_LOGIN_OPTION = "Login option is not available. Please try another one."


class Step(Enum):
    """What a request to /oauth2/authorize or /login is answered with."""

    GRANT = "grant"  # the redirect with a code or tokens
    LOGIN_PAGE = "login_page"  # /oauth2/authorize: on to /login with the same query
    LOGIN_REQUIRED = "login_required"  # prompt=none without a usable session
    FEDERATION = "federation"  # a third-party provider (web/oauth/federation.py)
    NO_LOGIN_OPTION = "no_login_option"  # the client offers no way to sign in


def prompts(value: str | None) -> frozenset[str]:
    wanted = frozenset((value or "").split())
    if not wanted <= PROMPTS:
        unknown = " ".join(sorted(wanted - PROMPTS))
        raise OAuthError("invalid_request", f"Invalid prompt value: {unknown}")
    if "none" in wanted and len(wanted) > 1:
        raise OAuthError("invalid_request", "prompt=none cannot be combined with other values")
    return wanted


def language(value: str | None) -> str | None:
    """A managed login language code in its documented form; None for anything else."""
    return _LANGUAGE_OF.get((value or "").strip().lower())


def providers_of(settings: dict[str, Any]) -> tuple[str, ...]:
    return tuple(settings.get("SupportedIdentityProviders") or ())


def provider_of_identifier(
    identifier: str, lookup: Callable[[str], str | None] | None
) -> str | None:
    """The name of the provider whose IdpIdentifiers include `identifier`; `lookup` reads
    the pool's (federation.providers.provider_of_identifier)."""
    return lookup(identifier) if lookup is not None else None


def requested_provider(
    providers: tuple[str, ...],
    query: dict[str, str],
    lookup: Callable[[str], str | None] | None = None,
) -> str | None:
    """The provider the query names (`identity_provider`, else `idp_identifier`), which
    must be one of the client's; None when it names none."""
    name = query.get("identity_provider") or None
    identifier = query.get("idp_identifier") or None
    if name is None and identifier is None:
        return None
    if name is None:
        assert identifier is not None
        name = provider_of_identifier(identifier, lookup)
        if name is None:
            raise OAuthError("invalid_request", f"Unknown idp_identifier: {identifier}")
    if name not in providers:
        raise OAuthError(
            "invalid_request", f"The identity provider {name} is not enabled for this client."
        )
    return name


def authorize_step(
    prompt: frozenset[str], provider: str | None, providers: tuple[str, ...], has_session: bool
) -> Step:
    usable = has_session and COGNITO in providers and provider in (None, COGNITO)
    if "none" in prompt:
        return Step.GRANT if usable else Step.LOGIN_REQUIRED
    if provider not in (None, COGNITO):
        return Step.FEDERATION
    if usable and "login" not in prompt:
        return Step.GRANT
    return Step.LOGIN_PAGE


def login_step(
    prompt: frozenset[str],
    provider: str | None,
    providers: tuple[str, ...],
    has_session: bool,
    showing: bool,
) -> Step | None:
    """/login takes the authorize query. None: show (`showing`, a GET) or accept (a POST)
    the username/password form; otherwise what to answer instead."""
    if showing and "none" in prompt:
        return authorize_step(prompt, provider, providers, has_session)
    if provider not in (None, COGNITO):
        return Step.FEDERATION
    if COGNITO not in providers:
        return Step.FEDERATION if providers else Step.NO_LOGIN_OPTION
    return None


def refusal(step: Step, provider: str | None, providers: tuple[str, ...]) -> PageError:
    """The error page of a step that ends on one (FEDERATION, NO_LOGIN_OPTION)."""
    if step is Step.NO_LOGIN_OPTION:
        return PageError(NO_LOGIN_OPTION)
    names = provider or ", ".join(p for p in providers if p != COGNITO)
    message = (
        f"Signing in through {names} needs federation with third-party identity providers, "
        "which this server does not support yet."
    )
    if COGNITO in providers:
        message += " Sign in with a user of the user pool (identity_provider=COGNITO) instead."
    return PageError(message, 501)
