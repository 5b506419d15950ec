"""Failure tier: every family of broken spec exits 2 with a located message and writes nothing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from codegen.cli import main
from codegen.render.verify import verify
from conftest import SPECS

ERRORS = SPECS / "errors"

# file -> (the place, the message). The place is `file[:line:column] #/pointer`.
EXPECTED = {
    "yaml-syntax.yaml": ("yaml-syntax.yaml:8:1 #", "invalid YAML: did not find expected ',' or ']'"),
    "json-syntax.json": ("json-syntax.json:4:13 #", "invalid JSON: Expecting property name enclosed in double quotes"),
    "not-a-mapping.yaml": ("not-a-mapping.yaml #", "the document must be a mapping (an object), not list"),
    "missing-openapi.yaml": ("missing-openapi.yaml #", "missing required field 'openapi'"),
    "missing-info.yaml": ("missing-info.yaml #", "\"info\" is a required property"),
    "missing-responses.yaml": ("missing-responses.yaml:5:5 #/paths/~1pets/get", "\"responses\" is a required property"),
    "swagger-2.yaml": ("swagger-2.yaml:1:1 #/swagger", "Swagger 2.0 is not supported; only OpenAPI 3.0 and 3.1 are"),
    "version-4.yaml": ("version-4.yaml:1:1 #/openapi", "unsupported OpenAPI version '4.0.0'"),
    "dangling-ref.yaml": (
        "dangling-ref.yaml:13:17 #/paths/~1pets/get/responses/200/content/application~1json/schema/$ref",
        "$ref points nowhere: '#/components/schemas/Pet'",
    ),
    "ref-into-ref-siblings.yaml": (
        "ref-into-ref-siblings.yaml:20:18 #/components/schemas/Monster/properties/damage/$ref",
        "$ref points into '/paths/~1monsters/get/responses/200/content/application~1json/schema/properties', a sibling of a $ref, which OpenAPI 3.0 ignores",
    ),
    "missing-external-file.yaml": (
        "missing-external-file.yaml:13:17 #/paths/~1pets/get/responses/200/content/application~1json/schema/$ref",
        "$ref names a file that does not exist",
    ),
    "external-ref-outside.yaml": (
        "external-ref-outside.yaml:13:17 #/paths/~1pets/get/responses/200/content/application~1json/schema/$ref",
        "$ref leaves the spec's folder",
    ),
    "duplicate-operation-id.yaml": (
        "duplicate-operation-id.yaml:10:7 #/paths/~1animals/get/operationId",
        "duplicate operationId 'listPets': also used at #/paths/~1pets/get",
    ),
    "path-variable-without-parameter.yaml": (
        "path-variable-without-parameter.yaml:5:5 #/paths/~1pets~1{petId}/get",
        "path template variable {petId} has no path parameter",
    ),
    "path-parameter-not-in-template.yaml": (
        "path-parameter-not-in-template.yaml:8:11 #/paths/~1pets/get/parameters/0",
        "path parameter 'petId' does not appear in the path '/pets'",
    ),
    "repeated-template-name.yaml": (
        "repeated-template-name.yaml:4:3 #/paths/~1pets~1{id}~1toys~1{id}",
        "path template names {id} twice",
    ),
    "invalid-schema-type.yaml": (
        "invalid-schema-type.yaml:9:16 #/components/schemas/Pet/properties/name/type",
        "'strin' is not valid under any of the given schemas",
    ),
    "reference-cycle.yaml": (
        "reference-cycle.yaml:6:5 #/components/schemas/A",
        "reference cycle cannot be represented: A -> B -> A",
    ),
    "parameter-cycle.yaml": (
        "parameter-cycle.yaml:13:5 #/components/parameters/B",
        "reference cycle cannot be represented: #/components/parameters/A -> #/components/parameters/B -> #/components/parameters/A",
    ),
    "yaml-object-tag.yaml": (
        "yaml-object-tag.yaml:4:8 #",
        "the tag !!python/object/apply:os.system is not allowed: a spec is plain data",
    ),
    "yaml-alias-bomb.yaml": ("yaml-alias-bomb.yaml:9:10 #", "YAML aliases repeat more than 100000 nodes"),
    "yaml-recursive-alias.yaml": ("yaml-recursive-alias.yaml:9:15 #", "alias *node refers to a node that contains it"),
    "deep-nesting.yaml": ("deep-nesting.yaml:4:108 #", "the document is nested more than 100 levels deep"),
    "deep-nesting.json": ("deep-nesting.json:2:111 #", "the document is nested more than 100 levels deep"),
    "duplicate-key.yaml": ("duplicate-key.yaml:8:3 #", "invalid YAML: duplicate key '/pets'"),
    "not-utf8.yaml": ("not-utf8.yaml:2:19 #", "the file is not UTF-8 (byte 0xe9)"),
    "empty.yaml": ("empty.yaml #", "the document must be a mapping (an object), not empty"),
    "version-not-string.yaml": ("version-not-string.yaml:1:1 #/openapi", "unsupported OpenAPI version 3.1"),
    "remote-ref.yaml": (
        "remote-ref.yaml:13:17 #/paths/~1pets/get/responses/200/content/application~1json/schema/$ref",
        "remote $ref is not supported: https://example.com/schemas/pet.yaml",
    ),
    "invalid-pattern.yaml": (
        "invalid-pattern.yaml:9:30 #/components/schemas/Pet/properties/name/pattern",
        "'^([a-z]+$' is not an ECMA-262 regular expression: unbalanced parenthesis",
    ),
    "python-pattern.yaml": (
        "python-pattern.yaml:9:9 #/components/schemas/Names/patternProperties/^(?P<lang>[a-z]{2})$",
        "'^(?P<lang>[a-z]{2})$' is not an ECMA-262 regular expression: invalid group modifier",
    ),
    "invalid-schema-type-30.yaml": (
        "invalid-schema-type-30.yaml:11:19 #/components/schemas/Pet/properties/tags/items/type",
        "'strin' is not one of ['array', 'boolean', 'integer', 'number', 'object', 'string']",
    ),
    "undeclared-security-scheme.yaml": (
        "undeclared-security-scheme.yaml:8:11 #/paths/~1pets/get/security/0",
        "security requirement names the undeclared scheme 'apiKey'",
    ),
    "anchor-ref.yaml": (
        "anchor-ref.yaml:18:15 #/components/schemas/List/items/$dynamicRef",
        "$dynamicRef by anchor ('#item') is not supported",
    ),
    # Folders: the spec is openapi.yaml; the problem is in a file it refers to.
    "external-invalid-schema": (
        "external-invalid-schema/schemas/pet.yaml:4:9 #/properties/tag/type",
        "'strin' is not valid under any of the given schemas",
    ),
    "external-dangling-ref": (
        "external-dangling-ref/schemas/pet.yaml:4:11 #/properties/owner/$ref",
        "$ref points nowhere: '#/definitions/Owner' (no /definitions/Owner in pet.yaml)",
    ),
}


def test_every_fixture_has_an_expectation() -> None:
    names = {p.name for p in ERRORS.iterdir() if p.suffix in (".yaml", ".json") or p.is_dir()}
    assert names == set(EXPECTED)


def copy_fixture(name: str, folder: Path) -> str:
    """Copy a broken spec (a file, or a folder with openapi.yaml) under `folder`; its path there."""
    if (ERRORS / name).is_dir():
        shutil.copytree(ERRORS / name, folder / name)
        return f"{name}/openapi.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ERRORS / name, folder / name)
    return name


def user_output_folder(out: Path) -> dict[str, str]:
    """An output folder holding a generated package and files of the user's own; its snapshot."""
    (out / "broken").mkdir(parents=True)
    (out / "broken" / "models.py").write_text("# Generated by codegen from spec; do not edit\nOLD = 1\n")
    (out / "broken" / "mine.py").write_text("KEEP = True\n")
    (out / "notes.txt").write_text("mine\n")
    return snapshot(out)


