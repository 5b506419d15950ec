"""Mock mode, methods and `Allow`, response validation, and `codegen mock` on a real port.

Mock answers are checked with jsonschema against the spec itself, for every operation of spec/.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    ROOT,
    assert_valid,
    free_port,
    generate_package,
    import_package,
    reference_validator,
    serve,
    spec_document,
    spec_operations,
    spec_validator,
)
from fastapi.testclient import TestClient

OPERATIONS = spec_operations()
IDS = [f"{method.upper()} {path}" for method, path, _ in OPERATIONS]


@pytest.fixture(scope="module")
def mock_app(ls: Any) -> Any:
    return ls.create_app(mock=True)


DOCUMENT = spec_document()


def resolved(node: Any) -> Any:
    """`node` with its `$ref` (within spec/) followed."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = DOCUMENT
        for token in str(node["$ref"]).lstrip("#").split("/")[1:]:
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def parameters(path: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
    shared = DOCUMENT["paths"][path].get("parameters", [])
    return [resolved(p) for p in [*shared, *operation.get("parameters", [])]]


def valid_value(schema: Any, seed: str) -> Any:
    """A value for a request that the spec accepts (verified with jsonschema)."""
    from codegen.runtime.mock import synthesize

    def is_valid(sub: Any, value: Any) -> bool:
        return bool(spec_validator().evolve(schema=sub).is_valid(value))

    value = synthesize(schema, resolve=resolved, is_valid=is_valid, seed=seed)
    assert_valid(value, schema)
    return value


def valid_request(method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of `TestClient.request` for a request that matches the spec."""
    url = path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    for p in parameters(path, operation):
        if p["in"] != "path" and not p.get("required"):
            continue
        value = valid_value(p["schema"], p["name"])
        text = value if isinstance(value, str) else json.dumps(value)
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", text)
        elif p["in"] == "query":
            query.extend((p["name"], str(v)) for v in (value if isinstance(value, list) else [text]))
        elif p["in"] == "header":
            headers[p["name"]] = text
    request: dict[str, Any] = {"method": method.upper(), "url": url, "params": query, "headers": headers}
    body = operation.get("requestBody")
    if body is not None:
        body = resolved(body)
        schema = body["content"]["application/json"]["schema"]
        request["json"] = valid_value(schema, "body")
    return request


def expected_answer(operation: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The status the mock answers with (the first success, else the first declared) and its response."""
    responses = operation["responses"]
    status = next((s for s in responses if s.startswith("2")), next(iter(responses)))
    return int(status), resolved(responses[status])


def sse_events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.split("\n\n"):
        if block.strip():
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            events.append(fields)
    return events


def assert_mock_answer_matches_spec(response: httpx.Response, operation: dict[str, Any]) -> None:
    status, declared = expected_answer(operation)
    assert response.status_code == status, response.text
    for name, header in (declared.get("headers") or {}).items():
        header = resolved(header)
        assert name.lower() in response.headers, f"declared header {name} not sent"
        assert_valid(response.headers[name], header["schema"])
    content = declared.get("content")
    if not content:
        assert response.content == b""
        return
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in content, f"{media_type} is not declared"
    schema = content[media_type].get("schema")
    if media_type == "text/event-stream":
        events = sse_events(response.text)
        assert len(events) >= 1
        for event in events:
            assert_valid(json.loads(event["data"]), schema)
    elif media_type == "application/json":
        assert_valid(response.json(), schema)
    elif schema is not None:
        assert_valid(response.text, schema)


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_mock_answer_validates_against_the_spec(mock_app: Any, method: str, path: str, operation: dict[str, Any]) -> None:
    client = TestClient(mock_app)
    request = valid_request(method, path, operation)
    first = client.request(**request)
    assert_mock_answer_matches_spec(first, operation)
    again = client.request(**request)
    assert (again.status_code, again.headers, again.content) == (first.status_code, first.headers, first.content)


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [op for op in OPERATIONS if "text/event-stream" in json.dumps(op[2]["responses"])],
    ids=[i for i, op in zip(IDS, OPERATIONS, strict=True) if "text/event-stream" in json.dumps(op[2]["responses"])],
)
def test_event_streams_send_a_few_events_when_asked_for_them(mock_app: Any, method: str, path: str, operation: dict[str, Any]) -> None:
    request = valid_request(method, path, operation)
    request["headers"]["Accept"] = "text/event-stream"
    response = TestClient(mock_app).request(**request)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [e["id"] for e in events] == ["1", "2", "3"]
    schema = resolved(operation["responses"]["200"])["content"]["text/event-stream"]["schema"]
    for event in events:
        assert_valid(json.loads(event["data"]), schema)


def test_mock_answers_the_specs_example_when_it_is_valid(mock_app: Any) -> None:
    media = DOCUMENT["paths"]["/a2a/{assistant_id}"]["post"]["responses"]["200"]["content"]["application/json"]
    request = {"jsonrpc": "2.0", "id": "1", "method": "message/send", "params": {"message": {"role": "user", "parts": [{"kind": "text", "text": "hi"}], "messageId": "m1"}}}
    response = TestClient(mock_app).post(f"/a2a/{uuid.uuid4()}", json=request, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json() == media["examples"]["task_result"]["value"]


def test_mock_echoes_path_parameters(mock_app: Any) -> None:
    thread = str(uuid.uuid4())
    response = TestClient(mock_app).get(f"/threads/{thread}")
    assert response.status_code == 200
    assert response.json()["thread_id"] == thread


def test_mock_still_validates_requests(mock_app: Any) -> None:
    client = TestClient(mock_app)
    response = client.get("/threads/not-a-uuid")
    assert response.status_code == 422
    assert response.json() == {"detail": "path parameter `thread_id`: must be a valid uuid"}
    response = client.post("/runs/cancel", json={"status": "sometimes"})
    assert response.status_code == 422


def test_mock_answers_204_without_a_body(mock_app: Any) -> None:
    response = TestClient(mock_app).post("/runs/cancel", json={"status": "all"})
    assert response.status_code == 204
    assert response.content == b"" and "content-type" not in response.headers


# -- synthesis -----------------------------------------------------------------------------

SYNTHESIZED = [
    *({"type": "string", "format": f} for f in ("date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname", "duration", "uri-reference", "json-pointer", "regex")),
    {"type": "string", "minLength": 12},
    {"type": "string", "maxLength": 3},
    {"type": "string", "pattern": "^[a-z]{3}-[0-9]+$"},
    {"type": "string", "pattern": "^custom:.+$"},
    {"type": "string", "pattern": "^[a-z]+$", "minLength": 5, "maxLength": 6},
    {"type": "string", "pattern": r"^\p{Lu}\p{Ll}+ \P{L}{2}$"},
    {"type": "string", "pattern": r"^(?<year>\d{4})-\k<year>$"},
    {"type": "string", "pattern": r"^[\w-.]+@[\w-.]+\.\w{2,}$", "minLength": 12},
    {"type": "string", "pattern": r"^(?=.*[A-Z])(?=.*\d)(?!.*\s).{8,}$"},
    {"type": "string", "pattern": r"^[^\u0000-\u00FF]+$"},
    {"type": "integer", "minimum": 5, "maximum": 7},
    {"type": "integer", "exclusiveMinimum": 5},
    {"type": "integer", "exclusiveMaximum": -3},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.1},
    {"type": "number", "multipleOf": 0.1, "minimum": 0.25},
    {"type": "integer", "multipleOf": 7, "minimum": 10},
    {"type": "boolean"},
    {"type": "null"},
    {"enum": ["a", "b"]},
    {"const": {"x": 1}},
    {"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "boolean"}},
    {"type": "object", "minProperties": 2, "additionalProperties": {"type": "string"}},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "items": {"enum": ["x", "y"]}, "minItems": 2, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
    {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    {"oneOf": [{"type": "object", "required": ["kind"], "properties": {"kind": {"const": "a"}}}, {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "b"}, "n": {"type": "integer"}}}]},
    {"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}]},
    {"anyOf": [{"type": "null"}, {"type": "string", "format": "date"}]},
    {"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}, {"required": ["b"], "properties": {"b": {"type": "integer", "minimum": 3}}}]},
    {"type": ["string", "null"], "format": "date-time"},
    {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "required": ["name", "children"], "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}},
    {},
]


@pytest.mark.parametrize("schema", SYNTHESIZED, ids=[json.dumps(s)[:60] for s in SYNTHESIZED])
def test_synthesized_values_honour_the_schema(schema: dict[str, Any]) -> None:
    from codegen.runtime.mock import synthesize

    validator = reference_validator(schema)

    def is_valid(sub: Any, value: Any) -> bool:
        return bool(validator.evolve(schema=sub).is_valid(value))

    def resolve(sub: Any) -> Any:
        ref = sub.get("$ref") if isinstance(sub, dict) else None
        return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else sub

    value = synthesize(schema, resolve=resolve, is_valid=is_valid, seed="seed")
    errors = list(validator.iter_errors(value))
    assert not errors, f"{value!r}: {errors[0].message}"
    assert synthesize(schema, resolve=resolve, is_valid=is_valid, seed="seed") == value


# -- methods and Allow ---------------------------------------------------------------------


def test_unsupported_method_answers_405_with_the_paths_methods(mock_app: Any) -> None:
    client = TestClient(mock_app)
    for method in ("PUT", "PATCH", "TRACE", "QUERY"):
        response = client.request(method, "/threads/search")
        assert response.status_code == 405, method
        assert response.headers["allow"] == "POST, OPTIONS"
        assert response.json() == {"detail": "Method Not Allowed"}


def test_a_concrete_path_answers_405_before_a_templated_path_with_that_method(mock_app: Any) -> None:
    # PATCH /assistants/{assistant_id} exists, PATCH /assistants/count does not.
    response = TestClient(mock_app).patch("/assistants/count", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"


def test_options_answers_204_with_allow(mock_app: Any) -> None:
    client = TestClient(mock_app)
    response = client.options(f"/threads/{uuid.uuid4()}")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, DELETE, OPTIONS, HEAD, PATCH"
    assert response.content == b""


def test_head_answers_like_get_without_a_body(mock_app: Any) -> None:
    client = TestClient(mock_app)
    get = client.get("/info")
    head = client.head("/info")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))
    stream = client.head(f"/threads/{uuid.uuid4()}/stream")
    assert stream.status_code == 200 and stream.content == b""
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert client.head("/threads/search").status_code == 405


def test_an_operation_declaring_only_405_sends_allow(mock_app: Any) -> None:
    response = TestClient(mock_app).get("/mcp/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST, DELETE, OPTIONS, HEAD"


# -- response validation -------------------------------------------------------------------


class WrongThread:
    """Returns a thread whose `thread_id` is not a uuid."""

    async def get_thread_threads_thread_id_get(self, *, thread_id: uuid.UUID, include: Any = None) -> Any:
        return {"thread_id": "not-a-uuid", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z", "metadata": {}, "status": "idle", "values": {}}


def test_a_wrong_response_is_logged_and_answers_500_with_the_error_body(ls: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(ls.create_app(WrongThread()))
    with caplog.at_level(logging.ERROR, logger="codegen.runtime"):
        response = client.get(f"/threads/{uuid.uuid4()}")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    (message,) = [r.getMessage() for r in caplog.records if r.name == "codegen.runtime"]
    assert message == (
        "GET /threads/{thread_id} (get_thread_threads__thread_id__get): the 200 response does not match "
        "the spec: body.thread_id: must be a valid uuid"
    )


def test_an_undeclared_status_is_a_wrong_response(ls: Any, caplog: pytest.LogCaptureFixture) -> None:
    from langsmith_deployment import Reply

    class Teapot:
        async def get_thread_threads_thread_id_get(self, *, thread_id: uuid.UUID, include: Any = None) -> Any:
            return Reply({"detail": "short and stout"}, status=418)

    with caplog.at_level(logging.ERROR, logger="codegen.runtime"):
        response = TestClient(ls.create_app(Teapot())).get(f"/threads/{uuid.uuid4()}")
    assert response.status_code == 500
    assert "the 418 response does not match the spec: status 418 is not declared" in caplog.text


def test_response_validation_can_be_switched_off(ls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    thread = f"/threads/{uuid.uuid4()}"
    off = TestClient(ls.create_app(WrongThread(), validate_responses=False)).get(thread)
    assert off.status_code == 200 and off.json()["thread_id"] == "not-a-uuid"
    monkeypatch.setenv("CODEGEN_VALIDATE_RESPONSES", "0")
    by_environment = TestClient(ls.create_app(WrongThread())).get(thread)
    assert by_environment.status_code == 200
    assert TestClient(ls.create_app(WrongThread(), validate_responses=True)).get(thread).status_code == 500


# -- codegen mock --------------------------------------------------------------------------


def test_codegen_mock_serves_the_spec_on_the_given_port(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "mock.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "codegen"), "mock", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        response = None
        deadline = time.monotonic() + 120
        while response is None:
            assert process.poll() is None, (tmp_path / "mock.log").read_text()
            assert time.monotonic() < deadline, "codegen mock did not answer"
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/info", timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
        assert response.status_code == 200
        schema = DOCUMENT["paths"]["/info"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert_valid(response.json(), schema)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert re.search(rf"mock of spec/openapi.yaml on http://127.0.0.1:{port}", (tmp_path / "mock.log").read_text())


def test_head_of_an_event_stream_closes_the_implementations_stream(ls: Any) -> None:
    closed: list[bool] = []

    class Endless:
        def join_thread_stream_threads_thread_id_stream_get(self, **_: Any) -> Any:
            async def events() -> Any:
                try:
                    while True:
                        yield {"tick": 1}
                finally:
                    closed.append(True)

            return events()

    response = TestClient(ls.create_app(Endless())).head(f"/threads/{uuid.uuid4()}/stream")
    assert response.status_code == 200 and response.content == b""
    assert "content-length" not in response.headers
    assert closed == [True]


def test_an_operation_that_documents_only_a_protocol_switch_gets_no_1xx(tmp_path: Path) -> None:
    """OSIsoft's channels document only 101 (a WebSocket); sent as a final response it breaks
    the connection (h11 refuses it): a request that did not ask to switch gets 426 Upgrade
    Required, under a real uvicorn."""
    spec = tmp_path / "switch.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: Switch, version: '1'}\npaths:\n  /channel:\n    get:\n"
        "      responses:\n        '101':\n          description: switches to the WebSocket protocol\n"
        "          content: {application/json: {schema: {type: object}}}\n"
    )
    out = tmp_path / "out"
    name = generate_package(spec, out, "switch_mock")
    package = import_package(out, name)
    with serve(package.create_app(mock=True)) as base:
        response = httpx.get(f"{base}/channel", timeout=10)
    assert response.status_code == 426 and response.headers["upgrade"] == "websocket"
    assert "101" in response.json()["detail"]
