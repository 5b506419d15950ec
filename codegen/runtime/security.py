"""Security schemes as FastAPI security dependencies that never refuse a request themselves.

Each dependency gives its credential, or None when the request does not carry it (or carries
it malformed); `handle` then checks the operation's requirements (alternatives of schemes that
must all be present) and answers 401 with the spec's error body. The credential an
implementation receives is what FastAPI's own class gives: the key (`str`) for API keys,
`HTTPBasicCredentials` for HTTP basic, `HTTPAuthorizationCredentials` for other HTTP schemes,
the bearer token (`str`) for OAuth2 and OpenID Connect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from fastapi.openapi.models import OAuthFlows
from fastapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2,
    OpenIdConnect,
)
from fastapi.security.http import HTTPBase
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection

__all__ = [
    "HTTPAuthorizationCredentials",
    "HTTPBasicCredentials",
    "api_key",
    "http",
    "oauth2",
    "open_id_connect",
]


class _Basic(HTTPBasic):
    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        try:
            return await super().__call__(request)  # type: ignore[arg-type]
        except HTTPException:  # malformed: the same as none
            return None


class _Scheme(HTTPBase):
    """Any other HTTP scheme (`Digest`, `HOBA`...): the Authorization header when it names it."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:  # type: ignore[override]
        found = await super().__call__(request)  # type: ignore[arg-type]
        return found if found is not None and found.scheme.lower() == self.model.scheme.lower() else None


def _bearer_token(request: HTTPConnection) -> str | None:
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    return token if scheme.lower() == "bearer" and token else None


class _OAuth2(OAuth2):
    async def __call__(self, request: HTTPConnection) -> str | None:  # type: ignore[override]
        return _bearer_token(request)


class _OpenIdConnect(OpenIdConnect):
    async def __call__(self, request: HTTPConnection) -> str | None:  # type: ignore[override]
        return _bearer_token(request)


def api_key(scheme_name: str, *, name: str, location: str, description: str | None = None) -> Callable[..., Any]:
    """An `apiKey` scheme: the key from the header, query parameter or cookie `name`."""
    cls = {"header": APIKeyHeader, "query": APIKeyQuery, "cookie": APIKeyCookie}[location]
    return cls(name=name, scheme_name=scheme_name, description=description, auto_error=False)  # type: ignore[no-any-return]


def http(scheme_name: str, *, scheme: str, bearer_format: str | None = None, description: str | None = None) -> Callable[..., Any]:
    """An `http` scheme: basic, bearer or any other Authorization scheme."""
    if scheme.lower() == "basic":
        return _Basic(scheme_name=scheme_name, description=description, auto_error=False)
    if scheme.lower() == "bearer":
        return HTTPBearer(scheme_name=scheme_name, bearerFormat=bearer_format, description=description, auto_error=False)
    return _Scheme(scheme=scheme, scheme_name=scheme_name, description=description, auto_error=False)


def oauth2(scheme_name: str, *, flows: dict[str, Any], description: str | None = None) -> Callable[..., Any]:
    """An `oauth2` scheme: the bearer token of any of its flows."""
    return _OAuth2(flows=OAuthFlows.model_validate(flows), scheme_name=scheme_name, description=description, auto_error=False)


def open_id_connect(scheme_name: str, *, url: str, description: str | None = None) -> Callable[..., Any]:
    """An `openIdConnect` scheme: the bearer token."""
    return _OpenIdConnect(openIdConnectUrl=url, scheme_name=scheme_name, description=description, auto_error=False)


def challenge(scheme: dict[str, Any]) -> str | None:
    """The `WWW-Authenticate` challenge of a scheme object of the spec (None for API keys)."""
    kind = scheme.get("type")
    if kind == "http":
        return str(scheme.get("scheme", "")).title() or None
    if kind in ("oauth2", "openIdConnect"):
        return "Bearer"
    return None


def describe(scheme: dict[str, Any]) -> str:
    """Where a scheme's credential goes, for error details: `header X-API-Key`."""
    kind = scheme.get("type")
    if kind == "apiKey":
        where = {"query": "query parameter"}.get(str(scheme.get("in")), str(scheme.get("in")))
        return f"{where} {scheme.get('name')}"
    challenge_ = challenge(scheme)
    return f"Authorization: {challenge_}" if challenge_ else str(kind)
