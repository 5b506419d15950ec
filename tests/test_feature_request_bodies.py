"""Request bodies in JSON, form, multipart (files, arrays of files, per-part encoding), binary
and text, several media types for one body and optional bodies reach the implementation typed
(tests/specs/request-bodies)."""

from __future__ import annotations

from typing import Any

import pytest
from codegen.runtime.bodies import UploadedFile
from conftest import Recorder, assert_mock_answers_valid, feature
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("request-bodies", tmp_path_factory)


@pytest.fixture()
def impl() -> Recorder:
    return Recorder(lambda name, arguments: {"received": name})


@pytest.fixture()
def client(fx: Any, impl: Recorder) -> TestClient:
    return TestClient(fx.package.create_app(impl))


def body_of(impl: Recorder) -> Any:
    body = impl.last["body"]
    return body.model_dump() if hasattr(body, "model_dump") else body


def test_json_and_a_shared_request_body(client: TestClient, impl: Recorder) -> None:
    assert client.post("/json", json={"name": "a", "age": 2}).status_code == 200
    assert body_of(impl) == {"name": "a", "age": 2}
    assert client.post("/shared-body", json={"name": "b"}).status_code == 200
    assert body_of(impl) == {"name": "b"}
    assert client.post("/shared-body", json={"name": ""}).json() == {"error": "body.name: must have at least 1 character"}


def test_form_fields_are_read_by_their_schema_and_encoding(client: TestClient, impl: Recorder) -> None:
    form = {
        "name": "n",
        "count": "3",
        "vip": "true",
        "tags": ["a", "b"],
        "scores": "1,2",
        "address[city]": "X",
        "address[zip]": "123",
        "point": '{"x": 1.5}',
        "matrix": "[[1, 2], [3]]",
    }
    assert client.post("/form", data=form).status_code == 200
    assert body_of(impl) == {
        "name": "n",
        "count": 3,
        "vip": True,
        "tags": ["a", "b"],
        "scores": [1, 2],
        "address": {"city": "X", "zip": 123},
        "point": {"x": 1.5},
        "matrix": [[1, 2], [3]],
    }
    response = client.post("/form", data={"name": "n", "count": "-1"})
    assert response.status_code == 400
    assert response.json() == {"error": "body.count: must be at least 0"}


def test_multipart_files_arrays_of_files_and_encoded_parts(client: TestClient, impl: Recorder) -> None:
    files = [
        ("file", ("a.bin", b"\x00\xffdata", "application/octet-stream")),
        ("attachments", ("b.txt", b"B", "text/plain")),
        ("attachments", ("c.txt", b"C", "text/plain")),
        ("thumbnail", ("t.png", b"\x89PNG", "image/png")),
    ]
    data = {"title": "hi", "copies": "2", "meta": '{"source": "s", "rating": 1.5}', "labels": ["x", "y"]}
    assert client.post("/upload", files=files, data=data).status_code == 200
    body = impl.last["body"]
    assert isinstance(body.file, UploadedFile)
    assert (body.file, body.file.filename, body.file.content_type) == (b"\x00\xffdata", "a.bin", "application/octet-stream")
    assert [(f, f.filename) for f in body.attachments] == [(b"B", "b.txt"), (b"C", "c.txt")]
    assert (body.thumbnail, body.thumbnail.content_type) == (b"\x89PNG", "image/png")
    assert (body.title, body.copies, body.labels) == ("hi", 2, ["x", "y"])
    assert body.meta.model_dump() == {"source": "s", "rating": 1.5}


def test_part_headers_in_utf_8(client: TestClient, impl: Recorder) -> None:
    body = (
        b"--b\r\n"
        b'Content-Disposition: form-data; name="file"; filename="caf\xc3\xa9 \xf0\x9f\x98\x8d.txt"\r\n'
        b"Content-Type: text/plain; charset=\xc3\xa9\r\n\r\n"
        b"data\r\n"
        b"--b--\r\n"
    )
    response = client.post("/upload", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 200, response.text
    assert impl.last["body"].file.filename == "café 😍.txt"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"data": {"title": "hi"}}, "body: content type 'application/x-www-form-urlencoded' is not accepted; send multipart/form-data"),
        ({"files": {"title": (None, "no file")}}, "body.file: is required"),
        ({"files": {"file": ("a", b"x")}, "data": {"copies": "two"}}, "body.copies: must be an integer, not string"),
        ({"files": {"file": ("a", b"x")}, "data": {"title": "x" * 21}}, "body.title: must have at most 20 characters"),
        ({"files": {"file": ("a", b"x")}, "data": {"meta": "{"}}, "body.meta: malformed JSON"),
        ({"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=xx"}}, "body: malformed multipart/form-data"),
    ],
)
def test_bad_multipart_bodies_answer_the_declared_400(client: TestClient, impl: Recorder, kwargs: dict[str, Any], error: str) -> None:
    response = client.post("/upload", **kwargs)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert impl.calls == []


