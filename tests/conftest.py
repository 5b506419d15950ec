"""Shared fixtures: the committed generated package, and generation of fixture specs."""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
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


# -- the reference validator -------------------------------------------------------------------
# jsonschema's Draft 2020-12 with format checking, but with `pattern`, `patternProperties` (and
# the properties `additionalProperties`/`unevaluatedProperties` leave to them) and the `regex`
# format judged as JSON Schema means them: ECMA-262, here by regress directly.


@functools.cache
def ecma_regex(source: str) -> Any:
    """`source` compiled by regress with the `u` flag (JSON Schema 2020-12's Unicode semantics),
    else without flags (Annex B, as browsers read wild patterns); RegressError if neither."""
    import regress

    try:
        return regress.Regex(source, "u")
    except regress.RegressError:
        return regress.Regex(source)


def ecma_search(source: str, text: str) -> bool:
    """Whether the pattern matches somewhere in `text`. A lone surrogate in `text` raises
    UnicodeEncodeError: regress (UTF-8) cannot judge it, so neither can the reference."""
    return ecma_regex(source).find(text) is not None


def ecma_compiles(source: str) -> bool:
    import regress

    try:
        ecma_regex(source)
    except regress.RegressError:
        return False
    return True


def reference_class() -> Any:
    """The reference validator class (a Draft202012Validator); its FORMAT_CHECKER asserts formats."""
    from codegen.runtime.reference import validator_class

    return validator_class(ecma_search, ecma_compiles)


def reference_validator(schema: Any, **kwargs: Any) -> Any:
    """The reference validator of `schema` (a document or schema), asserting formats."""
    cls = reference_class()
    return cls(schema, format_checker=cls.FORMAT_CHECKER, **kwargs)


@functools.cache
def spec_validator() -> Any:
    """A reference validator over spec/ (its `$ref`s resolve); `evolve(schema=...)` to use it."""
    return reference_validator(spec_document())


def assert_valid(instance: Any, schema: Any) -> None:
    """`instance` matches `schema`, a schema of spec/, by jsonschema with format checking."""
    errors = list(spec_validator().evolve(schema=schema).iter_errors(instance))
    assert not errors, f"{errors[0].json_path}: {errors[0].message}"


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


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
    """Generate the package of `spec` into `out`; returns the (unique) package name. The
    fixtures of tests/specs/lenient/ are generated with --lenient."""
    from codegen.cli import build_files
    from codegen.config import Config
    from codegen.write import write

    name = package or f"fx_{spec.parent.name}_{uuid.uuid4().hex[:8]}".replace("-", "_")
    config = Config(root=spec.parent, spec=spec, out=out, package=name, lenient=spec.parent.name == "lenient")
    pkg, files, _ = build_files(config)
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


