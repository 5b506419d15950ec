"""The graphs this server runs: the one place to register them.

A graph is an async callable `graph(input, config) -> output`. Each registered graph id is also
an assistant id (it resolves to the graph's default assistant), as in LangGraph. A graph sends
events of its own (stream mode `custom`) with `stream_writer()`, as LangGraph's
`get_stream_writer()`: `stream_writer()({"progress": 0.5})`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .streams import current

Graph = Callable[[Any, dict[str, Any]], Awaitable[Any]]


def stream_writer() -> Callable[[Any], None]:
    """The running run's `custom` events (a no-op outside a run, or if it did not ask for them)."""
    stream = current.get()
    return stream if stream is not None else (lambda data: None)


async def sleep(input: Any, config: dict[str, Any]) -> dict[str, float]:
    """Wait `input["seconds"]` (cancellable at any moment) and return `{"slept": seconds}`."""
    seconds = float(input["seconds"])
    await asyncio.sleep(seconds)
    return {"slept": seconds}


async def ticker(input: Any, config: dict[str, Any]) -> dict[str, int]:
    """Emit `{"tick": n}` (stream mode `custom`) every `input["interval"]` seconds (default 0.05),
    `input["ticks"]` times (default 20), then return `{"ticks": n}`."""
    interval = float((input or {}).get("interval", 0.05))
    ticks = int((input or {}).get("ticks", 20))
    emit = stream_writer()
    for tick in range(1, ticks + 1):
        await asyncio.sleep(interval)
        emit({"tick": tick})
    return {"ticks": ticks}


GRAPHS: dict[str, Graph] = {
    "sleep": sleep,
    "ticker": ticker,
}
