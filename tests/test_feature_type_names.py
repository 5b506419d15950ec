"""Type names: properties, parameters, schemas and enum members named like the types, modules and
builtins the generated code uses generate, import, and read and write their values as the spec
says (tests/specs/type-names)."""

from __future__ import annotations

import datetime
import typing
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    SPECS,
    Recorder,
    assert_mock_answers_valid,
    feature,
    generate_package,
    import_package,
)
from fastapi.testclient import TestClient

UUID_TEXT = "6f1c1d0e-3b1a-4c1f-9c1a-1a2b3c4d5e6f"
EVENT = {
    "date": "2024-02-29",
    "when": "2024-01-01",
    "datetime": "2024-01-01T10:00:00Z",
    "time": "2024-01-01T10:00:00+02:00",
    "list": ["2024-01-02"],
    "tags": ["a"],
    "dict": {"a": 1},
    "set": [1, 2],
    "str": "s",
    "int": 1,
    "float": 1.5,
    "bool": True,
    "bytes": "YQ==",
    "type": "json",
    "object": {"k": "v"},
    "Any": [1, "x"],
    "Optional": None,
    "Union": 3,
    "Literal": "fixed",
    "Field": "f",
    "BaseModel": {"date": "2024-01-03"},
    "UUID": UUID_TEXT,
    "uuid": UUID_TEXT,
    "Decimal": 1.25,
    "AnyUrl": "https://example.com/",
    "Annotated": "a",
    "MISSING": 2,
    "StrictStr": "x",
    "SpecModel": {},
    "date_aliased": "2024-01-04",
    "ADAPTERS": "x",
    "details": {"date": "2024-01-01T00:00:00Z", "list": ["a"], "type": "t"},
}


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("type-names", tmp_path_factory)


def echo(name: str, arguments: dict[str, Any]) -> Any:
    return arguments.get("body", arguments.get("date"))


def test_properties_named_like_types_keep_their_keys_and_types(fx: Any) -> None:
    recorder = Recorder(echo)
    client = TestClient(fx.package.create_app(recorder))
    response = client.post("/events", json=EVENT)
    assert (response.status_code, response.json()) == (201, EVENT)
    event = recorder.last["body"]
    assert type(event) is fx.package.models.Event
    assert event.date == datetime.date(2024, 2, 29) and type(event.date) is datetime.date
    assert event.when == datetime.date(2024, 1, 1)
    assert event.list_ == [datetime.date(2024, 1, 2)]
    assert event.BaseModel.date == datetime.date(2024, 1, 3)
    assert event.date_aliased == datetime.date(2024, 1, 4)
    assert event.UUID == event.uuid == uuid.UUID(UUID_TEXT)
    assert event.datetime.tzinfo is not None and event.details.date.tzinfo is not None
    assert event.type is fx.package.models.Kind.json
    assert event.model_dump(mode="json", by_alias=True, exclude_unset=True) == EVENT
    # The format still applies under every name.
    assert client.post("/events", json={**EVENT, "date": "2023-02-29"}).json() == {"detail": "body.date: must be a valid date"}
    assert client.post("/events", json={**EVENT, "list": ["x"]}).json() == {"detail": "body.list[0]: must be a valid date"}
    assert client.post("/events", json={k: v for k, v in EVENT.items() if k != "date"}).json() == {"detail": "body.date: is required"}


def test_parameters_named_like_types_arrive_typed(fx: Any) -> None:
    recorder = Recorder(echo)
    client = TestClient(fx.package.create_app(recorder))
    url = "/events?date=2024-02-29&datetime=2024-01-01T00:00:00Z&list=a&list=b&type=None&Any=1"
    assert client.post(url, json=EVENT, headers={"UUID": UUID_TEXT}).status_code == 201
    arguments = {k: v for k, v in recorder.last.items() if k != "body"}
    assert arguments == {
        "date": datetime.date(2024, 2, 29),
        "datetime": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
        "list": ["a", "b"],
        "type": fx.package.models.Kind.None_,
        "any": 1,
        "uuid": uuid.UUID(UUID_TEXT),
    }
    assert client.post("/events?date=2024-13-01", json=EVENT).json() == {"detail": "query parameter `date`: must be a valid date"}
    response = client.get("/days/2024-01-01")
    assert (response.status_code, response.json()) == (200, "2024-01-01")
    assert recorder.last == {"date": datetime.date(2024, 1, 1)}


