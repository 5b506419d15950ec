"""The corpus harness (`make corpus`, bench/corpus.py) builds the request each operation is meant
to get and judges where it went: its verdicts decide the figures in the README, so they are
tested here on small documents written for it."""

from __future__ import annotations

from typing import Any

import pytest

from bench.corpus import SAME_PATH, Requests, judge

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Harness", "version": "1"},
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "key"}}},
    "security": [{"key": []}],
    "paths": {
        "/files/{id}": {"put": {"operationId": "update_file", "responses": {"200": {"description": "ok"}}, "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]}},
        # Box's label after `#`, declared by no parameter: the server prefers it when sent as a flag
        "/files/{id}#add_shared_link": {"put": {"operationId": "share_file", "responses": {"200": {"description": "ok"}}, "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]}},
        "/boards/{board}": {
            "get": {
                "operationId": "get_board",
                "parameters": [
                    {"name": "board", "in": "path", "required": True, "schema": {"type": "string"}},
                    # Trello's: the credential's own name again, as a required parameter
                    {"name": "key", "in": "query", "required": True, "schema": {"type": "string"}},
                    # OpenAPI ignores a header parameter named Content-Type or Accept
                    {"name": "Content-Type", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "Accept", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string", "enum": ["on"]}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/boards/{id}": {"delete": {"operationId": "delete_board", "responses": {"204": {"description": "gone"}}, "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]}},
    },
}


@pytest.fixture(scope="module")
def operations() -> dict[str, dict[str, Any]]:
    return {op["operation_id"]: op for op in Requests(DOCUMENT, "3.0").operations()}


def test_a_label_no_parameter_declares_is_sent_as_a_flag(operations: dict[str, dict[str, Any]]) -> None:
    assert operations["share_file"]["request"]["url"].split("?")[1].split("&")[0] == "add_shared_link"
    assert "add_shared_link" not in operations["update_file"]["request"]["url"]


def test_a_query_credential_replaces_a_parameter_of_its_name(operations: dict[str, dict[str, Any]]) -> None:
    query = operations["get_board"]["request"]["url"].split("?")[1]
    assert query.split("&").count("key=corpus-key") == 1 and query.count("key=") == 1


def test_headers_openapi_ignores_are_not_sent(operations: dict[str, dict[str, Any]]) -> None:
    headers = {k.lower(): v for k, v in operations["get_board"]["request"]["headers"].items()}
    assert headers == {"x-trace": "on"}


def test_paths_of_one_shape_are_one_route(operations: dict[str, dict[str, Any]]) -> None:
    assert operations["get_board"]["route"] == "GET /boards/{}"
    assert operations["delete_board"]["route"] == "DELETE /boards/{}"
    assert operations["share_file"]["route"] == operations["update_file"]["route"] == "PUT /files/{}"


@pytest.mark.parametrize(
    ("status", "reached", "verdict"),
    [
        (200, "update_file", "ok"),
        (404, "update_file", "rejected"),  # a 4xx of its own: the request reached it
        (500, "update_file", "server error (500)"),
        (201, "update_file", "undeclared status (201)"),
        (404, None, "not routed (404)"),
        (405, "", "not routed (405)"),
        (200, "share_file", SAME_PATH),  # the other operation of its route answered as declared
        (400, "share_file", "reached another operation"),  # ... refused it: something told them apart
        (200, "get_board", "reached another operation"),  # another route altogether
    ],
)
def test_judge(operations: dict[str, dict[str, Any]], status: int, reached: str | None, verdict: str) -> None:
    routes = {name: op["route"] for name, op in operations.items()}
    assert judge(operations["update_file"], status, reached, routes) == verdict