# -- feature fixtures (tests/specs/<family>/openapi.yaml) --------------------------------------

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Feature:
    """A feature fixture: its spec, its generated and imported package, a validator over it."""

    def __init__(self, family: str, out: Path) -> None:
        from codegen.load import read_file
        from codegen.runtime.dialect import normalize_document

        self.family = family
        self.spec = next(p for p in sorted((SPECS / family).glob("openapi.*")) if p.suffix in (".yaml", ".json"))
        self.document: dict[str, Any] = read_file(self.spec)
        version = "3.0" if str(self.document.get("openapi", "")).startswith("3.0") else "3.1"
        self.normalized = normalize_document(self.document, version)
        self.package = import_package(out, generate_package(self.spec, out))

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(method, path, operation) of every operation, path items by $ref followed."""
        ops = []
        for path, item in (self.normalized.get("paths") or {}).items():
            item = self.resolve(item)
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    ops.append((method, path, item[method]))
        return ops

    def resolve(self, node: Any) -> Any:
        from codegen.load import resolve_pointer

        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = resolve_pointer(self.normalized, node["$ref"][1:])
        return node

    def validator(self, schema: Any) -> Any:
        """A jsonschema validator of `schema` for responses (writeOnly properties not required)."""
        from codegen.runtime.dialect import for_direction

        return reference_validator(for_direction(self.normalized, "response")).evolve(schema=schema)

    def declared(self, operation: dict[str, Any], status: int) -> dict[str, Any] | None:
        """The response object the spec declares for `status` (exact, range, then default)."""
        responses = operation.get("responses") or {}
        for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
            if key in responses:
                return self.resolve(responses[key])  # type: ignore[no-any-return]
        return None

    def assert_answer_valid(self, method: str, path: str, response: Any) -> None:
        """`response` to `method path` has a declared status, media type, headers and body."""
        operation = next(op for m, p, op in self.operations() if (m, p) == (method, path))
        declared = self.declared(operation, response.status_code)
        assert declared is not None, f"{method.upper()} {path}: status {response.status_code} is not declared"
        for name, header in (declared.get("headers") or {}).items():
            header = self.resolve(header)
            if header.get("required"):
                assert name.lower() in response.headers, f"{method.upper()} {path}: header {name} is missing"
        content = declared.get("content") or {}
        if not content:
            assert response.content == b"", f"{method.upper()} {path}: a body where none is declared"
            return
        given = response.headers.get("content-type", "").split(";")[0].strip()
        media = next(
            (m for m in content if m == given or m == "*/*" or (m.endswith("/*") and given.startswith(m[:-1]))), None
        )
        assert media is not None, f"{method.upper()} {path}: content type {given!r} is not declared"
        schema = (content[media] or {}).get("schema")
        if schema is not None and (given == "application/json" or given.endswith("+json")):
            errors = list(self.validator(schema).iter_errors(json.loads(response.content)))
            assert not errors, f"{method.upper()} {path}: {errors[0].json_path}: {errors[0].message}"


_FEATURES: dict[str, Feature] = {}


def feature(family: str, tmp_path_factory: pytest.TempPathFactory) -> Feature:
    """The fixture of `tests/specs/<family>/`, generated and imported once per session."""
    if family not in _FEATURES:
        _FEATURES[family] = Feature(family, tmp_path_factory.mktemp(family))
    return _FEATURES[family]


def matched_route(app: Any, method: str, path: str) -> Any:
    """The first route of `app` that fully matches `method path` (None when none does)."""
    from starlette.routing import Match

    scope = {"type": "http", "method": method.upper(), "path": path, "root_path": "", "headers": []}
    return next((r for r in app.router.routes if r.matches(scope)[0] == Match.FULL), None)


def assert_mock_answers_valid(fx: Feature, requests: list[tuple[str, str, str, dict[str, Any]]], **create: Any) -> None:
    """The mock answers each (method, spec path, url, TestClient keyword arguments) with a
    success the spec declares, valid against it; the requests cover every operation."""
    from fastapi.testclient import TestClient

    client = TestClient(fx.package.create_app(mock=True, **create))
    for method, path, url, kwargs in requests:
        response = client.request(method.upper(), url, **kwargs)
        assert 200 <= response.status_code < 300, (method, url, response.status_code, response.text)
        assert "*" not in response.headers.get("content-type", ""), (method, url, "a wildcard is no type to send")
        fx.assert_answer_valid(method, path, response)
    assert {(m, p) for m, p, _, _ in requests} == {(m, p) for m, p, _ in fx.operations()}


class Recorder:
    """An implementation of any operation: records its keyword arguments, returns `answer`."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        async def method(**arguments: Any) -> Any:
            self.calls.append((name, arguments))
            return self.answer(name, arguments) if callable(self.answer) else self.answer

        return method

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1][1]


# -- the service's stores ----------------------------------------------------------------------

BACKENDS = ("sqlite", "postgresql")


def need_postgres() -> None:
    """Skip when the tests' PostgreSQL server cannot be reached; under CI (CI=true), fail."""
    from service.testing import postgres_reachable

    reason = _postgres_unreachable(postgres_reachable)
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"PostgreSQL is required under CI and cannot be reached: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


_probe: list[str | None] = []


def _postgres_unreachable(probe: Any) -> str | None:
    if not _probe:
        _probe.append(probe())
    return _probe[0]


@contextlib.contextmanager
def store_url(backend: str) -> Iterator[str | None]:
    """The DATABASE_URL of a fresh store of `backend`: None for SQLite (the caller's file), a
    new PostgreSQL database (dropped afterwards) for postgresql."""
    if backend == "sqlite":
        yield None
        return
    need_postgres()
    from service.testing import postgres_database

    with postgres_database() as url:
        yield url
