"""The CustomMessage trigger, and why a message is sent (for it and the custom senders).

Cognito runs the pool's CustomMessage function before it sends a code or an invitation
(`CustomMessage_SignUp`, `_AdminCreateUser`, `_ResendCode`, `_ForgotPassword`,
`_UpdateUserAttribute`, `_VerifyUserAttribute`, `_Authentication`). The function sees only
placeholders (`codeParameter` "{####}", `usernameParameter` "{username}" for invitations,
`linkParameter`), never the code, and returns `smsMessage` / `emailMessage` /
`emailSubject`; Cognito puts the code into what it returned.

So the function runs before the transaction that issues the code and queues the message,
which renders the code into the returned text. An operation that may send says why in a
`MessageContext` (the triggerSource suffix, its app client and ClientMetadata) and runs its
write through `Notifier.write`. When the notifier is asked to send in a pool with a
CustomMessage trigger and holds no reply for that context yet, it raises
`NeedsCustomMessage` with what the event needs (read in that transaction); `Notifier.write`
lets the transaction roll back, runs the function outside any transaction, keeps its
reply in the context and runs the transaction again, which then renders the message. A
failing function thus fails the operation with nothing written.

What Cognito does with a returned message (the documented rules, and Cognate's choices
where it documents none):

* a message must contain the code placeholder (an invitation also the username one);
  one that does not is ignored (an email's subject with it) and the pool's own template
  is used for that medium (Cognito's documentation only says "must"; its users
  report the default message arriving instead);
* a null (or empty) field leaves the template's text: a function may set only the
  subject, or only the SMS text;
* `emailMessage` / `emailSubject` are honoured only when the pool's EmailSendingAccount is
  DEVELOPER; otherwise returning them is `InvalidLambdaResponseException` (checked when an
  email is actually sent);
* a field that is not a string (or null) is an unrecognizable reply.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

from cognate.api.exceptions import InvalidLambdaResponseException
from cognate.domain.triggers import UNRECOGNIZABLE, Triggers, event_attributes, trigger_arn
from cognate.storage.repos.pools import PoolRow
from cognate.storage.repos.users import UserRow

CUSTOM_MESSAGE = "CustomMessage"
CUSTOM_EMAIL_SENDER = "CustomEmailSender"
CUSTOM_SMS_SENDER = "CustomSMSSender"

# The triggerSource suffixes (CustomMessage_<source>, CustomEmailSender_<source>, ...).
SIGN_UP = "SignUp"
ADMIN_CREATE_USER = "AdminCreateUser"
RESEND_CODE = "ResendCode"
FORGOT_PASSWORD = "ForgotPassword"
UPDATE_USER_ATTRIBUTE = "UpdateUserAttribute"
VERIFY_USER_ATTRIBUTE = "VerifyUserAttribute"
AUTHENTICATION = "Authentication"

CODE_PARAMETER = "{####}"
USERNAME_PARAMETER = "{username}"
LINK_PARAMETER = "{##Click Here##}"  # observed in Cognito's events


@dataclass
class MessageContext:
    """Why an operation sends messages: the triggerSource suffix, the app client (None for
    administrator operations) and the request's ClientMetadata. It also keeps the
    CustomMessage function's reply once it has run (one per operation)."""

    source: str
    client_id: str | None = None
    client_metadata: dict[str, str] = field(default_factory=dict)
    text: CustomText | None = None


@dataclass(frozen=True, slots=True)
class CustomText:
    """What a CustomMessage function returned (None: the field was left null)."""

    sms: str | None = None
    email: str | None = None
    subject: str | None = None


class NeedsCustomMessage(Exception):
    """Raised inside a transaction that must send a message the CustomMessage function
    has not yet written: the transaction rolls back and the function runs outside it."""

    def __init__(self, pool: PoolRow, user: UserRow, attributes: dict[str, str]) -> None:
        super().__init__("the CustomMessage trigger must run first")
        self.pool = pool
        self.user = user
        self.attributes = attributes


_current: contextvars.ContextVar[MessageContext | None] = contextvars.ContextVar(
    "cognate_message_context", default=None
)


def current_context() -> MessageContext | None:
    """The context of the `Notifier.write` running in this thread, if any."""
    return _current.get()


def enter(context: MessageContext) -> contextvars.Token[MessageContext | None]:
    return _current.set(context)


def leave(token: contextvars.Token[MessageContext | None]) -> None:
    _current.reset(token)


def custom_sender(settings: dict[str, Any], channel: str) -> str | None:
    """The custom sender trigger that delivers this medium's messages in the pool, if any."""
    trigger = CUSTOM_EMAIL_SENDER if channel == "EMAIL" else CUSTOM_SMS_SENDER
    return trigger if trigger_arn(settings, trigger) is not None else None


def run_custom_message(
    triggers: Triggers, context: MessageContext, need: NeedsCustomMessage
) -> CustomText:
    """Run the pool's CustomMessage function (outside any transaction) and read its reply."""
    request: dict[str, Any] = {
        "userAttributes": event_attributes(need.user, need.attributes),
        "codeParameter": CODE_PARAMETER,
        "linkParameter": LINK_PARAMETER,
        "usernameParameter": USERNAME_PARAMETER if context.source == ADMIN_CREATE_USER else None,
        "clientMetadata": dict(context.client_metadata),
    }
    response = triggers.run(
        need.pool,
        CUSTOM_MESSAGE,
        f"{CUSTOM_MESSAGE}_{context.source}",
        username=need.user.username,
        client_id=context.client_id,
        request=request,
        response={"smsMessage": None, "emailMessage": None, "emailSubject": None},
    )
    if not response:
        return CustomText()
    return CustomText(
        sms=_text(response.get("smsMessage")),
        email=_text(response.get("emailMessage")),
        subject=_text(response.get("emailSubject")),
    )


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return value


def _usable(body: str | None, placeholders: tuple[str, ...]) -> bool:
    return body is not None and all(p in body for p in placeholders)


def custom_sms(text: CustomText, default: str, placeholders: tuple[str, ...]) -> str:
    """The SMS body template: the function's, when it has every placeholder."""
    return text.sms if text.sms is not None and _usable(text.sms, placeholders) else default


def custom_email(
    text: CustomText,
    settings: dict[str, Any],
    default_body: str,
    default_subject: str,
    placeholders: tuple[str, ...],
) -> tuple[str, str]:
    """The email (body template, subject): the function's where it gave them. Cognito
    takes email fields only from pools that send with their own SES (DEVELOPER)."""
    if text.email is None and text.subject is None:
        return default_body, default_subject
    sending = (settings.get("EmailConfiguration") or {}).get("EmailSendingAccount")
    if sending != "DEVELOPER":
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    if text.email is not None and not _usable(text.email, placeholders):
        return default_body, default_subject  # a message without its code is ignored
    return text.email or default_body, text.subject or default_subject
