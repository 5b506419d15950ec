"""The generated server of spec/ answers bad and hostile requests with a 4xx and the spec's error
body, and its 5xx bodies never carry a traceback or exception text."""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from codegen.load import resolve_pointer
from conftest import json_of, reference_class, spec_document, spec_operations
from fastapi.testclient import TestClient

OPERATIONS = spec_operations()
WITH_BODY = [(m, p, op) for m, p, op in OPERATIONS if "requestBody" in op]
IDS = [f"{m.upper()} {p}" for m, p, _ in OPERATIONS]
BODY_IDS = [f"{m.upper()} {p}" for m, p, _ in WITH_BODY]
JSON = {"content-type": "application/json"}
# Requests whose body is broken in one way each.
BROKEN_BODIES = {
    "malformed JSON": (b'{"assistant_id": ', JSON),
    "wrong content type": (b"{}", {"content-type": "text/plain"}),
    "no content type": (b"{}", {}),
    "invalid UTF-8": (b'{"assistant_id": "\xff\xfe"}', JSON),
    "JSON nested 100k levels": (b"[" * 100_000 + b"]" * 100_000, JSON),
    "NaN": (b'{"assistant_id": NaN}', JSON),
    "integer of 5000 digits": (b'{"limit": ' + b"9" * 5000 + b"}", JSON),
}
SECRET = "secret-password-hunter2"


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.UUID(int=7)), path)


@functools.cache
def document() -> dict[str, Any]:
    return spec_document()


@functools.cache
def validator() -> Any:
    return reference_class()(document())


def declared_response(operation: dict[str, Any], status: int) -> dict[str, Any] | None:
    responses = operation["responses"]
    found = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if isinstance(found, dict) and "$ref" in found:
        found = resolve_pointer(document(), found["$ref"][1:])
    return found


