"""Routing precedence and dispatch (tests/specs/routing): each request reaches exactly the
operation it is meant for, never a routing 404 or 405."""

from __future__ import annotations

from typing import Any

import pytest
from codegen.runtime.application import _segment_regex, _specificity
from conftest import Recorder, feature
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def routing(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("routing", tmp_path_factory)


class Reached:
    """An app that records the operation each request reached (`scope["codegen.operation"]`)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.operations: list[str | None] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.operations.append(scope.get("codegen.operation"))


@pytest.fixture
def client(routing: Any) -> tuple[TestClient, Reached, Recorder]:
    impl = Recorder(lambda name, arguments: {"operation": name})
    reached = Reached(routing.package.create_app(impl))
    return TestClient(reached, raise_server_exceptions=False), reached, impl


JSON = {"content-type": "application/json"}
KEY = {"x-token": "secret"}
REQUESTS = [
    # (method, url, request keyword arguments, operation, its arguments)
    ("GET", "/v1/abc", {}, "get_thing", {"name": "abc"}),
    ("DELETE", "/v1/abc", {}, "delete_thing", {"name": "abc"}),
    ("POST", "/v1/abc:rename", {}, "rename_thing", {"name": "abc"}),
    ("POST", "/v1/a:b:undelete", {}, "undelete_thing", {"name": "a:b"}),
    ("GET", "/v1/things:batchGet", {}, "batch_get_things", {}),
    ("GET", "/v1/things", {}, "get_thing", {"name": "things"}),
    ("GET", "/files/report.json", {}, "get_file_json", {"id": "report"}),
    ("GET", "/files/report.v2.json", {}, "get_file_json", {"id": "report.v2"}),
    ("GET", "/files/report", {}, "get_file", {"id": "report"}),
    ("GET", "/files/report.xml", {}, "get_file", {"id": "report.xml"}),
    ("GET", "/ranges/1-2-3", {}, "get_range", {"first": "1", "last": "2-3"}),  # a variable ends at the first `-`
    (
        "GET",
        "/?Action=DescribeInstances&Version=2016-11-15&MaxResults=10",
        {},
        "describe_instances",
        {"action": "DescribeInstances", "version": "2016-11-15", "max_results": 10},
    ),
    (
        "GET",
        "/?Action=RunInstances&Version=2016-11-15&ImageId=ami-1",
        {},
        "run_instances",
        {"action": "RunInstances", "version": "2016-11-15", "image_id": "ami-1"},
    ),
    (
        "POST",
        "/",
        {"headers": {"X-Amz-Target": "Store.GetItem", **JSON}, "content": b'{"Key": "k"}'},
        "get_item",
        {"x_amz_target": "Store.GetItem", "body": {"Key": "k"}},
    ),
    (
        "POST",
        "/",
        {"headers": {"X-Amz-Target": "Store.DeleteItem", **JSON}, "content": b'{"Key": "k"}'},
        "delete_item",
        {"x_amz_target": "Store.DeleteItem", "body": {"Key": "k"}},
    ),
    ("GET", "/tags/arn:1", {}, "list_tags", {"resource_arn": "arn:1"}),
    # A value holding "/" travels as %2F and stays one segment (AWS ARNs, Azure scopes).
    ("GET", "/tags/arn:aws:s3:::bucket%2Fkey", {}, "list_tags", {"resource_arn": "arn:aws:s3:::bucket/key"}),
    ("GET", "/v1/projects%2Fp%2Ftopics%2Ft", {}, "get_thing", {"name": "projects/p/topics/t"}),
    ("POST", "/v1/projects%2Fp:rename", {}, "rename_thing", {"name": "projects/p"}),
    ("GET", "/files/a%2Fb%2Fc.json", {}, "get_file_json", {"id": "a/b/c"}),
    ("DELETE", "/tags/arn:1?tagKeys=a&tagKeys=b", {}, "untag_resource", {"resource_arn": "arn:1", "tag_keys": ["a", "b"]}),
    ("GET", "/buckets/b1", {}, "list_objects", {"bucket": "b1"}),
    ("GET", "/buckets/b1?cors", {}, "get_bucket_cors", {"bucket": "b1"}),
    ("GET", "/forecast?city=Paris", {}, "forecast_by_city", {"city": "Paris"}),
    ("GET", "/forecast?lat=48.8&lon=2.3", {}, "forecast_by_position", {"lat": 48.8, "lon": 2.3}),
    ("GET", "/rest?method=photos.search&text=cat", {}, "search_photos", {"text": "cat"}),
    ("GET", "/rest?method=photos.getInfo&photo_id=7", {}, "get_photo_info", {"photo_id": "7"}),
    ("POST", "/analyze", {"json": {"url": "https://example.com/a.png"}}, "analyze_url", {"body": {"url": "https://example.com/a.png"}}),
    (
        "POST",
        "/analyze",
        {"content": b"\x89PNG", "headers": {"content-type": "application/octet-stream"}},
        "analyze_stream",
        {"body": b"\x89PNG"},
    ),
    ("GET", "/objects/o1", {"headers": KEY}, "get_object", {"key": "o1", "token": "secret"}),
    ("HEAD", "/objects/o1", {"headers": KEY}, "head_object", {"key": "o1", "token": "secret"}),
    ("GET", "/objects/o1?acl", {"headers": KEY}, "get_object_acl", {"key": "o1", "acl": "", "token": "secret"}),
    ("GET", "/secured/s1", {"headers": KEY}, "get_secured", {"id": "s1", "token": "secret"}),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "operation", "arguments"), REQUESTS, ids=[f"{r[0]} {r[1]} {r[3]}" for r in REQUESTS])
def test_each_request_reaches_its_operation(
    client: tuple[TestClient, Reached, Recorder], method: str, url: str, kwargs: dict[str, Any], operation: str, arguments: dict[str, Any]
) -> None:
    http, reached, impl = client
    response = http.request(method, url, **kwargs)
    assert response.status_code in (200, 204), response.text
    assert reached.operations == [operation]
    name, given = impl.calls[-1]
    assert name == operation
    given = {k: v.model_dump(by_alias=True) if hasattr(v, "model_dump") else (bytes(v) if isinstance(v, bytes) else v) for k, v in given.items()}
    assert {k: v.value if hasattr(v, "value") else v for k, v in given.items()} == arguments


def test_every_operation_of_the_fixture_is_reached(routing: Any) -> None:
    assert {r[3] for r in REQUESTS} == {op["operationId"] for _, _, op in routing.operations()}


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "body"),
    [
        (
            "GET",
            "/?Version=2016-11-15",
            {},
            400,
            {"message": "no operation of GET / matches the request: send query Action: DescribeInstances or RunInstances"},
        ),
        (
            "POST",
            "/",
            {"headers": {"X-Amz-Target": "Store.Scan", **JSON}, "content": b"{}"},
            400,
            {"message": "no operation of POST / matches the request: send header X-Amz-Target: Store.GetItem or Store.DeleteItem"},
        ),
        ("GET", "/forecast", {}, 422, {"detail": "no operation of GET /forecast matches the request: send query city; or query lat and query lon"}),
        (
            "GET",
            "/rest?method=photos.delete",
            {},
            422,
            {"detail": "no operation of GET /rest matches the request: send query method: photos.search or photos.getInfo"},
        ),
    ],
)
def test_a_request_no_operation_fits_gets_a_4xx_naming_what_they_expect(
    client: tuple[TestClient, Reached, Recorder], method: str, url: str, kwargs: dict[str, Any], status: int, body: Any
) -> None:
    http, reached, impl = client
    response = http.request(method, url, **kwargs)
    assert (response.status_code, response.json()) == (status, body)
    assert reached.operations == [None] and impl.calls == []


def test_an_operation_reached_still_checks_its_parameters(client: tuple[TestClient, Reached, Recorder]) -> None:
    http, reached, _ = client
    # the key names Action; the operation also requires ImageId, and MaxResults is at least 5
    assert http.get("/?Action=RunInstances&Version=2016-11-15").json() == {"message": "query parameter `ImageId`: is required"}
    assert http.get("/?Action=DescribeInstances&Version=2016-11-15&MaxResults=1").status_code == 400
    assert http.get("/forecast?lat=91&lon=0").json() == {"detail": "query parameter `lat`: must be at most 90"}
    assert http.delete("/tags/arn:1").json() == {"detail": "query parameter `tagKeys`: is required"}
    assert reached.operations == ["run_instances", "describe_instances", "forecast_by_position", "untag_resource"]


def test_methods_head_and_options_of_shared_and_custom_paths(client: tuple[TestClient, Reached, Recorder]) -> None:
    http, reached, _ = client
    assert http.get("/v1/abc:rename").status_code == 405  # the more literal path wins: it has POST only
    assert http.get("/v1/abc:rename").headers["allow"] == "POST, OPTIONS"
    assert http.options("/tags/arn:1").headers["allow"] == "GET, DELETE, OPTIONS, HEAD"
    assert http.head("/?Action=RunInstances&Version=2016-11-15&ImageId=a").status_code == 200
    assert http.head("/buckets/b1?cors").status_code == 200
    assert http.put("/").headers["allow"] == "GET, POST, OPTIONS, HEAD"
    assert reached.operations[-3:] == ["run_instances", "get_bucket_cors", None]


def test_head_runs_the_get_route_whole_security_included(client: tuple[TestClient, Reached, Recorder]) -> None:
    http, reached, impl = client
    answered = http.head("/secured/s1", headers=KEY)
    assert (answered.status_code, answered.content) == (200, b"")
    assert int(answered.headers["content-length"]) == len(http.get("/secured/s1", headers=KEY).content) > 0
    refused = http.head("/secured/s1")
    assert (refused.status_code, refused.content) == (401, b"")
    assert reached.operations == ["get_secured"] * 3  # the third reached it and was refused there
    assert [name for name, _ in impl.calls] == ["get_secured", "get_secured"]


def test_a_declared_head_beside_a_shared_get_wins(client: tuple[TestClient, Reached, Recorder]) -> None:
    http, reached, _ = client
    assert http.head("/objects/o1?acl", headers=KEY).status_code == 200
    assert http.options("/objects/o1").headers["allow"] == "GET, OPTIONS, HEAD"
    assert reached.operations == ["head_object", None]


def test_an_invalid_request_gets_the_status_documented_for_it(client: tuple[TestClient, Reached, Recorder]) -> None:
    http, reached, impl = client
    refused = http.post("/", headers={"X-Amz-Target": "Store.DeleteItem", **JSON}, content=b"{}")
    assert (refused.status_code, refused.json()) == (481, {"message": "body.Key: is required"})
    assert reached.operations == ["delete_item"] and impl.calls == []


def test_the_mock_answers_each_operation(routing: Any) -> None:
    reached = Reached(routing.package.create_app(mock=True))
    http = TestClient(reached)
    for method, url, kwargs, operation, _ in REQUESTS:
        assert http.request(method, url, **kwargs).status_code in (200, 204), (method, url)
        assert reached.operations[-1] == operation


def test_the_served_document_keeps_the_keys_as_written(routing: Any) -> None:
    paths = TestClient(routing.package.create_app(mock=True)).get("/openapi.json").json()["paths"]
    assert "/#X-Amz-Target=Store.GetItem" in paths and "/forecast?lat={lat}&lon={lon}" in paths


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["/v1/{name}", "/v1/{name}:rename", "/v1/things:batchGet"], ["/v1/things:batchGet", "/v1/{name}:rename", "/v1/{name}"]),
        (["/files/{id}", "/files/{id}.json"], ["/files/{id}.json", "/files/{id}"]),
        (["/{a}/b", "/a/{b}"], ["/a/{b}", "/{a}/b"]),
    ],
)
def test_more_literal_paths_sort_first(paths: list[str], expected: list[str]) -> None:
    assert sorted(paths, key=_specificity) == expected


def test_a_variable_stops_at_the_literal_after_it() -> None:
    regex = _segment_regex("/ranges/{first}-{last}")
    assert regex is not None
    match = regex.match("/ranges/a-b-c")
    assert match is not None and match.groupdict() == {"first": "a", "last": "b-c"}
    assert _segment_regex("/v1/{name}") is None  # Starlette's own regex is right there


def test_the_path_index_finds_the_route_a_router_finds(routing: Any) -> None:
    from codegen.runtime.application import _PathIndex
    from test_routing import METHODS, first_match, urls

    routes = list(routing.package.create_app(mock=True).router.routes)
    index = _PathIndex(routes)
    for _, path, _ in routing.operations():
        base = path.split("#")[0].split("?")[0] or "/"
        for url in [*urls(base), base.replace("{name}", "a:b"), base.replace("{first}-{last}", "1-2-3")]:
            for method in METHODS:
                scope = {"type": "http", "method": method, "path": url, "root_path": "", "headers": []}
                assert first_match(index.candidates(url), scope) == first_match(routes, scope), (method, url)
