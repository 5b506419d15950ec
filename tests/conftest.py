"""Shared fixtures: the committed generated package, and generation of fixture specs."""

from __future__ import annotations

import functools
import importlib
import json
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
SPEC = ROOT / "spec" / "openapi.yaml"
SPECS = Path(__file__).resolve().parent / "specs"

if str(GENERATED) not in sys.path:
    sys.path.insert(0, str(GENERATED))


def spec_document() -> dict[str, Any]:
    from codegen.load import read_file

    return read_file(SPEC)  # type: ignore[no-any-return]


@functools.cache
def spec_validator() -> Any:
    """A jsonschema validator over spec/ (its `$ref`s resolve); `evolve(schema=...)` to use it."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(spec_document(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(instance: Any, schema: Any) -> None:
    """`instance` matches `schema`, a schema of spec/, by jsonschema with format checking."""
    errors = list(spec_validator().evolve(schema=schema).iter_errors(instance))
    assert not errors, f"{errors[0].json_path}: {errors[0].message}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spec_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation of spec/, in spec order."""
    doc = spec_document()
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                ops.append((method, path, op))
    return ops


def generate_package(spec: Path, out: Path, package: str | None = None) -> str:
    """Generate the package of `spec` into `out`; returns the (unique) package name."""
    from codegen.cli import build_files
    from codegen.config import Config
    from codegen.write import write

    name = package or f"fx_{spec.parent.name}_{uuid.uuid4().hex[:8]}".replace("-", "_")
    config = Config(root=spec.parent, spec=spec, out=out, package=name)
    pkg, files = build_files(config)
    write(out / pkg, files)
    return pkg


def import_package(out: Path, package: str) -> Any:
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    return importlib.import_module(package)


@pytest.fixture(scope="session")
def ls() -> Any:
    """The committed generated package of spec/."""
    import langsmith_deployment

    return langsmith_deployment


def json_of(response: Any) -> Any:
    return json.loads(response.content)
