"""Every feature fixture (tests/specs/<family>/) generates, imports, serves /openapi.json in
mock mode and routes each of its operations to its own endpoint, under its server's base path.

What each feature does with requests is tested in tests/test_feature_<family>.py.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from conftest import SPECS, feature, matched_route, serve
from fastapi.testclient import TestClient

FAMILIES = (
    "openapi-30",
    "openapi-31",
    "servers",
    "path-items",
    "parameter-styles",
    "request-bodies",
    "responses",
    "schemas",
    "callbacks",
    "security",
    "untagged",
    "uri-refs",
    "routing",
    "patterns",
    "type-names",
    "typeless",
    "redos",
)


def test_every_family_is_described() -> None:
    for family in FAMILIES:
        assert list((SPECS / family).glob("openapi.*")), family
        readme = (SPECS / family / "README.md").read_text(encoding="utf-8")
        assert readme.startswith("# ") and "why" in readme.lower(), family


def base_path(servers: Any) -> str:
    """The path of the first server URL with its variables at their defaults."""
    if not servers:
        return ""
    variables = servers[0].get("variables") or {}
    url = re.sub(r"\{([^}]*)\}", lambda m: str(variables[m.group(1)]["default"]), servers[0]["url"])
    return unquote(urlsplit(url).path).rstrip("/")  # a request's scope holds its path decoded


def key_request(path: str, op: dict[str, Any]) -> tuple[str, str, list[tuple[bytes, bytes]]]:
    """(path, query string, headers) of a request to the operation of a path key: variables as
    1, and the parameters a key names after `?` or `#` sent (headers where declared so)."""
    base = re.split(r"[?#]", path, maxsplit=1)[0]
    rest = path[len(base) :]
    query, headers = [], []
    headers_declared = {str(p.get("name")).lower() for p in op.get("parameters") or [] if p.get("in") == "header"}
    for part in re.split(r"[?#&]", rest):
        if not part:
            continue
        name, _, value = part.partition("=")
        value = "1" if value.startswith("{") else value
        if name.lower() in headers_declared:
            headers.append((name.lower().encode(), value.encode()))
        else:
            query.append(f"{name}={value}")
    return re.sub(r"\{[^}]+\}", "1", base), "&".join(query), headers


@pytest.mark.parametrize("family", FAMILIES)
def test_every_operation_is_routed_to_its_own_endpoint(family: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    from codegen.runtime.application import _Dispatch
    from starlette.requests import Request

    fx = feature(family, tmp_path_factory)
    app = fx.package.create_app(mock=True)
    endpoints = set()
    for method, path, op in fx.operations():
        item = fx.resolve(fx.normalized["paths"][path])
        servers = op.get("servers") or item.get("servers") or fx.normalized.get("servers")
        route_path, query, headers = key_request(path, op)
        served = base_path(servers) + route_path
        route = matched_route(app, method, served)
        if route is not None and isinstance(route.endpoint, _Dispatch):  # operations sharing a route
            content = next(iter(fx.resolve(op.get("requestBody") or {}).get("content") or {"": None}))
            headers += [(b"content-type", content.encode())] if content else []
            scope = {"type": "http", "method": method.upper(), "path": served, "query_string": query.encode(), "headers": headers}
            ranked = route.endpoint.choose(Request(scope))
            assert len(ranked) == 1, f"{method.upper()} {path}: the key tells {len(ranked)} operations apart by nothing"
            route = ranked[0][0]
        assert route is not None and hasattr(route, "operation_id"), f"{method.upper()} {path}: not routed at {served}"
        if "operationId" in op:
            assert route.operation_id == op["operationId"]
        endpoints.add(route.endpoint)
    assert len(endpoints) == len(fx.operations())


@pytest.mark.parametrize("family", FAMILIES)
def test_mock_app_serves_the_spec(family: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    fx = feature(family, tmp_path_factory)
    response = TestClient(fx.package.create_app(mock=True)).get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == fx.document


# path-items: schemathesis's client (requests) fails on a cookie and a path parameter both
# named `id` before sending anything.
FUZZED = tuple(f for f in FAMILIES if f != "path-items")


@pytest.mark.parametrize("family", FUZZED)
def test_schemathesis_gets_no_server_error_from_the_mock(family: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import events, from_schema

    fx = feature(family, tmp_path_factory)
    config = SchemathesisConfig.from_dict(
        {
            "seed": 1,
            "continue-on-failure": True,
            "suppress-health-check": ["too_slow"],
            "cache": {"enabled": False},
            "generation": {"max-examples": 5, "database": "none"},
            "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
            "phases": {"examples": {"enabled": False}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        }
    )
    findings = []
    # The document's base path at the root, so the spec's paths are the URLs.
    with serve(fx.package.create_app(mock=True, base_path="")) as url:
        schema = schemathesis.openapi.from_path(str(fx.spec), config=config)
        schema.config.update(base_url=url)
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                findings += [
                    f"{event.recorder.label}: {node.failure_info.failure.title}"
                    for nodes in event.recorder.checks.values()
                    for node in nodes
                    if node.failure_info is not None
                ]
            elif isinstance(event, (events.NonFatalError, events.FatalError)):
                findings.append(f"{getattr(event, 'label', '')}: {event.info if hasattr(event, 'info') else event}")
    assert not findings, findings
