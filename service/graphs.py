"""The graphs this server runs: the one place to register them.

A graph is an async callable `graph(input, config) -> output`. Each registered graph id is also
an assistant id (it resolves to the graph's default assistant), as in LangGraph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Graph = Callable[[Any, dict[str, Any]], Awaitable[Any]]


async def sleep(input: Any, config: dict[str, Any]) -> dict[str, float]:
    """Wait `input["seconds"]` (cancellable at any moment) and return `{"slept": seconds}`."""
    seconds = float(input["seconds"])
    await asyncio.sleep(seconds)
    return {"slept": seconds}


GRAPHS: dict[str, Graph] = {
    "sleep": sleep,
}
