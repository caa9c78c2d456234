"""The developer outbox: what Cognate sent (or holds) for users, readable with its codes.

For local development and test suites: the messages Cognito would have emailed or texted,
newest last, with the code or temporary password each carries, optionally for one pool
and one user (by the name the message used, their username, or the destination). The
HTTP endpoint (web/dev_outbox.py) is on in the local default set-up and off when SMTP is
configured; `cognate outbox` reads the database directly.
"""

from __future__ import annotations

from typing import Any

from cognate.domain.clock import ms_to_seconds
from cognate.domain.notifications import Notifier
from cognate.storage.db import Database
from cognate.storage.repos import messages as messages_repo
from cognate.storage.repos.messages import MessageRow

MAX_MESSAGES = 500


class DevOutbox:
    def __init__(self, db: Database, notifier: Notifier) -> None:
        self._db = db
        self._notifier = notifier

    def messages(
        self,
        *,
        pool_id: str | None = None,
        username: str | None = None,
        after: int = 0,
        limit: int = 50,
        oldest_first: bool = False,
    ) -> list[dict[str, Any]]:
        """Messages after id `after`, in id order: the newest `limit` of them, or with
        `oldest_first` the oldest `limit` (for reading every new message in pages)."""
        limit = max(1, min(limit, MAX_MESSAGES))
        rows = self._db.read(
            "dev_outbox",
            lambda c: messages_repo.recent(
                c,
                pool_id=pool_id,
                username=username,
                after=after,
                limit=limit,
                oldest_first=oldest_first,
            ),
        )
        return [self._view(row) for row in rows]

    def last_code(self, *, pool_id: str | None, username: str | None) -> str | None:
        """The code (or temporary password) of the newest message that carries one."""
        for message in reversed(self.messages(pool_id=pool_id, username=username, limit=20)):
            if message["code"]:
                return str(message["code"])
        return None

    def _view(self, row: MessageRow) -> dict[str, Any]:
        content = self._notifier.open_message(row.destination, row.message_enc)
        sender = content.get("sender") or {}
        return {
            "id": row.pk,
            "pool_id": row.pool_id,
            "username": row.username,
            "kind": row.kind,
            "channel": row.channel,
            "destination": row.destination,
            "subject": content.get("subject"),
            "body": content.get("body"),
            "code": content.get("code"),
            # the CustomEmailSender / CustomSMSSender trigger it goes to, if any
            "custom_sender": sender.get("trigger"),
            "status": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "created_at": ms_to_seconds(row.created_at),
            "sent_at": ms_to_seconds(row.sent_at) if row.sent_at is not None else None,
        }
