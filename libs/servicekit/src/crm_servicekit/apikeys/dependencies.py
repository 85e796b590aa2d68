"""FastAPI dependencies that authenticate the caller's API key and check its scope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.security import HTTPBearer

from crm_servicekit.apikeys.keys import ApiKey
from crm_servicekit.apikeys.scopes import validate_scopes
from crm_servicekit.context import get_context
from crm_servicekit.problems import Problem

__all__ = ["require_scope"]

_SCHEME = "ApiKey"
_DESCRIPTION = "`Authorization: Bearer crm_<key id>_<secret>`"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="crm"'}
_INVALID = {"WWW-Authenticate": 'Bearer realm="crm", error="invalid_token"'}


def require_scope(scope: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency returning the caller's :class:`ApiKey` if it holds ``scope``.

    No or a non-Bearer ``Authorization`` header, or an unknown, malformed or
    revoked key: 401 with ``WWW-Authenticate: Bearer``. A valid key without the
    scope (``admin`` holds all): 403 naming the missing scope. An unknown
    ``scope`` is a programming error, raised when the route is defined.
    """
    validate_scopes([scope])
    return _ScopedKey(scope)


class _ScopedKey(HTTPBearer):
    """The bearer scheme (so OpenAPI documents it) that also authenticates the key and
    checks its scope: one dependency, where a dependency on the scheme would be two, and
    FastAPI spends as much solving each as the touchpoint service spends validating an
    event."""

    def __init__(self, scope: str) -> None:
        super().__init__(auto_error=False, scheme_name=_SCHEME, description=_DESCRIPTION)
        self.scope = scope

    async def __call__(self, request: Request) -> ApiKey:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise Problem(401, "Unauthorized", "Send an API key as `Authorization: Bearer <key>`.",
                          slug="unauthorized", headers=_CHALLENGE)
        key = await get_context(request).api_keys.authenticate(credentials.credentials)
        if key is None:
            raise Problem(401, "Unauthorized", "The API key is unknown, malformed or revoked.",
                          slug="unauthorized", headers=_INVALID)
        request.state.api_key_id = key.key_id
        if not key.has_scope(self.scope):
            raise Problem(403, "Forbidden", f"This API key lacks the scope '{self.scope}'.",
                          slug="missing-scope", extensions={"required_scope": self.scope})
        return key
