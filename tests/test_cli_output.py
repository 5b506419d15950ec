"""What the command prints: progress on a terminal only, timings with --verbose, nothing with --quiet."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from codegen.cli import Timings, main
from conftest import SPEC as LANGSMITH
from conftest import SPECS

SPEC = SPECS / "external-refs" / "openapi.yaml"


def test_progress_line_appears_after_a_second_and_is_cleared(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Timings, "DELAY", 0.05)
    timings = Timings(progress=True)
    with timings.stage("models"):
        time.sleep(0.2)
    with timings.stage("format"):
        pass
    timings.done()
    err = capsys.readouterr().err
    assert "codegen: models..." in err and "codegen: format..." in err
    assert err.endswith("\r\x1b[K")


def test_quick_runs_show_no_progress(capsys: pytest.CaptureFixture[str]) -> None:
    timings = Timings(progress=True)
    with timings.stage("parse"):
        pass
    timings.done()
    assert capsys.readouterr().err == ""


def test_not_a_terminal_no_progress_and_verbose_prints_stage_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Timings, "DELAY", 0.0)
    assert main(["generate", "--no-cache", "--verbose", "--spec", str(SPEC), "--out", "out"]) == 0
    captured = capsys.readouterr()
    assert "..." not in captured.err  # stderr is not a terminal here
    for stage in ("parse", "models", "format", "write"):
        assert f"  {stage} " in captured.err
    assert "written" in captured.out
    assert main(["generate", "--quiet", "--spec", str(SPEC), "--out", "out"]) == 0
    assert capsys.readouterr() == ("", "")


def test_progress_on_a_real_terminal(tmp_path: Path) -> None:
    # stderr is a pseudo-terminal: a run longer than a second (the LangSmith spec, uncached)
    # shows its stages.
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "codegen", "generate", "--no-cache", "--spec", str(LANGSMITH), "--out", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        cwd=tmp_path,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait() == 0
    text = b"".join(chunks).decode()
    assert "codegen: " in text and "..." in text
