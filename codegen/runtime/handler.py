"""The request pipeline every generated route runs: decode, call, encode.

decode: parameters and body -> the operation's arguments model (exact JSON Schema checks);
call: the user's implementation (or the mock, or 501);
encode: the return value -> the declared status, media type and headers, optionally validated.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from fastapi.sse import EventSourceResponse, ServerSentEvent, format_sse_event
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from .bodies import BodyInvalid, decode_body, encode_xml, is_xml, xml_name
from .checks import DIRECTION, Check, Failure
from .errors import (
    ApiError,
    NotImplementedOperation,
    RequestInvalid,
    describe_pattern_timeout,
    describe_validation_error,
    error_body,
    located,
    reason,
)
from .model import SUBTYPES
from .nesting import TooDeep
from .operation import Answer, Operation, Reply, is_json
from .params import MISSING, RawRequest, decode_param
from .patterns import DEFER_WORKER, PatternTimeout, SearchDeferred
from .security import challenge, describe

if TYPE_CHECKING:
    from .application import Runtime

logger = logging.getLogger("codegen.runtime")
READING_REQUEST = {SUBTYPES: True}
_PLACES = {"path": "path parameter", "query": "query parameter", "header": "header", "cookie": "cookie"}

A = TypeVar("A", bound=BaseModel)
T = TypeVar("T")


def runtime_of(request: Request) -> Runtime:
    return request.app.state.codegen  # type: ignore[no-any-return]


async def handle(
    request: Request,
    operation: Operation[A],
    call: Callable[..., Awaitable[Any] | AsyncIterator[Any] | Any],
    credentials: dict[str, Any] | None = None,
) -> Response:
    """Run one request through decode -> implementation -> encode; never leaks a traceback.

    `credentials` (scheme name -> credential or None) come from the route's security
    dependencies; `call(implementation, arguments[, credentials])` calls the implementation.
    """
    rt = runtime_of(request)
    # Which operation a request reached, for logs, metrics and tests (a path may serve several).
    request.scope["codegen.operation"] = operation.operation_id
    try:
        if operation.security:
            authenticate(rt, operation, credentials or {})
        arguments = await decode(request, operation, rt)
        target = rt.implementation_for(operation.name)
        if target is None:
            if rt.mock:
                return await rt.mock_response(request, operation, arguments)
            raise ApiError(501, f"operation {operation.operation_id} is not implemented")
        try:
            result = call(target, arguments) if credentials is None else call(target, arguments, credentials)
            if inspect.isawaitable(result):
                result = await result
        except NotImplementedOperation:
            if rt.mock:
                return await rt.mock_response(request, operation, arguments)
            raise ApiError(501, f"operation {operation.operation_id} is not implemented") from None
        return await encode(request, operation, result, rt)
    except RequestInvalid as exc:
        return error_response(rt, operation, exc.status, exc.detail, exc.errors)
    except ApiError as exc:
        if exc.body is not None:
            return json_response(exc.body, exc.status, headers=exc.headers)
        return error_response(rt, operation, exc.status, exc.detail, headers=exc.headers)
    except Exception as exc:
        translated = _translated(rt, exc)
        if translated is not None:
            logger.warning("operation %s: %s answers %d", operation.operation_id, type(exc).__name__, translated.status)
            if translated.body is not None:
                return json_response(translated.body, translated.status, headers=translated.headers)
            return error_response(rt, operation, translated.status, translated.detail, headers=translated.headers)
        logger.exception("operation %s failed", operation.operation_id)
        return error_response(rt, operation, 500, "Internal Server Error")


def _translated(rt: Runtime, exc: Exception) -> ApiError | None:
    """The answer `create_app(translate_error=...)` gives for `exc`, if any (a failing
    translator is logged and leaves the 500)."""
    if rt.translate_error is None:
        return None
    try:
        translated = rt.translate_error(exc)
    except Exception:
        logger.exception("translate_error failed on %s", type(exc).__name__)
        return None
    return translated if isinstance(translated, ApiError) else None


def authenticate(rt: Runtime, operation: Operation[Any], credentials: dict[str, Any]) -> None:
    """Raise 401 (403 where only that is declared) unless one alternative of the operation's
    security requirements has all its credentials."""
    if any(all(credentials.get(name) is not None for name in option) for option in operation.security):
        return
    schemes = (rt.store.document.get("components") or {}).get("securitySchemes") or {}
    scheme_of = {name: rt.store.resolve(schemes.get(name) or {}) for option in operation.security for name in option}
    wanted = " or ".join(" and ".join(describe(scheme_of[name]) for name in option) for option in operation.security)
    challenges = dict.fromkeys(c for c in map(challenge, scheme_of.values()) if c)
    status = 403 if operation.declares(403) and not operation.declares(401) else 401
    headers = {"WWW-Authenticate": ", ".join(challenges)} if challenges else None
    raise ApiError(status, f"not authenticated: send {wanted}", headers=headers)


def error_response(
    rt: Runtime,
    operation: Operation[Any] | None,
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error answer in a media type the spec declares for that status (JSON first, then XML,
    then text), whose body the declared schema accepts."""
    answer = operation.answer_for(status) if operation is not None else None
    if answer is None:
        return json_response(error_body(None, status, detail, errors), status, headers=headers)
    if not answer.media_types:
        return Response(status_code=status, headers=headers)
    media_type = answer.json_type or next((m for m in answer.media_types if is_xml(m)), None) or next(
        (m for m in answer.media_types if m.startswith("text/")), answer.media_types[0]
    )
    media = rt.media_object(answer, media_type)
    declared = media.get("schema")
    schema = rt.store.resolve(declared) if declared is not None else None
    body = error_body(schema, status, detail, errors, resolve=rt.store.resolve, shapes=rt.shapes)
    if declared is not None:
        body = rt.conforming(answer, media_type, declared, body, detail)
    media_type = sent_type(media_type, body)
    if is_json(media_type):
        return json_response(body, status, media_type=media_type, headers=headers)
    if is_xml(media_type) and not isinstance(body, str):
        return Response(encode_xml(body, xml_name(declared)), status_code=status, media_type=media_type, headers=headers)
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return Response(text.encode("utf-8"), status_code=status, media_type=media_type, headers=headers)


