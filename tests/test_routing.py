"""A generated app finds each request's route through an index of its paths: always the route
a router trying every route in order would find."""

from __future__ import annotations

import re
from typing import Any

import pytest
from codegen.runtime.application import _PathIndex
from conftest import spec_operations
from starlette.routing import BaseRoute, Match

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "BREW")


def first_match(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[Any, ...]:
    """The route a router picks: the first full match, else the first partial one."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route, Match.FULL, child
        if match == Match.PARTIAL and partial is None:
            partial = (route, Match.PARTIAL, child)
    return partial or (None, Match.NONE, {})


def urls(path: str) -> list[str]:
    """Paths a client might send for the spec path `path`."""
    filled = re.sub(r"\{[^}]+\}", "x", path)
    return [filled, filled + "/", filled + "/extra", filled.replace("x", "a/b", 1), path, filled.upper(), "/", ""]


@pytest.mark.parametrize("mock", [False, True])
def test_the_index_finds_the_route_a_router_finds(ls: Any, mock: bool) -> None:
    routes = list(ls.create_app(mock=mock).router.routes)
    index = _PathIndex(routes)
    for _, path, _ in spec_operations():
        for url in urls(path):
            for method in METHODS:
                scope = {"type": "http", "method": method, "path": url, "root_path": "", "headers": []}
                assert first_match(index.candidates(url), scope) == first_match(routes, scope), (method, url)


def test_requests_reach_the_same_routes_through_the_app(ls: Any) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(ls.create_app(), raise_server_exceptions=False)
    assert client.get("/openapi.json").status_code == 200
    assert client.request("BREW", "/threads").status_code == 405
    assert client.post("/no/such/path").status_code == 404
    assert client.options("/threads").headers["allow"]
