"""Executed tier: path, query, header and cookie values are read from text per their schema and
checked exactly; a value the schema rejects answers 422 naming the parameter and the rule."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from conftest import SPECS, generate_package, import_package, reference_validator
from fastapi.testclient import TestClient

SHAPE_ID = str(uuid.UUID(int=42))
CIRCLE = {"kind": "circle", "radius": 1}


class Shapes:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def put_shape(self, **arguments: Any) -> None:
        self.calls.append(arguments)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("parameters")
    return import_package(out, generate_package(SPECS / "jsonschema" / "openapi.yaml", out))


@pytest.fixture()
def shapes() -> Shapes:
    return Shapes()


@pytest.fixture()
def client(package: Any, shapes: Shapes) -> TestClient:
    return TestClient(package.create_app(shapes))


def put(client: TestClient, query: str = "", *, shape_id: str = SHAPE_ID, **kwargs: Any) -> Any:
    return client.post(f"/shapes/{shape_id}" + (f"?{query}" if query else ""), json=CIRCLE, **kwargs)


@pytest.mark.parametrize(
    ("query", "argument", "value"),
    [
        ("count=3", "count", 3),
        ("count=1.0", "count", 1),  # JSON Schema: 1.0 is an integer
        ("ratio=0.25", "ratio", 0.25),
        ("ratio=1e-3", "ratio", 0.001),
        ("ratio=2", "ratio", 2.0),
        ("dry_run=true", "dry_run", True),
        ("dry_run=false", "dry_run", False),
        ("colors=red&colors=blue", "colors", ["red", "blue"]),
        ("", "colors", None),
    ],
)
def test_query_values_are_read_as_their_schema_types(client: TestClient, shapes: Shapes, query: str, argument: str, value: Any) -> None:
    response = put(client, query)
    assert response.status_code == 204, response.text
    (arguments,) = shapes.calls
    assert arguments[argument] == value
    assert type(arguments[argument]) is type(value) or isinstance(value, list)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("count=1.5", "query parameter `count`: must be an integer, not number"),
        ("count=abc", "query parameter `count`: must be an integer, not string"),
        ("count=", "query parameter `count`: must be an integer, not string"),
        ("count=%201", "query parameter `count`: must be an integer, not string"),
        ("count=true", "query parameter `count`: must be an integer, not string"),
        ("count=11", "query parameter `count`: must be at most 10"),
        ("count=0", "query parameter `count`: must be at least 1"),
        ("count=1&count=2", "query parameter `count`: must be an integer, not array"),
        ("ratio=0", "query parameter `ratio`: must be greater than 0"),
        ("ratio=NaN", "query parameter `ratio`: must be a number, not string"),
        ("dry_run=1", "query parameter `dry_run`: must be a boolean, not string"),
        ("dry_run=True", "query parameter `dry_run`: must be a boolean, not string"),
        ("colors=pink", 'query parameter `colors`[0]: must be one of "red", "green", "blue"'),
        ("colors=red,blue", 'query parameter `colors`[0]: must be one of "red", "green", "blue"'),
        ("colors=red&colors=green&colors=red", "query parameter `colors`: must not contain duplicate items"),
    ],
)
def test_query_values_the_schema_rejects_answer_422(client: TestClient, shapes: Shapes, query: str, detail: str) -> None:
    response = put(client, query)
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": detail}
    assert shapes.calls == []


def test_header_cookie_and_path_are_checked_too(client: TestClient, shapes: Shapes) -> None:
    assert put(client, headers={"X-Trace": "0123abcd"}).status_code == 204
    response = put(client, headers={"X-Trace": "0123ABCD"})
    assert response.status_code == 422
    assert response.json() == {"detail": "header `X-Trace`: must match the pattern ^[0-9a-f]{8}$"}

    client.cookies.set("session", "7")
    assert put(client).status_code == 204
    assert shapes.calls[-1]["session"] == 7
    for text, rule in (("-1", "must be at least 0"), ("x", "must be an integer, not string")):
        client.cookies.set("session", text)
        response = put(client)
        assert response.status_code == 422
        assert response.json() == {"detail": f"cookie `session`: {rule}"}
    client.cookies.clear()

    assert put(client, shape_id=SHAPE_ID.upper()).status_code == 204
    assert shapes.calls[-1]["shape_id"] == uuid.UUID(SHAPE_ID)
    response = put(client, shape_id="not-a-uuid")
    assert response.status_code == 422
    assert response.json() == {"detail": "path parameter `shape_id`: must be a valid uuid"}


TEXTS = ["", "0", "1", "7", "-1", "10", "11", "1.0", "1.5", "1e3", "2e-1", "abc", "true", "false", "null", "red", "0123abcd", SHAPE_ID]


@pytest.mark.parametrize("name", ["count", "ratio", "dry_run", "colors", "X-Trace", "session"])
def test_parameters_accept_exactly_what_their_schema_accepts(package: Any, client: TestClient, name: str) -> None:
    """Each text, read as its parameter's schema says, is accepted exactly when the reference
    validator accepts the value it was read as."""
    from codegen.runtime.params import SchemaStore, coerce

    store = SchemaStore(package._spec.DOCUMENT)
    operation = store.at("/paths/~1shapes~1{shape_id}/post")
    parameter = next(p for p in operation["parameters"] if p["name"] == name)
    schema = parameter["schema"]
    validator = reference_validator(schema)
    for text in TEXTS:
        if parameter["in"] == "query":
            response = put(client, f"{name}={text}")
        elif parameter["in"] == "header":
            response = put(client, headers={name: text})
        else:
            client.cookies.set(name, text)
            response = put(client)
            client.cookies.clear()
        value = coerce(text, store.items_schema(schema), store) if schema.get("type") == "array" else coerce(text, schema, store)
        value = [value] if schema.get("type") == "array" else value
        expected = 204 if validator.is_valid(value) else 422
        assert response.status_code == expected, (name, text, response.text)


def test_spec_enum_and_integer_query_parameters(ls: Any) -> None:
    client = TestClient(ls.create_app())
    thread = str(uuid.uuid4())
    cases = {
        "limit=1.5": "query parameter `limit`: must be an integer, not number",
        "limit=abc": "query parameter `limit`: must be an integer, not string",
        "status=bogus": 'query parameter `status`: must be one of "pending", "running", "error", "success", "timeout", "interrupted"',
        "select=run_id&select=bogus": "query parameter `select`[1]: must be one of",
    }
    for query, detail in cases.items():
        response = client.get(f"/threads/{thread}/runs?{query}")
        assert response.status_code == 422, (query, response.text)
        assert response.json()["detail"].startswith(detail)
    # Valid values reach the implementation (501 here: nothing implements it).
    assert client.get(f"/threads/{thread}/runs?limit=5&status=running&select=run_id&select=status").status_code == 501


def test_body_failures_name_the_field_and_rule(client: TestClient) -> None:
    cases = [
        ({"kind": "square", "side": 1.5}, "body: must match exactly one of 2 alternatives, matches none: (1) radius: is required; (2) side: must be an integer, not number"),
        ({"kind": "circle", "radius": 0}, "body: must match exactly one of 2 alternatives, matches none: (1) radius: must be greater than 0; (2) side: is required"),
    ]
    for body, detail in cases:
        response = client.post(f"/shapes/{SHAPE_ID}", json=body)
        assert response.status_code == 422
        assert response.json() == {"detail": detail}

