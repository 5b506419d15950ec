"""OpenAPI 3.0 (nullable, boolean exclusive bounds, example, info fields, extensions) and 3.1
(type arrays, const, examples, $ref siblings, webhooks, jsonSchemaDialect, path items from
components, files by contentMediaType) documents (tests/specs/openapi-30, openapi-31)."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

import pytest
from codegen.runtime.bodies import UploadedFile
from conftest import Recorder, assert_mock_answers_valid, feature
from fastapi.testclient import TestClient

STOCK = {"sku": "ABC-1", "count": 1}
ITEM = {"id": 1, "kind": "item"}


@pytest.fixture(scope="module")
def v30(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("openapi-30", tmp_path_factory)


@pytest.fixture(scope="module")
def v31(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("openapi-31", tmp_path_factory)


def test_30_info_fields_stay_in_the_served_spec(v30: Any) -> None:
    app = v30.package.create_app()
    assert (app.title, app.version) == ("OpenAPI 3.0 features", "2.5.0")
    info = TestClient(app).get("/openapi.json").json()["info"]
    assert info["termsOfService"] == "https://example.com/terms" and info["license"]["name"] == "MIT"


def test_30_nullable_exclusive_bounds_and_patterns(v30: Any) -> None:
    impl = Recorder(STOCK)
    client = TestClient(v30.package.create_app(impl))
    assert client.get("/stock/ABC-1?at=2024-01-01").status_code == 200
    assert impl.last == {"sku": "ABC-1", "at": datetime.date(2024, 1, 1)}
    response = client.get("/stock/abc")  # only 404 declared: a bad path answers it
    assert (response.status_code, response.json()) == (404, {"title": "path parameter `sku`: must match the pattern ^[A-Z]{3}-[0-9]+$"})
    assert client.patch("/stock/ABC-1", json={"delta": -99, "reason": None}).status_code == 200
    assert impl.last["body"].model_dump() == {"delta": -99, "reason": None}
    assert client.patch("/stock/ABC-1", json={"delta": -100}).json() == {"detail": "body.delta: must be greater than -100"}
    assert client.patch("/stock/ABC-1", json={"delta": 1, "reason": "x"}).json() == {"detail": 'body.reason: must be one of "sale", "loss", null'}


def test_30_mock_answers_validate(v30: Any) -> None:
    assert_mock_answers_valid(
        v30,
        [
            ("get", "/stock/{sku}", "/stock/ABC-1", {}),
            ("patch", "/stock/{sku}", "/stock/ABC-1", {"json": {"delta": 1}}),
        ],
    )
    assert TestClient(v30.package.create_app(mock=True)).get("/stock/ABC-1").json() == {"sku": "ABC-1", "count": 3, "reserved": None, "ratio": 0.5}


def test_31_type_arrays_const_and_ref_siblings(v31: Any) -> None:
    impl = Recorder(ITEM)
    client = TestClient(v31.package.create_app(impl))
    item = {"id": 1, "kind": "item", "name": None, "score": None, "size": "big", "extra": {"note": "n"}}
    assert client.put("/items/1", json=item).status_code == 200
    assert impl.last["body"].model_dump(exclude_unset=True) == item
    assert client.put("/items/1", json={**item, "name": 1}).json() == {"detail": "body.name: must be a string or null, not integer"}
    # `required: [name]` beside the $ref applies; so does the target's unevaluatedProperties.
    assert client.put("/items/1", json=ITEM).json() == {"detail": "body.name: is required"}
    assert client.put("/items/1", json={**ITEM, "name": "n", "extra": {"x": 1}}).json() == {"detail": "body.extra.x: is not allowed (unexpected property)"}
    assert client.put("/items/1", json={**ITEM, "name": "n", "kind": "other"}).json() == {"detail": 'body.kind: must be "item"'}
    assert client.put("/items/1", json={**ITEM, "name": "n", "size": 1.5}).json() == {"detail": "body.size: must be an integer or a string, not number"}
    assert client.get("/items/0").json() == {"detail": "path parameter `id`: must be at least 1"}


def test_31_files_by_content_media_type(v31: Any) -> None:
    impl = Recorder(ITEM)
    client = TestClient(v31.package.create_app(impl))
    assert client.post("/uploads", files={"image": ("a.png", b"\x89PNG", "image/png")}, data={"caption": "c"}).status_code == 201
    body = impl.last["body"]
    assert isinstance(body.image, UploadedFile) and (body.image, body.image.filename, body.caption) == (b"\x89PNG", "a.png", "c")
    assert client.post("/uploads", content=b"raw", headers={"Content-Type": "application/octet-stream"}).status_code == 201
    assert impl.last["body"] == b"raw"


def test_31_webhooks_are_documented_not_served(v31: Any) -> None:
    protocols = importlib.import_module(f"{v31.package.__name__}.protocols")
    assert "- POST itemChanged" in (protocols.__doc__ or "")
    assert not hasattr(protocols.DefaultApi, "item_changed")
    assert TestClient(v31.package.create_app(mock=True)).post("/itemChanged", json=ITEM).status_code == 404


def test_31_mock_answers_validate(v31: Any) -> None:
    assert_mock_answers_valid(
        v31,
        [
            ("get", "/items/{id}", "/items/1", {}),
            ("put", "/items/{id}", "/items/2", {"json": {**ITEM, "name": "n"}}),
            ("post", "/uploads", "/uploads", {"files": {"image": ("a.png", b"x", "image/png")}}),
        ],
    )
    assert TestClient(v31.package.create_app(mock=True)).get("/items/1").json() == {"id": 1, "kind": "item", "name": "first", "tags": [], "score": None}
