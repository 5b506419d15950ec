"""Generated code reads like careful code: ruff and mypy --strict pass on generated/ and on the
packages of every fixture spec; ruff passes on the project's own code too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, generate_package

BIN = Path(sys.executable).parent


def fixture_specs() -> list[Path]:
    """Every spec at the top of a fixture folder (files below are parts they refer to)."""
    specs = []
    for folder in sorted(p for p in SPECS.iterdir() if p.is_dir() and p.name != "errors"):
        specs.extend(sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json")))
    return specs


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def fixture_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lint")
    for i, spec in enumerate(fixture_specs()):
        generate_package(spec, out, package=f"lint_{i}_{spec.parent.name}_{spec.stem}".replace("-", "_").replace(".", "_"))
    return out


def test_ruff_passes_on_generated() -> None:
    result = run(str(BIN / "ruff"), "check", "generated")
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_strict_passes_on_generated(tmp_path: Path) -> None:
    result = run(str(BIN / "mypy"), "--strict", "--cache-dir", str(tmp_path), "generated")
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_passes_on_the_project_itself() -> None:
    # The generator, its runtime, the reference service, the benchmarks and the tests.
    result = run(str(BIN / "ruff"), "check", "codegen", "service", "bench", "examples", "tests")
    assert result.returncode == 0, result.stdout[-3000:]


def test_fixture_specs_are_found() -> None:
    assert len(fixture_specs()) >= 8


def test_ruff_passes_on_fixture_packages(fixture_packages: Path) -> None:
    # Checked with this project's settings, as generated/ is.
    result = run(str(BIN / "ruff"), "check", "--config", str(ROOT / "pyproject.toml"), str(fixture_packages))
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_strict_passes_on_fixture_packages(fixture_packages: Path, tmp_path: Path) -> None:
    packages = sorted(p.name for p in fixture_packages.iterdir() if (p / "__init__.py").exists())
    args = [arg for name in packages for arg in ("-p", name)]
    result = run(str(BIN / "mypy"), "--strict", "--cache-dir", str(tmp_path), *args, cwd=fixture_packages)
    assert result.returncode == 0, result.stdout[-3000:]
