"""A cache of rendered packages, so an unchanged spec costs almost nothing.

The key covers everything the output depends on: the bytes of every file the spec was read
from, the options, and the generator itself (its source, templates and the versions of the
libraries that shape the output). Entries live in `.codegen-cache/` at the project root.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import SpecWarning

MAX_ENTRIES = 8
_SHAPING_LIBRARIES = ("datamodel-code-generator", "black", "pydantic", "jinja2")


def _generator_digest() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    from .config import templates_dir

    for folder in (package, templates_dir()):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".jinja", ".jinja2"):
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    for name in _SHAPING_LIBRARIES:
        try:
            digest.update(f"{name}=={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(name.encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Cache:
    """Rendered packages keyed by spec, options and generator."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def key(self, spec: Path, options: dict[str, Any]) -> str:
        digest = hashlib.sha256()
        digest.update(_generator_digest().encode())
        digest.update(json.dumps(options, sort_keys=True, default=str).encode())
        digest.update(_file_digest(spec).encode())
        return digest.hexdigest()

    def get(self, key: str) -> tuple[str, dict[str, str], tuple[SpecWarning, ...]] | None:
        """(package, files, warnings) when every source file is as it was, else None."""
        entry_path = self.folder / f"{key}.json.gz"
        try:
            entry = json.loads(gzip.decompress(entry_path.read_bytes()))
        except (OSError, ValueError, EOFError):
            return None
        for source, sha in entry["sources"].items():
            try:
                if _file_digest(Path(source)) != sha:
                    return None
            except OSError:
                return None
        warnings = tuple(
            SpecWarning(w["message"], Path(w["file"]) if w["file"] else None, w["pointer"], w["line"], w["column"])
            for w in entry.get("warnings", ())
        )
        return entry["package"], entry["files"], warnings

    def put(
        self, key: str, package: str, files: dict[str, str], sources: tuple[Path, ...], warnings: tuple[SpecWarning, ...] = ()
    ) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / ".gitignore").write_text("*\n")
            entry = {
                "package": package,
                "files": files,
                "sources": {str(p): _file_digest(p) for p in sources},
                "warnings": [
                    {"message": w.message, "file": str(w.file or ""), "pointer": w.pointer, "line": w.line, "column": w.column}
                    for w in warnings
                ],
            }
            tmp = self.folder / f".{key}.{os.getpid()}.tmp"
            tmp.write_bytes(gzip.compress(json.dumps(entry).encode(), compresslevel=1))
            os.replace(tmp, self.folder / f"{key}.json.gz")
            self._prune()
        except OSError:
            return  # a cache that cannot be written only costs speed

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.json.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[MAX_ENTRIES:]:
            old.unlink(missing_ok=True)