def assert_error_body(response: Any, operation: dict[str, Any], statuses: tuple[int, ...] = ()) -> None:
    """A 4xx (one of `statuses` when given) whose body is what the spec declares for it."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.text[:300])
    declared = declared_response(operation, response.status_code)
    if declared is None:
        body = json_of(response)
        assert set(body) == {"detail"} and isinstance(body["detail"], str)
    elif "content" not in declared:
        assert response.content == b""
    else:
        schema = declared["content"]["application/json"]["schema"]
        errors = list(validator().evolve(schema=schema).iter_errors(json_of(response)))
        assert not errors, errors[0].message
    assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def client(ls: Any) -> TestClient:
    return TestClient(ls.create_app(mock=True, max_body_size=64 * 1024), raise_server_exceptions=False)


@pytest.mark.parametrize("case", sorted(BROKEN_BODIES))
@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODY, ids=BODY_IDS)
def test_broken_body_answers_4xx_with_the_error_body(
    client: TestClient, method: str, path: str, operation: dict[str, Any], case: str
) -> None:
    content, headers = BROKEN_BODIES[case]
    response = client.request(method.upper(), concrete(path), content=content, headers=headers)
    assert_error_body(response, operation)


@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODY, ids=BODY_IDS)
def test_deep_json_never_answers_5xx(client: TestClient, method: str, path: str, operation: dict[str, Any]) -> None:
    # 100 levels are read; the schema decides (a free-form object may hold them).
    for content in (b'{"metadata":' * 100 + b"1" + b"}" * 100, b"[" * 100 + b"]" * 100):
        response = client.request(method.upper(), concrete(path), content=content, headers=JSON)
        assert response.status_code < 300 or assert_error_body(response, operation) is None
    # 900 levels are over the limit of 128, however the parser and the recursion limit would do.
    for content in (b'{"metadata":' * 900 + b"1" + b"}" * 900, b"[" * 900 + b"]" * 900):
        response = client.request(method.upper(), concrete(path), content=content, headers=JSON)
        assert_error_body(response, operation)
        assert not response.content or "nested more than 128 levels" in response.text


def chunks(size: int) -> Iterator[bytes]:
    yield b'{"metadata": {"x": "'
    for _ in range(size // 1024):
        yield b"a" * 1024
    yield b'"}}'


@pytest.mark.parametrize("declared_length", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODY, ids=BODY_IDS)
def test_body_over_the_size_limit_answers_413(
    client: TestClient, method: str, path: str, operation: dict[str, Any], declared_length: bool
) -> None:
    size = 64 * 1024 + 1
    content: Any = b"".join(chunks(size)) if declared_length else chunks(size)
    response = client.request(method.upper(), concrete(path), content=content, headers=JSON)
    assert_error_body(response, operation, (413,))


def test_size_limit_is_configurable(ls: Any) -> None:
    _, path, operation = next((m, p, op) for m, p, op in WITH_BODY if p == "/threads")
    small = TestClient(ls.create_app(mock=True, max_body_size=100))
    response = small.post(path, content=b'{"metadata": {"x": "' + b"a" * 100 + b'"}}', headers=JSON)
    assert_error_body(response, operation, (413,))
    assert small.post(path, json={"metadata": {}}).status_code == 200


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_long_query_string_answers_414(client: TestClient, method: str, path: str, operation: dict[str, Any]) -> None:
    response = client.request(method.upper(), concrete(path) + "?limit=1&q=" + "a" * 9000, headers=JSON)
    assert_error_body(response, operation, (414,))


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_long_header_answers_431(client: TestClient, method: str, path: str, operation: dict[str, Any]) -> None:
    response = client.request(method.upper(), concrete(path), headers={**JSON, "x-long": "a" * 9000})
    assert_error_body(response, operation, (431,))


def test_request_just_under_the_limits_is_served(client: TestClient) -> None:
    response = client.get("/threads/" + str(uuid.UUID(int=7)) + "?q=" + "a" * 8000, headers={"x-long": "a" * 8000})
    assert response.status_code == 200, response.text


def test_deep_json_in_a_query_parameter_fails_the_schema_instead_of_the_server() -> None:
    from codegen.runtime.params import SchemaStore, coerce

    deep = "[" * 5000 + "]" * 5000
    assert coerce(deep, {"type": "array"}, SchemaStore({})) == deep


# -- failures of the implementation -------------------------------------------------------------


class Failing:
    async def get_thread_threads_thread_id_get(self, **kwargs: Any) -> Any:
        raise RuntimeError(SECRET)

    async def search_threads_threads_search_post(self, **kwargs: Any) -> Any:
        return [{"thread_id": SECRET}]

    async def count_threads_threads_count_post(self, **kwargs: Any) -> Any:
        return float("nan")

    def stream_run_threads_thread_id_runs_stream_post(self, **kwargs: Any) -> Any:
        async def events() -> Any:
            yield {"step": 1}
            raise RuntimeError(SECRET)

        return events()


def operation_at(method: str, path: str) -> dict[str, Any]:
    return next(op for m, p, op in OPERATIONS if m == method and p == path)


@pytest.mark.parametrize(
    ("method", "path", "validate", "logged"),
    [
        ("get", "/threads/{thread_id}", True, SECRET),
        ("post", "/threads/search", True, "does not match the spec"),
        ("post", "/threads/count", False, "Out of range float values are not JSON compliant"),
    ],
    ids=["raises", "returns what the spec forbids", "returns what JSON cannot hold"],
)
def test_implementation_failure_answers_500_with_the_error_body_and_is_logged(
    ls: Any, caplog: pytest.LogCaptureFixture, method: str, path: str, validate: bool, logged: str
) -> None:
    client = TestClient(ls.create_app(Failing(), validate_responses=validate), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="codegen.runtime"):
        response = client.request(method.upper(), concrete(path), json={})
    assert response.status_code == 500
    declared = declared_response(operation_at(method, path), 500)
    assert declared is None or "content" in declared
    assert json_of(response) == {"detail": "Internal Server Error"}
    assert SECRET not in response.text and "Traceback" not in response.text and "Error:" not in response.text
    assert logged in caplog.text


def test_stream_failing_midway_ends_the_stream_and_is_logged(ls: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(ls.create_app(Failing()), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="codegen.runtime"):
        response = client.post(concrete("/threads/{thread_id}/runs/stream"), json={"assistant_id": "a"})
    assert response.status_code == 200
    assert response.text == 'data: {"step":1}\n\n'
    assert SECRET in caplog.text and "event stream of" in caplog.text


def test_client_that_disconnects_mid_body_is_not_a_server_failure(ls: Any, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    app = ls.create_app(mock=True)
    messages = [{"type": "http.request", "body": b'{"metadata": ', "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/threads", "raw_path": b"/threads", "root_path": "", "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"host", b"test")], "server": ("test", 80), "client": ("c", 1),
    }
    with caplog.at_level(logging.ERROR, logger="codegen.runtime"):
        asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert caplog.text == ""
