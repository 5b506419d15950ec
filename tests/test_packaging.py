"""The installed tool carries its templates and runtime: a wheel built from this project has them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from conftest import ROOT


def test_wheel_carries_templates_and_runtime(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.name for p in (ROOT / "templates").iterdir() if p.suffix == ".jinja"}
    assert templates and {f"codegen/templates/{t}" for t in templates} <= names
    assert "codegen/runtime/handler.py" in names
    assert "codegen/cli.py" in names
    assert not any(n.startswith(("tests/", "generated/", "spec/")) for n in names)


def _wheel(into: Path) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(into), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return next(into.glob("*.whl"))


def test_the_runtime_alone_serves_the_committed_package(tmp_path: Path) -> None:
    """A deployment: the wheel installed without the generator into a clean venv serves the
    committed generated/ package with the walkthrough's implementation, and `codegen` there says
    how to install the generator."""
    import shutil
    import time

    import httpx
    from conftest import free_port

    wheel = _wheel(tmp_path / "wheel")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(ROOT / "requirements" / "lock.txt"), str(wheel)], check=True, capture_output=True)
    listed = subprocess.run([str(venv / "bin" / "pip"), "list", "--format=freeze"], capture_output=True, text=True, check=True).stdout
    installed = {line.split("==")[0].lower() for line in listed.splitlines()}
    assert {"fastapi", "pydantic", "uvicorn", "regress"} <= installed
    assert not installed & {"datamodel-code-generator", "black", "jinja2", "pyyaml", "openapi-spec-validator", "isort"}

    refused = subprocess.run([str(venv / "bin" / "codegen"), "generate"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert refused.returncode == 2
    assert "pip install 'spec-first-codegen[generator]'" in refused.stderr and "Traceback" not in refused.stderr

    # The user's project as deployed: the committed package and their implementation, nothing else.
    app = tmp_path / "app"
    shutil.copytree(ROOT / "generated" / "langsmith_deployment", app / "langsmith_deployment")
    shutil.copy(ROOT / "examples" / "cancel_runs.py", app / "cancel_runs.py")
    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "uvicorn", "cancel_runs:app", "--port", str(port)],
        cwd=app,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(app)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                httpx.get(f"{base}/ok", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        rollback = httpx.post(f"{base}/runs/cancel?action=rollback", json={"status": "pending"})
        assert rollback.status_code == 204
        bad = httpx.post(f"{base}/runs/cancel", json={"thread_id": "not-a-uuid"})
        assert (bad.status_code, bad.json()) == (422, {"detail": "body.thread_id: must be a valid uuid"})
        served = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import codegen.runtime, langsmith_deployment; print(codegen.runtime.__file__)"],
            cwd=app,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(app)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert served.stdout.startswith(str(venv))  # the installed runtime, not this checkout
    finally:
        server.terminate()
        server.wait(10)


def test_a_package_refuses_a_runtime_that_lacks_its_interface(tmp_path: Path, monkeypatch: Any) -> None:
    import importlib

    import pytest
    from codegen.runtime import version

    monkeypatch.setattr(version, "SUPPORTED_INTERFACES", frozenset({99}))
    monkeypatch.setattr(version, "RUNTIME_INTERFACE", 99)
    for name in [m for m in sys.modules if m == "langsmith_deployment" or m.startswith("langsmith_deployment.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError) as raised:
        importlib.import_module("langsmith_deployment")
    message = str(raised.value)
    assert "generated by spec-first-codegen 0.1.0 for runtime interface 1" in message
    assert "provides interface 99" in message
    assert "codegen generate" in message and "pip install 'spec-first-codegen[generator]==" in message


def _ranges() -> dict[str, str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    return {r.split(">=")[0].split("[")[0].strip().lower(): r for r in requirements if ">=" in r}


def test_pyproject_declares_ranges_and_only_the_lock_files_pin() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert "==" not in "\n".join(line.split("#")[0] for line in text.splitlines())
    lock = (ROOT / "requirements" / "lock.txt").read_text().splitlines()
    pins = [line for line in lock if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)


def test_the_lowest_versions_are_the_ranges_lower_bounds() -> None:
    ranges = _ranges()
    lowest = [line for line in (ROOT / "requirements" / "lowest.txt").read_text().splitlines() if line and not line.startswith("#")]
    for line in lowest:
        name, version = line.split("==")
        declared = ranges.get(name.lower())
        if declared is not None:
            assert declared.split(">=")[1].split(",")[0] == version, f"{name}: {declared} but lowest.txt says {version}"
