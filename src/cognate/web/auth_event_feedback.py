"""The one-click links of threat protection's notification emails.

`GET /_cognate/auth-events/feedback?pool=&username=&event=&token=&value=Valid|Invalid`
submits the user's feedback on the event (UpdateAuthEventFeedback with the event's feedback
token, auth_event_history.py) and answers a short page. The links stand in for Cognito's
own feedback endpoint, which the {one-click-link-valid} / {one-click-link-invalid}
template variables point at.
"""

from __future__ import annotations

from html import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cognate.api.errors import ServiceError
from cognate.domain.auth_event_history import AuthEventHistory
from cognate.domain.ids import region_of_pool_id

PATH = "/_cognate/auth-events/feedback"


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        f"<p>{escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


class FeedbackRoutes:
    def __init__(self, history: AuthEventHistory) -> None:
        self._history = history

    def routes(self) -> list[Route]:
        return [Route(PATH, self.feedback, methods=["GET"])]

    async def feedback(self, request: Request) -> Response:
        query = request.query_params
        fields = {
            "UserPoolId": query.get("pool", ""),
            "Username": query.get("username", ""),
            "EventId": query.get("event", ""),
            "FeedbackToken": query.get("token", ""),
            "FeedbackValue": query.get("value", ""),
        }
        region = region_of_pool_id(fields["UserPoolId"])
        if not all(fields.values()) or region is None:
            return _page("Invalid link", "This link is incomplete.", 400)
        if fields["FeedbackValue"] not in ("Valid", "Invalid"):
            return _page("Invalid link", "This link is not a feedback link.", 400)
        try:
            await run_in_threadpool(self._history.user_feedback, region, fields)
        except ServiceError as exc:
            return _page("Feedback not recorded", exc.message, 400)
        return _page("Thank you", "Your feedback has been recorded.", 200)
