"""`[tool.codegen]` options: which operations, formatter, and the defaults of `create_app`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import yaml
from codegen.cli import main
from fastapi.testclient import TestClient

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Shop", "version": "1"},
    "paths": {
        "/items": {
            "get": {
                "operationId": "listItems",
                "tags": ["items"],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}}},
            }
        },
        "/orders": {
            "get": {"operationId": "listOrders", "tags": ["orders"], "responses": {"200": {"description": "ok"}}},
            "post": {"operationId": "placeOrder", "tags": ["orders"], "responses": {"201": {"description": "ok"}}},
        },
    },
}


def project(tmp_path: Path, options: str) -> Path:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "openapi.yaml").write_text(yaml.safe_dump(SPEC))
    (tmp_path / "pyproject.toml").write_text(f"[tool.codegen]\n{options}\n")
    return tmp_path


def test_options_select_operations_and_set_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(
        tmp_path,
        'package = "shop_api"\ninclude-tags = ["items"]\ninclude-operations = ["placeOrder"]\n'
        'mock = true\nvalidate-responses = false\nformatter = "none"',
    )
    monkeypatch.chdir(root)
    assert main(["generate", "--quiet"]) == 0
    monkeypatch.syspath_prepend(str(root / "generated"))
    package = importlib.import_module("shop_api")
    app = package.create_app()  # mock by default, as configured
    client = TestClient(app)
    assert client.get("/items").status_code == 200  # answered by the mock, not 501
    assert client.post("/orders").status_code == 201
    assert client.get("/orders").status_code == 405  # listOrders was not selected
    served = client.get("/openapi.json").json()
    assert {(p, m) for p, item in served["paths"].items() for m in item} == {("/items", "get"), ("/orders", "post")}
    app_source = (root / "generated" / "shop_api" / "app.py").read_text()
    assert "mock: bool = True" in app_source and "validate_responses: bool | None = False" in app_source
    assert app.state.codegen.validate_responses is False
    sys.modules.pop("shop_api", None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("colour = 1", "unknown option [tool.codegen] 'colour'"),
        ('formatter = "yapf"', "formatter must be one of black, none"),
        ("mock = 1", "mock must be true or false"),
        ('include-tags = "items"', "include-tags must be a list of strings"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], options: str, message: str) -> None:
    monkeypatch.chdir(project(tmp_path, options))
    assert main(["generate"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "generated").exists()
