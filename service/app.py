"""The ASGI application: `uvicorn service.app:app` (what `make serve` runs).

On start: open the store (created on first start, schema included), register the graphs'
assistants, take back the runs of dead workers, start this process's executor. On stop: runs
still executing here go back to the queue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from langsmith_deployment import create_app

from .api import Assistants, System, ThreadRuns, Threads, register_assistants
from .db import Database
from .executor import Executor
from .graphs import GRAPHS
from .settings import Settings, SettingsError, async_database_url


def build(settings: Settings) -> FastAPI:
    """The application for `settings`."""
    db = Database(async_database_url(settings.database_url))
    executor = Executor(db, settings, GRAPHS)
    application = create_app(
        [System(db, settings.jobs_per_worker), Assistants(db), Threads(db), ThreadRuns(db, executor)],
        # langgraph-sdk sends `?wait=1` / `?wait=0` on single-run cancel.
        lenient_booleans=True,
    )

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[Mapping[str, Any]]:
        await db.open()
        await register_assistants(db)
        await executor.start()
        try:
            yield {}
        finally:
            await executor.stop()
            await db.close()

    application.router.lifespan_context = lifespan
    return application


def _from_env() -> FastAPI:
    try:
        return build(Settings.from_env())
    except SettingsError as exc:
        # A plain message and exit status 1 rather than a traceback from uvicorn's import.
        raise SystemExit(f"service: {exc}") from None


app = _from_env()