def test_binary_and_text_bodies(client: TestClient, impl: Recorder) -> None:
    assert client.put("/raw", content=b"\x00\x01", headers={"Content-Type": "application/octet-stream"}).status_code == 200
    assert (impl.last["body"], impl.last["body"].content_type) == (b"\x00\x01", "application/octet-stream")
    assert client.put("/any-bytes", content=b"GIF", headers={"Content-Type": "image/gif"}).status_code == 204
    assert (impl.last["body"], impl.last["body"].content_type) == (b"GIF", "image/gif")
    assert client.put("/any-bytes", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 400
    assert client.post("/text", content="héllo".encode(), headers={"Content-Type": "text/plain; charset=utf-8"}).status_code == 200
    assert impl.last["body"] == "héllo"
    for content_type in ("*/*", "application/octet-stream"):
        assert client.put("/encoded", content=b"aGk=", headers={"Content-Type": content_type}).status_code == 200
        assert impl.last["body"] == "aGk="
    assert client.put("/encoded", content=b"\xff", headers={"Content-Type": "application/octet-stream"}).status_code == 400
    response = client.post("/text", content=b"", headers={"Content-Type": "text/plain"})
    assert response.json() == {"error": "body: must have at least 1 character"}


def test_one_body_in_several_media_types(client: TestClient, impl: Recorder) -> None:
    pet = {"name": "rex", "age": 3}
    assert client.post("/pets", json=pet).status_code == 200
    assert body_of(impl) == pet
    assert client.post("/pets", data={"name": "rex", "age": "3"}).status_code == 200
    assert body_of(impl) == pet
    assert client.post("/pets", files={"name": (None, "rex"), "age": (None, "3")}).status_code == 200
    assert body_of(impl) == pet
    xml = b'<Pet id="7"><name>rex</name><age>3</age><tags><tag>a</tag><tag>b</tag></tags></Pet>'
    assert client.post("/pets", content=xml, headers={"Content-Type": "application/xml"}).status_code == 200
    assert body_of(impl) == {**pet, "id": 7, "tags": ["a", "b"]}
    assert client.post("/notes", json={"text": "t"}).status_code == 200
    assert body_of(impl) == {"text": "t"}
    assert client.post("/notes", content=b"plain", headers={"Content-Type": "text/plain"}).status_code == 200
    assert body_of(impl) == "plain"


@pytest.mark.parametrize(
    ("xml", "error"),
    [
        (b"<Pet><age>3</age></Pet>", "body.name: is required"),
        (b"<Pet><name>x</name><age>old</age></Pet>", "body.age: must be an integer, not string"),
        (b"<Pet><name>", "body: malformed XML (no element found: line 1, column 11)"),
        (b'<!DOCTYPE p [<!ENTITY a "aaaa">]><Pet><name>&a;</name></Pet>', "body: XML with a document type declaration is not accepted"),
    ],
)
def test_bad_xml_bodies_answer_the_declared_400(client: TestClient, xml: bytes, error: str) -> None:
    response = client.post("/pets", content=xml, headers={"Content-Type": "application/xml"})
    assert (response.status_code, response.json()) == (400, {"error": error})


def test_optional_bodies(client: TestClient, impl: Recorder) -> None:
    assert client.post("/optional").status_code == 200
    assert impl.last == {"body": None}
    assert client.post("/optional", content=b"", headers={"Content-Type": "application/json"}).status_code == 200
    assert impl.last == {"body": None}
    assert client.post("/optional", json={"name": "x"}).status_code == 200
    assert body_of(impl) == {"name": "x"}
    assert client.put("/any-bytes").status_code == 204
    assert client.post("/json").json() == {"error": "body: a request body is required"}


REQUESTS = [
    ("post", "/json", "/json", {"json": {"name": "a"}}),
    ("post", "/form", "/form", {"data": {"name": "n", "count": "1"}}),
    ("post", "/upload", "/upload", {"files": {"file": ("a", b"x")}}),
    ("put", "/raw", "/raw", {"content": b"x", "headers": {"Content-Type": "application/octet-stream"}}),
    ("put", "/any-bytes", "/any-bytes", {}),
    ("put", "/encoded", "/encoded", {"content": b"aGk=", "headers": {"Content-Type": "application/octet-stream"}}),
    ("post", "/text", "/text", {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
    ("post", "/pets", "/pets", {"json": {"name": "a"}}),
    ("post", "/notes", "/notes", {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
    ("post", "/optional", "/optional", {}),
    ("post", "/shared-body", "/shared-body", {"json": {"name": "a"}}),
]


def test_mock_answers_validate(fx: Any) -> None:
    assert_mock_answers_valid(fx, REQUESTS)
