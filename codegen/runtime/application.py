"""`create_app` of a generated package: routers, implementation, mock mode and the spec itself."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRouter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .errors import reason
from .handler import error_response, json_response, negotiate, sse_response
from .mock import synthesize
from .operation import Answer, Operation
from .params import SchemaStore
from ..dialect import normalize_document

ALL_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
DEFAULT_MAX_BODY = 16 * 1024 * 1024
VALIDATE_RESPONSES_ENV = "CODEGEN_VALIDATE_RESPONSES"


class Runtime:
    """Per-app state: the implementation, the spec, and the switches of `create_app`."""

    def __init__(
        self,
        implementation: object | Sequence[object] | None,
        *,
        document: dict[str, Any],
        openapi_version: str,
        mock: bool,
        validate_responses: bool,
        max_body_size: int,
    ) -> None:
        if implementation is None:
            self.implementations: tuple[object, ...] = ()
        elif isinstance(implementation, (list, tuple)):
            self.implementations = tuple(implementation)
        else:
            self.implementations = (implementation,)
        self.document = document
        self.store = SchemaStore(normalize_document(document, openapi_version))
        self.mock = mock
        self.validate_responses = validate_responses
        self.max_body_size = max_body_size
        self._found: dict[str, object | None] = {}
        self._validator: Any = None

    def implementation_for(self, name: str) -> object | None:
        """The first implementation object with a method `name`, or None (answers 501)."""
        if name not in self._found:
            self._found[name] = next(
                (impl for impl in self.implementations if callable(getattr(impl, name, None))), None
            )
        return self._found[name]

    # -- mock mode -------------------------------------------------------------------------
    def is_valid(self, schema: Any, instance: Any) -> bool:
        """Whether `instance` matches `schema` (a schema of this spec), by `jsonschema`."""
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(
                self.store.document, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        try:
            return bool(self._validator.evolve(schema=schema).is_valid(instance))
        except Exception:  # noqa: BLE001 - an unresolvable schema cannot vouch for a value
            return False

    def example_for(self, answer: Answer, seed: str, echo: dict[str, Any]) -> Any:
        """The spec's example when valid, else a synthesized value; deterministic."""
        schema = self.store.at(answer.schema) if answer.schema else {}
        if answer.example is not None:
            example = self.store.at(answer.example)
            if self.is_valid(schema, example):
                return example
        value = synthesize(schema, resolve=self.store.resolve, is_valid=self.is_valid, seed=seed)
        if isinstance(value, dict) and echo:
            echoed = dict(value)
            for key, given in echo.items():
                if key in echoed:
                    echoed[key] = given
            if self.is_valid(schema, echoed):
                value = echoed
        return value

    async def mock_response(self, request: Request, operation: Operation[Any], arguments: Any) -> Response:
        answer = operation.success or (operation.answers[0] if operation.answers else None)
        if answer is None:
            return Response(status_code=200)
        status = int(answer.status) if answer.status.isdigit() else (int(answer.status[0]) * 100 if answer.status.endswith("XX") else 200)
        headers = {}
        for header in answer.headers:
            if header.required:
                value = synthesize(self.store.at(header.schema), resolve=self.store.resolve, is_valid=self.is_valid, seed=header.name)
                headers[header.name] = value if isinstance(value, str) else json.dumps(value)
        if not answer.media_types:
            return Response(status_code=status, headers=headers or None)
        echo = _echo_values(operation, arguments)
        seed = operation.operation_id
        if answer.streams and (len(answer.media_types) == 1 or negotiate(request, answer.media_types) == "text/event-stream"):
            return await _mock_stream(self, answer, seed, status, headers)
        media_type = negotiate(request, answer.media_types) or answer.media_types[0]
        body = self.example_for(answer, seed, echo)
        base = media_type.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return json_response(body, status, media_type=media_type, headers=headers or None)
        if isinstance(body, str):
            return Response(body.encode(), status_code=status, media_type=media_type, headers=headers or None)
        return Response(json.dumps(body).encode(), status_code=status, media_type=media_type, headers=headers or None)


def _echo_values(operation: Operation[Any], arguments: Any) -> dict[str, Any]:
    """Path parameter values, so a mock `GET /things/{id}` answers with that id."""
    echo: dict[str, Any] = {}
    for p in operation.parameters:
        if p.location == "path":
            value = getattr(arguments, p.key, None)
            if value is not None:
                echo[p.name] = json.loads(json.dumps(value, default=str))
    return echo


