"""Errors an implementation raises, and error bodies shaped like the spec says."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from .patterns import PatternTimeout


class ApiError(Exception):
    """Raise from an implementation to answer a declared error status.

    `ApiError(404, "thread not found")` answers 404 with the body the spec declares for 404
    (for `{"detail": string}` schemas: `{"detail": "thread not found"}`). Pass `body=` to send a
    body of your own instead.
    """

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or f"HTTP {status}")
        self.status = status
        self.detail = detail or _REASONS.get(status, "error")
        self.body = body
        self.headers = dict(headers or {})


class NotImplementedOperation(NotImplementedError):
    """An operation the implementation does not provide (answers 501)."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"operation {operation!r} is not implemented")
        self.operation = operation


class RequestInvalid(Exception):
    """A request that does not match the spec; `status` is the status to answer with."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or [{"loc": [], "msg": detail, "type": "value_error"}]


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    501: "Not Implemented",
}


def reason(status: int) -> str:
    """The reason phrase of a status (`Not Found`), "Error" for unknown ones."""
    if status in _REASONS:
        return _REASONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_LOCATIONS = {"path": "path parameter", "query": "query parameter", "header": "header", "cookie": "cookie"}


def describe_validation_error(
    exc: ValidationError, argument_places: dict[str, tuple[str, str]]
) -> tuple[str, list[dict[str, Any]]]:
    """One readable sentence naming where and why, plus the errors as FastAPI would list them.

    `argument_places` maps an argument key to (location, name as in the spec), so that
    `thread_id` reads as "path parameter `thread_id`" and body fields as `body.field`.
    """
    items: list[dict[str, Any]] = []
    sentences: list[str] = []
    for err in exc.errors(include_url=False):
        loc = list(err.get("loc", ()))
        message = str(err.get("msg", "invalid"))
        ctx = err.get("ctx") or {}
        if err.get("type") == "json_schema":
            message = str(ctx.get("message", message))
            extra = str(ctx.get("path") or "")
            if extra:
                loc = loc + _split_path(extra)
        elif err.get("type") == "missing":
            message = "is required"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        where = _where(loc, argument_places)
        items.append({"loc": [str(x) if not isinstance(x, int) else x for x in loc], "msg": message, "type": str(err.get("type"))})
        sentences.append(f"{where}: {message}" if where else message)
    if not sentences:
        return "invalid request", items
    detail = sentences[0] if len(sentences) == 1 else sentences[0] + f" (and {len(sentences) - 1} more)"
    return detail, items


def describe_pattern_timeout(
    exc: PatternTimeout, arguments: dict[str, Any], argument_places: dict[str, tuple[str, str]]
) -> tuple[str, list[dict[str, Any]]]:
    """As `describe_validation_error`, for a value of `arguments` a pattern could not be
    searched in within the time limit: placed where a mismatch of that pattern would be."""
    loc = list(located(arguments, exc.text))
    where = _where(loc, argument_places)
    return f"{where}: {exc.reason}", [{"loc": loc, "msg": exc.reason, "type": "pattern_timeout"}]


def located(value: Any, text: str) -> tuple[str | int, ...]:
    """Where the string `text` is in `value` (objects and arrays), as a value or a key: the
    place of that very object, else of the first equal string; () when it is nowhere."""
    equal: tuple[str | int, ...] | None = None
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if node is text:
            return path
        if equal is None and isinstance(node, str) and node == text:
            equal = path
        if isinstance(node, dict):
            for key in node:
                if key is text:
                    return (*path, key)
                if equal is None and key == text:
                    equal = (*path, key)
            stack.extend((item, (*path, key)) for key, item in reversed(node.items()))
        elif isinstance(node, (list, tuple)):
            stack.extend((item, (*path, index)) for index, item in reversed(list(enumerate(node))))
    return equal or ()


def _split_path(text: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in text.replace("]", "").split("."):
        head, *indexes = chunk.split("[")
        if head:
            parts.append(head)
        parts.extend(int(i) for i in indexes if i.isdigit())
    return parts


def _where(loc: list[Any], places: dict[str, tuple[str, str]]) -> str:
    if not loc:
        return "request"
    head, rest = loc[0], loc[1:]
    if isinstance(head, str) and head in places:
        location, name = places[head]
        text = "body" if location == "body" else f"{_LOCATIONS.get(location, location)} `{name}`"
    else:
        text = "body"
        rest = loc
    path = ""
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text + path


def error_body(
    schema: Any,
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    *,
    resolve: Any = None,
    shapes: Any = None,
) -> Any:
    """A body for an error status that conforms to the schema the spec declares for it.

    FastAPI-style `{"detail": [{"loc", "msg", "type"}]}` schemas get the error list; schemas with a
    string property (`detail`, `message`, `error`, `title`, ...) get the sentence there; other
    required properties are filled from the schema (defaults, enums, examples, or plain values;
    bounded like mock values, `shapes` being what the synthesizer knows of the document).
    """
    from .mock import synthesize

    def deref(node: Any) -> Any:
        return resolve(node) if resolve is not None else node

    schema = deref(schema)
    if not isinstance(schema, dict):
        return {"detail": detail}
    types = _types(schema)
    if "string" in types and "object" not in types:
        return detail
    properties = schema.get("properties") or {}
    body: dict[str, Any] = {}
    for name in ("detail", "message", "error", "title", "description", "msg", "reason"):
        prop = deref(properties.get(name))
        if not isinstance(prop, dict):
            continue
        prop_types = _types(prop)
        if "string" in prop_types:
            body[name] = detail
            break
        if "array" in prop_types and errors is not None:
            body[name] = [_fit_error(deref(prop.get("items")), e) for e in errors]
            break
        if "object" in prop_types:
            body[name] = {"message": detail} if not (prop.get("properties") or {}) else synthesize(prop, resolve=resolve, seed=detail, shapes=shapes)
            break
    for name in schema.get("required") or []:
        if name in body:
            continue
        prop = deref(properties.get(name))
        if isinstance(prop, dict) and ("integer" in _types(prop)) and ("status" in name.lower() or "code" in name.lower()):
            body[name] = status
        elif name == "title" and isinstance(prop, dict) and "string" in _types(prop):
            body[name] = reason(status)  # RFC 9457 problem details: the status's phrase
        else:
            body[name] = synthesize(prop if isinstance(prop, dict) else {}, resolve=resolve, seed=f"{status}:{name}", shapes=shapes)
    if not body:
        body = synthesize(schema, resolve=resolve, seed=str(status), shapes=shapes) if schema.get("properties") else {"detail": detail}
    return body


def _fit_error(schema: Any, error: dict[str, Any]) -> Any:
    if not isinstance(schema, dict):
        return error
    props = schema.get("properties") or {}
    item = {k: v for k, v in error.items() if k in props} if props else dict(error)
    for name in schema.get("required") or []:
        if name not in item:
            item[name] = error.get(name, "")
    return item


def _types(schema: dict[str, Any]) -> set[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return {str(x) for x in t}
    return set()
