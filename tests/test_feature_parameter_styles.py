"""Every OpenAPI parameter style and explode setting, in path, query, header and cookie, with
primitive, array and object schemas, decodes to the typed argument the implementation receives
(tests/specs/parameter-styles)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Recorder, assert_mock_answers_valid, feature
from fastapi.testclient import TestClient

POINT = {"x": 1, "y": "a"}


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("parameter-styles", tmp_path_factory)


@pytest.fixture()
def impl() -> Recorder:
    return Recorder({"ok": True})


@pytest.fixture()
def client(fx: Any, impl: Recorder) -> TestClient:
    return TestClient(fx.package.create_app(impl))


def plain(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in arguments.items()}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/simple/5/1,2,3/x,1,y,a/x=1,y=a", {"prim": 5, "arr": [1, 2, 3], "obj": POINT, "objx": POINT}),
        ("/label/.abc/.1,2/.1.2/.x,1,y,a/.x=1.y=a", {"prim": "abc", "arr": [1, 2], "arrx": [1, 2], "obj": POINT, "objx": POINT}),
        ("/matrix/;prim=true/;arr=1,2/;arrx=1;arrx=2/;obj=x,1,y,a/;x=1;y=a", {"prim": True, "arr": [1, 2], "arrx": [1, 2], "obj": POINT, "objx": POINT}),
        # Percent-encoding is undone once: %2525 is the text %25.
        ("/label/.a%2525b%20c/.7/.8/.x,1,y,a/.x=1.y=a", {"prim": "a%25b c", "arr": [7], "arrx": [8], "obj": POINT, "objx": POINT}),
    ],
)
def test_path_styles(client: TestClient, impl: Recorder, url: str, expected: dict[str, Any]) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert plain(impl.last) == expected


def test_query_styles(client: TestClient, impl: Recorder) -> None:
    query = (
        "ids=1&ids=2&tags=a,b&point=x,1,y,a&spaced=1%202&piped=a|b"
        "&filter[name]=n&filter[age]=3&filter[active]=true&flag=&next=/a/b?c=d:e"
        "&where=%7B%22x%22%3A1%2C%22y%22%3A%22a%22%7D"
    )
    assert client.get(f"/query?{query}").status_code == 200
    assert plain(impl.last) == {
        "ids": [1, 2],
        "tags": ["a", "b"],
        "point": POINT,
        "spaced": [1, 2],
        "piped": ["a", "b"],
        "filter": {"name": "n", "age": 3, "active": True},
        "flag": "",
        "next": "/a/b?c=d:e",
        "where": POINT,
        "limit": 10,
    }
    assert client.get("/query").status_code == 200
    assert plain(impl.last) == {k: None for k in ("ids", "tags", "point", "spaced", "piped", "filter", "flag", "next", "where")} | {"limit": 10}


def test_exploded_form_object_takes_its_properties_from_the_query(client: TestClient, impl: Recorder) -> None:
    assert client.get("/query/exploded-object?x=1&y=a&page=2").status_code == 200
    assert plain(impl.last) == {"point": POINT, "page": 2}


def test_header_styles(client: TestClient, impl: Recorder) -> None:
    headers = {"X-Count": "3", "X-Ids": "1, 2", "X-Point": "x,1,y,a", "X-Point-Exploded": "x=1,y=a", "X-Json": '{"x":1,"y":"a"}'}
    assert client.get("/headers", headers=headers).status_code == 200
    assert plain(impl.last) == {"x_count": 3, "x_ids": [1, 2], "x_point": POINT, "x_point_exploded": POINT, "x_json": POINT}


def test_cookie_styles(client: TestClient, impl: Recorder) -> None:
    for name, value in {"session": "s1", "ids": "1,2,3", "point": "x,1,y,a"}.items():
        client.cookies.set(name, value)
    assert client.get("/cookies").status_code == 200
    assert plain(impl.last) == {"session": "s1", "ids": [1, 2, 3], "point": POINT}


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("/simple/x/1/x,1,y,a/x=1,y=a", "path parameter `prim`: must be an integer, not string"),
        ("/simple/1/1,b/x,1,y,a/x=1,y=a", "path parameter `arr`[1]: must be an integer, not string"),
        ("/simple/1/1/x,1,y/x=1,y=a", "path parameter `obj`: must be an object, not string"),
        ("/simple/1/1/x,1,y,a,z,2/x=1,y=a", "path parameter `obj`.z: is not allowed (unexpected property)"),
        ("/label/.a/1,2/.1/.x,1,y,a/.x=1.y=a", "path parameter `arr`: must be an array, not string"),
        ("/matrix/;prim=yes/;arr=1/;arrx=1/;obj=x,1,y,a/;x=1;y=a", "path parameter `prim`: must be a boolean, not string"),
        ("/query?filter[age]=-1", "query parameter `filter`.age: must be at least 0"),
        ("/query?where=notjson", "query parameter `where`: must be an object, not string"),
        ("/query?limit=0", "query parameter `limit`: must be at least 1"),
    ],
)
def test_values_the_schema_rejects_answer_the_declared_422(client: TestClient, impl: Recorder, url: str, detail: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.json() == {"message": detail}
    assert impl.calls == []


REQUESTS = [
    ("get", "/simple/{prim}/{arr}/{obj}/{objx}", "/simple/5/1,2/x,1,y,a/x=1,y=a", {}),
    ("get", "/label/{prim}/{arr}/{arrx}/{obj}/{objx}", "/label/.a/.1/.1/.x,1,y,a/.x=1.y=a", {}),
    ("get", "/matrix/{prim}/{arr}/{arrx}/{obj}/{objx}", "/matrix/;prim=false/;arr=1/;arrx=1/;obj=x,1,y,a/;x=1;y=a", {}),
    ("get", "/query", "/query?ids=1", {}),
    ("get", "/query/exploded-object", "/query/exploded-object?x=1&y=a", {}),
    ("get", "/headers", "/headers", {"headers": {"X-Ids": "1"}}),
    ("get", "/cookies", "/cookies", {"headers": {"Cookie": "session=s"}}),
]


def test_mock_answers_validate(fx: Any) -> None:
    assert_mock_answers_valid(fx, REQUESTS)