def test_operation_named_like_a_constant(fx: Any) -> None:
    # `none` names its arguments model `None_Arguments`; the generator writes `NoneArguments`.
    recorder = Recorder({"ok": True})
    client = TestClient(fx.package.create_app(recorder))
    assert client.get("/status?date=2024-01-01").json() == {"ok": True}
    assert recorder.calls == [("none", {"date": datetime.date(2024, 1, 1)})]


def test_protocols_import_types_by_their_own_names(fx: Any) -> None:
    protocols = fx.package.protocols
    source = Path(protocols.__file__).read_text(encoding="utf-8")
    assert "from datetime import date, datetime\n" in source and "_aliased" not in source
    hints = typing.get_type_hints(protocols.DefaultApi.create_event)
    assert hints["date"] == datetime.date | None
    assert hints["datetime"] == datetime.datetime | None
    assert hints["uuid"] == uuid.UUID | None
    assert hints["body"] is fx.package.models.Event
    day = typing.get_type_hints(protocols.DefaultApi.get_day)
    assert day["date"] is day["return"] is fx.package.models.Date


def test_schemas_named_like_types_modules_and_own_names(fx: Any) -> None:
    models = fx.package.models
    # `date` (a date) and `Date` (an object) both have a model; `Any` and `List` are the spec's.
    assert models.ADAPTERS["Date"].validate_python("2024-01-01") == datetime.date(2024, 1, 1)
    assert models.Date1.model_validate({"day": "2024-01-01"}).day == datetime.date(2024, 1, 1)
    assert models.ADAPTERS["List"].validate_python(["2024-01-01"]) == [datetime.date(2024, 1, 1)]
    assert models.AnyModel.model_validate({"any": True}).any is True
    assert models.ADAPTERS["UUIDModel"].validate_python(UUID_TEXT) == uuid.UUID(UUID_TEXT)
    # The names the models module binds for itself stay its own: the schemas' classes go beside.
    assert isinstance(models.ADAPTERS, dict)
    assert models.ADAPTERSModel.model_validate({"a": 1}).a == 1
    assert list(models.CHECKS) == [models.CHECKS.a, models.CHECKS.b]
    assert models.Adapters.model_validate({"b": 2}).b == 2
    assert {m.value for m in models.Kind} >= {"date", "list", "Any", "json", "MISSING", "None", "name", "value"}
    assert models.Kind("name") is models.Kind.name and models.Kind("None") is models.Kind.None_


def test_any_schema_is_not_typing_any(tmp_path: Path) -> None:
    # A schema named `Any` with no field typed `Any` keeps its name: the Protocol's typing.Any
    # (an inline object response) is still typing's.
    package = import_package(tmp_path, generate_package(SPECS / "awkward" / "typing-names.yaml", tmp_path))
    api = package.protocols.DefaultApi
    assert typing.get_type_hints(api.get_object)["return"] == dict[str, Any]
    assert typing.get_type_hints(api.get_objects)["return"] == list[dict[str, Any]]
    assert typing.get_type_hints(api.get_any)["return"] is package.models.Any


REQUESTS = [
    ("post", "/events", "/events", {"json": EVENT}),
    ("get", "/events", "/events", {}),
    ("get", "/days/{date}", "/days/2024-01-01", {}),
    ("get", "/status", "/status", {}),
    ("get", "/any", "/any", {}),
    ("get", "/lists", "/lists", {}),
]


def test_mock_answers_validate(fx: Any) -> None:
    assert_mock_answers_valid(fx, REQUESTS)
