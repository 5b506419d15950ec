"""The runtime's event streams, as a generated server sends them on a real uvicorn: heartbeat
comments on idle streams, a stream that sets its headers and starts before its first event,
one event pulled at a time (back-pressure), and the implementation's iterator closed, with room
to clean up, when the client goes away."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from conftest import serve
from fastapi.sse import ServerSentEvent

JOIN = "/threads/{thread}/runs/{run}/stream"


class Streams:
    """A join-stream implementation whose behaviour each test sets."""

    def __init__(self) -> None:
        self.pace = 0.0
        self.count = 3
        self.pulled = 0
        self.cleaned = threading.Event()
        self.release = asyncio.Event()
        self.last_event_id: str | None = None
        self.pad = ""

    def stream_run_http_threads_thread_id_runs_run_id_join_get(self, *, thread_id: uuid.UUID, run_id: uuid.UUID, **query: Any) -> Any:
        self.last_event_id = query.get("last_event_id")

        async def events() -> AsyncIterator[Any]:
            from langsmith_deployment import Reply

            try:
                yield Reply(None, headers={"Location": f"/threads/{thread_id}/runs/{run_id}/stream"})
                for n in range(self.count):
                    await asyncio.sleep(self.pace)
                    self.pulled += 1
                    yield ServerSentEvent(event="custom", data={"n": n, **({"pad": self.pad} if self.pad else {})}, id=str(n + 1))
            finally:
                # Cleanup that awaits (a cancel through the store, say) still runs to its end.
                await asyncio.sleep(0.05)
                self.cleaned.set()

        return events()


def _url(base: str) -> str:
    return base + JOIN.format(thread=uuid.uuid4(), run=uuid.uuid4())


def test_an_idle_stream_sends_heartbeat_comments(ls: Any) -> None:
    impl = Streams()
    impl.pace, impl.count = 0.35, 2
    with serve(ls.create_app(impl, sse_heartbeat=0.1)) as base:
        text = httpx.get(_url(base), timeout=10).text
    assert text.count(": heartbeat\n\n") >= 2
    assert text.replace(": heartbeat\n\n", "") == 'event: custom\ndata: {"n":0}\nid: 1\n\nevent: custom\ndata: {"n":1}\nid: 2\n\n'


def test_no_heartbeat_when_switched_off(ls: Any) -> None:
    impl = Streams()
    impl.pace, impl.count = 0.2, 1
    with serve(ls.create_app(impl, sse_heartbeat=0)) as base:
        assert "heartbeat" not in httpx.get(_url(base), timeout=10).text


def test_a_stream_that_yields_its_reply_first_answers_before_its_first_event(ls: Any) -> None:
    impl = Streams()
    impl.pace, impl.count = 1.0, 1
    with serve(ls.create_app(impl)) as base, httpx.stream("GET", _url(base), timeout=10, headers={"Last-Event-ID": "7"}) as response:
        started = time.monotonic()
        assert response.status_code == 200 and response.headers["location"].endswith("/stream")
        assert response.headers["content-type"].startswith("text/event-stream")
        # The headers came before the first event, a second away.
        assert impl.pulled == 0 and time.monotonic() - started < 0.9
    assert impl.last_event_id == "7"


def test_a_slow_client_is_sent_one_event_at_a_time(ls: Any) -> None:
    impl = Streams()
    impl.count, impl.pad = 100_000, "x" * 10_000  # a GB in all, if it were all pulled
    with serve(ls.create_app(impl)) as base, httpx.stream("GET", _url(base), timeout=10) as response:
        lines = response.iter_lines()
        next(lines)
        # Unread, the socket buffers fill and the server stops pulling events.
        deadline = time.monotonic() + 10
        pulled = -1
        while impl.pulled != pulled and time.monotonic() < deadline:
            pulled = impl.pulled
            time.sleep(0.3)
        assert impl.pulled == pulled < 2_000
    assert impl.cleaned.wait(5)


def test_the_implementation_cleans_up_when_the_client_goes_away(ls: Any) -> None:
    impl = Streams()
    impl.pace, impl.count = 0.05, 1000
    with serve(ls.create_app(impl)) as base:
        with httpx.stream("GET", _url(base), timeout=10) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    break
        assert impl.cleaned.wait(5), "the stream's finally did not run to its end after the disconnect"
        assert impl.pulled < 1000
