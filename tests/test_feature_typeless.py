"""Typeless schemas: a schema with `properties` and no `type` is read as an object (one verdict:
the check's), other object keywords without a type keep JSON Schema's verdict
(tests/specs/typeless)."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import pytest
from conftest import Recorder, assert_mock_answers_valid, feature
from fastapi.testclient import TestClient

NOT_AN_OBJECT = "must be an object (the schema has properties but no type; codegen reads it as an object)"


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("typeless", tmp_path_factory)


def answer(name: str, arguments: dict[str, Any]) -> Any:
    return {"pets": []} if name == "find_pets" else arguments["body"].owner if name == "put_owner" else arguments.get("body")


@pytest.fixture()
def recorder() -> Recorder:
    return Recorder(answer)


@pytest.fixture()
def client(fx: Any, recorder: Recorder) -> TestClient:
    return TestClient(fx.package.create_app(recorder), raise_server_exceptions=False)


@pytest.mark.parametrize("value", [5, "pet", None, [1], True])
def test_a_non_object_is_refused_by_the_check(client: TestClient, value: Any) -> None:
    response = client.post("/pets", content=json.dumps(value), headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (422, {"detail": f"body: {NOT_AN_OBJECT}"})


def test_objects_arrive_as_models(fx: Any, client: TestClient, recorder: Recorder) -> None:
    models = fx.package.models
    pet = {"name": "Rex", "born": "2020-02-29"}
    assert client.post("/pets", json=pet).json() == pet
    assert type(recorder.last["body"]) is models.Pet and recorder.last["body"].born == datetime.date(2020, 2, 29)
    assert client.post("/pets", json={"tag": "x"}).json() == {"detail": "body.name: is required"}
    xml = client.post("/pets", content=b"<Pet><name>Rex</name><born>2020-02-29</born></Pet>", headers={"content-type": "application/xml"})
    assert xml.status_code == 201 and recorder.last["body"] == models.Pet(name="Rex", born=datetime.date(2020, 2, 29))
    owner = {"name": "Ann", "address": {"city": "Oslo"}, "pets": [{"id": 1}], "spouse": None}
    assert client.put("/owners", json={"owner": owner}).json() == owner
    body = recorder.last["body"]
    assert type(body) is models.PutOwnerBody and type(body.owner.address) is models.OwnerAddress
    assert type(body.owner.pets[0]) is models.OwnerPet
    # Nested typeless objects, array items and the inline body are objects too.
    for sent, where in (
        ({"owner": {"address": "Main St"}}, "body.owner.address"),
        ({"owner": {"pets": [7]}}, "body.owner.pets[0]"),
        ({"owner": {"spouse": 1}}, "body.owner.spouse"),
        (["owner"], "body"),
    ):
        assert client.put("/owners", json=sent).json()["detail"].startswith(f"{where}: "), sent
    assert client.put("/owners", json={"owner": {"address": "x"}}).json() == {"detail": f"body.owner.address: {NOT_AN_OBJECT}"}


def test_all_of_and_any_of_members(fx: Any, client: TestClient, recorder: Recorder) -> None:
    models = fx.package.models
    assert client.patch("/patches", json={"name": "Rex", "weight": 3}).json() == {"name": "Rex", "weight": 3}
    assert type(recorder.last["body"]) is models.PetPatch
    assert client.patch("/patches", json=3).json() == {"detail": f"body: {NOT_AN_OBJECT}"}
    assert client.post("/choices", json="plain").status_code == 204
    assert recorder.last["body"] == "plain"
    assert client.post("/choices", json={"pick": 1}).status_code == 204
    assert recorder.last["body"].pick == 1
    # JSON Schema would let 5 through the first member; the object reading does not.
    refused = client.post("/choices", json=5).json()["detail"]
    assert refused == f"body: must match at least one of 2 alternatives: (1) {NOT_AN_OBJECT}; (2) must be a string, not integer"


def test_other_object_keywords_keep_json_schemas_verdict(client: TestClient, recorder: Recorder) -> None:
    # `additionalProperties`, `required` or required-only alternatives without `type`: any
    # non-object passes (typed `Any`), objects are checked.
    loose = {"counts": 5, "needs": "x", "either": [1]}
    assert client.post("/loose", json=loose).json() == loose
    assert recorder.last["body"].needs == "x"
    assert client.post("/loose", json={"counts": {"a": "b"}}).json() == {"detail": "body.counts.a: must be an integer, not string"}
    assert client.post("/loose", json={"needs": {}}).json() == {"detail": "body.needs.a: is required"}
    assert client.post("/loose", json={"either": {}}).json() == {"detail": "body.either: needs one of: `a`, or `b`"}


def test_typeless_parameter_is_an_object(fx: Any, client: TestClient, recorder: Recorder) -> None:
    assert client.get("/pets?filter[name]=Rex&filter[age]=3").status_code == 200
    assert recorder.last["filter"] == fx.package.models.FindPetsFilter(name="Rex", age=3)
    assert client.get("/pets?filter[age]=old").json() == {"detail": "query parameter `filter`.age: must be an integer, not string"}


def test_a_non_object_response_is_refused(fx: Any, caplog: pytest.LogCaptureFixture) -> None:
    class Wrong:
        async def create_pet(self, *, body: Any) -> Any:
            return "Rex"

    client = TestClient(fx.package.create_app(Wrong()), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR):
        assert client.post("/pets", json={"name": "Rex"}).status_code == 500
    assert f"body: {NOT_AN_OBJECT}" in caplog.text


REQUESTS = [
    ("post", "/pets", "/pets", {"json": {"name": "Rex"}}),
    ("get", "/pets", "/pets?filter[name]=Rex", {}),
    ("put", "/owners", "/owners", {"json": {"owner": {}}}),
    ("patch", "/patches", "/patches", {"json": {"name": "Rex"}}),
    ("post", "/choices", "/choices", {"json": "plain"}),
    ("post", "/loose", "/loose", {"json": {}}),
]


def test_mock_answers_objects(fx: Any) -> None:
    assert_mock_answers_valid(fx, REQUESTS)
    mock = TestClient(fx.package.create_app(mock=True))
    assert isinstance(mock.post("/pets", json={"name": "Rex"}).json(), dict)
    found = mock.get("/pets").json()
    assert isinstance(found, dict) and all(isinstance(pet, dict) for pet in found.get("pets", []))
