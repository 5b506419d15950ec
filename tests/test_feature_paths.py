"""Where operations are served and how paths are declared: servers with variables and base
paths, path- and operation-level servers; path items by $ref, path-level parameters and their
operation-level overrides, parameters by $ref, one name in several locations; operations
without operationId or tags (tests/specs/servers, path-items, untagged, callbacks)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from conftest import Recorder, assert_mock_answers_valid, feature, matched_route
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("servers", tmp_path_factory)


def test_operations_are_served_under_their_servers_paths(servers: Any) -> None:
    app = servers.package.create_app(mock=True)
    client = TestClient(app)
    # https://{region}.example.com/api/{version} with version's default v2
    assert client.get("/api/v2/ping").json() == {"pong": True}
    assert client.get("/ping").status_code == 404
    assert client.get("/storage/files/a.txt").text == "string"  # the path item's server
    assert client.delete("/admin/files/a.txt").status_code == 204  # the operation's server
    assert client.get("/old%20api/%3Fsource=http://example.com/v1/reports/2024").status_code == 204  # decoded
    assert client.get("/openapi.json").status_code == 200  # the spec stays at the root
    assert servers.package.app.BASE_PATH == "/api/v2"
    assert matched_route(app, "get", "/api/v2/ping").operation_id == "ping"


def test_base_path_can_be_replaced(servers: Any) -> None:
    client = TestClient(servers.package.create_app(mock=True, base_path=""))
    assert client.get("/ping").json() == {"pong": True}
    assert client.get("/api/v2/ping").status_code == 404
    assert client.delete("/admin/files/a").status_code == 204  # its own server still applies
    assert TestClient(servers.package.create_app(mock=True, base_path="/v9/")).get("/v9/ping").status_code == 200


@pytest.fixture(scope="module")
def path_items(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("path-items", tmp_path_factory)


def test_path_level_parameters_operation_overrides_and_refs(path_items: Any) -> None:
    impl = Recorder({"id": 1})
    client = TestClient(path_items.package.create_app(impl))
    response = client.get("/users/5?verbose=2&id=abc&fields=name,email", headers={"X-Request-Id": "r"})
    assert response.status_code == 200, response.text
    arguments = dict(impl.last)
    assert [f.value for f in arguments.pop("fields")] == ["name", "email"]
    # verbose is the operation's integer, not the path item's boolean; the query id is apart.
    assert arguments == {"id": 5, "verbose": 2, "query_id": "abc", "x_request_id": "r"}
    assert client.get("/users/5?verbose=true").json() == {"detail": "query parameter `verbose`: must be an integer, not string"}
    impl.answer = None
    assert client.delete("/users/5?verbose=true").status_code == 204
    assert impl.last == {"id": 5, "verbose": True, "x_request_id": None}


def test_one_name_in_four_locations(path_items: Any) -> None:
    impl = Recorder([{"id": 1}])
    client = TestClient(path_items.package.create_app(impl))
    assert client.get("/users/5/id/6", headers={"id": "h", "Cookie": "id=c"}).status_code == 200
    assert impl.last == {"id": 5, "other_id": 6, "header_id": "h", "cookie_id": "c"}


def test_path_item_by_ref(path_items: Any) -> None:
    impl = Recorder({"id": 3})
    client = TestClient(path_items.package.create_app(impl))
    assert client.get("/accounts/3").json() == {"id": 3}
    assert impl.last == {"id": 3}
    assert client.get("/accounts/0").json() == {"detail": "path parameter `id`: must be at least 1"}


@pytest.fixture(scope="module")
def untagged(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("untagged", tmp_path_factory)


def test_no_tags_no_operation_ids(untagged: Any) -> None:
    routers = importlib.import_module(f"{untagged.package.__name__}.routers")
    assert sorted(m for m in vars(routers) if not m.startswith("_")) == ["default"]
    protocol = untagged.package.protocols.DefaultApi
    names = sorted(n for n in vars(protocol) if not n.startswith("_"))
    assert names == ["get", "get_things", "get_things_thing_id_parts_part", "post_things"]
    impl = Recorder(None)
    client = TestClient(untagged.package.create_app(impl))
    assert client.get("/things/7/parts/wheel").status_code == 200
    assert impl.calls == [("get_things_thing_id_parts_part", {"thing_id": 7, "part": "wheel"})]


@pytest.fixture(scope="module")
def callbacks(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("callbacks", tmp_path_factory)


def test_callbacks_are_documented(callbacks: Any) -> None:
    doc = callbacks.package.protocols.DefaultApi.subscribe.__doc__
    assert "- onCancel: DELETE {$request.body#/callbackUrl}/cancelled" in doc
    assert "- onEvent: POST {$request.body#/callbackUrl}" in doc
    impl = Recorder({"id": "s1"})
    client = TestClient(callbacks.package.create_app(impl))
    assert client.post("/subscriptions", json={"callbackUrl": "https://example.com/hook"}).json() == {"id": "s1"}
    assert client.post("/subscriptions", json={"callbackUrl": "not a uri"}).status_code == 422


REQUESTS = {
    "servers": [
        ("get", "/ping", "/api/v2/ping", {}),
        ("get", "/files/{name}", "/storage/files/a", {}),
        ("delete", "/files/{name}", "/admin/files/a", {}),
        ("get", "/reports/{year}", "/old%20api/%3Fsource=http://example.com/v1/reports/2024", {}),
    ],
    "path-items": [
        ("get", "/users/{id}", "/users/1", {}),
        ("delete", "/users/{id}", "/users/1", {}),
        ("get", "/users/{id}/id/{other_id}", "/users/1/id/2", {}),
        ("get", "/accounts/{id}", "/accounts/1", {}),
    ],
    "untagged": [
        ("get", "/", "/", {}),
        ("get", "/things", "/things", {}),
        ("post", "/things", "/things", {}),
        ("get", "/things/{thing_id}/parts/{part}", "/things/1/parts/a", {}),
    ],
    "callbacks": [("post", "/subscriptions", "/subscriptions", {"json": {"callbackUrl": "https://example.com/hook"}})],
}


@pytest.mark.parametrize("family", sorted(REQUESTS))
def test_mock_answers_validate(family: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert_mock_answers_valid(feature(family, tmp_path_factory), REQUESTS[family])
