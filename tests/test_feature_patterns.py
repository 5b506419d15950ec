"""Patterns: `pattern` and `patternProperties` are ECMA-262 regular expressions, judged by
regress, in request and response checks, parameters, the mock and the spec's loading
(tests/specs/patterns).

For each pattern below, Python's `re` judges one of its cases otherwise (or cannot compile it),
so the tests would fail if patterns were run with `re`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import Recorder, assert_mock_answers_valid, ecma_search, feature
from fastapi.testclient import TestClient

# (property of Labels, its pattern, a value, whether ECMA-262 matches it)
LABELS = [
    ("letters", r"^\p{L}+$", "Ωμέγα", True),
    ("letters", r"^\p{L}+$", "abc1", False),
    ("capitalized", r"^\p{Lu}", "Émile", True),
    ("capitalized", r"^\p{Lu}", "émile", False),
    ("no_letters", r"^\P{L}*$", "12-34", True),
    ("no_letters", r"^\P{L}*$", "12é", False),
    ("digits", r"^\d+$", "123", True),
    ("digits", r"^\d+$", "١٢٣", False),  # Arabic-Indic digits: `\d` is ASCII in ECMA-262
    ("word", r"^\w+$", "snake_case1", True),
    ("word", r"^\w+$", "café", False),  # `\w` is ASCII too, even with the u flag
    ("exact", "^abc$", "abc", True),
    ("exact", "^abc$", "abc\n", False),  # `$` is the end, not the end or before a final newline
    ("one_line", "^.+$", "a b", True),
    ("one_line", "^.+$", "a\u2028b", False),  # `.` matches no line terminator, U+2028 included
    ("month", r"^(?<year>\d{4})-(?<month>0[1-9]|1[0-2])$", "2024-05", True),
    ("month", r"^(?<year>\d{4})-(?<month>0[1-9]|1[0-2])$", "2024-13", False),
    ("path", r"^\/v\d+\/[a-z\-]+$", "/v2/my-things", True),
    ("path", r"^\/v\d+\/[a-z\-]+$", "/v2/my_things", False),
    ("path", r"^\/v\d+\/[a-z\-]+$", "/v٢/my-things", False),
    ("annex_b", r"^[\w-.]+$", "a-b.c_d", True),  # only without the u flag: `\w-.` is no range
    ("annex_b", r"^[\w-.]+$", "a b", False),
    ("aws_tag", r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", "Name: web-01 ünïcode", True),
    ("aws_tag", r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", "a<b", False),
]


def python_re_verdict(source: str, text: str) -> bool | None:
    """What Python's `re` says (None when it cannot compile the pattern)."""
    try:
        return re.search(source, text) is not None
    except re.error:
        return None


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("patterns", tmp_path_factory)


@pytest.fixture()
def client(fx: Any) -> TestClient:
    return TestClient(fx.package.create_app(Recorder(lambda name, arguments: arguments["body"])))


def test_each_pattern_has_a_case_python_re_judges_otherwise(fx: Any) -> None:
    schema = fx.document["components"]["schemas"]["Labels"]["properties"]
    otherwise: dict[str, bool] = {}
    for name, source, text, matches in LABELS:
        assert schema[name]["pattern"] == source
        assert ecma_search(source, text) is matches, (source, text)
        otherwise[name] = otherwise.get(name, False) or python_re_verdict(source, text) is not matches
    assert [name for name, differs in otherwise.items() if not differs] == []


@pytest.mark.parametrize(("name", "source", "text", "matches"), LABELS, ids=[f"{n}-{t!r}" for n, _, t, _ in LABELS])
def test_body_patterns_accept_exactly_what_ecma_262_matches(client: TestClient, name: str, source: str, text: str, matches: bool) -> None:
    response = client.post("/labels", json={name: text})
    if matches:
        assert (response.status_code, response.json()) == (201, {name: text})
    else:
        assert (response.status_code, response.json()) == (422, {"detail": f"body.{name}: must match the pattern {source}"})


def test_regex_format_is_ecma_262(client: TestClient) -> None:
    assert client.post("/labels", json={"regex": r"^\p{L}+$"}).status_code == 201
    assert client.post("/labels", json={"regex": r"^[\w-.]$"}).status_code == 201  # Annex B
    for python_only in (r"(?P<year>\d{4})", "(?i)abc"):
        response = client.post("/labels", json={"regex": python_only})
        assert (response.status_code, response.json()) == (422, {"detail": "body.regex: must be a valid regex"})


