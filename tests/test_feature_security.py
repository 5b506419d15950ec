"""Security schemes are FastAPI security dependencies: credentials reach the implementation as
keyword arguments, and a request without them answers 401 (or the declared 403) with the
spec's error body (tests/specs/security)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from conftest import Recorder, assert_mock_answers_valid, feature
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasicCredentials
from fastapi.testclient import TestClient

BASIC = "Basic " + base64.b64encode(b"ann:secret").decode()


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("security", tmp_path_factory)


@pytest.fixture()
def impl() -> Recorder:
    return Recorder(lambda name, arguments: {"who": name})


@pytest.fixture()
def client(fx: Any, impl: Recorder) -> TestClient:
    return TestClient(fx.package.create_app(impl))


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "argument", "credential"),
    [
        ("get", "/me", {"headers": {"Authorization": "Bearer tok"}}, "bearer_auth", HTTPAuthorizationCredentials(scheme="Bearer", credentials="tok")),
        ("get", "/keys/header", {"headers": {"X-API-Key": "k1"}}, "header_key", "k1"),
        ("get", "/keys/query?api_key=k2", {}, "query_key", "k2"),
        ("get", "/keys/cookie", {"headers": {"Cookie": "session=k3"}}, "cookie_key", "k3"),
        ("get", "/basic", {"headers": {"Authorization": BASIC}}, "basic_auth", HTTPBasicCredentials(username="ann", password="secret")),
        ("post", "/oauth", {"headers": {"Authorization": "Bearer o1"}}, "oauth", "o1"),
        ("get", "/oidc", {"headers": {"Authorization": "Bearer i1"}}, "open_id", "i1"),
    ],
)
def test_credentials_reach_the_implementation(
    client: TestClient, impl: Recorder, method: str, url: str, kwargs: dict[str, Any], argument: str, credential: Any
) -> None:
    response = client.request(method.upper(), url, **kwargs)
    assert response.status_code == 200, response.text
    assert impl.last == {argument: credential}


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "message", "challenge"),
    [
        ("get", "/me", {}, 401, "not authenticated: send Authorization: Bearer", "Bearer"),
        ("get", "/me", {"headers": {"Authorization": "Basic abc"}}, 401, "not authenticated: send Authorization: Bearer", "Bearer"),
        ("get", "/keys/header", {}, 401, "not authenticated: send header X-API-Key", None),
        ("get", "/keys/query", {}, 401, "not authenticated: send query parameter api_key", None),
        ("get", "/keys/cookie", {}, 403, "not authenticated: send cookie session", None),
        ("get", "/basic", {"headers": {"Authorization": "Basic !!!"}}, 401, "not authenticated: send Authorization: Basic", "Basic"),
        ("post", "/oauth", {}, 401, "not authenticated: send Authorization: Bearer", "Bearer"),
        ("get", "/oidc", {}, 401, "not authenticated: send Authorization: Bearer", "Bearer"),
        (
            "get",
            "/either",
            {"headers": {"X-API-Key": "k"}},
            401,
            "not authenticated: send header X-API-Key and query parameter api_key or Authorization: Basic",
            "Basic",
        ),
    ],
)
def test_missing_credentials_answer_the_declared_error(
    client: TestClient, impl: Recorder, method: str, url: str, kwargs: dict[str, Any], status: int, message: str, challenge: str | None
) -> None:
    response = client.request(method.upper(), url, **kwargs)
    assert response.status_code == status
    assert response.json() == {"code": status, "message": message}
    assert response.headers.get("WWW-Authenticate") == challenge
    assert impl.calls == []


def test_alternatives_the_empty_requirement_and_no_security(client: TestClient, impl: Recorder) -> None:
    assert client.get("/either?api_key=q", headers={"X-API-Key": "k"}).status_code == 200
    # The query key is both a declared parameter and a credential.
    assert impl.last == {"api_key": "q", "header_key": "k", "query_key": "q", "basic_auth": None}
    assert client.get("/either", headers={"Authorization": BASIC}).status_code == 200
    assert impl.last["basic_auth"] == HTTPBasicCredentials(username="ann", password="secret")
    assert client.get("/optional").status_code == 200
    assert impl.last == {"bearer_auth": None}
    assert client.get("/optional", headers={"Authorization": "Bearer t"}).status_code == 200
    assert impl.last == {"bearer_auth": HTTPAuthorizationCredentials(scheme="Bearer", credentials="t")}
    assert client.get("/public").status_code == 200
    assert impl.last == {}
    assert client.get("/mtls").status_code == 200  # mutual TLS is checked where TLS ends
    assert impl.last == {}


def test_credentials_are_checked_before_the_request(fx: Any, client: TestClient) -> None:
    assert client.get("/either?api_key=").status_code == 401


def test_dependencies_can_be_overridden(fx: Any, impl: Recorder) -> None:
    app = fx.package.create_app(impl)
    app.dependency_overrides[fx.package.security.bearer_auth] = lambda: HTTPAuthorizationCredentials(scheme="Bearer", credentials="test")
    assert TestClient(app).get("/me").status_code == 200
    assert impl.last == {"bearer_auth": HTTPAuthorizationCredentials(scheme="Bearer", credentials="test")}


def test_protocol_types_the_credentials(fx: Any) -> None:
    import inspect

    protocol = fx.package.protocols.DefaultApi
    either = inspect.signature(protocol.either).parameters
    assert {name: str(p.annotation) for name, p in either.items() if name != "self"} == {
        "api_key": "StrictStr | None",
        "header_key": "str | None",
        "query_key": "str | None",
        "basic_auth": "HTTPBasicCredentials | None",
    }
    assert str(inspect.signature(protocol.who_am_i).parameters["bearer_auth"].annotation) == "HTTPAuthorizationCredentials"


def test_protocol_docstrings_name_the_scopes_each_alternative_asks_for(fx: Any) -> None:
    # Checking scopes needs the token's issuer, so it is the implementation's; it reads them here.
    protocol = fx.package.protocols.DefaultApi
    assert "Security (any one of): `oauth` with scopes `write:things`, `read:things`." in protocol.oauth.__doc__
    assert "Security (any one of): `openId` with scopes `profile`." in protocol.oidc.__doc__
    assert "Security (any one of): `bearerAuth`." in protocol.who_am_i.__doc__


def test_mock_mode_requires_credentials_too(fx: Any) -> None:
    client = TestClient(fx.package.create_app(mock=True))
    assert client.get("/me").status_code == 401
    REQUESTS = [
        ("get", "/me", "/me", {"headers": {"Authorization": "Bearer t"}}),
        ("get", "/keys/header", "/keys/header", {"headers": {"X-API-Key": "k"}}),
        ("get", "/keys/query", "/keys/query?api_key=k", {}),
        ("get", "/keys/cookie", "/keys/cookie", {"headers": {"Cookie": "session=k"}}),
        ("get", "/basic", "/basic", {"headers": {"Authorization": BASIC}}),
        ("post", "/oauth", "/oauth", {"headers": {"Authorization": "Bearer t"}}),
        ("get", "/oidc", "/oidc", {"headers": {"Authorization": "Bearer t"}}),
        ("get", "/either", "/either", {"headers": {"Authorization": BASIC}}),
        ("get", "/optional", "/optional", {}),
        ("get", "/mtls", "/mtls", {}),
        ("get", "/public", "/public", {}),
    ]
    assert_mock_answers_valid(fx, REQUESTS)
