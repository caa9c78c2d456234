"""Threat protection's notification emails and their feedback tokens.

When an account-takeover action has Notify, the user's email address receives the
NotifyConfiguration's template for the action (BlockEmail, MfaEmail, NoActionEmail; a
default text without one) through the outbox, with Cognito's template variables filled in:
{username}, {ip-address}, {device-name}, {login-time}, {city} and {country} (empty: no
geolocation), {one-click-link-valid} and {one-click-link-invalid}. The links lead to
web/auth_event_feedback.py with the event's feedback token: an HMAC of the pool id and
event id under a key derived from the master key, never stored (UpdateAuthEventFeedback
recomputes it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import Connection

from cognate.domain import risk_engine as engine
from cognate.domain.auth.context import SignInUser
from cognate.domain.clock import Clock
from cognate.domain.notifications import Notifier, Recipient
from cognate.domain.secretbox import SecretBox
from cognate.storage.db import Database
from cognate.storage.repos.pools import PoolRow

log = logging.getLogger(__name__)

FEEDBACK_PATH = "/_cognate/auth-events/feedback"


class RiskNotices:
    def __init__(
        self, db: Database, clock: Clock, box: SecretBox, notifier: Notifier, base_url: str
    ) -> None:
        self._db = db
        self._clock = clock
        self._notifier = notifier
        self._base_url = base_url.rstrip("/")
        self._feedback_key = box.derived_key("auth-event-feedback")

    def feedback_token(self, pool_id: str, event_id: str) -> str:
        mac = hmac.new(self._feedback_key, f"{pool_id}|{event_id}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")

    def token_matches(self, pool_id: str, event_id: str, token: str) -> bool:
        return hmac.compare_digest(self.feedback_token(pool_id, event_id).encode(), token.encode())

    def notify(
        self,
        pool: PoolRow,
        found: SignInUser,
        config: dict[str, Any],
        action: str,
        event_id: str,
        *,
        ip: str | None,
        device: str | None,
    ) -> None:
        """Queue the notification of an assessed sign-in (nothing without an email)."""
        email = found.attributes.get("email")
        if not email:
            return
        username = found.row.username
        token = self.feedback_token(pool.id, event_id)
        link = f"{self._base_url}{FEEDBACK_PATH}?"
        query = {"pool": pool.id, "username": username, "event": event_id, "token": token}
        now = self._clock.now_ms()
        when = datetime.fromtimestamp(now / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        values = {
            "username": username,
            "ip-address": ip or "",
            "city": "",
            "country": "",
            "device-name": device or "",
            "login-time": when,
            "one-click-link-valid": link + urlencode({**query, "value": "Valid"}),
            "one-click-link-invalid": link + urlencode({**query, "value": "Invalid"}),
        }
        subject, body, _from = engine.render_notice(config, action, values)
        recipient = Recipient(pool.pk, found.row.pk, username)

        def queue(conn: Connection) -> None:
            self._notifier.queue_notice(
                conn,
                recipient,
                destination=email,
                subject=subject,
                body=body,
                now=now,
                settings=pool.settings,
            )

        try:
            self._db.write("risk_notification", queue)
        except Exception:
            log.warning("risk notification not queued", exc_info=True)
