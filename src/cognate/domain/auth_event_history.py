"""AdminListUserAuthEvents, AdminUpdateAuthEventFeedback and UpdateAuthEventFeedback: the
user event history threat protection records (auth_events.py), newest first, and the
feedback an administrator (Provider "Admin") or the user, through the feedback token of a
notification email (Provider "User"), gives on an event. All need AdvancedSecurityMode
AUDIT or ENFORCED (UserPoolAddOnNotEnabledException otherwise)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from cognate.api.exceptions import NotAuthorizedException, ResourceNotFoundException
from cognate.domain.auth_events import ThreatProtection
from cognate.domain.clock import Clock, ms_to_seconds
from cognate.domain.pagination import PageTokens
from cognate.domain.risk_configuration import require_add_on
from cognate.domain.user_store import load_scope, require_user
from cognate.storage.db import Database
from cognate.storage.repos import threat_protection as repo
from cognate.storage.repos.threat_protection import EventRow

DEFAULT_MAX_RESULTS = 60
EVENT_NOT_FOUND = "Auth event not found."
INVALID_FEEDBACK_TOKEN = "Invalid feedback token."


def _view(event: EventRow) -> dict[str, Any]:
    view: dict[str, Any] = {
        "EventId": event.event_id,
        "EventType": event.event_type,
        "CreationDate": ms_to_seconds(event.created_at),
        "EventResponse": event.response,
        "EventRisk": event.details.get("EventRisk") or {},
        "ChallengeResponses": event.details.get("ChallengeResponses") or [],
        "EventContextData": event.details.get("EventContextData") or {},
    }
    if event.feedback:
        view["EventFeedback"] = {
            **event.feedback,
            "FeedbackDate": ms_to_seconds(event.feedback["FeedbackDate"]),
        }
    return view


class AuthEventHistory:
    def __init__(
        self, db: Database, clock: Clock, tokens: PageTokens, protection: ThreatProtection
    ) -> None:
        self._db = db
        self._clock = clock
        self._tokens = tokens
        self._protection = protection

    def list(self, region: str, request: dict[str, Any], request_id: str) -> dict[str, Any]:
        limit = int(request.get("MaxResults") or DEFAULT_MAX_RESULTS)

        def read(conn: Connection) -> dict[str, Any]:
            scope = load_scope(conn, region, request["UserPoolId"])
            require_add_on(scope.pool)
            user = require_user(conn, scope, request["Username"])
            listing = f"auth-events/{user.pk}"
            token = request.get("NextToken")
            before = self._tokens.decode(listing, token, request_id) if token else None
            events = repo.page(conn, user.pk, before, limit + 1)
            answer: dict[str, Any] = {"AuthEvents": [_view(e) for e in events[:limit]]}
            if len(events) > limit:
                answer["NextToken"] = self._tokens.encode(listing, events[limit - 1].pk)
            return answer

        return self._db.read("admin_list_user_auth_events", read)

    def admin_feedback(self, region: str, request: dict[str, Any]) -> None:
        self._feedback(region, request, "Admin", None)

    def user_feedback(self, region: str, request: dict[str, Any]) -> None:
        self._feedback(region, request, "User", request["FeedbackToken"])

    def _feedback(
        self, region: str, request: dict[str, Any], provider: str, token: str | None
    ) -> None:
        now = self._clock.now_ms()

        def write(conn: Connection) -> None:
            scope = load_scope(conn, region, request["UserPoolId"])
            require_add_on(scope.pool)
            user = require_user(conn, scope, request["Username"])
            event_id = request["EventId"]
            if token is not None and not self._protection.notices.token_matches(
                scope.pool.id, event_id, token
            ):
                raise NotAuthorizedException(INVALID_FEEDBACK_TOKEN)
            event = repo.by_event_id(conn, user.pk, event_id)
            if event is None:
                raise ResourceNotFoundException(EVENT_NOT_FOUND)
            feedback = {
                "FeedbackValue": request["FeedbackValue"],
                "Provider": provider,
                "FeedbackDate": now,
            }
            repo.set_feedback(conn, event.pk, feedback)

        self._db.write("update_auth_event_feedback", write)
