"""The installed tool carries its templates and runtime: a wheel built from this project has them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_wheel_carries_templates_and_runtime(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "hatchling" in result.stderr:
        # No build backend in this environment: build it the standard way (isolated).
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.name for p in (ROOT / "templates").iterdir() if p.suffix == ".jinja"}
    assert templates and {f"codegen/templates/{t}" for t in templates} <= names
    assert "codegen/runtime/handler.py" in names
    assert "codegen/cli.py" in names
    assert not any(n.startswith(("tests/", "generated/", "spec/")) for n in names)
