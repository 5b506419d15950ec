"""Request-time cost: the generated `POST /runs/cancel` route against a hand-written FastAPI route
taking the same model, both driven in-process through ASGI (no network), median of several runs."""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generated"))

import langsmith_deployment as ls
from fastapi import FastAPI, Query, Response
from langsmith_deployment import models

BODY = json.dumps({"thread_id": str(uuid.uuid4()), "run_ids": [str(uuid.uuid4()), str(uuid.uuid4())]}).encode()


class Runs:
    async def cancel_runs_post(self, *, body: models.RunsCancel, action: models.CancelRunsPostAction) -> None:
        return None


def hand_written() -> FastAPI:
    app = FastAPI()

    @app.post("/runs/cancel", status_code=204)
    async def cancel_runs(
        body: models.RunsCancel,
        action: Annotated[models.CancelRunsPostAction, Query()] = models.CancelRunsPostAction.interrupt,
    ) -> Response:
        await Runs().cancel_runs_post(body=body, action=action)
        return Response(status_code=204)

    return app


async def call(app: Any) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/runs/cancel",
        "raw_path": b"/runs/cancel",
        "query_string": b"action=rollback",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def per_request_us(app: Any, n: int) -> float:
    for _ in range(200):
        assert await call(app) == 204
    gc.collect()  # each round starts from the same heap, whichever app ran before
    start = time.perf_counter()
    for _ in range(n):
        await call(app)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    generated = ls.create_app(Runs(), validate_responses=True)
    plain = hand_written()
    rounds = 11
    n = 2000
    gen_runs, hand_runs = [], []
    for _ in range(rounds):
        gen_runs.append(asyncio.run(per_request_us(generated, n)))
        hand_runs.append(asyncio.run(per_request_us(plain, n)))
    gen, hand = statistics.median(gen_runs), statistics.median(hand_runs)
    print(f"  generated POST /runs/cancel   {gen:8.1f} us/request  ({1e6 / gen:8.0f} req/s)")
    print(f"  hand-written FastAPI route    {hand:8.1f} us/request  ({1e6 / hand:8.0f} req/s)")
    print(f"  ratio generated / hand-written {gen / hand:6.2f}  (median of {rounds} rounds of {n})")


if __name__ == "__main__":
    main()
