"""Safety: hostile strings in a spec are data in the generated code, never code; the generator
never executes anything from a spec; generated code holds no paths of the machine."""

from __future__ import annotations

import ast
import inspect
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from codegen.load import read_file
from conftest import ROOT, SPECS, generate_package, import_package
from fastapi.testclient import TestClient

SPEC = SPECS / "injection" / "openapi.yaml"
DOCUMENT = read_file(SPEC)
OPERATION = DOCUMENT["paths"]["/things/{id}"]["post"]
THING = DOCUMENT["components"]["schemas"]["Thing"]
ENUM = THING["properties"]["kind"]["enum"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("injection")
    cwd = os.getcwd()
    os.chdir(out)  # a spec that ran code would leave `pwned` here
    try:
        name = generate_package(SPEC, out)
        package = import_package(out, name)
    finally:
        os.chdir(cwd)
    return out / name, package


def test_nothing_from_the_spec_ran(generated: tuple[Path, Any]) -> None:
    folder, package = generated
    assert not list(folder.parent.rglob("pwned")) and not (ROOT / "pwned").exists()
    assert package._spec.VERSION == DOCUMENT["info"]["version"]


def test_spec_is_served_unchanged(generated: tuple[Path, Any]) -> None:
    _, package = generated
    assert TestClient(package.create_app()).get("/openapi.json").json() == DOCUMENT


class Things:
    def __init__(self) -> None:
        self.received: dict[str, Any] = {}

    async def make_thing_x(self, **kwargs: Any) -> Any:
        self.received = kwargs
        return kwargs["body"]


def test_defaults_are_the_spec_values(generated: tuple[Path, Any]) -> None:
    _, package = generated
    things = Things()
    response = TestClient(package.create_app(things)).post("/things/1", json={})
    assert response.status_code == 200, response.text
    parameters = {p["name"]: p["schema"] for p in OPERATION["parameters"]}
    assert things.received["q_uote"] == parameters['q"uote']["default"]
    assert things.received["mode"].value == parameters["mode"]["default"]
    body = things.received["body"]
    assert body.text == THING["properties"]["text"]["default"]
    assert body.kind.value == THING["properties"]["kind"]["default"]
    assert response.json() == {
        "text": THING["properties"]["text"]["default"],
        "kind": THING["properties"]["kind"]["default"],
        'quote"key\\': 1,
    }


@pytest.mark.parametrize("value", ENUM, ids=range(len(ENUM)))
def test_every_enum_value_is_accepted_as_written(generated: tuple[Path, Any], value: str) -> None:
    _, package = generated
    things = Things()
    client = TestClient(package.create_app(things))
    response = client.post(f"/things/1?mode={quote(value, safe='')}", json={"kind": value})
    assert response.status_code == 200, response.text
    assert things.received["mode"].value == value
    assert response.json()["kind"] == value


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"kind": "a'b"}, "body.kind"),
        ({"text": "ABC"}, "body.text"),
        ({"text": '"'}, "body.text"),
        ({"nested": {"deep": "const"}}, "body.nested.deep"),
        ({'quote"key\\': "1"}, 'body.quote"key\\:'),
    ],
)
def test_constraints_with_hostile_strings_hold(generated: tuple[Path, Any], body: dict[str, Any], where: str) -> None:
    _, package = generated
    response = TestClient(package.create_app(Things())).post("/things/1", json=body)
    assert response.status_code == 422
    assert set(response.json()) == {"detail"}
    assert response.json()["detail"].startswith(where), response.json()


