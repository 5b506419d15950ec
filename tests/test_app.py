"""Executed tier: the generated app of spec/ routes every operation and answers like the spec."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from conftest import assert_valid, json_of, spec_document, spec_operations
from fastapi.sse import ServerSentEvent
from fastapi.testclient import TestClient
from starlette.routing import Match

OPERATIONS = spec_operations()


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: str(uuid.UUID(int=7)), path)


def test_spec_has_the_operations_we_expect() -> None:
    assert len(OPERATIONS) == 64


@pytest.fixture(scope="module")
def app(ls: Any) -> Any:
    return ls.create_app()


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS])
def test_operation_is_routed_to_its_own_endpoint(app: Any, method: str, path: str, operation: dict[str, Any]) -> None:
    scope = {"type": "http", "method": method.upper(), "path": concrete(path), "root_path": "", "headers": []}
    matched = [r for r in app.router.routes if r.matches(scope)[0] == Match.FULL]
    assert matched, f"no route for {method.upper()} {path}"
    assert getattr(matched[0], "operation_id", None) == operation["operationId"]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS])
def test_unimplemented_operation_answers_501_or_a_validation_error(app: Any, method: str, path: str, operation: dict[str, Any]) -> None:
    client = TestClient(app)
    response = client.request(method.upper(), concrete(path), headers={"Accept": "application/json"})
    assert response.status_code in (501, 400, 422), response.text
    declared = operation["responses"].get(str(response.status_code))
    if declared is None:
        assert set(json_of(response)) == {"detail"}
    elif "content" not in declared:
        assert response.content == b""  # A2A's 400 declares no body
    else:
        schema = declared["content"]["application/json"]["schema"]
        assert_valid(json_of(response), schema)


def test_openapi_json_is_the_spec(app: Any) -> None:
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served == spec_document()
    served_ops = {(m, p, op["operationId"]) for p, item in served["paths"].items() for m, op in item.items()}
    assert served_ops == {(m, p, op["operationId"]) for m, p, op in OPERATIONS}


def test_missing_operation_answers_501_with_the_error_schema(ls: Any) -> None:
    response = TestClient(ls.create_app()).post("/runs/cancel", json={"status": "all"})
    assert response.status_code == 501
    assert response.json() == {"detail": "operation cancel_runs_post is not implemented"}


class Streams:
    def stream_run_threads_thread_id_runs_stream_post(self, *, thread_id: uuid.UUID, body: Any) -> Any:
        async def events() -> Any:
            yield ServerSentEvent(data={"run_id": str(thread_id)}, event="metadata", id="1")
            yield {"values": [1, 2]}

        return events()

    async def get_thread_threads_thread_id_get(self, *, thread_id: uuid.UUID, include: Any) -> Any:
        from langsmith_deployment import ApiError

        raise ApiError(404, f"Thread {thread_id} not found")


def test_sse_operation_streams_events_with_fastapi_sse(ls: Any) -> None:
    client = TestClient(ls.create_app(Streams()))
    thread = uuid.uuid4()
    response = client.post(f"/threads/{thread}/runs/stream", json={"assistant_id": "agent"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == f'event: metadata\ndata: {{"run_id":"{thread}"}}\nid: 1\n\ndata: {{"values":[1,2]}}\n\n'


def test_api_error_answers_declared_status_with_error_body(ls: Any) -> None:
    client = TestClient(ls.create_app(Streams()))
    thread = uuid.uuid4()
    response = client.get(f"/threads/{thread}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"Thread {thread} not found"}


class StoreDown(Exception):
    pass


class Failing:
    async def get_thread_threads_thread_id_get(self, *, thread_id: uuid.UUID, include: Any) -> Any:
        raise StoreDown("connection refused")

    async def search_threads_threads_search_post(self, *, body: Any) -> Any:
        raise KeyError("a bug")


def test_translate_error_turns_an_implementation_exception_into_its_answer(ls: Any) -> None:
    def translate(exc: Exception) -> Any:
        if isinstance(exc, StoreDown):
            return ls.ApiError(503, f"store unavailable: {exc}", headers={"Retry-After": "1"})
        return None

    client = TestClient(ls.create_app(Failing(), translate_error=translate), raise_server_exceptions=False)
    down = client.get(f"/threads/{uuid.uuid4()}")
    assert (down.status_code, down.json(), down.headers["retry-after"]) == (503, {"detail": "store unavailable: connection refused"}, "1")
    # What the translator leaves alone stays an internal error, with the error schema's body.
    bug = client.post("/threads/search", json={})
    assert (bug.status_code, bug.json()) == (500, {"detail": "Internal Server Error"})


def test_a_failing_translator_leaves_the_500(ls: Any) -> None:
    def translate(exc: Exception) -> Any:
        raise RuntimeError("translator bug")

    client = TestClient(ls.create_app(Failing(), translate_error=translate), raise_server_exceptions=False)
    response = client.get(f"/threads/{uuid.uuid4()}")
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})


def test_bad_path_parameter_answers_422_with_detail_string(ls: Any) -> None:
    response = TestClient(ls.create_app(Streams())).get("/threads/not-a-uuid")
    assert response.status_code == 422
    assert response.json() == {"detail": "path parameter `thread_id`: must be a valid uuid"}


def test_a2a_chooses_json_or_sse_by_accept_header(ls: Any) -> None:
    class A2A:
        async def post_a2a(self, *, assistant_id: Any, accept: str, body: Any) -> Any:
            if "text/event-stream" in accept:

                async def events() -> Any:
                    yield {"jsonrpc": "2.0", "id": body.id, "result": {"kind": "status-update"}}

                return events()
            return {"jsonrpc": "2.0", "id": body.id, "result": {"kind": "task"}}

    client = TestClient(ls.create_app(A2A()))
    request = {"jsonrpc": "2.0", "id": "1", "method": "message/send", "params": {"message": {"role": "user", "parts": [{"kind": "text", "text": "hi"}], "messageId": "m1"}}}
    target = f"/a2a/{uuid.uuid4()}"
    as_json = client.post(target, json=request, headers={"Accept": "application/json"})
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    assert as_json.json()["result"] == {"kind": "task"}
    as_sse = client.post(target, json=request | {"method": "message/stream"}, headers={"Accept": "text/event-stream"})
    assert as_sse.status_code == 200 and as_sse.headers["content-type"].startswith("text/event-stream")
    assert as_sse.text.startswith('data: {"jsonrpc":"2.0"')
