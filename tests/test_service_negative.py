"""Fuzzing the reference service: requests never get a 5xx.

schemathesis (coverage and fuzzing phases, fixed seed) against the real server on a temporary
SQLite file: negative data over every operation the service implements, and valid and invalid
data over its stream operations; the only check is that no answer is a server error.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from service import api as service_api
from service.testing import ServerProcess

SEED = 1


def implemented_operations() -> list[str]:
    """operationIds of the spec that a class of the service implements."""
    import langsmith_deployment.routers as routers_package
    from langsmith_deployment.app import ROUTERS

    names = {
        name
        for _, cls in inspect.getmembers(service_api, inspect.isclass)
        if cls.__module__ == service_api.__name__
        for name, value in vars(cls).items()
        if inspect.isfunction(value)
    }
    assert routers_package is not None
    return sorted(
        route.operation_id  # type: ignore[attr-defined]
        for router in ROUTERS
        for route in router.routes
        if getattr(route, "name", None) in names
    )


def test_the_service_implements_the_operations_we_fuzz() -> None:
    assert "cancel_runs_post" in implemented_operations()
    assert len(implemented_operations()) >= 15


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("negative")
    process = ServerProcess(database=folder / "service.db", log=folder / "server.log", jobs_per_worker=2).start()
    try:
        yield process
    finally:
        process.stop()


STREAMS = [
    "stream_run_threads__thread_id__runs_stream_post",
    "stream_run_http_threads__thread_id__runs__run_id__join_get",
    "stream_run_stateless_runs_stream_post",
]


def test_negative_requests_never_get_a_server_error(server: Any) -> None:
    _fuzz(server, implemented_operations(), mode="negative", examples=10, minimum=100)


def test_stream_operations_never_get_a_server_error(server: Any) -> None:
    """Valid and invalid requests to the stream operations (valid ones start runs and stream
    them until they end)."""
    assert set(STREAMS) <= set(implemented_operations())
    _fuzz(server, STREAMS, mode="all", examples=25, minimum=50)


def _fuzz(server: Any, operations: list[str], *, mode: str, examples: int, minimum: int) -> None:
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import events, from_schema

    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "continue-on-failure": True,
            "suppress-health-check": ["too_slow", "filter_too_much"],
            "cache": {"enabled": False},
            "request-timeout": 30,
            "generation": {"max-examples": examples, "mode": mode, "database": "none"},
            "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)
    schema = schema.include(operation_id=operations)
    findings: list[str] = []
    cases = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.failure_info is not None:
                        findings.append(f"{event.recorder.label}: {node.failure_info.failure.title}\n{node.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            findings.append(f"{event.label}: error: {event.info}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    assert cases >= minimum
    assert not findings, "\n\n".join(findings) + "\n\n" + server.log_tail()
    assert "Traceback" not in Path(server.log).read_text()
