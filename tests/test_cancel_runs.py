"""POST /runs/cancel: the operation our first user cares about most, case by case."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

T = str(uuid.uuid4())
R = str(uuid.uuid4())


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []

    async def cancel_runs_post(self, *, action: Any, body: Any) -> None:
        self.calls.append((action, body))


@pytest.fixture()
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture()
def client(ls: Any, recorder: Recorder) -> TestClient:
    return TestClient(ls.create_app(recorder))


def test_rollback_with_status_reaches_implementation_typed(client: TestClient, recorder: Recorder) -> None:
    from langsmith_deployment import models

    response = client.post("/runs/cancel?action=rollback", json={"status": "all"})
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    (action, body), = recorder.calls
    assert action is models.CancelRunsPostAction.rollback
    assert isinstance(body, models.RunsCancel)
    assert body.status is models.RunsCancelStatus.all


def test_action_defaults_to_interrupt(client: TestClient, recorder: Recorder) -> None:
    from langsmith_deployment import models

    assert client.post("/runs/cancel", json={"thread_id": T, "run_ids": [R]}).status_code == 204
    (action, body), = recorder.calls
    assert action is models.CancelRunsPostAction.interrupt
    assert body.thread_id == uuid.UUID(T) and body.run_ids == [uuid.UUID(R)]


ACCEPTED = [
    {"status": "all"},
    {"status": "pending"},
    {"status": "running"},
    {"thread_id": T, "run_ids": [R]},
    {"status": "pending", "thread_id": T},
    {"status": "running", "run_ids": []},
    {"status": "all", "unknown": {"extra": True}},
]
REJECTED = [
    {},
    {"status": "all", "thread_id": T, "run_ids": [R]},
    {"thread_id": T},
    {"run_ids": [R]},
    {"status": None},
    {"status": 1},
    {"status": "done"},
    {"thread_id": "not-a-uuid", "run_ids": [R]},
    {"thread_id": T, "run_ids": ["not-a-uuid"]},
    {"thread_id": T, "run_ids": R},
    [],
    "status",
]


@pytest.mark.parametrize("body", ACCEPTED, ids=repr)
def test_accepted_bodies(client: TestClient, recorder: Recorder, body: Any) -> None:
    response = client.post("/runs/cancel", json=body)
    assert response.status_code == 204, response.text
    assert len(recorder.calls) == 1


@pytest.mark.parametrize("body", REJECTED, ids=repr)
def test_rejected_bodies_answer_422_detail_string(client: TestClient, recorder: Recorder, body: Any) -> None:
    response = client.post("/runs/cancel", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert set(payload) == {"detail"} and isinstance(payload["detail"], str) and payload["detail"]
    assert recorder.calls == []


@pytest.mark.parametrize(
    "raw",
    [b"{bad json", b"", b"\xff\xfe", b"[" * 100_000, b'{"status": NaN}', b'{"status": "all"} trailing'],
    ids=["malformed", "empty", "not-utf8", "deeply-nested", "nan", "trailing"],
)
def test_malformed_bodies_answer_4xx_never_500(client: TestClient, raw: bytes) -> None:
    response = client.post("/runs/cancel", content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert isinstance(response.json()["detail"], str)


def test_unknown_action_is_422(client: TestClient, recorder: Recorder) -> None:
    response = client.post("/runs/cancel?action=bogus", json={"status": "all"})
    assert response.status_code == 422
    assert response.json() == {"detail": 'query parameter `action`: must be one of "interrupt", "rollback"'}
    assert recorder.calls == []


def test_detail_names_field_and_rule(client: TestClient) -> None:
    assert client.post("/runs/cancel", json={"thread_id": T}).json()["detail"] == (
        "body: needs exactly one of: `status`, or `thread_id` with `run_ids`; "
        "`thread_id` and `run_ids` go together (`run_ids` is missing)"
    )
    assert client.post("/runs/cancel", json={"status": "all", "thread_id": T, "run_ids": [R]}).json()["detail"] == (
        "body: give exactly one of: `status`, or `thread_id` with `run_ids`; not several"
    )
    assert client.post("/runs/cancel", json={"thread_id": T, "run_ids": ["x"]}).json()["detail"] == (
        "body.run_ids[0]: must be a valid uuid"
    )
    assert client.post("/runs/cancel", json={"status": None}).json()["detail"] == "body.status: must be a string, not null"


def test_wrong_content_type_is_rejected_with_declared_status(client: TestClient) -> None:
    response = client.post("/runs/cancel", content=b"status=all", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422
    assert "content type" in response.json()["detail"]


class SingleRunRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[bool, Any]] = []

    async def cancel_run_http_threads_thread_id_runs_run_id_cancel_post(self, *, thread_id: Any, run_id: Any, wait: bool, action: Any) -> None:
        self.calls.append((wait, action))


@pytest.mark.parametrize(("text", "wait"), [("1", True), ("0", False), ("true", True), ("false", False)])
def test_single_run_cancel_reads_wait_as_langgraph_sdk_sends_it(ls: Any, text: str, wait: bool) -> None:
    recorder = SingleRunRecorder()
    client = TestClient(ls.create_app(recorder, lenient_booleans=True))
    response = client.post(f"/threads/{T}/runs/{R}/cancel?wait={text}&action=rollback")
    assert response.status_code == 200, response.text
    assert recorder.calls == [(wait, ls.models.CancelRunHttpThreadsThreadIdRunsRunIdCancelPostAction.rollback)]


@pytest.mark.parametrize(("text", "lenient"), [("yes", True), ("2", True), ("True", True), ("", True), ("1", False), ("0", False)])
def test_single_run_cancel_rejects_other_wait_texts(ls: Any, text: str, lenient: bool) -> None:
    client = TestClient(ls.create_app(SingleRunRecorder(), lenient_booleans=lenient))
    response = client.post(f"/threads/{T}/runs/{R}/cancel?wait={text}")
    assert response.status_code == 422, response.text
