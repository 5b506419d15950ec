"""The ASGI application: `uvicorn service.app:app` (what `make serve` runs).

On start: open the store (DATABASE_URL: an SQLite file by default, or PostgreSQL; created or
upgraded to the latest migration), register the graphs' assistants, take back the runs of dead
workers, start this process's executor. On stop: runs still executing here go back to the
queue. While the store cannot be reached, operations answer 503 with the spec's error body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from langsmith_deployment import ApiError, create_app

from .api import Assistants, StatelessRuns, System, ThreadRuns, Threads, register_assistants
from .db import Database, unavailable
from .executor import Executor
from .graphs import GRAPHS
from .settings import Settings, SettingsError, async_database_url


def build(settings: Settings) -> FastAPI:
    """The application for `settings`."""
    db = Database(async_database_url(settings.database_url))
    executor = Executor(db, settings, GRAPHS)
    thread_runs = ThreadRuns(db, executor)
    application = create_app(
        [System(db, settings.jobs_per_worker), Assistants(db), Threads(db), thread_runs, StatelessRuns(thread_runs)],
        # langgraph-sdk sends `?wait=1` / `?wait=0` on single-run cancel.
        lenient_booleans=True,
        translate_error=_database_unavailable,
        # As LangGraph's server: a comment every 5 s on a stream with nothing to send.
        sse_heartbeat=5.0,
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


def _database_unavailable(exc: Exception) -> ApiError | None:
    """503 while the store cannot be reached (a PostgreSQL restart): the client may retry."""
    if unavailable(exc):
        return ApiError(503, f"database unavailable ({type(exc).__name__}); try again", headers={"Retry-After": "1"})
    return None


def _from_env() -> FastAPI:
    try:
        return build(Settings.from_env())
    except SettingsError as exc:
        # A plain message and exit status 1 rather than a traceback from uvicorn's import.
        raise SystemExit(f"service: {exc}") from None


app = _from_env()
