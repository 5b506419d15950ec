"""Schemas: discriminators with and without mapping, polymorphism through allOf, readOnly and
writeOnly, deprecated, recursion, deep nesting, enums of every JSON type and every type and
format reach the implementation and come back as the spec says (tests/specs/schemas)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import assert_mock_answers_valid, feature
from fastapi.testclient import TestClient

ACCOUNT_ID = "6f1c1d0e-3b1a-4c1f-9c1a-1a2b3c4d5e6f"


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("schemas", tmp_path_factory)


class Echo:
    """Answers every operation with its body (accounts: with the readOnly fields, without the
    writeOnly one); records what it received."""

    def __init__(self) -> None:
        self.received: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        async def method(*, body: Any) -> Any:
            self.received = body
            if name == "create_account":
                return {"id": ACCOUNT_ID, "created": "2024-01-01T00:00:00Z", "email": body.email}
            return body

        return method


@pytest.fixture()
def echo() -> Echo:
    return Echo()


@pytest.fixture()
def client(fx: Any, echo: Echo) -> TestClient:
    return TestClient(fx.package.create_app(echo), raise_server_exceptions=False)


def test_discriminated_one_of_builds_the_mapped_model(fx: Any, client: TestClient, echo: Echo) -> None:
    models = fx.package.models
    for pet, cls in (({"petType": "cat", "name": "Tom", "lives": 9}, models.Cat), ({"petType": "dog", "name": "Rex", "good": True}, models.Dog)):
        response = client.post("/pets", json=pet)
        assert (response.status_code, response.json()) == (201, pet)
        assert type(echo.received) is cls
    response = client.post("/pets", json={"petType": "bird", "name": "Tweety"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body: must match exactly one of 2 alternatives")
    for shape, cls in (({"kind": "Circle", "radius": 1.5}, models.Circle), ({"kind": "Square", "side": 2}, models.Square)):
        assert client.post("/shapes", json=shape).json() == shape
        assert type(echo.received) is cls


def test_polymorphism_through_all_of_builds_the_named_subtype(fx: Any, client: TestClient, echo: Echo) -> None:
    models = fx.package.models
    for animal, subtype in (
        ({"animalType": "bird", "name": "b", "wingspan": 2.5}, models.Bird),  # by the mapping
        ({"animalType": "fish", "name": "f", "fresh": True}, models.Fish),  # by the mapping
        ({"animalType": "cat", "name": "c", "lives": 9}, models.Animal),  # no subtype: the base
    ):
        response = client.post("/animals", json=animal)
        assert (response.status_code, response.json()) == (200, animal)
        assert type(echo.received) is subtype
    assert echo.received.model_extra == {"lives": 9}
    # The subtype's own schema applies to a value its discriminator names.
    assert client.post("/animals", json={"animalType": "bird", "name": "b"}).json() == {"detail": "body.wingspan: is required"}
    assert client.post("/animals", json={"animalType": "bird"}).json() == {"detail": "body.name: is required"}
    # Built in code, a model is what it is built as.
    assert type(models.Animal(animalType="bird", name="b")) is models.Animal


def test_read_only_and_write_only_are_required_one_way_each(fx: Any, client: TestClient, echo: Echo) -> None:
    response = client.post("/accounts", json={"email": "a@example.com", "password": "12345678"})
    assert (response.status_code, response.json()) == (201, {"id": ACCOUNT_ID, "created": "2024-01-01T00:00:00Z", "email": "a@example.com"})
    assert echo.received.password == "12345678"
    assert client.post("/accounts", json={"email": "a@example.com"}).json() == {"detail": "body.password: is required"}

    class Forgetful:
        async def create_account(self, *, body: Any) -> Any:
            return {"email": body.email}  # without the readOnly id and created

    forgetful = TestClient(fx.package.create_app(Forgetful()), raise_server_exceptions=False)
    assert forgetful.post("/accounts", json={"email": "a@example.com", "password": "12345678"}).status_code == 500
    # Built in code, a model needs neither.
    assert fx.package.models.Account(email="a@example.com").email == "a@example.com"


def test_deprecated_properties_are_marked(fx: Any) -> None:
    assert fx.package.models.Account.model_fields["legacy_name"].deprecated


def test_recursion_and_deep_nesting_round_trip(client: TestClient) -> None:
    tree: dict[str, Any] = {"name": "leaf"}
    leaf = {"name": "leaf"}
    for depth in range(30):
        tree = {"name": f"n{depth}", "next": tree, "children": [leaf], "byKey": {"k": leaf}, "owner": {"nodes": [leaf]}}
    assert client.put("/trees", json=tree).json() == tree
    assert client.put("/trees", json={"name": "a", "owner": {"nodes": [{"next": {}}]}}).json() == {"detail": "body.owner.nodes[0].name: is required"}
    deep = {"a": {"b": {"c": {"d": {"e": {"f": [{"g": [[1, 2], [3]]}]}}}}}}
    assert client.post("/deep", json=deep).json() == deep
    assert client.post("/deep", json={"a": {"b": {"c": {"d": {"e": {"f": [{"g": [["x"]]}]}}}}}}).json() == {
        "detail": "body.a.b.c.d.e.f[0].g[0][0]: must be an integer, not string"
    }


EVERYTHING = {
    "string": "s",
    "integer": 1,
    "int32": 2,
    "int64": 2**62,
    "number": 1.5,
    "float": 2.5,
    "double": 3.5,
    "boolean": False,
    "null": None,
    "array": [1, "a", None],
    "object": {"k": [1]},
    "any": [{"x": None}],
    "date": "2024-02-29",
    "date_time": "2024-01-01T12:00:00+02:00",
    "time": "12:00:00Z",
    "duration": "P1D",
    "email": "a@example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/x",
    "uri_reference": "/x",
    "uuid": ACCOUNT_ID,
    "byte": "aGVsbG8=",
    "binary": "raw",
    "password": "p",
    "regex": "^a+$",
    "json_pointer": "/a/b",
    "map_of_strings": {"a": "b"},
    "closed": {"a": "x"},
    "open_typed": {"a": "x", "n": 1},
    "pattern_map": {"x-a": "y"},
    "tuple": ["a", 1],
}


def test_every_type_and_format_round_trips(client: TestClient) -> None:
    response = client.post("/everything", json=EVERYTHING)
    assert (response.status_code, response.json()) == (200, EVERYTHING)


@pytest.mark.parametrize(
    ("field", "accepted", "rejected"),
    [
        ("string_enum", ["a", "b", None], ["c", 1]),
        ("integer_enum", [1, 2, None, 1.0], [3, "1"]),
        ("number_enum", [1.5, 2.5], [1, "1.5"]),
        ("boolean_enum", [True], [False, 1]),
        ("mixed_enum", ["x", 1, 2.5, False, None, [1], {"k": "v"}], [True, 0, [2], {"k": "w"}]),
    ],
)
def test_enums_of_every_json_type(client: TestClient, field: str, accepted: list[Any], rejected: list[Any]) -> None:
    for value in accepted:
        response = client.post("/everything", json={field: value})
        assert response.status_code == 200, (value, response.text)
        assert response.json() == {field: value}
    for value in rejected:
        assert client.post("/everything", json={field: value}).status_code == 422, value


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"date": "2024-02-30"}, "body.date: must be a valid date"),
        ({"uuid": "nope"}, "body.uuid: must be a valid uuid"),
        ({"email": "nope"}, "body.email: must be a valid email"),
        ({"closed": {"b": 1}}, "body.closed.b: is not allowed (unexpected property)"),
        ({"open_typed": {"n": "x"}}, "body.open_typed.n: must be an integer, not string"),
        ({"pattern_map": {"y": "z"}}, "body.pattern_map.y: is not allowed (unexpected property)"),
        ({"tuple": ["a", 1, 2]}, "body.tuple: must have at most 2 items"),
        ({"null": 0}, "body.null: must be null, not integer"),
    ],
)
def test_types_and_formats_are_checked(client: TestClient, body: dict[str, Any], detail: str) -> None:
    response = client.post("/everything", json=body)
    assert (response.status_code, response.json()) == (422, {"detail": detail})


REQUESTS = [
    ("post", "/pets", "/pets", {"json": {"petType": "cat", "name": "c"}}),
    ("post", "/animals", "/animals", {"json": {"animalType": "bird", "name": "b", "wingspan": 1}}),
    ("post", "/shapes", "/shapes", {"json": {"kind": "Circle", "radius": 1}}),
    ("post", "/accounts", "/accounts", {"json": {"email": "a@example.com", "password": "12345678"}}),
    ("put", "/trees", "/trees", {"json": {"name": "n"}}),
    ("post", "/everything", "/everything", {"json": {}}),
    ("post", "/deep", "/deep", {}),
]


def test_mock_answers_validate(fx: Any) -> None:
    assert_mock_answers_valid(fx, REQUESTS)
    account = TestClient(fx.package.create_app(mock=True)).post("/accounts", json={"email": "a@example.com", "password": "12345678"}).json()
    assert {"id", "created"} <= set(account) and "password" not in account
