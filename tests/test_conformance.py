"""Conformance: schemathesis, with every stateless check, against the mock of spec/.

The mock (`create_app(mock=True)`) is served by uvicorn on 127.0.0.1 and schemathesis runs its
examples, coverage and fuzzing phases against it with a fixed seed. Any finding fails the test,
except the ones in EXCUSES, where the spec itself makes the check impossible to pass (README.md,
"Spec defects"). A real server rather than the in-process ASGI client: schemathesis's ASGI client
replaces a generated `Accept` header with `*/*`, which POST /mcp/ rightly rejects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import serve, spec_document, spec_operations, spec_validator

SEED = 1
EXAMPLES = 10  # per operation and phase
PHASES = ("examples", "coverage", "fuzzing")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
)


@dataclass(frozen=True)
class Excuse:
    """A finding the spec makes unavoidable: which operations, which kind of finding with which
    response status, and why."""

    operations: frozenset[str]
    title: str  # schemathesis's title of the finding
    statuses: range
    reason: str


EXCUSES = (
    Excuse(
        frozenset({"GET /info", "GET /metrics", "GET /docs", "GET /ok"}),
        "Undocumented status code",
        range(400, 500),
        "the operation declares no 4xx response, so a request with invalid parameters (such as "
        "`/ok?check_db=2` or `/metrics?format=xml`) has no documented answer; it gets 422 with the "
        "spec's error body",
    ),
    Excuse(
        frozenset(
            {
                "GET /threads/{thread_id}/stream",
                "GET /threads/{thread_id}/runs/{run_id}/stream",
                "POST /threads/{thread_id}/runs/stream",
                "POST /runs/stream",
                "POST /threads/{thread_id}/stream/events",
            }
        ),
        "SSE event violates schema",
        range(200, 201),
        "the `text/event-stream` response declares `schema: {type: string}`; schemathesis reads an "
        "OpenAPI 3.1 event-stream schema as the schema of each event, which is an object "
        "(`{data, event, id}`), so no stream with an event can pass; the events' data do match the "
        "schema (tests/test_mock.py checks it)",
    ),
    Excuse(
        frozenset({"GET /mcp/"}),
        "Schema-valid request rejected",
        range(405, 406),
        "the operation declares a single response, 405, so the mock answers 405 (with `Allow`); "
        "positive_data_acceptance takes 405 for a rejection and every other status is undocumented",
    ),
)


@dataclass
class Run:
    """What one schemathesis run saw."""

    findings: list[str] = field(default_factory=list)
    excused: dict[str, int] = field(default_factory=dict)
    operations: dict[str, set[str]] = field(default_factory=dict)  # phase -> operation labels
    checks_run: set[str] = field(default_factory=set)
    cases: int = 0
    stop_reason: str = ""


@pytest.fixture(scope="module")
def mock_server(ls: Any) -> Iterator[str]:
    """The mock of spec/ served by uvicorn on 127.0.0.1; yields its base URL."""
    with serve(ls.create_app(mock=True)) as url:
        yield url


def schemathesis_config() -> Any:
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # Keep going after a finding so one finding does not hide others on that operation.
            "continue-on-failure": True,
            # Speed is `make bench`'s business; a slow machine must not turn into a finding.
            "suppress-health-check": ["too_slow"],
            "cache": {"enabled": False},
            "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {
                "examples": {"enabled": True, "fill-missing": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


def excuse_for(label: str, title: str, status: int | None) -> Excuse | None:
    return next((e for e in EXCUSES if label in e.operations and e.title == title and status in e.statuses), None)


def reference_violation(path: str, method: str, media_type: str, body: Any) -> str | None:
    """Where a request body breaks the spec's schema by the reference validator (jsonschema,
    formats asserted, ECMA-262 patterns), or None.

    schemathesis calls some invalid bodies valid: its coverage phase drops `format` from
    `type: [string, null]` properties (it sends PATCH /runs/crons/{id} with `{"end_time": ""}`
    for a nullable date-time), and it generates strings for `pattern` with Python's `re`, whose
    `.` matches a carriage return where ECMA-262's does not (`"custom:\\rL"` for
    `^custom:.+$`). The server's 4xx to such a body is right, not a valid request rejected.
    """
    schema = spec_document()["paths"][path][method.lower()]["requestBody"]["content"][media_type]["schema"]
    errors = list(spec_validator().evolve(schema=schema).iter_errors(body))
    # Only the two mistakes above: a body also broken otherwise was not generated as valid.
    if not errors or not all(map(_format_or_pattern, errors)):
        return None
    return "; ".join(f"{error.json_path}: {error.message}" for error in errors)


def _format_or_pattern(error: Any) -> bool:
    """Whether only a `format` or `pattern` fails here (in some branch of an anyOf or oneOf)."""
    if error.validator in ("format", "pattern"):
        return True
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        return any(all(map(_format_or_pattern, subs)) for subs in branches.values())
    return False


def mislabelled_positive(case: Any) -> bool:
    """Whether a request schemathesis generated as valid breaks the spec by the reference."""
    from schemathesis.core import NOT_SET

    if case.body is NOT_SET or case.media_type is None:
        return False
    return reference_violation(case.operation.path, case.method, case.media_type, case.body) is not None


def record(run: Run, event: Any) -> None:
    from schemathesis.engine import events

    if isinstance(event, events.ScenarioFinished):
        recorder = event.recorder
        run.operations.setdefault(str(event.phase), set()).add(recorder.label)
        run.cases += len(recorder.cases)
        for case_id, nodes in recorder.checks.items():
            for node in nodes:
                run.checks_run.add(node.name)
                if node.failure_info is None:
                    continue
                failure = node.failure_info.failure
                response = recorder.find_response(case_id=case_id)
                status = response.status_code if response is not None else None
                if excuse_for(recorder.label, failure.title, status) is not None:
                    key = f"{recorder.label}: {failure.title}"
                    run.excused[key] = run.excused.get(key, 0) + 1
                    continue
                if failure.title == "Schema-valid request rejected" and mislabelled_positive(recorder.cases[case_id].value):
                    continue
                run.findings.append(
                    f"[{event.phase}] {recorder.label}: {node.name}: {failure.title}\n{failure.message}\n"
                    f"{node.failure_info.code_sample}"
                )
    elif isinstance(event, events.NonFatalError):
        run.findings.append(f"[{event.phase}] {event.label}: error: {event.info}")
    elif isinstance(event, events.FatalError):
        raise event.exception
    elif isinstance(event, events.EngineFinished):
        run.stop_reason = str(event.stop_reason)


@pytest.fixture(scope="module")
def run(mock_server: str) -> Run:
    import schemathesis
    from schemathesis.engine import from_schema

    schema = schemathesis.openapi.from_url(f"{mock_server}/openapi.json", config=schemathesis_config())
    result = Run()
    for event in from_schema(schema).execute():
        record(result, event)
    return result


def test_schemathesis_finds_nothing_the_spec_does_not_excuse(run: Run) -> None:
    assert run.stop_reason == "completed"
    excused = ", ".join(f"{key} x{count}" for key, count in sorted(run.excused.items()))
    print(f"\nschemathesis: {run.cases} cases, {len(run.findings)} findings; excused: {excused or 'none'}")
    assert not run.findings, f"{len(run.findings)} finding(s):\n\n" + "\n\n".join(run.findings)


def test_every_operation_went_through_every_phase(run: Run) -> None:
    labels = {f"{method.upper()} {path}" for method, path, _ in spec_operations()}
    assert len(labels) == 64
    for phase in PHASES:
        assert run.operations.get(phase) == labels, phase


def test_every_check_ran(run: Run) -> None:
    assert set(CHECKS) <= run.checks_run


def test_only_format_and_pattern_violations_count_as_mislabelled_valid_requests() -> None:
    cron = "/runs/crons/{cron_id}"
    json = "application/json"
    assert reference_violation(cron, "PATCH", json, {"end_time": ""}) == "$.end_time: '' is not a 'date-time'"
    assert reference_violation(cron, "PATCH", json, {"end_time": "", "enabled": 1}) is None
    assert reference_violation(cron, "PATCH", json, {"end_time": None, "enabled": True}) is None
    events = "/threads/{thread_id}/stream/events"
    # ECMA-262's `.` does not match a carriage return; Python's does.
    assert reference_violation(events, "POST", json, {"channels": ["custom:\rL"]}) is not None
    assert reference_violation(events, "POST", json, {"channels": ["custom:L"]}) is None
    assert reference_violation(events, "POST", json, {"channels": ["custom:L", 3]}) is None


def test_excuses_cover_only_the_named_operations_findings_and_statuses() -> None:
    assert excuse_for("GET /ok", "Undocumented status code", 422) is not None
    assert excuse_for("GET /ok", "Undocumented status code", 299) is None
    assert excuse_for("GET /ok", "Response violates schema", 422) is None
    assert excuse_for("GET /threads/{thread_id}", "Undocumented status code", 422) is None
    assert excuse_for("GET /mcp/", "Schema-valid request rejected", 405) is not None
    assert excuse_for("POST /mcp/", "Schema-valid request rejected", 405) is None