def test_pattern_properties_and_property_names_are_ecma_262(client: TestClient) -> None:
    ok = {"counts": {"Ärger": 1, "x-note": "n"}, "names": {"über": 1}, "sealed": {"id": 1, "Öl": 2}}
    assert client.post("/keyed", json=ok).status_code == 201
    refused = [
        ({"counts": {"ärger": 1}}, "body.counts.ärger: is not allowed (unexpected property)"),
        ({"counts": {"Ärger": "1"}}, "body.counts.Ärger: must be an integer, not string"),
        ({"counts": {"x_note": "n"}}, "body.counts.x_note: is not allowed (unexpected property)"),
        ({"names": {"Über": 1}}, "body.names.Über: must match the pattern ^\\p{Ll}+$"),
        ({"sealed": {"öl": 2}}, "body.sealed: unevaluated properties are not allowed ('öl' was unexpected)"),
        ({"sealed": {"Öl": "2"}}, "body.sealed.Öl: '2' is not of type 'integer'"),
    ]
    for body, detail in refused:
        response = client.post("/keyed", json=body)
        assert (response.status_code, response.json()) == (422, {"detail": detail}), body


def test_parameter_patterns_are_ecma_262(fx: Any) -> None:
    from codegen.runtime import Reply

    impl = Recorder(Reply({"code": "ÄB123", "label": "Ähre"}, headers={"X-Revision": "r1.0"}))
    client = TestClient(fx.package.create_app(impl))
    response = client.get("/items/ÄB123?q=Größe 2", headers={"X-Tag": "Name: web-01"})
    assert response.status_code == 200
    assert impl.last == {"code": "ÄB123", "q": "Größe 2", "x_tag": "Name: web-01"}
    refused = [
        ("/items/AB١٢٣", {}, "path parameter `code`: must match the pattern ^\\p{Lu}{2}\\d{3}$"),
        ("/items/ÄB123?q=1a", {}, "query parameter `q`: must match the pattern ^\\p{L}[\\p{L}\\p{N} ]*$"),
        ("/items/ÄB123", {"X-Tag": "a<b"}, "header `X-Tag`: must match the pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"),
    ]
    for url, headers, detail in refused:
        response = client.get(url, headers=headers)
        assert (response.status_code, response.json()) == (422, {"detail": detail}), url


def test_response_patterns_are_ecma_262(fx: Any, caplog: pytest.LogCaptureFixture) -> None:
    from codegen.runtime import Reply

    def answer(name: str, arguments: dict[str, Any]) -> Any:
        label = "Ähre" if arguments["code"] == "ÄB123" else "Ähre1"
        return Reply({"code": arguments["code"], "label": label}, headers={"X-Revision": "r2.10"})

    client = TestClient(fx.package.create_app(Recorder(answer)), raise_server_exceptions=False)
    assert client.get("/items/ÄB123").status_code == 200
    assert client.get("/items/ÖB123").status_code == 500
    assert "body.label: must match the pattern ^\\p{L}+$" in caplog.text


def test_mock_answers_match_their_patterns(fx: Any) -> None:
    assert_mock_answers_valid(
        fx,
        [
            ("post", "/labels", "/labels", {"json": {}}),
            ("post", "/keyed", "/keyed", {"json": {}}),
            ("get", "/items/{code}", "/items/ÄB123", {}),
        ],
    )
    response = TestClient(fx.package.create_app(mock=True)).get("/items/ÄB123")
    item = response.json()
    assert ecma_search(r"^\p{Lu}{2}\d{3}$", item["code"]) and ecma_search(r"^\p{L}+$", item["label"])
    assert ecma_search(r"^r(?<major>\d+)\.(?<minor>\d+)$", response.headers["X-Revision"])
    labels = TestClient(fx.package.create_app(mock=True)).post("/labels", json={}).json()
    schema = fx.document["components"]["schemas"]["Labels"]["properties"]
    assert set(labels) == {name for name, _, _, _ in LABELS} | {"regex"}
    for name, value in labels.items():
        if "pattern" in schema[name]:
            assert ecma_search(schema[name]["pattern"], value), (name, value)