def generate_broken(spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["generate", "--spec", spec, "--out", "generated", "--package", "broken", *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_spec_exits_2_with_located_message_and_changes_nothing(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = copy_fixture(name, tmp_path / "spec")
    out = tmp_path / "generated"
    before = user_output_folder(out)
    monkeypatch.chdir(tmp_path)
    code, err = generate_broken(f"spec/{spec}", tmp_path, capsys)
    assert code == 2
    place, message = EXPECTED[name]
    assert f"codegen: error: spec/{place}: " in err, err
    assert message in err
    assert "hint:" in err
    assert len(err.splitlines()) <= 6
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated", "spec"]  # nothing else was written


def test_debug_flag_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen.errors import SpecError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError):
        main(["generate", "--debug", "--spec", str(ERRORS / "swagger-2.yaml"), "--out", str(tmp_path / "out")])


PET_REF_SPEC = """openapi: 3.1.0
info: {{title: Pets, version: "1"}}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {{$ref: "{ref}"}}
"""


@pytest.mark.parametrize("via", ["relative path", "symlinked folder", "symlinked file"])
def test_external_ref_may_leave_the_spec_folder_only_into_an_allowed_dir(
    via: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "pet.yaml").write_text("type: object\nproperties:\n  name: {type: string}\n")
    spec = tmp_path / "project" / "spec" / "openapi.yaml"
    spec.parent.mkdir(parents=True)
    if via == "relative path":
        ref = "../../shared/pet.yaml"
    elif via == "symlinked folder":
        (spec.parent / "schemas").symlink_to(shared, target_is_directory=True)
        ref = "./schemas/pet.yaml"
    else:
        (spec.parent / "pet.yaml").symlink_to(shared / "pet.yaml")
        ref = "./pet.yaml"
    spec.write_text(PET_REF_SPEC.format(ref=ref))
    monkeypatch.chdir(tmp_path / "project")
    out = tmp_path / "project" / "generated"
    before = user_output_folder(out)

    code, err = generate_broken("spec/openapi.yaml", tmp_path, capsys)
    assert code == 2
    assert "codegen: error: spec/openapi.yaml:12:24 #/paths/~1pets/get/responses/200/content/application~1json/schema/$ref: $ref leaves the spec's folder" in err
    assert "--allow-ref-dir" in err
    assert snapshot(out) == before

    code, err = generate_broken("spec/openapi.yaml", tmp_path, capsys, "--allow-ref-dir", "../shared")
    assert code == 0, err
    assert "class Pet(SpecModel)" in (out / "broken" / "models.py").read_text()
    assert (out / "broken" / "mine.py").read_text() == "KEEP = True\n"


def test_yaml_object_tags_are_never_constructed(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    spec = copy_fixture("yaml-object-tag.yaml", tmp_path)
    monkeypatch.chdir(tmp_path)
    code, _ = generate_broken(spec, tmp_path, capsys)
    assert code == 2
    assert not (tmp_path / "spec-code-was-run").exists()


@pytest.mark.parametrize(
    ("rendered", "message"),
    [
        ({"models.py": "def broken(:\n"}, "the generated package would not import: models.py:1 does not compile"),
        (RuntimeError("boom"), "generation failed: RuntimeError: boom"),
    ],
    ids=["code that does not compile", "a failure inside the generator"],
)
def test_a_generator_failure_writes_nothing(
    rendered: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def render(api: Any, *, spec_label: str, **options: Any) -> dict[str, str]:
        if isinstance(rendered, Exception):
            raise rendered
        verify(rendered)  # the renderer compiles each file it gives
        return rendered

    monkeypatch.setattr("codegen.render.render", render)
    shutil.copytree(SPECS / "awkward", tmp_path / "spec")
    out = tmp_path / "generated"
    before = user_output_folder(out)
    monkeypatch.chdir(tmp_path)
    code, err = generate_broken("spec/recursive.yaml", tmp_path, capsys)
    assert code == 2
    assert f"codegen: error: {message}" in err
    assert "hint:" in err
    assert snapshot(out) == before


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda spec: None, "no such file"),
        (lambda spec: spec.mkdir(), "it is a directory"),
    ],
    ids=["missing", "a directory"],
)
@pytest.mark.parametrize("command", ["generate", "check", "init", "mock"])
def test_an_unreadable_spec_path_is_named_with_the_reason(
    make: Any, reason: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make(tmp_path / "api.yaml")
    code = main([command, "--spec", "api.yaml", "--out", "out"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == f"codegen: error: cannot read the spec api.yaml: {reason}\n"
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == (["api.yaml"] if reason != "no such file" else [])


def test_a_spec_without_read_permission_is_named_with_the_reason() -> None:
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads any file: the command runs as nobody
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    with tempfile.TemporaryDirectory() as tmp:  # in /tmp, which anyone may enter
        folder = Path(tmp)
        folder.chmod(0o755)
        spec = folder / "api.yaml"
        spec.write_text("openapi: 3.1.0\n")
        spec.chmod(0)
        command = [sys.executable, "-m", "codegen", "generate", "--no-cache", "--spec", "api.yaml", "--out", "out"]
        result = subprocess.run([*prefix, *command], cwd=folder, capture_output=True, text=True, check=False)
        assert result.returncode == 2
        assert result.stderr == "codegen: error: cannot read the spec api.yaml: permission denied\n"
        assert sorted(p.name for p in folder.iterdir()) == ["api.yaml"]