async def _mock_stream(rt: Runtime, answer: Answer, seed: str, status: int, headers: dict[str, str]) -> Response:
    from fastapi.sse import ServerSentEvent

    schema = rt.store.at(answer.schema) if answer.schema else {"type": "string"}
    data = synthesize(schema, resolve=rt.store.resolve, is_valid=rt.is_valid, seed=seed)

    async def events() -> Any:
        for i in range(3):
            yield ServerSentEvent(data=data, event="message", id=str(i + 1))

    return await sse_response(events(), status, headers)


def _specificity(route: BaseRoute) -> tuple[int, ...]:
    path = getattr(route, "path", "")
    return tuple(1 if "{" in segment else 0 for segment in path.strip("/").split("/"))


def _allowed(routes: Iterable[BaseRoute], path: str) -> list[str]:
    methods: list[str] = []
    for route in routes:
        if getattr(route, "path", None) == path:
            for method in sorted(getattr(route, "methods", None) or ()):
                if method not in methods:
                    methods.append(method)
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    order = {m: i for i, m in enumerate(ALL_METHODS)}
    return sorted(methods, key=lambda m: order.get(m, 99))


def _method_not_allowed(allow: list[str]) -> Any:
    async def endpoint(request: Request) -> Response:
        return json_response(
            {"detail": "Method Not Allowed"}, 405, headers={"Allow": ", ".join(allow)}
        )

    return endpoint


def _head_for_get(route: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        scope = dict(request.scope)
        scope["method"] = "GET"
        sent: list[Any] = []

        async def capture(message: Any) -> None:
            sent.append(message)

        await route.handle(scope, request.receive, capture)
        start = next(m for m in sent if m["type"] == "http.response.start")
        return Response(status_code=start["status"], headers={k.decode(): v.decode() for k, v in start["headers"] if k.lower() != b"content-length"} | {"content-length": str(sum(len(m.get("body", b"")) for m in sent if m["type"] == "http.response.body"))})

    return endpoint


def build_app(
    *,
    title: str,
    version: str,
    description: str,
    openapi_version: str,
    document: dict[str, Any],
    routers: Sequence[APIRouter],
    implementation: object | Sequence[object] | None,
    mock: bool,
    validate_responses: bool | None,
    max_body_size: int | None,
) -> FastAPI:
    """The FastAPI app of a generated package (see the package's `create_app`)."""
    paths = set((document.get("paths") or {}).keys())
    if validate_responses is None:
        validate_responses = os.environ.get(VALIDATE_RESPONSES_ENV, "1").lower() not in ("0", "false", "no", "off")
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        openapi_url=None if "/openapi.json" in paths else "/openapi.json",
        docs_url=None if "/docs" in paths else "/docs",
        redoc_url=None if "/redoc" in paths else "/redoc",
        redirect_slashes=False,
    )
    app.state.codegen = Runtime(
        implementation,
        document=document,
        openapi_version=openapi_version,
        mock=mock,
        validate_responses=validate_responses,
        max_body_size=max_body_size or DEFAULT_MAX_BODY,
    )
    app.openapi = lambda: document  # type: ignore[method-assign]
    builtin = list(app.router.routes)
    api_routes: list[BaseRoute] = []
    for router in routers:
        api_routes.extend(router.routes)
    # OpenAPI: concrete paths match before templated ones.
    api_routes.sort(key=_specificity)
    extra: list[BaseRoute] = []
    seen_paths: list[str] = []
    for route in api_routes:
        path = getattr(route, "path", "")
        if path not in seen_paths:
            seen_paths.append(path)
    for path in seen_paths:
        allow = _allowed(api_routes, path)
        gets = [r for r in api_routes if getattr(r, "path", None) == path and "GET" in (getattr(r, "methods", None) or ())]
        if gets and "HEAD" not in {m for r in api_routes if getattr(r, "path", None) == path for m in (getattr(r, "methods", None) or ())}:
            extra.append(Route(path, _head_for_get(gets[0]), methods=["HEAD"], include_in_schema=False))
        others = [m for m in ALL_METHODS if m not in allow]
        if others:
            extra.append(Route(path, _method_not_allowed(allow), methods=others, include_in_schema=False))
    app.router.routes[:] = [*api_routes, *extra, *builtin]

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return json_response({"detail": str(exc.detail) or reason(exc.status_code)}, exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return json_response({"detail": "invalid request"}, 422)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        return error_response(app.state.codegen, None, 500, "Internal Server Error")

    return app