def json_response(body: Any, status: int, media_type: str = "application/json", headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return Response(content=content, status_code=status, media_type=media_type, headers=headers)


def _reject(operation: Operation[Any], detail: str, *, status: int | None = None) -> RequestInvalid:
    return RequestInvalid(status or operation.validation_status, detail)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestInvalid(413, f"request body is larger than {limit} bytes")
    chunks = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestInvalid(413, f"request body is larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        # Nobody is left to answer; not a failure of the server.
        raise RequestInvalid(400, "the client disconnected before sending the whole body") from None
    return b"".join(chunks)


def check_sizes(request: Request, rt: Runtime) -> None:
    """Refuse an oversized query string (414) or header line (431) before reading either."""
    if len(request.scope.get("query_string", b"")) > rt.max_query_length:
        raise RequestInvalid(414, f"the query string is longer than {rt.max_query_length} bytes")
    for name, value in request.scope.get("headers", ()):
        if len(name) + len(value) > rt.max_header_size:
            raise RequestInvalid(431, f"a request header is longer than {rt.max_header_size} bytes")


def media_matches(content_type: str, declared: str) -> bool:
    given = content_type.split(";")[0].strip().lower()
    want = declared.split(";")[0].strip().lower()
    if want in ("*/*", given):
        return True
    if want.endswith("/*"):
        return given.startswith(want[:-1])
    return False


def _encoded_path_params(request: Request) -> dict[str, str] | None:
    """The path parameters as sent (percent-encoded), from the raw path; None when unknown."""
    route, raw_path = request.scope.get("route"), request.scope.get("raw_path")
    regex = getattr(route, "path_regex", None)
    if not request.path_params or regex is None or not isinstance(raw_path, bytes):
        return None
    match = regex.match(raw_path.decode("latin-1"))
    if match is None or set(match.groupdict()) != set(request.path_params):
        return None
    # The raw path is bytes; percent-decoding later reads them as UTF-8.
    return {name: value.encode("latin-1").decode("utf-8", "surrogateescape") for name, value in match.groupdict().items()}


async def decode(request: Request, operation: Operation[A], rt: Runtime) -> A:
    """The operation's arguments from the request, checked against the spec."""
    check_sizes(request, rt)
    store = rt.store
    encoded = _encoded_path_params(request)
    raw = RawRequest(
        path_params=dict(request.path_params) if encoded is None else encoded,
        raw_path=encoded is not None,
        # Starlette splits the query string as we would (latin-1, blank values kept), and FastAPI
        # has already done it for this request.
        query=request.query_params.multi_items(),
        headers=request.headers,
        cookies=request.cookies,
    )
    values: dict[str, Any] = {}
    claimed = {p.name for p in operation.parameters if p.location == "query"}
    for p in operation.parameters:
        try:
            value = decode_param(p, raw, store, claimed)
        except TooDeep as exc:
            raise _reject(operation, f"{_PLACES.get(p.location, p.location)} `{p.name}`: {exc}") from None
        if value is not MISSING:
            values[p.key] = value
    body = operation.body
    if body is not None:
        data = await read_body(request, rt.max_body_size)
        content_type = request.headers.get("content-type", "")
        media = next((m for m in body.media_types if media_matches(content_type, m)), None)
        if not data and (not content_type or (not body.required and (media is None or is_json(media)))):
            # Nothing sent (an empty JSON body counts as none when the body is optional).
            if body.required:
                raise _reject(operation, "body: a request body is required")
        elif media is None:
            status = 415 if operation.declares(415) else None
            raise _reject(
                operation,
                f"body: content type {content_type or '(none)'!r} is not accepted; send {', '.join(body.media_types)}",
                status=status,
            )
        else:
            content = store.at(body.content)
            media_object = content.get(media) if isinstance(content, dict) else None
            try:
                values[body.key] = decode_body(data, media, content_type, media_object if isinstance(media_object, dict) else {}, store)
            except BodyInvalid as exc:
                raise _reject(operation, str(exc)) from None
            except TooDeep as exc:
                raise _reject(operation, f"body: {exc}") from None
    try:
        return await off_the_loop(functools.partial(_validated, operation, values))
    except ValidationError as exc:
        detail, errors = describe_validation_error(exc, operation.places)
    except PatternTimeout as exc:  # refused as a mismatch of the pattern would be
        detail, errors = describe_pattern_timeout(exc, values, operation.places)
    except RecursionError:
        raise _reject(operation, "body: nested too deeply") from None
    status = operation.validation_status
    path_keys = {p.key for p in operation.parameters if p.location == "path"}
    if any(e["loc"] and e["loc"][0] in path_keys for e in errors):
        status = operation.path_validation_status
    raise RequestInvalid(status, detail, errors)


def _validated(operation: Operation[A], values: dict[str, Any]) -> A:
    direction = DIRECTION.set("request")
    try:
        return operation.arguments.model_validate(values, context=READING_REQUEST)
    finally:
        DIRECTION.reset(direction)


def _response_failure(check: Check, body: Any) -> Failure | None:
    direction = DIRECTION.set("response")
    try:
        return check(body)
    finally:
        DIRECTION.reset(direction)


async def off_the_loop(check: Callable[[], T]) -> T:
    """`check()` here, on the event loop, unless a pattern search in it has to wait for the
    search worker (`codegen.runtime.patterns`): then `check()` again on a thread, so that the loop
    serves other requests meanwhile. A check has no effects: running it twice is running it."""
    token = DEFER_WORKER.set(True)
    try:
        return check()
    except SearchDeferred:
        pass
    finally:
        DEFER_WORKER.reset(token)
    return await run_in_threadpool(check)


def sent_type(declared: str, value: Any) -> str:
    """The media type a response declared as `declared` goes out as: a wildcard (`*/*`,
    `application/*`, `text/*`) is no type to send, so text goes as `text/plain`, bytes as
    `application/octet-stream` and any other value as JSON."""
    base = declared.split(";")[0].strip().lower()
    if "*" not in base:
        return declared
    if isinstance(value, str) or base == "text/*":
        return "text/plain; charset=utf-8"
    if isinstance(value, (bytes, bytearray, memoryview)) or base not in ("*/*", "application/*"):
        return "application/octet-stream"
    return "application/json"


def negotiate(request: Request, media_types: tuple[str, ...]) -> str | None:
    """The declared media type the client accepts best (first declared on ties)."""
    if not media_types:
        return None
    accept = request.headers.get("accept", "*/*") or "*/*"
    best: tuple[float, int, str] | None = None
    for part in accept.split(","):
        pieces = [x.strip() for x in part.split(";")]
        wanted = pieces[0].lower()
        q = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        for index, declared in enumerate(media_types):
            if media_matches(declared, wanted) or media_matches(wanted, declared):
                candidate = (-q, index, declared)
                if best is None or candidate < best:
                    best = candidate
    return best[2] if best else None


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return to_jsonable_python(value, by_alias=True)


async def encode(request: Request, operation: Operation[Any], result: Any, rt: Runtime) -> Response:
    """The implementation's return value as the declared response.

    With response validation on, a status, media type, required header or JSON body the spec
    does not declare for it is logged (operation and field) and answers 500 instead.
    """
    status: int | None = None
    headers: dict[str, str] = {}
    media_type: str | None = None
    replied = isinstance(result, Reply)
    if isinstance(result, Reply):
        status, headers, media_type, result = result.status, dict(result.headers), result.media_type, result.body
    answer = operation.answer_for(status) if status is not None else operation.success
    if status is None:
        status = answer.status_code if answer is not None else 200
    if rt.validate_responses:
        mismatch = _undeclared(answer, status, headers, media_type)
        if mismatch is not None:
            return _invalid_response(rt, operation, status, mismatch)
    if answer is None or not answer.media_types:
        return Response(status_code=status, headers=headers or None)
    if _is_stream(result):
        return await sse_response(
            result,
            status,
            headers,
            operation.operation_id,
            prime=not replied,
            heartbeat=rt.sse_heartbeat,
            receive=request.receive,
        )
    offered = tuple(m for m in answer.media_types if not m.startswith("text/event-stream"))
    if not isinstance(result, (str, bytes, bytearray, memoryview)):
        # A value (model, dict, list) is sent as JSON or XML when the answer declares either.
        offered = tuple(m for m in offered if is_json(m) or is_xml(m)) or offered
    media_type = sent_type(media_type or negotiate(request, offered) or answer.json_type or answer.media_types[0], result)
    if is_xml(media_type) and not isinstance(result, (str, bytes, bytearray, memoryview)):
        content = encode_xml(jsonable(result), xml_name(rt.media_object(answer, media_type).get("schema")))
        return Response(content=content, status_code=status, media_type=media_type, headers=headers or None)
    if is_json(media_type):
        body = jsonable(result)
        if rt.validate_responses and answer.check is not None:
            try:
                failure = await off_the_loop(functools.partial(_response_failure, answer.check, body))
            except PatternTimeout as exc:  # judged as a failed check: unknown is not valid
                failure = Failure(exc.reason, located(body, exc.text))
            if failure is not None:
                return _invalid_response(rt, operation, status, f"{failure.where('body') or 'body'}: {failure.message}")
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        return Response(content=content, status_code=status, media_type=media_type, headers=headers or None)
    if isinstance(result, str):
        return Response(content=result.encode("utf-8"), status_code=status, media_type=media_type, headers=headers or None)
    if isinstance(result, (bytes, bytearray, memoryview)):
        return Response(content=bytes(result), status_code=status, media_type=media_type, headers=headers or None)
    return Response(content=json.dumps(jsonable(result)).encode(), status_code=status, media_type=media_type, headers=headers or None)


def _undeclared(answer: Answer | None, status: int, headers: dict[str, str], media_type: str | None) -> str | None:
    """What of a response's status, headers and media type the spec does not declare, or None."""
    if answer is None:
        return f"status {status} is not declared"
    given = {name.lower() for name in headers}
    missing = [h.name for h in answer.headers if h.required and h.name.lower() not in given]
    if missing:
        return f"header {missing[0]}: is required"
    if media_type is not None and not any(media_matches(media_type, declared) for declared in answer.media_types):
        return f"content type {media_type!r} is not declared"
    return None


def _invalid_response(rt: Runtime, operation: Operation[Any], status: int, mismatch: str) -> Response:
    logger.error(
        "%s %s (%s): the %s response does not match the spec: %s",
        operation.method,
        operation.path,
        operation.operation_id,
        status,
        mismatch,
    )
    return error_response(rt, operation, 500, "Internal Server Error")


def _is_stream(value: Any) -> bool:
    return hasattr(value, "__aiter__") and not isinstance(value, (str, bytes, dict, list, BaseModel))


def sse_bytes(item: Any) -> bytes:
    """One event in the SSE wire format, as FastAPI's own SSE support encodes it."""
    if isinstance(item, ServerSentEvent):
        if item.raw_data is not None:
            data: str | None = item.raw_data
        elif item.data is not None:
            data = json.dumps(jsonable(item.data), ensure_ascii=False, separators=(",", ":"))
        else:
            data = None
        return format_sse_event(data_str=data, event=item.event, id=item.id, retry=item.retry, comment=item.comment)
    return format_sse_event(data_str=json.dumps(jsonable(item), ensure_ascii=False, separators=(",", ":")))


_END = object()
_UNREAD = object()
HEARTBEAT = b": heartbeat\n\n"


async def _next(iterator: Any) -> Any:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return _END


async def _disconnected(receive: Callable[[], Awaitable[Any]]) -> None:
    """Return when the client has gone away (ASGI `http.disconnect`)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def sse_response(
    events: Any,
    status: int,
    headers: dict[str, str],
    name: str = "",
    *,
    prime: bool = True,
    heartbeat: float | None = None,
    receive: Callable[[], Awaitable[Any]] | None = None,
) -> Response:
    """Stream events; with `prime`, the first is awaited before answering so errors still get
    their status (a stream returned inside a `Reply` starts at once: the Reply chose them).

    A stream may yield a `Reply` (body None) first to set the status or response headers; the
    response then starts at once, before the next event. An error after the first event is
    logged and ends the stream (its status is already sent).
    While the stream has nothing to send for `heartbeat` seconds, a comment line goes out, so
    proxies keep the connection and a client that went away is noticed. The stream is pulled
    one event at a time, as the client takes them (back-pressure). When the client disconnects,
    the implementation's iterator is closed, shielded from the cancellation, so its `finally`
    can clean up (cancel a run, say).
    """
    iterator = events.__aiter__()
    first: Any = _UNREAD
    if prime:
        first = await _next(iterator)
        if isinstance(first, Reply):
            # The stream chose its status and headers: the response starts now.
            status = first.status or status
            headers = {**headers, **first.headers}
            first = _UNREAD

    async def body() -> AsyncIterator[bytes]:
        pending: asyncio.Future[Any] | None = None
        # The client going away, watched here: under ASGI 2.4 servers Starlette leaves it to us.
        gone = asyncio.ensure_future(_disconnected(receive)) if receive is not None else None
        try:
            item = first
            while item is not _END:
                if item is not _UNREAD and not isinstance(item, Reply):
                    yield sse_bytes(item)
                pending = pending or asyncio.ensure_future(_next(iterator))
                done, _ = await asyncio.wait({pending} | ({gone} if gone else set()), timeout=heartbeat, return_when=asyncio.FIRST_COMPLETED)
                if gone is not None and gone in done:
                    return
                if pending not in done:
                    item = _UNREAD
                    yield HEARTBEAT
                    continue
                item, pending = pending.result(), None
        except Exception:
            logger.exception("event stream of %s failed", name or "an operation")
        finally:
            with anyio.CancelScope(shield=True):
                for task in (pending, gone):
                    if task is not None and not task.done():
                        task.cancel()
                        with contextlib.suppress(BaseException):
                            await task
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()

    return EventSourceResponse(body(), status_code=status, headers={"Cache-Control": "no-cache", **headers})


__all__ = ["ApiError", "decode", "encode", "error_response", "handle", "reason"]
