"""The same spec gives the same bytes whatever the path through the generator: from the cache
or not, in worker processes or not, and whatever formatter settings the project keeps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from codegen.cli import build_files
from codegen.config import Config
from conftest import ROOT, SPECS

FIXTURE = SPECS / "formatting" / "openapi.yaml"
# Settings datamodel-code-generator's formatter would read from a project's pyproject.toml.
FOREIGN_SETTINGS = """
[tool.black]
line-length = 60
skip-string-normalization = true

[tool.isort]
line_length = 60
known_first_party = ["pydantic", "typing_extensions"]

[tool.ruff]
line-length = 60

[tool.datamodel-codegen]
builtin-format-line-length = 60
"""


def project(tmp_path: Path, name: str, spec: Path, pyproject: str = "") -> Config:
    folder = tmp_path / name
    (folder / "spec").mkdir(parents=True)
    shutil.copy(spec, folder / "spec" / "openapi.yaml")
    (folder / "pyproject.toml").write_text(pyproject)
    return Config(root=folder, spec=folder / "spec" / "openapi.yaml", out=folder / "generated", package="pkg")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    config = project(tmp_path_factory.mktemp("reference"), "plain", FIXTURE)
    return build_files(config, use_cache=False, jobs=1)[1]


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_any_number_of_workers_gives_the_same_files(reference: dict[str, str], tmp_path: Path, jobs: int) -> None:
    config = project(tmp_path, "workers", FIXTURE)
    assert build_files(config, use_cache=False, jobs=jobs)[1] == reference


def test_cached_files_are_the_generated_ones(reference: dict[str, str], tmp_path: Path) -> None:
    config = project(tmp_path, "cached", FIXTURE)
    first = build_files(config, jobs=2)[1]
    assert any((config.root / ".codegen-cache").glob("*.json.gz"))
    second = build_files(config, jobs=2)[1]
    assert first == second == reference


def test_the_projects_formatter_settings_change_nothing(reference: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = project(tmp_path, "settings", FIXTURE, FOREIGN_SETTINGS)
    monkeypatch.chdir(config.root)  # where datamodel-code-generator would look by default
    assert build_files(config, use_cache=False)[1] == reference


def test_spec_without_workers_gives_the_committed_package() -> None:
    config = Config(root=ROOT, spec=ROOT / "spec" / "openapi.yaml", out=ROOT / "generated")
    package, files, _ = build_files(config, use_cache=False, jobs=1)
    committed = {
        p.relative_to(ROOT / "generated" / package).as_posix(): p.read_text(encoding="utf-8")
        for p in (ROOT / "generated" / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert files == committed


@pytest.mark.parametrize("spec", ["jsonschema/openapi.yaml", "jsonschema/openapi-3.0.yaml", "injection/openapi.yaml"])
def test_models_need_none_of_the_generators_own_validators(spec: str) -> None:
    # Every keyword they would enforce is left to the generated checks (`pydantic_view`).
    from codegen import ir, load
    from codegen.render import models

    api = ir.build(load.load(SPECS / spec))
    document = models.models_document(api.model_schemas, api.title)
    without = models.generate_models(document)
    models.OPTIONS["generate_schema_validators"] = True
    try:
        assert models.generate_models(document) == without
    finally:
        models.OPTIONS["generate_schema_validators"] = False
