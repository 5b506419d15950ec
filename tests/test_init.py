"""`codegen init`: a starting implementation that serves (501 until written) and is never overwritten."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from codegen.cli import main
from conftest import SPEC
from fastapi.testclient import TestClient


def load_module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"impl_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_init_writes_a_serving_module_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "impl" / "service_impl.py"
    assert main(["init", "--spec", str(SPEC), "--module", str(target)]) == 0
    module = load_module(target)

    client = TestClient(module.app)
    response = client.post("/runs/cancel", json={"status": "all"})
    assert response.status_code == 501
    assert response.json() == {"detail": "cancel_runs_post is not implemented yet"}
    assert client.get("/threads/00000000-0000-0000-0000-000000000001").status_code == 501
    # Requests are still validated before the stub is reached.
    assert client.post("/runs/cancel", json={}).status_code == 422
    # One class per tag, each subclassing its Protocol, and one class with them all.
    from langsmith_deployment import protocols

    assert protocols.ThreadRunsApi in module.ThreadRuns.__mro__
    assert issubclass(module.Implementation, module.Threads)

    before = target.read_bytes()
    capsys.readouterr()
    assert main(["init", "--spec", str(SPEC), "--module", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == before
