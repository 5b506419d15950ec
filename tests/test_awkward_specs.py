"""Valid but awkward specs generate, import, route every operation and serve /openapi.json."""

from __future__ import annotations

import ast
import importlib
import json
import keyword
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from codegen.load import read_file
from conftest import SPECS, generate_package, import_package
from fastapi.testclient import TestClient
from starlette.routing import Match

AWKWARD = SPECS / "awkward"
FIXTURES = sorted(p.name for p in AWKWARD.glob("*.yaml"))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in (document.get("paths") or {}).items()
        for method, op in item.items()
        if method in METHODS
    ]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


_PACKAGES: dict[str, tuple[Path, Any, dict[str, Any]]] = {}


def package_of(fixture: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, Any]]:
    """(folder, imported package, spec document) of a fixture, generated once per session."""
    if fixture not in _PACKAGES:
        spec = AWKWARD / fixture
        out = tmp_path_factory.mktemp("awkward")
        name = generate_package(spec, out)
        _PACKAGES[fixture] = (out / name, import_package(out, name), read_file(spec))
    return _PACKAGES[fixture]


@pytest.fixture(params=FIXTURES)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, Any]]:
    return package_of(request.param, tmp_path_factory)


def test_every_fixture_is_described() -> None:
    readme = (AWKWARD / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in FIXTURES)


def test_mock_app_serves_the_spec(generated: tuple[Path, Any, dict[str, Any]]) -> None:
    _, package, document = generated
    response = TestClient(package.create_app(mock=True)).get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == document


def test_every_operation_is_routed_and_answers_without_5xx(generated: tuple[Path, Any, dict[str, Any]]) -> None:
    _, package, document = generated
    app = package.create_app(mock=True)
    client = TestClient(app, raise_server_exceptions=False)
    for method, path, op in operations(document):
        url = concrete(path)
        scope = {"type": "http", "method": method.upper(), "path": url, "root_path": "", "headers": []}
        matched = [r for r in app.router.routes if r.matches(scope)[0] == Match.FULL]
        assert matched, f"no route for {method.upper()} {path}"
        if "operationId" in op:
            assert getattr(matched[0], "operation_id", None) == op["operationId"]
        response = client.request(method.upper(), url, json={} if method in ("post", "put", "patch") else None)
        assert response.status_code < 500, (method, path, response.text)


