"""The load and crash tests of bench/service_load.py as tests (marked slow: `make bench` runs
the script; `pytest -m slow` runs these)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "service_load.py"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("service_load", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_load_every_run_ends_exactly_once() -> None:
    report = asyncio.run(_bench().load_test())
    report.print()
    assert report.problems == []


def test_crash_leaves_no_run_running() -> None:
    report = asyncio.run(_bench().crash_test())
    report.print()
    assert report.problems == []


def test_worker_crash_runs_are_taken_back_by_the_sibling() -> None:
    report = asyncio.run(_bench().worker_crash_test())
    report.print()
    assert report.problems == []
