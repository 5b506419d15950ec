"""The README's walkthrough works as written: the example served by uvicorn, called by curl's
equivalent and by langgraph-sdk."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT
from langgraph_sdk import get_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def server() -> str:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "generated")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.cancel_runs:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_walkthrough(server: str) -> None:
    # curl -X POST "$URL/runs/cancel?action=rollback" -H 'content-type: application/json' -d '{"status": "pending"}'
    first = httpx.post(server + "/runs/cancel?action=rollback", json={"status": "pending"})
    assert first.status_code == 204 and first.content == b""
    again = httpx.post(server + "/runs/cancel", json={"status": "pending"})
    assert again.status_code == 404 and again.json() == {"detail": "no pending or running run matched"}
    invalid = httpx.post(server + "/runs/cancel", json={"status": "done"})
    assert invalid.status_code == 422 and "body.status" in invalid.json()["detail"]

    async def sdk() -> None:
        client = get_client(url=server)
        await client.runs.cancel_many(status="running")
        with pytest.raises(httpx.HTTPStatusError) as error:
            await client.runs.cancel_many(status="all", action="rollback")
        assert error.value.response.status_code == 404

    asyncio.run(sdk())
    assert httpx.get(server + "/threads/00000000-0000-0000-0000-000000000001").status_code == 501
