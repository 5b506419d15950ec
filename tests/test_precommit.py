"""The pre-commit hook: a project whose generated code is stale cannot commit.

The project's hooks come from this repository's `.pre-commit-hooks.yaml`; they run through
pre-commit itself, as a `local` repository with `language: system` so the test reuses this
environment instead of installing the tool again from the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

BIN = Path(sys.executable).parent


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=check)


def test_stale_generated_code_fails_the_commit(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copytree(ROOT / "spec", repo / "spec")
    shutil.copytree(ROOT / "generated", repo / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in manifest if h["id"] == "codegen-check")
    hook = {k: v for k, v in hook.items() if k != "additional_dependencies"}
    hook = {**hook, "language": "system", "entry": str(BIN / hook["entry"].split()[0]) + " " + " ".join(hook["entry"].split()[1:])}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]}))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "--no-verify", "-m", "start")
    subprocess.run([str(BIN / "pre-commit"), "install"], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")})

    spec = repo / "spec" / "openapi.yaml"
    document = yaml.safe_load(spec.read_text())
    document["paths"]["/widgets"] = {"get": {"operationId": "list_widgets", "responses": {"204": {"description": "none"}}}}
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    git(repo, "add", "spec/openapi.yaml")
    stale = git(repo, "commit", "-m", "add widgets without regenerating", check=False)
    assert stale.returncode != 0
    assert "codegen check" in stale.stdout + stale.stderr
    assert "is stale" in stale.stdout + stale.stderr

    subprocess.run([str(BIN / "codegen"), "generate", "--quiet"], cwd=repo, check=True)
    git(repo, "add", ".")
    fresh = git(repo, "commit", "-m", "add widgets", check=False)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr


def test_the_hooks_install_the_generator() -> None:
    """pre-commit installs the repository's base (the runtime only): each hook adds the
    generator's dependencies, exactly the `generator` extra."""
    import tomllib

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["generator"]
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        assert hook["additional_dependencies"] == extra, hook["id"]
