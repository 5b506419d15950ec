"""`--lenient` (tests/specs/lenient): each rule a fixture breaks is an error without it; with it,
a warning at the same place saying what is done instead, and the generated server does that."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from codegen.cli import main
from conftest import SPECS, Recorder
from fastapi.testclient import TestClient

LENIENT = SPECS / "lenient"


def check_undeclared_path_variable(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets/rex").status_code == 200
    assert impl.calls[-1] == ("get_pet", {"pet_id": "rex"})


def check_repeated_template_name(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets/1/toys/2").status_code == 200
    assert impl.calls[-1] == ("get_toy", {"id": 1, "id_2": 2})
    assert client.get("/pets/1/toys/ball").json() == {"detail": "path parameter `id_2`: must be an integer, not string"}


def check_path_parameter_not_in_path(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets?limit=3").status_code == 200
    assert impl.calls[-1] == ("list_pets", {"limit": 3})


def check_path_parameter_not_required(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets/5").status_code == 200
    assert impl.calls[-1] == ("get_pet", {"pet_id": 5})


def check_exclusive_bounds_31(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/ratings?score=9.5").status_code == 200
    assert client.get("/ratings?score=0").status_code == 200  # exclusiveMinimum: false
    assert client.get("/ratings?score=10").json() == {"detail": "query parameter `score`: must be less than 10"}
    assert client.get("/ratings?score=-1").json() == {"detail": "query parameter `score`: must be at least 0"}


def check_undeclared_security_scheme(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets").status_code == 200  # no credentials asked for
    assert impl.calls[-1] == ("list_pets", {})


def check_duplicate_operation_id(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets").status_code == 200
    assert client.get("/animals").status_code == 200
    assert [name for name, _ in impl.calls] == ["list_pets", "list_pets_2"]
    assert hasattr(package.protocols.DefaultApi, "list_pets_2")


def check_same_shape_paths(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/deployments/example.com").status_code == 200
    assert client.delete("/deployments/dpl_1").status_code == 204
    assert impl.calls == [("get_deployment", {"id_or_url": "example.com"}), ("delete_deployment", {"id": "dpl_1"})]
    assert client.delete("/deployments/example.com").status_code == 400  # delete's own pattern
    assert client.options("/deployments/x").headers["allow"] == "GET, DELETE, OPTIONS, HEAD"


def check_same_route(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/collections/7").status_code == 200
    assert impl.calls[-1] == ("get_collection_by_id", {"id": 7})
    # A slug is not an integer: by slug, whose path parameter accepts it, answers.
    assert client.get("/collections/animals").status_code == 200
    assert impl.calls[-1] == ("get_collection_by_slug", {"slug": "animals"})
    # Nothing in the path tells the PUTs apart; the body's required properties do.
    assert client.put("/accounts/a1", json={"description": "main"}).status_code == 200
    assert impl.calls[-1][0] == "describe_account" and impl.calls[-1][1]["credit_account_id"] == "a1"
    assert client.put("/accounts/a1", json={"document": "d", "creditLimit": 5}).status_code == 200
    assert impl.calls[-1][0] == "open_account" and impl.calls[-1][1]["account_id"] == "a1"
    # A body neither accepts: the first answers it (its declared 400, which has no content).
    calls = len(impl.calls)
    assert client.put("/accounts/a1", json={"creditLimit": "many"}).status_code == 400
    assert len(impl.calls) == calls


def check_response_without_description(client: TestClient, impl: Recorder, package: Any) -> None:
    impl.answer = ["rex"]
    assert client.get("/pets").json() == ["rex"]


def check_parameter_without_schema(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets?limit=5").status_code == 200
    assert impl.calls[-1] == ("list_pets", {"limit": "5"})  # a string, not the number 5


def check_misplaced_example(client: TestClient, impl: Recorder, package: Any) -> None:
    impl.answer = ["rex"]
    assert client.get("/pets").json() == ["rex"]
    assert "example" in package._spec.DOCUMENT["paths"]["/pets"]["get"]["responses"]["200"]  # served as written


def check_invalid_pattern(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.get("/pets?name=REX").status_code == 200  # the pattern is not checked
    assert client.get("/pets?name=toolong").json() == {"detail": "query parameter `name`: must have at most 5 characters"}


def check_schema_keyword_of_wrong_type(client: TestClient, impl: Recorder, package: Any) -> None:
    assert client.post("/pets", json={}).status_code == 204  # `required: true` is ignored
    assert client.post("/pets", json={"name": "far too long a name"}).json() == {"detail": "body.name: must have at most 10 characters"}


# file -> (the strict error, the lenient warnings: place and message each, the behaviour)
CASES: dict[str, tuple[str, str, Callable[[TestClient, Recorder, Any], None]]] = {
    "undeclared-path-variable.yaml": (
        "undeclared-path-variable.yaml:5:5 #/paths/~1pets~1{petId}/get: path template variable {petId} has no path parameter",
        ("undeclared-path-variable.yaml:5:5 #/paths/~1pets~1{petId}/get: path template variable {petId} has no path parameter; "
        "it is read as a required string path parameter"),
        check_undeclared_path_variable,
    ),
    "repeated-template-name.yaml": (
        "repeated-template-name.yaml:4:3 #/paths/~1pets~1{id}~1toys~1{id}: path template names {id} twice",
        ("repeated-template-name.yaml:4:3 #/paths/~1pets~1{id}~1toys~1{id}: path template names {id} twice; "
        "the second {id} is read as the path parameter 'id_2', of the same schema"),
        check_repeated_template_name,
    ),
    "path-parameter-not-in-path.yaml": (
        "path-parameter-not-in-path.yaml:8:11 #/paths/~1pets/get/parameters/0: path parameter 'petId' does not appear in the path '/pets'",
        ("path-parameter-not-in-path.yaml:8:11 #/paths/~1pets/get/parameters/0: path parameter 'petId' does not appear in the path '/pets'; "
        "it is dropped"),
        check_path_parameter_not_in_path,
    ),
    "path-parameter-not-required.yaml": (
        ("path-parameter-not-required.yaml:8:11 #/paths/~1pets~1{petId}/get/parameters/0: "
        "{\"in\":\"path\",\"name\":\"petId\",\"schema\":{\"type\":\"integer\"}} is not valid under any of the schemas listed in the 'oneOf' keyword"),
        ("path-parameter-not-required.yaml:8:11 #/paths/~1pets~1{petId}/get/parameters/0: 'required' is a required property; "
        "read as required (path parameters always are)"),
        check_path_parameter_not_required,
    ),
    "exclusive-bounds-31.yaml": (
        "exclusive-bounds-31.yaml:11:84 #/paths/~1ratings/get/parameters/0/schema/exclusiveMaximum: True is not of type 'number'",
        ("exclusive-bounds-31.yaml:11:84 #/paths/~1ratings/get/parameters/0/schema/exclusiveMaximum: True is not of type 'number'; "
        "read with OpenAPI 3.0's meaning: the maximum 10 is exclusive\n"
        "exclusive-bounds-31.yaml:11:46 #/paths/~1ratings/get/parameters/0/schema/exclusiveMinimum: False is not of type 'number'; "
        "read with OpenAPI 3.0's meaning: the minimum 0 is inclusive"),
        check_exclusive_bounds_31,
    ),
    "undeclared-security-scheme.yaml": (
        "undeclared-security-scheme.yaml:8:11 #/paths/~1pets/get/security/0: security requirement names the undeclared scheme 'apiKey'",
        ("undeclared-security-scheme.yaml:8:11 #/paths/~1pets/get/security/0: security requirement names the undeclared scheme 'apiKey'; "
        "the scheme is dropped from the requirement (which asks for no credentials once empty)"),
        check_undeclared_security_scheme,
    ),
    "duplicate-operation-id.yaml": (
        "duplicate-operation-id.yaml:11:7 #/paths/~1animals/get/operationId: duplicate operationId 'listPets': also used at #/paths/~1pets/get",
        ("duplicate-operation-id.yaml:11:7 #/paths/~1animals/get/operationId: duplicate operationId 'listPets': also used at #/paths/~1pets/get; "
        "this one is renamed 'listPets_2'"),
        check_duplicate_operation_id,
    ),
    "same-shape-paths.yaml": (
        ("same-shape-paths.yaml:11:3 #/paths/~1deployments~1{id}: paths '/deployments/{idOrUrl}' and '/deployments/{id}' "
        "differ only in the names of their template variables, so OpenAPI calls them identical"),
        ("same-shape-paths.yaml:11:3 #/paths/~1deployments~1{id}: paths '/deployments/{idOrUrl}' and '/deployments/{id}' "
        "differ only in the names of their template variables, so OpenAPI calls them identical; "
        "both are served as one route, each operation reading its own variable names"),
        check_same_shape_paths,
    ),
    "same-route.yaml": (
        ("same-route.yaml:12:5 #/paths/~1collections~1{slug}/get: GET /collections/{id} (get_collection_by_id) and "
        "GET /collections/{slug} (get_collection_by_slug) share a route and no parameter tells them apart"),
        ("same-route.yaml:11:3 #/paths/~1collections~1{slug}: paths '/collections/{id}' and '/collections/{slug}' "
        "differ only in the names of their template variables, so OpenAPI calls them identical; "
        "both are served as one route, each operation reading its own variable names\n"
        "same-route.yaml:12:5 #/paths/~1collections~1{slug}/get: GET /collections/{id} (get_collection_by_id) and "
        "GET /collections/{slug} (get_collection_by_slug) share a route and no parameter tells them apart; "
        "a request goes to the first whose path parameters accept its values, else whose checks accept it whole "
        "(get_collection_by_id, then get_collection_by_slug)\n"
        "same-route.yaml:32:3 #/paths/~1accounts~1{creditAccountId}: paths '/accounts/{accountId}' and '/accounts/{creditAccountId}' "
        "differ only in the names of their template variables, so OpenAPI calls them identical; "
        "both are served as one route, each operation reading its own variable names\n"
        "same-route.yaml:33:5 #/paths/~1accounts~1{creditAccountId}/put: PUT /accounts/{accountId} (open_account) and "
        "PUT /accounts/{creditAccountId} (describe_account) share a route and no parameter tells them apart; "
        "a request goes to the first whose path parameters accept its values, else whose checks accept it whole "
        "(open_account, then describe_account)"),
        check_same_route,
    ),
    "response-without-description.yaml": (
        ("response-without-description.yaml:8:9 #/paths/~1pets/get/responses/200: "
        "{\"content\":{\"application/json\":{\"schema\":{\"items\":{\"type\":\"string\"},\"type\":\"array\"}}}} is not valid under any of the schemas listed in the 'oneOf' keyword"),
        "response-without-description.yaml:8:9 #/paths/~1pets/get/responses/200: 'description' is a required property; read with an empty description",
        check_response_without_description,
    ),
    "parameter-without-schema.yaml": (
        ("parameter-without-schema.yaml:8:11 #/paths/~1pets/get/parameters/0: "
        "{\"description\":\"how many\",\"in\":\"query\",\"name\":\"limit\"} is not valid under any of the schemas listed in the 'oneOf' keyword"),
        "parameter-without-schema.yaml:8:11 #/paths/~1pets/get/parameters/0: 'schema' is a required property; read as a string",
        check_parameter_without_schema,
    ),
    "misplaced-example.yaml": (
        ("misplaced-example.yaml:8:9 #/paths/~1pets/get/responses/200: "
        "{\"content\":{\"application/json\":{\"schema\":{\"items\":{\"type\":\"string\"},\"type\":\"array\"}}},\"description\":\"the pets\",\"example\":[\"rex\"]} "
        "is not valid under any of the schemas listed in the 'oneOf' keyword"),
        "misplaced-example.yaml:8:9 #/paths/~1pets/get/responses/200: 'example' is not a field of this object; it is ignored",
        check_misplaced_example,
    ),
    "schema-keyword-of-wrong-type.yaml": (
        (
            "schema-keyword-of-wrong-type.yaml:7:7 #/paths/~1pets/post/requestBody: "
            '{"content":{"application/json":{"schema":{"properties":{"name":{"maxLength":10,"required":true,"type":"string"}},"type":"object"}}},'
            "\"required\":true} is not valid under any of the schemas listed in the 'oneOf' keyword"
        ),
        (
            "schema-keyword-of-wrong-type.yaml:14:38 #/paths/~1pets/post/requestBody/content/application~1json/schema/properties/name/required: "
            "True is not of type 'array'; the keyword 'required' is ignored"
        ),
        check_schema_keyword_of_wrong_type,
    ),
    "invalid-pattern.yaml": (
        ("invalid-pattern.yaml:10:34 #/paths/~1pets/get/parameters/0/schema/pattern: "
        "'^([a-z]+$' is not an ECMA-262 regular expression: unbalanced parenthesis"),
        ("invalid-pattern.yaml:10:34 #/paths/~1pets/get/parameters/0/schema/pattern: "
        "'^([a-z]+$' is not an ECMA-262 regular expression: unbalanced parenthesis; the pattern is not checked"),
        check_invalid_pattern,
    ),
}


def test_every_fixture_has_a_case() -> None:
    assert {p.name for p in LENIENT.glob("*.yaml")} == set(CASES)
    readme = (LENIENT / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in CASES)


def run(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(arguments)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


@pytest.mark.parametrize("name", sorted(CASES))
def test_strict_refuses_lenient_warns_and_serves_what_it_says(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    error, warning, behaviour = CASES[name]
    monkeypatch.chdir(LENIENT)
    package = f"lenient_{name.removesuffix('.yaml').replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    common = ["generate", "--no-cache", "--spec", name, "--out", str(tmp_path), "--package", package]
    code, err = run(common, capsys)
    assert code == 2
    assert f"codegen: error: {error}\n" in err, err
    assert not (tmp_path / package).exists()

    code, err = run([*common, "--lenient"], capsys)
    assert code == 0, err
    assert err == "".join(f"codegen: warning: {line}\n" for line in warning.split("\n")), err

    sys.path.insert(0, str(tmp_path))
    try:
        generated = importlib.import_module(package)
        impl = Recorder()
        behaviour(TestClient(generated.create_app(impl), raise_server_exceptions=False), impl, generated)
    finally:
        sys.path.remove(str(tmp_path))


def test_warnings_print_unless_quiet_and_come_back_from_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "spec").mkdir(parents=True)
    (project / "spec" / "openapi.yaml").write_text((LENIENT / "undeclared-path-variable.yaml").read_text())
    (project / "pyproject.toml").write_text('[tool.codegen]\nspec = "spec/openapi.yaml"\npackage = "pets"\nlenient = true\n')
    monkeypatch.chdir(project)
    warning = (
        "codegen: warning: spec/openapi.yaml:5:5 #/paths/~1pets~1{petId}/get: path template variable {petId} "
        "has no path parameter; it is read as a required string path parameter\n"
    )
    assert run(["generate"], capsys) == (0, warning)
    assert run(["generate"], capsys) == (0, warning)  # served from .codegen-cache/, warnings too
    assert run(["generate", "--quiet"], capsys) == (0, "")
    assert run(["check"], capsys) == (0, warning)  # `check` reads the option like `generate`
    module = project / "pets_impl.py"
    assert run(["init"], capsys) == (0, warning) and module.exists()
    (project / "pyproject.toml").write_text('[tool.codegen]\nspec = "spec/openapi.yaml"\npackage = "pets"\n')
    code, err = run(["check"], capsys)
    assert code == 2 and "has no path parameter\n" in err
    assert run(["check", "--lenient"], capsys) == (0, warning)


def test_lenient_is_part_of_the_cache_key(tmp_path: Path) -> None:
    from codegen.config import Config

    strict = Config(root=tmp_path, spec=tmp_path / "a.yaml", out=tmp_path)
    lenient = Config(root=tmp_path, spec=tmp_path / "a.yaml", out=tmp_path, lenient=True)
    assert strict.render_options() != lenient.render_options()
