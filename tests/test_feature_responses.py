"""Responses: every kind of status key (codes, ranges, default), several media types, headers,
links, empty content and examples (tests/specs/responses)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import assert_mock_answers_valid, feature
from fastapi.testclient import TestClient

STATUS = {"code": 1, "text": "t"}
REASONS = {404: "Not Found", 400: "Bad Request", 418: "I'm a Teapot", 503: "Service Unavailable", 302: "Found"}


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("responses", tmp_path_factory)


class Statuses:
    """Answers GET /statuses/{code} with that status, the way an implementation would."""

    def __init__(self, package: Any) -> None:
        self.package = package

    async def get_status(self, *, code: int) -> Any:
        Reply, ApiError = self.package.Reply, self.package.ApiError
        if code in (200, 201, 206):
            return Reply(STATUS, status=code, headers={"X-Rate-Limit": "5"} if code == 200 else {})
        if code == 301:
            return Reply(None, status=301, headers={"Location": "/statuses/200"})
        if code in (202, 204, 304):
            return Reply(None, status=code)
        raise ApiError(code, f"status {code}")

    async def ranges_only(self) -> Any:
        return self.package.Reply(STATUS, status=207)

    async def default_only(self) -> Any:
        return STATUS

    async def empty_content(self) -> Any:
        return None

    async def get_binary(self) -> Any:
        return b"\x00\x01"


@pytest.fixture(scope="module")
def client(fx: Any) -> TestClient:
    return TestClient(fx.package.create_app(Statuses(fx.package)), raise_server_exceptions=False, follow_redirects=False)


@pytest.mark.parametrize("code", [200, 201, 202, 204, 206, 301, 304, 400, 404, 418, 503, 302])
def test_each_status_answers_as_declared(fx: Any, client: TestClient, code: int) -> None:
    response = client.get(f"/statuses/{code}")
    assert response.status_code == code, response.text
    fx.assert_answer_valid("get", "/statuses/{code}", response)


def test_error_bodies_follow_the_schema_of_their_status(client: TestClient) -> None:
    cases = {
        404: "application/json",  # its own response
        400: "application/problem+json",  # a $ref'd response
        418: "application/problem+json",  # 4XX
        503: "application/problem+json",  # 5XX
        302: "application/json",  # default
    }
    for code, media_type in cases.items():
        response = client.get(f"/statuses/{code}")
        assert response.headers["content-type"] == media_type
        assert response.json() == {"title": REASONS[code], "status": code, "detail": f"status {code}"}


def test_a_required_response_header_is_checked(fx: Any) -> None:
    class Forgetful(Statuses):
        async def get_status(self, *, code: int) -> Any:
            return STATUS  # without X-Rate-Limit

    client = TestClient(fx.package.create_app(Forgetful(fx.package)), raise_server_exceptions=False)
    assert client.get("/statuses/200").status_code == 500
    assert TestClient(fx.package.create_app(Forgetful(fx.package), validate_responses=False)).get("/statuses/200").status_code == 200


def test_the_media_type_follows_accept(client: TestClient) -> None:
    as_json = client.get("/statuses/200")
    assert (as_json.headers["content-type"], as_json.json()) == ("application/json", STATUS)
    as_xml = client.get("/statuses/200", headers={"Accept": "application/xml"})
    assert as_xml.headers["content-type"] == "application/xml"
    assert as_xml.text.endswith("<Status><code>1</code><text>t</text></Status>")


def test_ranges_default_empty_content_and_binary(client: TestClient) -> None:
    assert client.post("/ranges-only").status_code == 207
    assert client.get("/default-only").json() == STATUS
    empty = client.delete("/empty")
    assert (empty.status_code, empty.content) == (200, b"")
    binary = client.get("/binary")
    assert (binary.content, binary.headers["content-type"]) == (b"\x00\x01", "application/octet-stream")


def test_mock_answers_use_the_examples(fx: Any) -> None:
    client = TestClient(fx.package.create_app(mock=True))
    response = client.get("/statuses/200")
    assert response.json() == {"code": 200, "text": "ok"}  # the spec's example
    assert response.headers["X-Rate-Limit"] == "99"
    as_csv = client.get("/statuses/200", headers={"Accept": "text/csv"})
    assert (as_csv.headers["content-type"].split(";")[0], as_csv.text) == ("text/csv", "code,text\n200,ok\n")


REQUESTS = [
    ("get", "/statuses/{code}", "/statuses/200", {}),
    ("get", "/statuses/{code}", "/statuses/200", {"headers": {"Accept": "application/xml"}}),
    ("post", "/ranges-only", "/ranges-only", {}),
    ("get", "/default-only", "/default-only", {}),
    ("delete", "/empty", "/empty", {}),
    ("get", "/binary", "/binary", {"headers": {"Accept": "image/png"}}),
    ("get", "/any-media", "/any-media", {}),
    ("get", "/any-media/text", "/any-media/text?n=1", {}),
    ("get", "/overlapping", "/overlapping", {}),
    ("get", "/overlapping-items", "/overlapping-items", {}),
    ("get", "/overlapping-tree", "/overlapping-tree", {}),
    *[("get", f"/error-shapes/{shape}", f"/error-shapes/{shape}?n=1", {}) for shape in ("text", "enum", "xml", "string-default")],
]


def test_mock_answers_validate(fx: Any) -> None:
    assert_mock_answers_valid(fx, REQUESTS)


@pytest.mark.parametrize(
    ("shape", "status", "media_type"),
    [("text", 400, "text/plain"), ("enum", 400, "application/json"), ("xml", 422, "application/xml"), ("string-default", 422, "application/json")],
)
def test_error_bodies_take_a_declared_media_type_and_fit_its_schema(fx: Any, shape: str, status: int, media_type: str) -> None:
    # The sentence "query parameter `n`: ..." fits none of these schemas as it is.
    client = TestClient(fx.package.create_app(mock=True))
    response = client.get(f"/error-shapes/{shape}?n=x")
    assert (response.status_code, response.headers["content-type"].split(";")[0]) == (status, media_type)
    fx.assert_answer_valid("get", f"/error-shapes/{shape}", response)
    if shape == "text":
        assert response.text.startswith("query parameter `n`")
    elif shape == "enum":
        assert response.json()["error"] in ("missing_parameter", "invalid_parameter")
        assert len(response.json().get("message", "")) <= 10
    elif shape == "xml":
        assert "<Error><message>query parameter `n`" in response.text
    else:
        assert response.json().startswith("query parameter `n`")


def test_a_wildcard_media_type_goes_out_as_a_type(fx: Any) -> None:
    client = TestClient(fx.package.create_app(mock=True))
    assert client.get("/any-media").headers["content-type"] == "application/json"
    text = client.get("/any-media/text?n=1")
    assert text.headers["content-type"] == "text/plain; charset=utf-8" and text.text == "string"
    refused = client.get("/any-media/text?n=x")
    assert (refused.status_code, refused.headers["content-type"]) == (400, "application/json")
    assert set(refused.json()) >= {"message"}
