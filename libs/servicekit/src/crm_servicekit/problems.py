"""RFC 9457 problem documents: the one shape of every error a service answers.

Services raise :class:`Problem`; the handlers installed by the app factory turn it
(and every framework error) into an ``application/problem+json`` response.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from crm_messaging.tracing import peek_trace

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_PREFIX",
    "Problem",
    "ProblemResponse",
    "status_title",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:crm:problem:"

_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


def status_title(status: int) -> str:
    """The reason phrase of ``status`` (RFC 9110 wording)."""
    if status in _TITLES:
        return _TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Problem(HTTPException):
    """An error answered as a problem document.

    ``slug`` names the problem type (``urn:crm:problem:<slug>``); without one the
    type is ``about:blank`` and the title is the status phrase. ``extensions`` are
    extra JSON members such as ``errors``. It is a Starlette ``HTTPException`` so
    that it passes through framework code (body parsing, dependencies) untouched.
    """

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        self.status = status
        self.title = title or status_title(status)
        self.slug = slug
        self.extensions = dict(extensions or {})
        super().__init__(status, detail or self.title, headers)
        self.problem_detail = detail

    @property
    def type_uri(self) -> str:
        return f"{PROBLEM_TYPE_PREFIX}{self.slug}" if self.slug else "about:blank"

    def document(self, instance: str | None = None) -> dict[str, object]:
        """The problem as a JSON object; ``instance`` is usually the request path."""
        body: dict[str, object] = {
            key: value for key, value in self.extensions.items() if key not in _STANDARD_MEMBERS
        }
        body.update(type=self.type_uri, title=self.title, status=self.status)
        if self.problem_detail:
            body["detail"] = self.problem_detail
        if instance:
            body["instance"] = instance
        trace = peek_trace()
        if trace is not None:
            body.setdefault("correlation_id", trace.correlation_id)
        return body

    def response(self, instance: str | None = None) -> ProblemResponse:
        """An ASGI response carrying this problem."""
        return ProblemResponse(
            self.document(instance), status_code=self.status, headers=self.headers
        )


class ProblemResponse(JSONResponse):
    """A JSON response with the ``application/problem+json`` media type."""

    media_type = PROBLEM_MEDIA_TYPE
