"""`create_app` of a generated package: routers, implementation, mock mode and the spec itself."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import unquote

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIRouter
from fastapi.sse import ServerSentEvent
from starlette._utils import get_route_path
from starlette.convertors import FloatConvertor, IntegerConvertor, StringConvertor, UUIDConvertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from .bodies import encode_xml, is_xml, xml_name
from .checks import DIRECTION
from .dialect import Fix, for_direction, normalize_document
from .errors import ApiError, RequestInvalid, reason
from .handler import (
    decode,
    error_response,
    json_response,
    media_matches,
    negotiate,
    read_body,
    sent_type,
    sse_response,
)
from .mock import Shapes, Synthesizer
from .operation import Answer, Dispatch, Header, Operation, is_json
from .params import MISSING, RawRequest, SchemaStore, decode_param
from .patterns import PatternTimeout, PatternWorkerError
from .verify import mock_validator

ALL_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
DEFAULT_MAX_BODY = 16 * 1024 * 1024
VALIDATE_RESPONSES_ENV = "CODEGEN_VALIDATE_RESPONSES"
MOCK_EVENTS = 3  # events a mock event stream sends before it ends
MOCK_STACK = 16 * 1024 * 1024  # stack of the thread that synthesizes mock values
logger = logging.getLogger("codegen.runtime")
T = TypeVar("T")


# Seconds an event stream may stay silent before a comment line keeps it alive.
DEFAULT_SSE_HEARTBEAT = 15.0


class Runtime:
    """Per-app state: the implementation, the spec, and the switches of `create_app`."""

    # Longer query strings answer 414 and longer header lines 431 (nginx's default limits).
    max_query_length = 8 * 1024
    max_header_size = 8 * 1024

    def __init__(
        self,
        implementation: object | Sequence[object] | None,
        *,
        document: dict[str, Any],
        openapi_version: str,
        mock: bool,
        validate_responses: bool,
        max_body_size: int,
        lenient_booleans: bool = False,
        fixes: Sequence[Fix] = (),
        translate_error: Callable[[Exception], ApiError | None] | None = None,
        sse_heartbeat: float | None = DEFAULT_SSE_HEARTBEAT,
    ) -> None:
        if implementation is None:
            self.implementations: tuple[object, ...] = ()
        elif isinstance(implementation, (list, tuple)):
            self.implementations = tuple(implementation)
        else:
            self.implementations = (implementation,)
        self.document = document
        self.store = SchemaStore(normalize_document(document, openapi_version, fixes), digit_booleans=lenient_booleans)
        self.mock = mock
        self.translate_error = translate_error
        self.sse_heartbeat = sse_heartbeat
        self.validate_responses = validate_responses
        self.max_body_size = max_body_size
        self.allowed: dict[str, tuple[str, ...]] = {}  # route path -> its `Allow` methods
        self._found: dict[str, object | None] = {}
        self._validator: Any = None
        self._fallbacks: dict[str, Any] = {}  # error bodies the declared schema accepts, by answer
        self._validators: dict[int, tuple[Any, Any]] = {}  # by id() of a schema (kept alive)
        self.shapes = Shapes(self.store.resolve)
        # Mock values by (schema, container, seed): the same request gets the same answer.
        self._mock_values: dict[tuple[int, int, str], tuple[Any, Any, Any, bool]] = {}

    def implementation_for(self, name: str) -> object | None:
        """The first implementation object with a method `name`, or None (answers 501)."""
        if name not in self._found:
            self._found[name] = next(
                (impl for impl in self.implementations if callable(getattr(impl, name, None))), None
            )
        return self._found[name]

    # -- mock mode -------------------------------------------------------------------------
    def is_valid(self, schema: Any, instance: Any) -> bool:
        """Whether `instance` matches `schema` (a schema of this spec), by `jsonschema` with
        ECMA-262 patterns (`verify.mock_validator`)."""
        validator = self._validators.get(id(schema))
        if validator is None or validator[0] is not schema:
            validator = self._validators[id(schema)] = (schema, self.prepare_mock().evolve(schema=schema))
        try:
            return bool(validator[1].is_valid(instance))
        except Exception:  # noqa: BLE001 - an unresolvable (or endless) schema cannot vouch for a value
            return False

    def prepare_mock(self) -> Any:
        """The validator mock values are verified with (built on first use: a large spec takes
        a moment, which `build_app` spends on the mock's thread before the first request)."""
        if self._validator is None:
            # Mock answers are responses: writeOnly properties are not required in them.
            self._validator = mock_validator(for_direction(self.store.document, "response"))
        return self._validator

    def found_value(self, schema: Any, container: Any, seed: str) -> tuple[Any, bool]:
        """The first of the spec's examples in `container` (a media type or header object) that
        `schema` accepts, else a value synthesized from `schema`, and whether it is valid (a
        value the synthesizer's budget found no valid one for is not); deterministic."""
        key = (id(schema), id(container), seed)
        hit = self._mock_values.get(key)
        if hit is not None and hit[0] is schema and hit[1] is container:
            return hit[2], hit[3]
        for example in _examples(container, self.store.resolve):
            if self.is_valid(schema, example):
                found: tuple[Any, bool] = (example, True)
                break
        else:
            found = Synthesizer(self.store.resolve, self.is_valid, seed, shapes=self.shapes).find(schema)
        self._mock_values[key] = (schema, container, *found)
        return found

    def valid_example(self, schema: Any, container: Any, seed: str) -> Any:
        """The value `found_value` finds (valid unless the schema is beyond the mock's budget)."""
        return self.found_value(schema, container, seed)[0]

    def media_object(self, answer: Answer, media_type: str) -> dict[str, Any]:
        """The spec's media type object of `answer` for `media_type` ({} when unknown)."""
        if not answer.schema or "/content/" not in answer.schema:
            return {}
        content = self.store.at(answer.schema.rsplit("/content/", 1)[0] + "/content")
        media = content.get(media_type) if isinstance(content, dict) else None
        return media if isinstance(media, dict) else {}

    def mock_body(self, answer: Answer, media_type: str, seed: str, echo: dict[str, Any]) -> tuple[Any, bool]:
        """A body for `media_type` of `answer` that its schema accepts, path values echoed; and
        whether it is valid."""
        media = self.media_object(answer, media_type)
        schema = media.get("schema", {} if is_json(media_type) else {"type": "string"})
        value, valid = self.found_value(schema, media, seed)
        if isinstance(value, dict) and echo:
            echoed = {key: echo.get(key, given) for key, given in value.items()}
            if echoed != value and self.is_valid(schema, echoed):
                value = echoed
        return value, valid

    def header_value(self, header: Header) -> str:
        """A declared response header's value: its example when valid, else synthesized."""
        schema = self.store.at(header.schema) if header.schema else {"type": "string"}
        container = self.store.at(header.schema.rsplit("/", 1)[0]) if header.schema else {}
        return header_text(self.valid_example(schema, container, header.name))

    def conforming(self, answer: Answer, media_type: str, schema: Any, body: Any, detail: str) -> Any:
        """`body` if the declared `schema` of `answer` accepts it, else a value it accepts
        (synthesized once per answer, with `detail` in its first text field where that keeps
        it valid): an error body never breaks the document."""
        if answer.check is not None and is_json(media_type):
            direction = DIRECTION.set("response")
            try:
                fits = answer.check(body) is None
            except (PatternTimeout, PatternWorkerError):  # unjudged in time: a body known to fit instead
                fits = False
            finally:
                DIRECTION.reset(direction)
        else:
            fits = self.is_valid(schema, body)
        if fits:
            return body
        key = f"{answer.schema}|{media_type}"
        fallback = self._fallbacks.get(key, MISSING)
        if fallback is MISSING:
            fallback = self._fallbacks[key] = self.valid_example(schema, self.media_object(answer, media_type), f"error {answer.status}")
        if isinstance(fallback, dict):
            for name in ("detail", "message", "error", "title", "description", "msg", "reason"):
                if isinstance(fallback.get(name), str):
                    told = {**fallback, name: detail}
                    if self.is_valid(schema, told):
                        return told
        elif isinstance(fallback, str) and self.is_valid(schema, detail):
            return detail
        return fallback

    async def mock_response(self, request: Request, operation: Operation[Any], arguments: Any) -> Response:
        """The mock's answer: the first declared success status, its headers and a valid body.

        When the synthesizer finds no valid body within its budget (a schema no value
        satisfies, or one whose smallest value is too large), the operation's declared 500
        (`5XX`, `default`) answers with its error body, if it declares one.
        """
        final = [a for a in operation.answers if not a.status.startswith("1")]
        answer = operation.success or (final[0] if final else None)
        if answer is None:
            if operation.answers:
                # Only a 1xx (101 Switching Protocols: a WebSocket), which ends no HTTP exchange:
                # HTTP's answer to a request that should have asked to switch (RFC 9110, 15.5.22).
                detail = f"the operation answers {operation.answers[0].status} only: upgrade the connection to the WebSocket protocol"
                return json_response({"detail": detail}, 426, headers={"Upgrade": "websocket", "Connection": "Upgrade"})
            return Response(status_code=200)
        status = answer.status_code
        headers = {}
        if answer.headers:
            headers = await in_mock_thread(lambda: {header.name: self.header_value(header) for header in answer.headers})
        if status == 405:
            path = getattr(request.scope.get("route"), "path", operation.path)
            headers.setdefault("Allow", ", ".join(self.allowed.get(path, ())))
        if not answer.media_types or status in (204, 304):
            return Response(status_code=status, headers=headers)
        seed = operation.operation_id
        media_type = negotiate(request, answer.media_types) or answer.media_types[0]
        if media_type.split(";")[0].strip() == "text/event-stream":
            return await sse_response(self.mock_events(answer, media_type, seed), status, headers)
        echo = _echo_values(operation, arguments)
        body, valid = await in_mock_thread(lambda: self.mock_body(answer, media_type, seed, echo))
        if not valid:
            fallback = operation.answer_for(500)
            logger.warning(
                "%s %s (%s): the mock found no %s body valid against the spec within its budget%s",
                operation.method,
                operation.path,
                operation.operation_id,
                answer.status,
                "; answering the declared 500" if fallback not in (None, answer) else "",
            )
            if fallback not in (None, answer):
                return error_response(self, operation, 500, "the mock found no valid response body")
        declared, media_type = media_type, sent_type(media_type, body)
        if is_json(media_type):
            return json_response(body, status, media_type=media_type, headers=headers)
        if is_xml(media_type) and not isinstance(body, str):
            root = xml_name(self.media_object(answer, declared).get("schema"))
            return Response(encode_xml(body, root), status_code=status, media_type=media_type, headers=headers)
        text = body if isinstance(body, str) else json.dumps(body)
        return Response(text.encode(), status_code=status, media_type=media_type, headers=headers)

    async def mock_events(self, answer: Answer, media_type: str, seed: str) -> AsyncIterator[ServerSentEvent]:
        """A few events whose data the declared schema accepts, then the end of the stream.

        The spec's examples of an event stream are stream text, not event data: not used.
        """
        schema = self.media_object(answer, media_type).get("schema", {})
        for index in range(MOCK_EVENTS):
            data = await in_mock_thread(functools.partial(self.valid_example, schema, None, f"{seed}#{index}"))
            yield ServerSentEvent(data=data, event="message", id=str(index + 1))


_mock_pool: ThreadPoolExecutor | None = None
_mock_pool_lock = threading.Lock()


def _mock_thread() -> ThreadPoolExecutor:
    """The one thread of the process that synthesizes mock values: the event loop goes on
    serving other requests meanwhile, and its stack is `MOCK_STACK` deep whatever the
    platform gives threads by default (musl's is 128 KiB)."""
    global _mock_pool
    with _mock_pool_lock:
        if _mock_pool is None:
            try:
                previous = threading.stack_size(MOCK_STACK)
            except (ValueError, RuntimeError):  # the platform does not let it be set
                previous = None
            try:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codegen-mock")
                pool.submit(int).result()  # the thread starts now, with that stack size
            finally:
                if previous is not None:
                    threading.stack_size(previous)
            _mock_pool = pool
    return _mock_pool


async def in_mock_thread(work: Callable[[], T]) -> T:
    """`work()` run on the mock's thread, awaited."""
    pool = _mock_thread()
    return await anyio.to_thread.run_sync(lambda: pool.submit(work).result())


def _examples(container: Any, resolve: Callable[[Any], Any]) -> list[Any]:
    """The example values of a media type or header object (`example`, then `examples`)."""
    if not isinstance(container, dict):
        return []
    found = [container["example"]] if "example" in container else []
    examples = container.get("examples")
    if isinstance(examples, dict):
        for example in map(resolve, examples.values()):
            if isinstance(example, dict) and "value" in example:
                found.append(example["value"])
    return found


def header_text(value: Any) -> str:
    """A JSON value as a header's text (OpenAPI `simple` style)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(header_text(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{key},{header_text(item)}" for key, item in value.items())
    return json.dumps(value)


def _echo_values(operation: Operation[Any], arguments: Any) -> dict[str, Any]:
    """Path parameter values, so a mock `GET /things/{id}` answers with that id."""
    echo: dict[str, Any] = {}
    for p in operation.parameters:
        if p.location == "path":
            value = getattr(arguments, p.key, None)
            if value is not None:
                echo[p.name] = json.loads(json.dumps(value, default=str))
    return echo


_VARIABLE = re.compile(r"\{([^{}:]+)\}")


def _specificity(path: str) -> tuple[tuple[int, int], ...]:
    """Sort key of a route path, most literal first, segment by segment from the left: a literal
    segment, then templated ones by how many literal characters they hold (`{name}:rename`
    before `{name}`), as OpenAPI matches concrete paths before templated ones."""
    return tuple(
        (0, 0) if "{" not in segment else (1, -len(_VARIABLE.sub("", segment)))
        for segment in path.strip("/").split("/")
    )


def _shape(path: str) -> str:
    """A route path with its variables unnamed: paths of one shape match the same requests."""
    return _VARIABLE.sub("{}", path)


def _segment_regex(path: str) -> re.Pattern[str] | None:
    """For a path with a variable followed by literal text in its segment (`{a}-{b}`,
    `{id}.json`), the regex where that variable ends at the first occurrence of the text: a
    variable never swallows the literal after it. None for other paths (Starlette's is right)."""
    pieces = list(_VARIABLE.finditer(path))
    if not any(path[m.end() : m.end() + 1] not in ("", "/") for m in pieces):
        return None
    pattern, last = "^", 0
    for m in pieces:
        lazy = "?" if path[m.end() : m.end() + 1] not in ("", "/") else ""
        pattern += re.escape(path[last : m.start()]) + f"(?P<{m.group(1)}>[^/]+{lazy})"
        last = m.end()
    return re.compile(pattern + re.escape(path[last:]) + "$")


def _lazy(route: BaseRoute) -> BaseRoute:
    """`route`, matching by `_segment_regex` where that differs from Starlette's."""
    regex = _segment_regex(getattr(route, "path", ""))
    if regex is not None and isinstance(route, Route):
        route.path_regex = regex
    return route


def allow_list(methods: Iterable[str]) -> tuple[str, ...]:
    """The `Allow` header of a path: its operations' methods, HEAD with GET, and OPTIONS."""
    allowed = {m.upper() for m in methods} | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")
    return tuple(m for m in ALL_METHODS if m in allowed)


class _MethodNotAllowed:
    """405 with the path's `Allow` for every method the path does not serve (an ASGI app, so
    that Starlette routes any method to it, including ones it does not know)."""

    def __init__(self, allow: tuple[str, ...]) -> None:
        self.allow = allow

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = {"Allow": ", ".join(self.allow)}
        if scope["method"] == "HEAD":
            response = Response(status_code=405, headers=headers)
        else:
            response = json_response({"detail": "Method Not Allowed"}, 405, headers=headers)
        await response(scope, receive, send)


def _options(allow: tuple[str, ...]) -> Any:
    async def endpoint(request: Request) -> Response:
        return Response(status_code=204, headers={"Allow": ", ".join(allow)})

    return endpoint


class _HeadForGet:
    """HEAD answers what GET would, without the body: the GET route runs whole (its security
    and parameters included), its status and headers (Content-Length too) go out, and its body
    is closed unread at the first chunk, so a stream's `finally` runs."""

    def __init__(self, get: BaseRoute) -> None:
        self.get = get

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def head_only(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                await send(message)
            elif message["type"] == "http.response.body":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _BodyDropped
            else:
                await send(message)

        scope["method"] = "GET"  # in place: what the route records in the scope stays visible
        try:
            await self.get.handle(scope, receive, head_only)
        except _BodyDropped:
            pass
        except Exception:
            if not started:
                raise
            # the stream failed after its head went out: nothing left to send
        finally:
            scope["method"] = "HEAD"


class _BodyDropped(Exception):
    """Raised into a GET response once HEAD has what it needs (its status and headers)."""


def _path_routes(
    api_routes: Sequence[BaseRoute], dispatched: dict[str, Operation[Any]] | None = None
) -> tuple[list[BaseRoute], dict[str, tuple[str, ...]]]:
    """The routes of each path, then its HEAD, OPTIONS and 405 routes, concrete paths first;
    and the `Allow` list of each path.

    A path's 405 route sits right after its own routes, so `PATCH /things/count` answers 405
    rather than reaching `PATCH /things/{id}`. Paths of one shape (`/a/{id}`, `/a/{name}`) are
    one path; operations sharing one and a method (named in `dispatched`) are one route that
    chooses among them by request (`_Dispatch`).
    """
    by_shape: dict[str, list[BaseRoute]] = {}
    for route in api_routes:
        by_shape.setdefault(_shape(getattr(route, "path", "")), []).append(_lazy(route))
    ordered: list[BaseRoute] = []
    allowed: dict[str, tuple[str, ...]] = {}
    for shape in sorted(by_shape, key=_specificity):
        routes = by_shape[shape]
        path = getattr(routes[0], "path", "")
        declared = {m for route in routes for m in (getattr(route, "methods", None) or ())}
        allow = allow_list(declared)
        for route in routes:
            allowed[getattr(route, "path", path)] = allow
        served: dict[str, BaseRoute] = {}  # method -> its route
        for method in sorted(declared, key=ALL_METHODS.index):
            sharing = [r for r in routes if method in (getattr(r, "methods", None) or ())]
            if len(sharing) == 1:
                served[method] = sharing[0]
                continue
            choices = [(r, (dispatched or {}).get(getattr(r, "name", ""))) for r in sharing]
            # A dispatch route answers HEAD as GET itself (Starlette adds HEAD to a GET route).
            served[method] = _lazy(Route(path, _Dispatch(method, choices), methods=[method], include_in_schema=False))
        # A declared HEAD goes first: Starlette lets a GET route (a dispatch route is one) match HEAD.
        ordered.extend(served[method] for method in sorted(served, key=lambda method: method != "HEAD"))
        get = served.get("GET")
        if get is not None and "HEAD" not in declared and not isinstance(getattr(get, "endpoint", None), _Dispatch):
            ordered.append(_lazy(Route(path, _HeadForGet(get), methods=["HEAD"], include_in_schema=False)))
        if "OPTIONS" not in declared:
            ordered.append(_lazy(Route(path, _options(allow), methods=["OPTIONS"], include_in_schema=False)))
        # Any other method, including ones Starlette does not list, answers 405.
        ordered.append(_lazy(Route(path, _MethodNotAllowed(allow), include_in_schema=False)))
    return ordered, allowed


class _Dispatch:
    """The operations sharing a path and a method, as one ASGI app: a request goes to the one
    whose path key's parameters it carries (see `choose`); one carrying none of them gets the
    validation status of the first, naming what the operations expect."""

    def __init__(self, method: str, choices: list[tuple[BaseRoute, Operation[Any] | None]]) -> None:
        self.method = method
        self.choices = choices

    def choose(self, request: Request) -> list[tuple[BaseRoute, Operation[Any] | None]]:
        """The routes (with their operations) the request may go to, equally ranked: the
        operation whose path parameters accept the request's path values (paths of one shape:
        Google's `{parent}/subscriptions` beside `{name}/subscriptions`, told apart by their
        patterns) and that carries all its key's required parameters and, among those, names
        the most; then the most of its hints carried, a body of the request's content type and
        the fewest hints missing. Empty when none fits."""
        best: tuple[int, ...] | None = None
        ranked: list[tuple[BaseRoute, Operation[Any] | None]] = []
        for route, operation in self.choices:
            dispatch = (operation.dispatch if operation is not None else None) or Dispatch()
            if not all(_carries(request, d) for d in dispatch.parameters):
                continue
            held = sum(_carries(request, d) for d in dispatch.hints)
            fits = _path_fits(request, route, operation) if len(self.choices) > 1 else 1
            score = (fits, len(dispatch.parameters), held, _body_fits(request, operation), held - len(dispatch.hints))
            if best is None or score > best:
                best, ranked = score, [(route, operation)]
            elif score == best:
                ranked.append((route, operation))
        return ranked

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        ranked = self.choose(request)
        if not ranked:
            await self.unmatched(request)(scope, receive, send)
            return
        route = ranked[0][0]
        if len(ranked) > 1:
            # Operations nothing above tells apart (a document that declares one path twice,
            # `--lenient`): the first, in the document's order, whose checks accept the request,
            # its body included; else the first.
            route, receive = await self._accepting(request, ranked, scope, receive)
        # The chosen route's own variable names (paths of one shape may name them apart).
        _, child_scope = route.matches({**scope, "method": self.method, "path_params": {}})
        scope.update(child_scope)
        if scope["method"] == "HEAD" and self.method == "GET":
            await _HeadForGet(route)(scope, receive, send)
            return
        await route.handle(scope, receive, send)

    async def _accepting(
        self, request: Request, ranked: list[tuple[BaseRoute, Operation[Any] | None]], scope: Any, receive: Any
    ) -> tuple[BaseRoute, Any]:
        """The first of `ranked` whose operation takes the request, and a `receive` that gives
        the body again to the route that handles it."""
        rt = request.app.state.codegen
        try:
            body = await read_body(request, rt.max_body_size)
        except RequestInvalid:
            return ranked[0][0], receive  # too large or cut: the first answers it
        sent = False

        async def again() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        for route, operation in ranked:
            if operation is None:
                continue
            _, child_scope = route.matches({**scope, "method": self.method, "path_params": {}})
            trial = Request({**scope, **child_scope}, receive)
            trial._body = body  # read once, above
            try:
                await decode(trial, operation, rt)
            except RequestInvalid:
                continue
            return route, again
        return ranked[0][0], again

    def unmatched(self, request: Request) -> Response:
        """The answer to a request no operation's key fits: what each operation expects."""
        # Operations told apart by one parameter's value are named together by its values.
        wanted: dict[str, list[str]] = {}
        for _, operation in self.choices:
            parameters = operation.dispatch.parameters if operation is not None and operation.dispatch else ()
            if len(parameters) == 1 and parameters[0][2] is not None:
                location, name, value = parameters[0]
                wanted.setdefault(f"{location} {name}", []).append(value)
            elif parameters:
                wanted.setdefault(" and ".join(f"{loc} {name}" + (f"={value}" if value is not None else "") for loc, name, value in parameters), [])
        alternatives = "; or ".join(f"{text}: {_some(values)}" if values else text for text, values in wanted.items())
        first = self.choices[0][1]
        path = first.path if first is not None else request.url.path
        detail = f"no operation of {self.method} {path.split('#')[0].split('?')[0] or '/'} matches the request: send {alternatives}"
        status = first.validation_status if first is not None else 400
        return error_response(request.app.state.codegen, first, status, detail)


def _some(values: list[str], shown: int = 10) -> str:
    """`a, b or c`; beyond `shown` values, the first ones and how many in all."""
    if len(values) > shown:
        return ", ".join(values[:shown]) + f", ... ({len(values)} values)"
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + f" or {values[-1]}"


def _carries(request: Request, discriminator: tuple[str, str, str | None]) -> bool:
    """Whether the request carries the parameter (with the value, when one is given)."""
    location, name, value = discriminator
    values = request.headers.getlist(name) if location == "header" else request.query_params.getlist(name)
    return bool(values) if value is None else value in values


def _path_fits(request: Request, route: BaseRoute, operation: Operation[Any] | None) -> int:
    """1 when the request's path values, read by `route`'s variable names, are each accepted by
    the schema of `operation`'s path parameter (by the reference validator)."""
    app = request.scope.get("app")
    if operation is None or app is None:
        return 1
    path = request.scope.get("raw_path")
    regex = getattr(route, "path_regex", None)
    text = path.split(b"?", 1)[0].decode("latin-1") if isinstance(path, bytes) else request.url.path
    match = regex.match(text) if regex is not None else None
    if match is None:
        return 1
    rt = app.state.codegen
    raw = RawRequest(path_params=match.groupdict(), query=[], headers={}, cookies={}, raw_path=True)
    for p in operation.parameters:
        if p.location != "path":
            continue
        value = decode_param(p, raw, rt.store, set())
        schema = rt.store.at(p.schema) if p.schema else (p.inline_schema or {})
        if value is MISSING or not rt.is_valid(schema, value):
            return 0
    return 1


def _body_fits(request: Request, operation: Operation[Any] | None) -> int:
    """1 when the operation takes the request's body as sent (its content type, or none)."""
    body = operation.body if operation is not None else None
    content_type = request.headers.get("content-type")
    if not content_type:
        return int(body is None or not body.required)
    return int(body is not None and any(media_matches(content_type, m) for m in body.media_types))


def _served_at(route: BaseRoute, prefix: str, app: FastAPI) -> BaseRoute:
    """`route` served under `prefix` (a server's base path), its security dependencies
    overridable through `app.dependency_overrides`."""
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    if not isinstance(route, APIRoute) or not (prefix or route.dependant.dependencies):
        return route
    target = APIRouter(dependency_overrides_provider=app)
    target.add_api_route(
        prefix + route.path,
        route.endpoint,
        methods=sorted(route.methods),
        operation_id=route.operation_id,
        name=route.name,
        summary=route.summary,
        deprecated=route.deprecated,
        tags=route.tags,
    )
    return target.routes[0]


_INDEXABLE = (StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor)  # one path segment each


class _PathIndex:
    """The routes that may match a request path, in order, without trying every route: by
    literal path, and by segment count and first segment for templated ones (routes it
    cannot index are always candidates)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes = routes
        self.size = len(routes)
        self.last = routes[-1] if routes else None
        self.literal: dict[str, list[int]] = {}
        self.templated: dict[tuple[int, str | None], dict[str, tuple[Any, list[int]]]] = {}
        self.always: list[int] = []
        for position, route in enumerate(routes):
            convertors = getattr(route, "param_convertors", {}).values()
            if not isinstance(route, Route) or not all(isinstance(c, _INDEXABLE) for c in convertors):
                self.always.append(position)
            elif not convertors:
                self.literal.setdefault(route.path, []).append(position)
            else:
                segments = route.path.split("/")
                key = (len(segments), None if "{" in segments[1] else segments[1])
                paths = self.templated.setdefault(key, {})
                paths.setdefault(route.path, (route.path_regex, []))[1].append(position)

    def current(self, routes: list[BaseRoute]) -> bool:
        return len(routes) == self.size and (routes[-1] if routes else None) is self.last

    def candidates(self, path: str) -> list[BaseRoute]:
        positions = [*self.literal.get(path, ()), *self.always]
        segments = path.split("/")
        if len(segments) > 1:
            for key in ((len(segments), segments[1]), (len(segments), None)):
                for regex, found in self.templated.get(key, {}).values():
                    if regex.match(path):
                        positions.extend(found)
        return [self.routes[i] for i in sorted(positions)]


def _encoded_slashes(scope: Any) -> str | None:
    """The request path percent-decoded but for its encoded slashes (`%2F`), when it has any
    (and no root path to strip), else None. Starlette routes the decoded path, where
    `/tags/arn%2Fkey` has one segment more than its route."""
    raw = scope.get("raw_path")
    if not isinstance(raw, bytes) or b"%2" not in raw or scope.get("root_path"):
        return None
    text = raw.split(b"?", 1)[0].decode("latin-1")
    pieces = _ENCODED_SLASH.split(text)
    if len(pieces) == 1:
        return None
    return "".join(piece if index % 2 else unquote(piece) for index, piece in enumerate(pieces))


_ENCODED_SLASH = re.compile("(%2[fF])")


class _SpecRouter(APIRouter):
    """The app's router, finding a request's route through a `_PathIndex`: a spec's many
    routes cost little per request. Routes are tried in the same order as a router tries them."""

    _index: _PathIndex | None = None

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("fastapi.telemetry") is not None:
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        if self._index is None or not self._index.current(self.routes):
            self._index = _PathIndex(list(self.routes))
        partial: tuple[BaseRoute, Any] | None = None
        path = get_route_path(scope)
        matching = scope
        encoded = _encoded_slashes(scope)
        if encoded is not None:  # match as sent: a value's %2F stays inside its segment
            path = encoded
            matching = {**scope, "path": scope.get("root_path", "") + encoded}
        for route in self._index.candidates(path):
            match, child_scope = route.matches(matching)
            if match == Match.FULL:
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match == Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is None:
            await super().app(scope, receive, send)  # what else a router does: redirects, 404
            return
        route, child_scope = partial
        scope.update(child_scope)
        await route.handle(scope, receive, send)


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
    lenient_booleans: bool = False,
    translate_error: Callable[[Exception], ApiError | None] | None = None,
    sse_heartbeat: float | None = None,
    base_path: str = "",
    server_paths: dict[str, str] | None = None,
    dispatched: Sequence[Operation[Any]] = (),
    fixes: Sequence[Fix] = (),
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
        lenient_booleans=lenient_booleans,
        fixes=fixes,
        translate_error=translate_error,
        sse_heartbeat=DEFAULT_SSE_HEARTBEAT if sse_heartbeat is None else (sse_heartbeat or None),
    )
    if mock:
        _mock_thread().submit(app.state.codegen.prepare_mock)
    app.openapi = lambda: document  # type: ignore[method-assign]
    builtin = list(app.router.routes)
    api_routes = [
        _served_at(route, (server_paths or {}).get(getattr(route, "name", ""), base_path), app)
        for router in routers
        for route in router.routes
    ]
    routes, app.state.codegen.allowed = _path_routes(api_routes, {op.name: op for op in dispatched})
    # /openapi.json and the docs are concrete paths: they go before the spec's templated ones.
    app.router.routes[:] = [*builtin, *routes]
    if app.router.middleware_stack == app.router.app:  # no router middleware to keep in front
        app.router.__class__ = _SpecRouter
        app.router.middleware_stack = app.router.app

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

