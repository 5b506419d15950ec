"""Patterns at risk (tests/specs/redos): a value a backtracking engine would search for hours
is refused within the time limit, as a mismatch of its pattern is, while the server goes on
answering; values that match are accepted, however long.

The fixture is served by uvicorn in a child process (`CODEGEN_PATTERN_TIME_LIMIT=0.3`) and
driven over HTTP with a client timeout: a search run in the server itself would hold its GIL
for hours, and the test would fail on that timeout rather than hang. Beside the fixture's
routes, the served app answers `GET /busy`: whether a search runs in the pattern worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, feature, free_port

LIMIT = "0.3"  # seconds a search at risk may take in the served app
TIMEOUT = 20.0  # seconds the client waits for an answer: far above the limit, far below hours
HOSTILE = "a" * 40 + "!"  # 2^40 ways to fail for each pattern below
MATCHING = "a" * 40

FILE_PATH = r"^([\/\w \.-]*)*$"
QUERY = r"^(\w+\s?)*$"
HEADER = r"^(a+)+$"
KEY = r"^([a-z]+-?)*$"

IMPLEMENTATION = '''
from codegen.runtime.patterns import WORKER
from starlette.responses import JSONResponse
from {package} import create_app

BROKEN = "a" * 40 + "!"


class Files:
    async def get_file(self, *, name):
        # `broken` answers a path its own pattern cannot judge in time.
        return {{"path": BROKEN if name == "broken" else name}}

    async def search_files(self, *, q=None, x_label=None):
        return {{"items": [{{"path": q or ""}}]}}

    async def create_file(self, *, body):
        return body


files = create_app(Files())


async def app(scope, receive, send):
    """The fixture's app, and `GET /busy`: whether a search runs in the pattern worker."""
    if scope["type"] == "http" and scope["path"] == "/busy":
        await JSONResponse({{"searching": WORKER.busy}})(scope, receive, send)
    else:
        await files(scope, receive, send)
'''


def limited(pattern: str, place: str) -> str:
    return f"{place}: could not be checked against the pattern {pattern} within the time limit ({LIMIT} s)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, file of the server's stderr) of the fixture's app under uvicorn."""
    fx = feature("redos", tmp_path_factory)
    out = Path(fx.package.__file__).parent.parent
    folder = tmp_path_factory.mktemp("redos-server")
    (folder / "redos_app.py").write_text(IMPLEMENTATION.format(package=fx.package.__name__), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "CODEGEN_PATTERN_TIME_LIMIT": LIMIT,
        "PYTHONPATH": os.pathsep.join([str(folder), str(out), str(ROOT)]),
    }
    log = folder / "stderr.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "redos_app:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a server stuck in a search does not hear SIGTERM
            process.kill()
            process.wait()


def send(url: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url + path, timeout=TIMEOUT, **kwargs)


# (what, request for a value, the answer's status, the message naming where, the pattern)
PLACES = [
    ("path", lambda v: ("GET", f"/files/{v}", {}), 404, "path parameter `name`", FILE_PATH),
    ("query", lambda v: ("GET", "/search", {"params": {"q": v}}), 400, "query parameter `q`", QUERY),
    ("header", lambda v: ("GET", "/search", {"headers": {"X-Label": v}}), 400, "header `X-Label`", HEADER),
    ("body", lambda v: ("POST", "/files", {"json": {"path": v}}), 422, "body.path", FILE_PATH),
]


def error_body(status: int, message: str) -> Any:
    """The operation's declared error body: `Problem` (code, message) for 404 and 400, else
    `{"detail": ...}`."""
    return {"code": status, "message": message} if status in (400, 404) else {"detail": message}


@pytest.mark.parametrize(("place", "request_of", "status", "where", "pattern"), PLACES, ids=[p[0] for p in PLACES])
def test_a_value_too_slow_to_judge_is_refused_as_a_mismatch_is(server: tuple[str, Path], place: str, request_of: Any, status: int, where: str, pattern: str) -> None:
    url, _ = server
    method, path, kwargs = request_of("a!")  # a short mismatch, judged at once
    mismatch = send(url, method, path, **kwargs)
    assert (mismatch.status_code, mismatch.json()) == (status, error_body(status, f"{where}: must match the pattern {pattern}"))
    method, path, kwargs = request_of(HOSTILE)
    refused = send(url, method, path, **kwargs)
    assert (refused.status_code, refused.json()) == (status, error_body(status, limited(pattern, where)))


def test_a_property_name_too_slow_to_judge_is_refused(server: tuple[str, Path]) -> None:
    url, _ = server
    response = send(url, "POST", "/files", json={"path": "a", "labels": {HOSTILE: "x"}})
    assert (response.status_code, response.json()) == (422, {"detail": limited(KEY, f"body.labels.{HOSTILE}")})


def test_long_values_that_match_are_accepted(server: tuple[str, Path]) -> None:
    url, _ = server
    assert send(url, "GET", f"/files/{MATCHING}").json() == {"path": MATCHING}
    found = send(url, "GET", "/search", params={"q": MATCHING}, headers={"X-Label": MATCHING})
    assert (found.status_code, found.json()) == (200, {"items": [{"path": MATCHING}]})
    body = {"path": "/srv/data/" + MATCHING + ".tar.gz", "labels": {MATCHING + "-x": "y"}}
    created = send(url, "POST", "/files", json=body)
    assert (created.status_code, created.json()) == (201, body)


def test_the_server_answers_other_requests_while_a_search_runs(server: tuple[str, Path]) -> None:
    # `GET /busy` is answered by the event loop; it can see a search running in the worker
    # only if the loop is not the one waiting for it.
    url, _ = server
    slow: list[httpx.Response] = []
    searching = threading.Thread(target=lambda: slow.append(send(url, "POST", "/files", json={"path": HOSTILE})))
    seen_searching = 0
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        searching.start()
        while searching.is_alive():
            seen_searching += client.get("/busy").json()["searching"]
            other = client.get("/files/readme.md")
            assert (other.status_code, other.json()) == (200, {"path": "readme.md"})
    searching.join()
    assert slow and slow[0].status_code == 422
    assert seen_searching > 0


def test_a_response_too_slow_to_judge_answers_as_a_response_that_breaks_the_spec(server: tuple[str, Path]) -> None:
    url, log = server
    response = send(url, "GET", "/files/broken")
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
    deadline = time.monotonic() + 10  # the log line may trail the answer
    wanted = "GET /files/{name} (getFile): the 200 response does not match the spec: " + limited(FILE_PATH, "body.path")
    while wanted not in log.read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
        time.sleep(0.05)
