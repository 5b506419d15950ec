"""No document makes a server spin: every operation of every fixture answers its mock requests
in time, and the hostile shapes (tests/specs/hostile-shapes/) get bounded synthesis and checks.

Time limits are enforced for real: the mock runs in a child process that is killed when an
answer is late (tests/mock_driver.py), and in-process requests run under SIGALRM.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import GENERATED, ROOT, SPEC, SPECS, feature, generate_package, import_package
from fastapi.testclient import TestClient
from mock_driver import Answered, Planner, drive

DEADLINE = 2.0  # seconds for one request
HOSTILE = SPECS / "hostile-shapes"
# Every document a fixture family holds (the errors family holds only documents that are refused).
FIXTURE_SPECS = sorted(
    p.relative_to(SPECS).as_posix()
    for p in [*SPECS.glob("*/*.yaml"), *SPECS.glob("*/*.json")]
    if p.parent.name != "errors"
)


class Late(BaseException):
    """Raised by SIGALRM: not an Exception, so that no `except Exception` swallows it."""


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail (raise Late in the main thread) when the block takes longer than `seconds`."""

    def late(*_: Any) -> None:
        raise Late(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, late)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_GENERATED: dict[str, tuple[Path, str]] = {}


def generated(relative: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(folder holding the package, package name) of a fixture document, generated once."""
    if relative not in _GENERATED:
        spec = SPECS / relative
        if spec.name.startswith("openapi.") and spec.suffix in (".yaml", ".json"):
            package = feature(spec.parent.name, tmp_path_factory).package
            _GENERATED[relative] = (Path(package.__file__).parent.parent, package.__name__)
        else:
            out = tmp_path_factory.mktemp("bounds")
            _GENERATED[relative] = (out, generate_package(spec, out))
    return _GENERATED[relative]


def normalized(spec: Path) -> dict[str, Any]:
    from codegen.load import read_file
    from codegen.runtime.dialect import normalize_document

    document = read_file(spec)
    return normalize_document(document, "3.0" if str(document.get("openapi", "")).startswith("3.0") else "3.1")  # type: ignore[no-any-return]


def declares_500(document: dict[str, Any], planner: Planner, method: str, path: str) -> bool:
    item = planner.resolve(document["paths"][path])
    responses = item[method].get("responses") or {}
    return any(key in responses for key in ("500", "5XX", "5xx", "default"))


def assert_answered_in_time(answers: list[Answered], planned: int, document: dict[str, Any], planner: Planner) -> None:
    late = [f"{a.request.label}: {a.problem}" for a in answers if a.status is None]
    assert not late, late
    assert len(answers) == planned
    failed = [
        f"{a.request.label}: {a.status}"
        for a in answers
        if a.status is not None and a.status >= 500 and not declares_500(document, planner, a.request.method, a.request.path)
    ]
    assert not failed, failed


@pytest.mark.parametrize("relative", FIXTURE_SPECS)
def test_every_operation_of_every_fixture_answers_in_time(relative: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    out, package = generated(relative, tmp_path_factory)
    document = normalized(SPECS / relative)
    planner = Planner(document)
    planned = planner.plan()
    answers = drive(out, package, planned, DEADLINE, tmp_path)
    assert_answered_in_time(answers, len(planned), document, planner)


def test_every_operation_of_the_committed_spec_answers_in_time(tmp_path: Path) -> None:
    document = normalized(SPEC)
    planner = Planner(document)
    planned = planner.plan()
    answers = drive(GENERATED, "langsmith_deployment", planned, DEADLINE, tmp_path)
    assert_answered_in_time(answers, len(planned), document, planner)


# -- the hostile shapes ----------------------------------------------------------------------------


def test_hostile_shapes_fixture_is_what_its_script_writes() -> None:
    sys.path.insert(0, str(HOSTILE))
    try:
        import make_spec
    finally:
        sys.path.remove(str(HOSTILE))
    assert (HOSTILE / "openapi.yaml").read_text(encoding="utf-8") == make_spec.text()
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# ") and "why" in readme.lower()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return feature("hostile-shapes", tmp_path_factory)


@pytest.fixture(scope="module")
def client(hostile: Any) -> TestClient:
    return TestClient(hostile.package.create_app(mock=True), raise_server_exceptions=False)


def test_hostile_valid_requests_get_valid_answers_or_the_declared_error(hostile: Any, client: TestClient) -> None:
    planner = Planner(hostile.normalized)
    for request in planner.plan():
        if not request.label.endswith("(valid)"):
            continue
        with within(DEADLINE):
            response = client.request(
                request.method.upper(),
                request.url,
                headers=request.headers,
                content=base64.b64decode(request.content) if request.content else None,
            )
        if request.path in ("/self/endless", "/self/endless/echo"):
            assert response.status_code == 422  # no request body can satisfy it
            continue
        if request.path in ("/tree/huge", "/impossible/type", "/impossible/object"):
            assert response.status_code == 500, (request.label, response.text[:200])
        elif request.path == "/impossible/undeclared":
            assert response.status_code == 200  # no error to answer instead: the best attempt
            continue
        else:
            assert response.status_code == 200, (request.label, response.text[:300])
        hostile.assert_answer_valid(request.method, request.path, response)


def nested(depth: int, leaf: Any, key: str = "self", extra: dict[str, Any] | None = None) -> Any:
    value = leaf
    for _ in range(depth):
        value = {**(extra or {}), key: value}
    return value


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/self/optional", nested(60, {"name": "x"}, extra={"name": "n"}), 200),
        ("/self/optional", nested(200, {"name": "x"}, extra={"name": "n"}), 422),
        ("/self/required", nested(60, {"name": "x", "next": None}, "next", {"name": "n"}), 200),
        ("/self/arrays", {"label": "a", "children": [{"label": "b", "children": [{"label": "c", "children": []}] * 50}] * 50}, 200),
        ("/self/one-of", nested(40, "leaf-1", "left", {"right": "leaf-2"}), 200),
        ("/self/endless", nested(100, {}, "next"), 422),
        ("/overlap", nested(100, 5, "x"), 422),
        ("/overlap", nested(100, {"y": 1}, "x"), 200),
        ("/wide", {"k51": {"k51": [{"k0": {"k0": "nope"}}]}}, 422),
        ("/wide", {"k51": {"k51": [{"k0": {"k0": "v7"}}, {"k3": {"k9": 1000}}]}}, 200),
        ("/codes", {"code": "code-4999", "more": [f"code-{i:04d}" for i in range(5000)]}, 200),
        ("/codes", {"code": "code-5000"}, 422),
        ("/required", {f"field{i:03d}": 1 for i in range(199)}, 422),
        ("/chain", {f"p{i}": i for i in range(30)}, 200),
        ("/chain", {f"p{i}": i for i in range(29)}, 422),
    ],
    ids=lambda x: x if isinstance(x, (str, int)) else "",
)
def test_request_checks_on_hostile_shapes_are_fast(client: TestClient, path: str, body: Any, status: int) -> None:
    with within(DEADLINE):
        response = client.post(path, json=body)
    assert response.status_code == status, response.text[:300]
    assert len(response.content) < 5000  # failure messages quote alternatives briefly


DEEP_TREE = '{"name":"n","self":' * 1000 + '{"name":"x"}' + "}" * 1000  # a SelfOptional
DEEP_ARRAYS = "[" * 1000 + "]" * 1000  # short enough for a query string or a header


@pytest.mark.parametrize(
    ("label", "request_"),
    [
        ("JSON", {"url": "/self/optional", "content": DEEP_TREE, "headers": {"content-type": "application/json"}}),
        ("form", {"url": "/forms/tree", "data": {"tree": DEEP_TREE}}),
        ("multipart", {"url": "/multipart/tree", "files": {"tree": ("t.json", DEEP_TREE, "application/json")}}),
        ("XML", {"url": "/xml/tree", "content": "<SelfOptional>" + "<self><name>n</name>" * 1000 + "</self>" * 1000 + "</SelfOptional>", "headers": {"content-type": "application/xml"}}),
        ("JSON query parameter", {"method": "GET", "url": "/params/tree", "params": {"filter": DEEP_ARRAYS}}),
        ("JSON header", {"method": "GET", "url": "/params/tree", "headers": {"x-tree": DEEP_ARRAYS}}),
        ("deepObject", {"method": "GET", "url": "/params/tree", "params": {"deep" + "[a]" * 500: "1"}}),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_values_nested_too_deeply_answer_4xx_fast_in_every_place(client: TestClient, label: str, request_: dict[str, Any]) -> None:
    kwargs = dict(request_)
    method = kwargs.pop("method", "POST")
    with within(DEADLINE):
        response = client.request(method, **kwargs)
    assert 400 <= response.status_code < 500, (label, response.status_code, response.text[:300])
    assert "nested" in response.json().get("detail", "") or response.status_code == 422


@pytest.mark.parametrize(
    ("path", "returned", "status"),
    [
        ("/self/optional", nested(100, {"name": "x"}, extra={"name": "n"}), 200),
        ("/self/optional", nested(3000, {"name": "x"}, extra={"name": "n"}), 500),
        ("/overlap", nested(60, {"y": 1}, "x"), 200),
        ("/overlap", nested(60, 5, "x"), 500),
        ("/codes", {"code": "code-4999", "more": [f"code-{i:04d}" for i in range(5000)]}, 200),
        ("/wide", {"k51": {"k51": [{"k0": {"k0": "nope"}}] * 50}}, 500),
    ],
    ids=["deep", "too deep", "overlap", "overlap invalid", "enum", "wide invalid"],
)
def test_response_checks_of_hostile_values_are_fast(hostile: Any, path: str, returned: Any, status: int) -> None:
    from conftest import Recorder

    client = TestClient(hostile.package.create_app(Recorder(lambda *_: returned)), raise_server_exceptions=False)
    body = {"name": "x"} if path == "/self/optional" else {"x": {"y": 1}} if path == "/overlap" else None
    body = body or ({"code": "code-0001"} if path == "/codes" else {"k0": {"k0": "v1"}})
    with within(DEADLINE):
        response = client.post(path, json=body)
    assert response.status_code == status, response.text[:300]


def test_self_referential_bodies_without_a_body_answer_at_once(client: TestClient) -> None:
    for path in ("/self/optional", "/self/maps", "/overlap", "/chain"):  # optional bodies: the mock answers
        with within(DEADLINE):
            response = client.post(path)
        assert response.status_code == 200, (path, response.text[:300])
    # The answer is of the same schema, which no value satisfies: the declared error.
    with within(DEADLINE):
        response = client.post("/self/endless/echo")
    assert response.status_code == 500 and response.json() == {"detail": "the mock found no valid response body"}
    for path in ("/self/required", "/self/arrays", "/self/all-of", "/self/one-of", "/self/endless", "/cycle"):
        with within(DEADLINE):
            response = client.post(path)
        assert response.status_code == 422, (path, response.text[:300])


def test_mock_answers_do_not_depend_on_the_hash_seed(hostile: Any, tmp_path: Path) -> None:
    out = Path(hostile.package.__file__).parent.parent
    script = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import importlib; "
        "from fastapi.testclient import TestClient; "
        "c = TestClient(importlib.import_module(sys.argv[2]).create_app(mock=True)); "
        "print(json.dumps([c.request(m, u).text for m, u in "
        "[('GET', '/tree'), ('POST', '/self/optional'), ('POST', '/overlap'), ('GET', '/codes/code-0007')]]))"
    )
    answers = {
        seed: subprocess.run(
            [sys.executable, "-c", script, str(out), hostile.package.__name__],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for seed in ("0", "1", "4242")
    }
    assert len(set(answers.values())) == 1, answers


# -- synthesis -------------------------------------------------------------------------------------


def test_synthesis_stays_within_its_budget_and_says_when_it_found_nothing(hostile: Any) -> None:
    from codegen.runtime.mock import Budget, Synthesizer

    planner = Planner(hostile.normalized)
    budget = Budget(nodes=500, checks=50, seconds=5)
    for name, valid in (("Huge0", False), ("Endless", False), ("StringAndInteger", False), ("Tree0A", True), ("Chain0", True)):
        synthesizer = Synthesizer(planner.resolve, planner.is_valid, "seed", budget=Budget(seconds=5) if valid else budget)
        with within(DEADLINE):
            value, found = synthesizer.find({"$ref": f"#/components/schemas/{name}"})
        assert found is valid, name
        assert synthesizer.nodes <= synthesizer.budget.nodes and synthesizer.checks <= synthesizer.budget.checks + 3
        if valid:
            assert planner.is_valid({"$ref": f"#/components/schemas/{name}"}, value)


def test_synthesis_takes_the_shortest_way_out_of_recursion(hostile: Any) -> None:
    from codegen.runtime.mock import MAX_DEPTH, Shapes

    planner = Planner(hostile.normalized)
    shapes = Shapes(planner.resolve)
    heights = {name: shapes.height({"$ref": f"#/components/schemas/{name}"}) for name in ("SelfRequired", "ArrayTree", "CycleA", "Endless", "Huge0", "Tree0A")}
    assert heights["SelfRequired"] == 1  # {"name": ..., "next": null}
    assert heights["ArrayTree"] == 1  # {"label": ..., "children": []}
    assert heights["CycleA"] == 2  # {"b": {"cs": []}}
    assert heights["Huge0"] == 10
    assert heights["Endless"] > MAX_DEPTH


# -- a document of the directory -----------------------------------------------------------------


def test_analytics_index_of_the_directory_answers_in_time_with_a_valid_body(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """beezup.com (834 schemas): `GET /v2/user/analytics/` used to keep a core busy for minutes."""
    sys.path.insert(0, str(ROOT))
    try:
        from bench.directory import api_dir
    finally:
        sys.path.remove(str(ROOT))
    folder = tmp_path_factory.mktemp("beezup")
    spec = folder / "openapi.json"
    shutil.copyfile(api_dir() / "beezup.com.json", spec)
    package = generate_package(spec, folder / "out", "beezup_directory")
    document = normalized(spec)
    planner = Planner(document)
    planned = planner.plan(lambda method, path: (method, path) == ("get", "/v2/user/analytics/"))
    assert planned
    answers = drive(folder / "out", package, planned, DEADLINE, tmp_path)
    assert_answered_in_time(answers, len(planned), document, planner)
    assert answers[0].status == 200
    app = import_package(folder / "out", package).create_app(mock=True)
    app.state.codegen.prepare_mock()
    with within(DEADLINE):
        response = TestClient(app).get("/v2/user/analytics/")
    assert response.status_code == 200
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(validator.evolve(schema={"$ref": "#/components/schemas/analyticsIndex"}).iter_errors(response.json()))
    assert not errors, errors[0].message


@pytest.mark.parametrize(
    ("pattern", "limit"),
    [
        (r"^(https?:\/\/)?([\da-z\.-]+)\.([a-z\.]{2,6})([\/\w \.-]*)*\/?$", 16),  # beezup.com's URLs
        (r"^(a|ab)*$", 16),
        (r"^(a+|b)*$", 16),
        (r"^(a{1,3})+$", 16),
        (r"^(.+)@(.+)$", 256),
        (r"^\s*(.*?)\s*$", 256),
        (r"^[a-z]{3}-[0-9]+$", None),
        (r"^(ab|cd|[0-9])+$", None),
        (r"^(\d{3})+$", None),
    ],
)
def test_the_mock_verifier_runs_backtracking_patterns_on_short_strings_only(pattern: str, limit: int | None) -> None:
    from codegen.runtime.verify import mock_validator, safe_length

    assert safe_length(pattern) == limit
    validator = mock_validator({}).evolve(schema={"type": "string", "pattern": pattern})
    hostile = "https://www.gravatar.com/avatar/205e460b479e2e5b48aec07710c08d50?d=mm"
    with within(DEADLINE):
        checked = limit is None or len(hostile) <= limit
        assert validator.is_valid(hostile) is (checked and re.search(pattern, hostile) is not None)


def test_synthesis_of_the_deepest_value_stays_far_from_the_recursion_limit() -> None:
    """A value nested MAX_DEPTH levels through allOf and anyOf at every level (the anyOf
    branches sharing one schema, as YAML aliases make them) is found and verified within 400
    frames of the caller's: far from Python's limit of 1,000, in any thread."""
    import inspect

    from codegen.runtime.mock import MAX_DEPTH, Synthesizer
    from codegen.runtime.verify import mock_validator

    schema: dict[str, Any] = {"type": "string", "pattern": "^[a-z]+$"}
    for _ in range(MAX_DEPTH):
        pair = {"type": "object", "required": ["b"], "properties": {"b": schema}}
        schema = {"type": "object", "required": ["a"], "properties": {"a": {"allOf": [{"anyOf": [schema, pair]}]}}}
    validator = mock_validator({})
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 400)
    try:
        with within(DEADLINE):
            value, found = Synthesizer(None, lambda s, v: bool(validator.evolve(schema=s).is_valid(v)), "seed").find(schema)
    finally:
        sys.setrecursionlimit(limit)
    assert found and validator.evolve(schema=schema).is_valid(value)
    wrapped = {"type": "object", "required": ["a"], "properties": {"a": schema}}  # one level too deep
    with within(DEADLINE):
        assert Synthesizer(None, lambda s, v: bool(validator.evolve(schema=s).is_valid(v)), "seed").find(wrapped)[1] is False


def test_the_mock_verifier_judges_nested_alternatives_once_and_as_jsonschema_does(hostile: Any) -> None:
    from codegen.runtime.dialect import for_direction
    from codegen.runtime.verify import mock_validator
    from jsonschema import Draft202012Validator

    document = for_direction(hostile.normalized, "response")
    ours = mock_validator(document)
    reference = Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)
    cases = [
        ("Overlap", nested(2, 5, "x")),  # the reference takes seconds on this one, minutes one deeper
        ("Overlap", nested(40, {"y": 1}, "x")),
        ("Wide1", {"k1": {"k2": [{"k0": {"k0": "v1"}}]}}),
        ("Wide1", {"k1": {"k2": [{"k0": {"k0": "nope"}}]}}),
        ("OneOfTree", {"left": "leaf-1", "right": {"left": "leaf-2", "right": "leaf-3"}}),
        ("OneOfTree", {"left": "leaf-1", "right": "leaf"}),
        ("SelfRequired", {"name": "a", "next": {"name": "b", "next": None}}),
    ]
    for name, value in cases:
        schema = {"$ref": f"#/components/schemas/{name}"}
        with within(DEADLINE):
            judged = ours.evolve(schema=schema).is_valid(value)
        assert judged is reference.evolve(schema=schema).is_valid(value), (name, value)
    with within(DEADLINE):
        assert not ours.evolve(schema={"$ref": "#/components/schemas/Overlap"}).is_valid(nested(60, 5, "x"))