def bindings(tree: ast.Module) -> tuple[list[str], list[str]]:
    """Names a module imports, and names it defines at top level."""
    imported: list[str] = []
    defined: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported += [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.append(node.name)
        elif isinstance(node, ast.Assign):
            defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.append(node.target.id)
    return imported, defined


def test_generated_names_are_valid_and_shadow_nothing(generated: tuple[Path, Any, dict[str, Any]]) -> None:
    folder, package, document = generated
    for file in sorted(folder.rglob("*.py")):
        imported, defined = bindings(ast.parse(file.read_text(encoding="utf-8")))
        redefined = {n for n in defined if defined.count(n) > 1} - {"__all__"}
        assert not redefined, (file.name, redefined)
        assert not set(imported) & set(defined), (file.name, set(imported) & set(defined))
    protocols = importlib.import_module(f"{package.__name__}.protocols")
    methods = [
        name
        for cls in vars(protocols).values()
        if isinstance(cls, type) and cls.__module__ == protocols.__name__
        for name in vars(cls)
        if not name.startswith("_") or name.rstrip("_") == ""
    ]
    assert all(m.isidentifier() and not keyword.iskeyword(m) and not keyword.issoftkeyword(m) for m in methods)
    assert len(methods) == len(set(methods)) == len(operations(document))


DIGESTS = """
import hashlib, json, sys
from pathlib import Path
from codegen.cli import build_files
from codegen.config import Config

digests = {}
for spec in sorted(spec for folder in sys.argv[1:] for spec in Path(folder).glob("*.yaml")):
    _, files, _ = build_files(Config(root=spec.parent, spec=spec, out=spec.parent, package="pkg"), use_cache=False)
    digests[f"{spec.parent.name}/{spec.name}"] = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
print(json.dumps(digests))
"""


# Beside the awkward specs, the fixtures of names that collide with generated code's own.
SEEDED = (AWKWARD, SPECS / "type-names", SPECS / "typeless")


def test_generation_is_deterministic_under_any_hash_seed() -> None:
    runs = [
        subprocess.run(
            [sys.executable, "-c", DIGESTS, *map(str, SEEDED)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "4242")
    ]
    assert runs[0] == runs[1]
    assert set(json.loads(runs[0])) == {f"awkward/{name}" for name in FIXTURES} | {"type-names/openapi.yaml", "typeless/openapi.yaml"}


def client_of(fixture: str, tmp_path_factory: pytest.TempPathFactory, implementation: object) -> TestClient:
    _, package, _ = package_of(fixture, tmp_path_factory)
    return TestClient(package.create_app(implementation))


def test_python_keyword_names_reach_the_implementation_and_round_trip(tmp_path_factory: pytest.TempPathFactory) -> None:
    received: dict[str, Any] = {}

    class Things:
        async def create_thing(self, **kwargs: Any) -> Any:
            received.update(kwargs)
            return kwargs["body"]

    body = {"class": "c", "a-b": "dash", "a_b": "underscore", "model_config": "m", "schema": "s", "json": "j", "": "empty", "1st": "first", "type": "a-b"}
    client = client_of("python-names.yaml", tmp_path_factory, Things())
    client.cookies.set("model_config", "c")
    response = client.post("/things/k?self=s&body=b&a_b=q", json=body, headers={"a-b": "h"})
    assert response.status_code == 200, response.text
    assert response.json() == {**body, "from": 1}
    assert {k: v for k, v in received.items() if k != "body"} == {
        "class_": "k", "from_": 3, "self_": "s", "body_2": "b", "a_b": "q", "header_a_b": "h", "model_config": "c"
    }
    thing = received["body"]
    assert (thing.class_, thing.a_b, thing.a_b_1, thing.model_config_, thing.schema_) == ("c", "dash", "underscore", "m", "s")


def test_recursive_schemas_validate_at_every_depth(tmp_path_factory: pytest.TempPathFactory) -> None:
    class Trees:
        async def plant_tree(self, *, body: Any) -> Any:
            return body

    tree: dict[str, Any] = {"name": "leaf"}
    for depth in range(30):
        tree = {"name": f"n{depth}", "children": [tree], "byName": {"x": {"name": "x", "parent": None}}, "parent": {"name": "p"}}
    client = client_of("recursive.yaml", tmp_path_factory, Trees())
    assert client.post("/trees", json=tree).json() == tree
    broken = {"name": "root", "children": [{"name": "a", "byName": {"b": {"children": []}}}]}
    response = client.post("/trees", json=broken)
    assert response.status_code == 422
    assert "body.children[0].byName.b" in response.json()["detail"]


def test_openapi_30_nullable(tmp_path_factory: pytest.TempPathFactory) -> None:
    class Pets:
        async def create_pet(self, *, tag: Any, body: Any) -> Any:
            return body

    client = client_of("nullable-30.yaml", tmp_path_factory, Pets())
    pet = {"name": "Rex", "nickname": None, "age": None, "color": None, "owner": None, "tags": [None, "a"], "extra": {"k": None}}
    assert client.post("/pets", json=pet).json() == pet
    assert client.post("/pets", json={**pet, "name": None}).status_code == 422
    assert client.post("/pets", json={**pet, "color": "red"}).status_code == 422


def test_unicode_names(tmp_path_factory: pytest.TempPathFactory) -> None:
    _, package, _ = package_of("unicode-names.yaml", tmp_path_factory)
    received: dict[str, Any] = {}

    class Orders:
        async def lire_la_commande(self, **kwargs: Any) -> Any:
            received.update(kwargs)
            return {"naïve": "oui", "emoji 🎉": True}

    client = TestClient(package.create_app(Orders(), mock=True))
    response = client.get("/cafés/n° 7?größe=grand")
    assert response.status_code == 200, response.text
    assert response.json() == {"naïve": "oui", "emoji 🎉": True}
    assert received == {"numéro_de_commande": "n° 7", "größe": "grand"}
    order = {"品名": "茶", "数量": 2, "状態": "新規"}
    assert client.post("/注文", json=order).status_code == 201


def test_operations_without_ids_or_with_odd_ids_get_distinct_methods(tmp_path_factory: pytest.TempPathFactory) -> None:
    _, package, document = package_of("operation-ids.yaml", tmp_path_factory)
    names = {
        name for name in vars(importlib.import_module(f"{package.__name__}.protocols").DefaultApi) if not name.startswith("__")
    }
    assert {"get_items", "post_items", "items_replace", "items_delete", "patch_items", "op_2fa_options", "class_", "import_",
            "get_item", "get_item_2", "get_item_3", "list", "print", "type", "self_", "init", "op", "get_1_2", "runtime_", "models_",
            "router_", "checks_"} <= names
    called: list[str] = []

    class Items:
        def __getattr__(self, name: str) -> Any:
            async def method(**kwargs: Any) -> None:
                called.append(name)

            return method

    client = TestClient(package.create_app(Items()))
    for method, path, _ in operations(document):
        response = client.request(method.upper(), concrete(path))
        assert response.status_code < 300, (method, path, response.text)
    assert len(called) == len(set(called)) == len(operations(document))


def test_a_property_declared_again_beside_an_allof_checks_both(tmp_path_factory: pytest.TempPathFactory) -> None:
    _, package, _ = package_of("redeclared.yaml", tmp_path_factory)
    http = TestClient(package.create_app(mock=True))
    both = {"serviceType": "apple", "data": {"certificate": "c", "password": "long enough", "username": "u"}}
    assert http.post("/secrets", json=both).status_code == 201
    for broken in (
        {"serviceType": "apple", "data": {"password": "long enough"}},  # the local part requires certificate
        {"serviceType": "apple", "data": {"certificate": "c", "password": "short"}},
        {"serviceType": "apple", "data": {"certificate": "c", "password": "long enough", "username": 1}},  # the allOf's
        {"data": {"certificate": "c", "password": "long enough"}},  # the allOf requires serviceType
    ):
        assert http.post("/secrets", json=broken).status_code in (400, 422), broken
    monster = http.get("/monsters/orc").json()
    assert isinstance(monster["name"], str)