def test_const_and_pattern_accept_what_the_spec_accepts(generated: tuple[Path, Any]) -> None:
    _, package = generated
    deep = THING["properties"]["nested"]["properties"]["deep"]["const"]
    body = {"text": '""" \'\'\' \\ {{ x }}\n\u2028', "nested": {"deep": deep}}
    response = TestClient(package.create_app(Things())).post("/things/1", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["nested"] == {"deep": deep}


def test_mock_answers_the_example_verbatim(generated: tuple[Path, Any]) -> None:
    _, package = generated
    response = TestClient(package.create_app(mock=True)).post("/things/1", json={})
    assert response.json() == OPERATION["responses"]["200"]["content"]["application/json"]["example"]


def test_descriptions_appear_verbatim_in_docstrings(generated: tuple[Path, Any]) -> None:
    folder, package = generated
    method = package.protocols.TagWithQuotesTagApi.make_thing_x
    doc = inspect.getdoc(method)
    assert doc is not None
    assert doc.startswith(OPERATION["summary"] + "\n\n" + OPERATION["description"] + "\n\n")
    assert f"`POST /things/{{id}}` (operationId `{OPERATION['operationId']}`)" in doc
    tag = DOCUMENT["tags"][0]
    assert tag["description"] in (inspect.getdoc(package.protocols.TagWithQuotesTagApi) or "")
    assert inspect.cleandoc(package.models.Thing.__doc__) == THING["description"]
    assert package.__doc__.startswith(f"{DOCUMENT['info']['title']} {DOCUMENT['info']['version']}: ")
    route = next(r for r in package.create_app().routes if getattr(r, "operation_id", None) == OPERATION["operationId"])
    assert route.summary == OPERATION["summary"]
    assert inspect.getdoc(route.endpoint) == OPERATION["summary"] + "\n\n" + OPERATION["description"]
    # Field descriptions are attribute docstrings: read them from the source.
    tree = ast.parse((folder / "models.py").read_text(encoding="utf-8"))
    thing = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Thing")
    docs = {
        stmt.target.id: inspect.cleandoc(nxt.value.value)
        for stmt, nxt in zip(thing.body, thing.body[1:])
        if isinstance(stmt, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
    }
    assert docs["text"] == THING["properties"]["text"]["description"]


# -- the generator itself ---------------------------------------------------------------------

# Calls that would run or load code: allowed only where named, for the reason given.
ALLOWED_CALLS = {
    ("compile", "render/verify.py"),  # compiles generated modules without running them
    ("importlib.import_module", "cli.py"),  # `codegen mock` imports the package it just generated
    ("ast.literal_eval", "render/models.py"),  # reads enum values back from generated source
}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint", "os.system", "os.popen", "yaml.unsafe_load",
                   "yaml.full_load", "importlib.import_module", "ast.literal_eval", "env.from_string", "from_string"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "subprocess", "dill"}
# Modules allowed only where named, for the reason given.
ALLOWED_MODULES = {
    # starts `python -m codegen.render.parallel`, the generator's own workers (JSON over pipes)
    ("subprocess", "render/parallel.py"),
    # starts the pattern worker: its own fixed loop, given patterns and texts as data over pipes
    ("subprocess", "runtime/patterns.py"),
    # the cache's pieces: values of JSON's types (and tuples), written by the generator and read
    # back only under the key they were written for, whole (their digest) and by the Python that
    # wrote them; nothing read is ever run
    ("marshal", "cache.py"),
    # copies of the IR's own values (the memo's stay as they were): dumped and loaded in memory
    ("marshal", "ir.py"),
}


def test_the_generator_never_executes_spec_text() -> None:
    package = ROOT / "codegen"
    found = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name == "yaml.load":
                    loader = next((ast.unparse(k.value) for k in node.keywords if k.arg == "Loader"), None)
                    if loader != "_spec_loader()":
                        found.append((where, node.lineno, ast.unparse(node)))
                elif (name in FORBIDDEN_CALLS or name.endswith(".from_string")) and (name, where) not in ALLOWED_CALLS:
                    found.append((where, node.lineno, ast.unparse(node)))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(m.split(".")[0] in FORBIDDEN_MODULES and (m, where) not in ALLOWED_MODULES for m in modules):
                    found.append((where, node.lineno, ast.unparse(node)))
    assert not found


def test_spec_loader_is_a_safe_loader() -> None:
    import yaml
    from codegen.load import _spec_loader

    loader = _spec_loader()
    assert issubclass(loader, yaml.SafeLoader) or issubclass(loader, getattr(yaml, "CSafeLoader", ()))
    assert not issubclass(loader, (yaml.UnsafeLoader, yaml.FullLoader))


def test_generated_code_holds_no_path_of_the_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "machine-specific-folder" / "project"
    shutil.copytree(SPECS / "injection", project / "spec")
    shared = tmp_path / "machine-specific-folder" / "shared"
    shared.mkdir()
    (shared / "extra.yaml").write_text("type: object\nproperties:\n  note: {type: string}\n")
    spec = project / "spec" / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("    Problem:\n", "    Extra: {$ref: \"../../shared/extra.yaml\"}\n    Problem:\n"), encoding="utf-8")
    monkeypatch.chdir(project)
    from codegen.cli import main

    assert main(["generate", "--spec", "spec/openapi.yaml", "--out", "out", "--package", "pkg", "--allow-ref-dir", "../shared", "--quiet"]) == 0
    files = [p for p in (project / "out" / "pkg").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) >= 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "machine-specific-folder" not in text, path
        assert str(tmp_path) not in text and str(Path.home()) not in text and str(ROOT) not in text, path
    assert "class Extra(SpecModel)" in (project / "out" / "pkg" / "models.py").read_text(encoding="utf-8")


def test_security_callbacks_and_webhooks_stay_data(generated: tuple[Path, Any]) -> None:
    _, package = generated
    scheme = DOCUMENT["components"]["securitySchemes"]["key.1-import"]
    assert package.security.key_1_import.model.name == scheme["name"]
    assert package.security.key_1_import.model.description == scheme["description"]
    protocols = package.protocols
    assert "- POST hook \"\"\" {{ w }} \\" in protocols.__doc__
    method = next(cls.secured_op for cls in vars(protocols).values() if hasattr(cls, "secured_op"))
    assert '- cb """ {{ c }}: POST {$request.query#/url}"""\\' in method.__doc__
    assert '`key.1-import` with roles `role """ {{ r }} \\`.' in method.__doc__
    client = TestClient(package.create_app())
    assert client.get('/secured"""').status_code == 401
    assert client.get('/secured"""', headers={scheme["name"]: "k"}).status_code == 501
