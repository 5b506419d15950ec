"""The implementations of the generated Protocols: what each endpoint does with the store.

Plain classes (subclassing the Protocols only to have their signatures checked); every
operation they leave out answers 501 through the generated seam.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from importlib import metadata as package_metadata
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from codegen.runtime import unset_to_none
from fastapi.sse import ServerSentEvent
from langsmith_deployment import ApiError, Reply, models
from langsmith_deployment.protocols import (
    AssistantsApi,
    StatelessRunsApi,
    SystemApi,
    ThreadRunsApi,
    ThreadsApi,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from . import queue, streams
from .db import (
    Database,
    assistants,
    checkpoints,
    json_matches,
    lock_threads,
    notify,
    runs,
    serialize,
    threads,
    utcnow,
)
from .executor import Executor
from .graphs import GRAPHS

# LangGraph's namespace for the ids of graphs' default assistants: uuid5(namespace, graph_id).
ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
JOIN_POLL_SECONDS = 0.05


def default_assistant_id(graph_id: str) -> str:
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, graph_id))


async def register_assistants(db: Database) -> None:
    """Make the `assistants` table the registry of GRAPHS: one default assistant per graph."""
    now = utcnow()
    async with db.write() as conn:
        # Processes and instances start together: one registers at a time (SQLite's write lock
        # already does that; on PostgreSQL a lock held until this transaction ends).
        await serialize(conn, "register-assistants")
        known = set((await conn.execute(sa.select(assistants.c.graph_id))).scalars())
        await conn.execute(sa.delete(assistants).where(assistants.c.graph_id.not_in(sorted(GRAPHS))))
        for graph_id in sorted(set(GRAPHS) - known):
            await conn.execute(
                sa.insert(assistants).values(
                    assistant_id=default_assistant_id(graph_id),
                    graph_id=graph_id,
                    name=graph_id,
                    description=None,
                    config={},
                    context={},
                    metadata={"created_by": "system"},
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )


async def delete_thread(db: Database, thread_id: str) -> None:
    """Delete a thread, its runs (their workers stop them, their streams end) and checkpoints."""
    async with db.write() as conn:
        if not await lock_threads(conn, [thread_id]):
            raise _not_found("Thread", thread_id)
        rows = (await conn.execute(sa.select(runs.c.run_id, runs.c.status).where(runs.c.thread_id == thread_id))).all()
        await notify(conn, "cancel", sorted(r.run_id for r in rows if r.status == "running"))
        for table in (checkpoints, runs, threads):
            await conn.execute(sa.delete(table).where(table.c.thread_id == thread_id))
        await streams.drop_events(conn, [r.run_id for r in rows])
        await streams.end_streams(conn, sorted(r.run_id for r in rows if r.status in queue.ACTIVE))


def _not_found(what: str, ident: Any) -> ApiError:
    return ApiError(404, f"{what} {ident} not found")


# --- system -----------------------------------------------------------------------------------


class System(SystemApi):
    """GET /ok and GET /info."""

    def __init__(self, db: Database, jobs_per_worker: int) -> None:
        self.db = db
        self.jobs_per_worker = jobs_per_worker

    async def health_check_ok_get(
        self, *, check_db: models.HealthCheckOkGetCheckDb = models.HealthCheckOkGetCheckDb.integer_0
    ) -> models.HealthCheckOkGetResponse:
        if check_db == models.HealthCheckOkGetCheckDb.integer_1:
            try:
                async with self.db.read() as conn:
                    await conn.execute(sa.text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001 - any failure means the store is unreachable
                raise ApiError(500, f"database check failed: {type(exc).__name__}") from None
        return models.HealthCheckOkGetResponse(ok=True)

    async def server_info_info_get(self) -> models.ServerInfoInfoGetResponse:
        return models.ServerInfoInfoGetResponse(
            version=package_metadata.version("spec-first-codegen"),
            langgraph_py_version="none",
            flags={"assistants": True, "crons": False, "langsmith": False, "store": False, "thread_ttl": False},
            metadata={"graphs": sorted(GRAPHS), "jobs_per_worker": self.jobs_per_worker, "database": self.db.backend},
        )


# --- assistants -------------------------------------------------------------------------------


def _assistant(row: Any) -> models.Assistant:
    return models.Assistant.model_validate(
        {
            "assistant_id": row.assistant_id,
            "graph_id": row.graph_id,
            "config": row.config,
            "context": row.context,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "metadata": row.metadata,
            "version": row.version,
            "name": row.name,
            "description": row.description,
        }
    )


def _assistant_filters(body: models.AssistantSearchRequest | models.AssistantCountRequest) -> list[Any]:
    conditions: list[Any] = []
    if (graph_id := unset_to_none(body.graph_id)) is not None:
        conditions.append(assistants.c.graph_id == graph_id)
    if (name := unset_to_none(body.name)) is not None:
        conditions.append(assistants.c.name.icontains(name, autoescape=True))
    conditions += json_matches(assistants.c.metadata, unset_to_none(body.metadata) or {})
    return conditions


async def resolve_assistant(conn: AsyncConnection, assistant_id: UUID | str) -> Any:
    """The assistant an id or a graph id names (a graph id names its default assistant)."""
    text = str(assistant_id)
    try:
        condition = assistants.c.assistant_id == str(UUID(text))
    except ValueError:
        condition = assistants.c.assistant_id == default_assistant_id(text)
    row = (await conn.execute(sa.select(assistants).where(condition))).first()
    if row is None:
        raise _not_found("Assistant", text)
    return row


class Assistants(AssistantsApi):
    """The read-only registry of graphs' default assistants."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_assistant_assistants_assistant_id_get(self, *, assistant_id: UUID) -> models.Assistant:
        async with self.db.read() as conn:
            return _assistant(await resolve_assistant(conn, assistant_id))

    async def search_assistants_assistants_search_post(
        self, *, body: models.AssistantSearchRequest
    ) -> list[models.Assistant]:
        column = assistants.c[unset_to_none(body.sort_by) or "created_at"]
        order = column.asc() if unset_to_none(body.sort_order) == models.AssistantSearchRequestSortOrder.asc else column.desc()
        query = (
            sa.select(assistants)
            .where(*_assistant_filters(body))
            .order_by(order, assistants.c.assistant_id)
            .limit(body.limit)
            .offset(body.offset)
        )
        async with self.db.read() as conn:
            return [_assistant(row) for row in await conn.execute(query)]

    async def count_assistants_assistants_count_post(self, *, body: models.AssistantCountRequest) -> int:
        query = sa.select(sa.func.count()).select_from(assistants).where(*_assistant_filters(body))
        async with self.db.read() as conn:
            return int(await conn.scalar(query) or 0)


# --- threads ----------------------------------------------------------------------------------


def _thread_status() -> sa.ColumnElement[str]:
    """busy while a run is pending or running; error after a failed (or timed out) run;
    interrupted after a cancelled one (as LangGraph's server answers); else idle (a rollback
    leaves the thread as it was before the run)."""
    active = sa.exists().where(runs.c.thread_id == threads.c.thread_id, runs.c.status.in_(queue.ACTIVE))
    last = (
        sa.select(runs.c.status)
        .where(runs.c.thread_id == threads.c.thread_id)
        .order_by(runs.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.case(
        (active, "busy"), (last.in_(("error", "timeout")), "error"), (last == "interrupted", "interrupted"), else_="idle"
    )


def _thread_values() -> sa.ScalarSelect[Any]:
    return (
        sa.select(checkpoints.c["values"])
        .where(checkpoints.c.thread_id == threads.c.thread_id)
        .order_by(checkpoints.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def _threads_query() -> sa.Select[Any]:
    return sa.select(threads, _thread_status().label("status"), _thread_values().label("values"))


def _thread(row: Any) -> models.Thread:
    body: dict[str, Any] = {
        "thread_id": row.thread_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "metadata": row.metadata,
        "config": {},
        "status": row.status,
        "values": row.values if isinstance(row.values, dict) else {},
        "interrupts": {},
    }
    if row.state_updated_at is not None:
        body["state_updated_at"] = row.state_updated_at
    return models.Thread.model_validate(body)


def _thread_filters(body: models.ThreadSearchRequest | models.ThreadCountRequest) -> list[Any]:
    conditions: list[Any] = []
    if (status := unset_to_none(body.status)) is not None:
        conditions.append(_thread_status() == status.value)
    conditions += json_matches(threads.c.metadata, unset_to_none(body.metadata) or {})
    conditions += json_matches(_thread_values(), unset_to_none(body.values) or {})
    return conditions


def _state(thread_id: str, checkpoint: Any, created_at: Any) -> models.ThreadState:
    """A ThreadState of a checkpoint row (None: the empty state of a thread without one)."""
    config: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    body: dict[str, Any] = {"values": {}, "next": [], "tasks": [], "metadata": {}, "interrupts": []}
    if checkpoint is None:
        return models.ThreadState.model_validate({**body, "checkpoint": config, "created_at": created_at.isoformat()})
    body.update(
        values=checkpoint.values,
        metadata=checkpoint.metadata,
        checkpoint={**config, "checkpoint_id": checkpoint.checkpoint_id},
        created_at=checkpoint.created_at.isoformat(),
    )
    if checkpoint.parent_checkpoint_id is not None:
        body["parent_checkpoint"] = {**config, "checkpoint_id": checkpoint.parent_checkpoint_id}
    return models.ThreadState.model_validate(body)


async def _thread_row(conn: AsyncConnection, thread_id: str) -> Any:
    row = (await conn.execute(_threads_query().where(threads.c.thread_id == thread_id))).first()
    if row is None:
        raise _not_found("Thread", thread_id)
    return row


class Threads(ThreadsApi):
    """Threads: create, read, search, patch, delete, and their checkpointed state."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_thread_threads_post(self, *, body: models.ThreadCreate) -> models.Thread:
        if unset_to_none(body.supersteps):
            raise ApiError(422, "body.supersteps: not supported by this server")
        thread_id = str(unset_to_none(body.thread_id) or uuid.uuid4())
        async with self.db.write() as conn:
            created = await queue.create_thread(conn, thread_id, unset_to_none(body.metadata) or {}, utcnow())
            if not created and body.if_exists == models.ThreadCreateIfExists.raise_:
                raise ApiError(409, f"Thread {thread_id} already exists")
            return _thread(await _thread_row(conn, thread_id))

    async def search_threads_threads_search_post(self, *, body: models.ThreadSearchRequest) -> list[models.Thread]:
        sort_by = unset_to_none(body.sort_by)
        column: Any = _thread_status() if sort_by == models.ThreadSearchRequestSortBy.status else threads.c[sort_by.value if sort_by else "created_at"]
        order = column.asc() if unset_to_none(body.sort_order) == models.ThreadSearchRequestSortOrder.asc else column.desc()
        query = _threads_query().where(*_thread_filters(body))
        if (ids := unset_to_none(body.ids)) is not None:
            query = query.where(threads.c.thread_id.in_([str(i) for i in ids]))
        query = query.order_by(order, threads.c.thread_id).limit(body.limit).offset(body.offset)
        async with self.db.read() as conn:
            return [_thread(row) for row in await conn.execute(query)]

    async def count_threads_threads_count_post(self, *, body: models.ThreadCountRequest) -> int:
        query = sa.select(sa.func.count()).select_from(threads).where(*_thread_filters(body))
        async with self.db.read() as conn:
            return int(await conn.scalar(query) or 0)

    async def get_thread_threads_thread_id_get(self, *, thread_id: UUID, include: str | None = None) -> models.Thread:
        async with self.db.read() as conn:
            return _thread(await _thread_row(conn, str(thread_id)))

    async def patch_thread_threads_thread_id_patch(self, *, thread_id: UUID, body: models.ThreadPatch) -> models.Thread:
        async with self.db.write() as conn:
            row = await _thread_row(conn, str(thread_id))
            merged = {**row.metadata, **(unset_to_none(body.metadata) or {})}
            await conn.execute(
                sa.update(threads).where(threads.c.thread_id == str(thread_id)).values(metadata=merged, updated_at=utcnow())
            )
            return _thread(await _thread_row(conn, str(thread_id)))

    async def delete_thread_threads_thread_id_delete(self, *, thread_id: UUID) -> None:
        """Delete the thread, its runs (their workers stop them, their streams end) and its checkpoints."""
        await delete_thread(self.db, str(thread_id))

    async def get_latest_thread_state_threads_thread_id_state_get(
        self, *, thread_id: UUID, subgraphs: bool | None = None
    ) -> models.ThreadState:
        async with self.db.read() as conn:
            row = await _thread_row(conn, str(thread_id))
            return _state(str(thread_id), await queue.latest_checkpoint(conn, str(thread_id)), row.created_at)

    async def get_thread_history_threads_thread_id_history_get(
        self, *, thread_id: UUID, limit: int = 10, before: str | None = None
    ) -> list[models.ThreadState]:
        return await self._history(str(thread_id), limit, before, {})

    async def get_thread_history_post_threads_thread_id_history_post(
        self, *, thread_id: UUID, body: models.ThreadStateSearch
    ) -> list[models.ThreadState]:
        before = unset_to_none(body.before)
        before_id = unset_to_none(before.checkpoint_id) if before is not None else None
        return await self._history(str(thread_id), body.limit, before_id, unset_to_none(body.metadata) or {})

    async def _history(
        self, thread_id: str, limit: int, before: str | None, metadata: dict[str, Any]
    ) -> list[models.ThreadState]:
        """The thread's checkpoints, newest first."""
        query = sa.select(checkpoints).where(checkpoints.c.thread_id == thread_id, *json_matches(checkpoints.c.metadata, metadata))
        if before is not None:
            anchor = sa.select(checkpoints.c.seq).where(checkpoints.c.checkpoint_id == before).scalar_subquery()
            query = query.where(checkpoints.c.seq < anchor)
        async with self.db.read() as conn:
            await _thread_row(conn, thread_id)
            rows = (await conn.execute(query.order_by(checkpoints.c.seq.desc()).limit(max(limit, 0)))).all()
        return [_state(thread_id, row, row.created_at) for row in rows]


# --- runs -------------------------------------------------------------------------------------


def _stream_headers(thread_id: str, run_id: str) -> dict[str, str]:
    """Where a client reconnects to a run's stream (langgraph-sdk follows `Location`)."""
    run = f"/threads/{thread_id}/runs/{run_id}"
    return {"Location": f"{run}/stream", "Content-Location": run}


def _event_id(text: str | None) -> int | None:
    """A `Last-Event-ID`: an event id of the run (`-1`: from its first event)."""
    if text is None or text == "":
        return None
    try:
        return max(int(text), 0)
    except ValueError:
        raise ApiError(422, f"Last-Event-ID {text!r}: not an event id of this server") from None


def _run(row: Any) -> models.Run:
    return models.Run.model_validate(
        {
            "run_id": row.run_id,
            "thread_id": row.thread_id,
            "assistant_id": row.assistant_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "status": row.status,
            "metadata": row.metadata,
            "kwargs": row.kwargs,
            "multitask_strategy": row.multitask_strategy,
        }
    )


# Fields of a run request that describe the run itself rather than the graph's invocation.
RUN_FIELDS = {"assistant_id", "metadata", "multitask_strategy", "if_not_exists", "after_seconds"}


class ThreadRuns(ThreadRunsApi):
    """Runs on threads: create (with multitask strategies), read, join, cancel."""

    def __init__(self, db: Database, executor: Executor) -> None:
        self.db = db
        self.executor = executor
        self._background: set[asyncio.Task[None]] = set()

    async def list_runs_http_threads_thread_id_runs_get(
        self,
        *,
        thread_id: UUID,
        limit: int = 10,
        offset: int = 0,
        status: models.ListRunsHttpThreadsThreadIdRunsGetStatus | None = None,
        select: list[models.ListRunsHttpThreadsThreadIdRunsGetArgumentsSelectEnum] | None = None,
    ) -> list[models.Run]:
        """The thread's runs, newest first (`select` is not applied: every field is returned)."""
        query = sa.select(runs).where(runs.c.thread_id == str(thread_id))
        if status is not None:
            query = query.where(runs.c.status == status.value)
        query = query.order_by(runs.c.seq.desc()).limit(max(limit, 0)).offset(max(offset, 0))
        async with self.db.read() as conn:
            if not await queue.thread_exists(conn, str(thread_id)):
                raise _not_found("Thread", thread_id)
            return [_run(row) for row in await conn.execute(query)]

    async def create_run_threads_thread_id_runs_post(
        self, *, thread_id: UUID, body: models.RunCreateStateful
    ) -> Reply[models.Run]:
        row = await self._create(str(thread_id), body)
        return Reply(_run(row), headers={"Content-Location": f"/threads/{row.thread_id}/runs/{row.run_id}"})

    async def wait_run_threads_thread_id_runs_wait_post(
        self, *, thread_id: UUID, body: models.RunCreateStreamingStateful
    ) -> Any:
        row = await self._create(str(thread_id), body)
        return await self._join(row.thread_id, row.run_id)

    async def get_run_http_threads_thread_id_runs_run_id_get(self, *, thread_id: UUID, run_id: UUID) -> models.Run:
        async with self.db.read() as conn:
            return _run(await self._run_row(conn, str(thread_id), str(run_id)))

    async def delete_run_threads_thread_id_runs_run_id_delete(self, *, thread_id: UUID, run_id: UUID) -> None:
        """Delete the run (its checkpoints stay); a worker executing it stops."""
        async with self.db.write() as conn:
            await lock_threads(conn, [str(thread_id)])
            await self._run_row(conn, str(thread_id), str(run_id))
            await conn.execute(sa.delete(runs).where(runs.c.run_id == str(run_id)))
            await notify(conn, "cancel", [str(run_id)])
            await streams.drop_events(conn, [str(run_id)])
            await streams.end_streams(conn, [str(run_id)])
        self.executor.interrupt([str(run_id)])

    async def join_run_http_threads_thread_id_runs_run_id_join_get(
        self, *, thread_id: UUID, run_id: UUID, cancel_on_disconnect: bool = False
    ) -> Any:
        async with self.db.read() as conn:
            await self._run_row(conn, str(thread_id), str(run_id))
        return await self._join(str(thread_id), str(run_id))

    async def cancel_run_http_threads_thread_id_runs_run_id_cancel_post(
        self,
        *,
        thread_id: UUID,
        run_id: UUID,
        wait: bool = False,
        action: models.CancelRunHttpThreadsThreadIdRunsRunIdCancelPostAction = models.CancelRunHttpThreadsThreadIdRunsRunIdCancelPostAction.interrupt,
    ) -> None:
        """Cancel one run; with `wait`, answer once it has stopped (or been deleted)."""
        await self._cancel(queue.Selection(thread_id=str(thread_id), run_ids=(str(run_id),)), action.value)
        if wait:
            await queue.wait_until_done(self.db, str(run_id), JOIN_POLL_SECONDS)

    async def cancel_runs_post(
        self,
        *,
        action: models.CancelRunsPostAction = models.CancelRunsPostAction.interrupt,
        body: models.RunsCancel,
    ) -> None:
        """Cancel by `status` (narrowed by `thread_id` and non-empty `run_ids` when given), or
        by `thread_id` with `run_ids`."""
        status = unset_to_none(body.status)
        thread_id = unset_to_none(body.thread_id)
        run_ids = tuple(str(r) for r in unset_to_none(body.run_ids) or ())
        if status is None:
            selection = queue.Selection(thread_id=str(thread_id), run_ids=run_ids)
        else:
            statuses = queue.ACTIVE if status == models.RunsCancelStatus.all else (status.value,)
            selection = queue.Selection(
                statuses=statuses, thread_id=str(thread_id) if thread_id else None, run_ids=run_ids or None
            )
        await self._cancel(selection, action.value)

    # --- streams ---------------------------------------------------------------------------

    def stream_run_threads_thread_id_runs_stream_post(
        self, *, thread_id: UUID, body: models.RunCreateStreamingStateful
    ) -> AsyncIterator[Any]:
        """Create a run and stream what it emits until it ends (LangGraph's event shapes)."""
        return self.create_and_stream(str(thread_id), body)

    def create_and_stream(
        self, thread_id: str, body: models.RunCreateStreamingStateful | models.RunCreateStreamingStateless
    ) -> AsyncIterator[Any]:
        run_id = str(uuid.uuid4())

        async def events() -> AsyncIterator[Any]:
            # Subscribed before the run exists: its first event cannot be missed.
            with self.executor.hub.subscription(run_id) as subscriber:
                row = await self._create(thread_id, body, run_id)
                yield Reply(None, headers=_stream_headers(row.thread_id, run_id))
                ended = False
                async for event in self._follow(
                    row.thread_id,
                    subscriber,
                    resumable=body.stream_resumable,
                    cancel_on_disconnect=body.on_disconnect == models.OnDisconnect.cancel,
                    modes=None,
                ):
                    yield event
                ended = True
            stateless = isinstance(body, models.RunCreateStreamingStateless)
            if ended and stateless and body.on_completion == models.RunCreateStatelessOnCompletion.delete:
                with contextlib.suppress(ApiError):
                    await delete_thread(self.db, row.thread_id)

        return events()

    def stream_run_http_threads_thread_id_runs_run_id_join_get(
        self,
        *,
        thread_id: UUID,
        run_id: UUID,
        stream_mode: str | None = None,
        cancel_on_disconnect: bool = False,
        last_event_id: str | None = None,
    ) -> AsyncIterator[Any]:
        """Follow a run's stream: from `Last-Event-ID` (or, for a run created with
        `stream_resumable`, from its start), else from now; it ends when the run ends."""
        tid, rid = str(thread_id), str(run_id)

        async def events() -> AsyncIterator[Any]:
            after = _event_id(last_event_id)
            async with self.db.read() as conn:
                row = await self._run_row(conn, tid, rid)
                latest = await streams.latest_seq(conn, rid)
            resumable = bool((row.kwargs or {}).get("stream_resumable"))
            yield Reply(None, headers=_stream_headers(tid, rid))
            if after is None:
                if not resumable and row.status not in queue.ACTIVE:
                    return  # ended before this join: nothing more will come
                after = 0 if resumable else latest
            # Subscribed from `after` on: whatever is written after that read has a later id (a
            # run's events are written one transaction after another), so nothing is missed.
            modes = frozenset(m.strip() for m in stream_mode.split(",") if m.strip()) if stream_mode else None
            with self.executor.hub.subscription(rid, after) as subscriber:
                async for event in self._follow(
                    tid, subscriber, resumable=resumable, cancel_on_disconnect=cancel_on_disconnect, modes=modes
                ):
                    yield event

        return events()

    async def _follow(
        self,
        thread_id: str,
        subscriber: streams.Subscriber,
        *,
        resumable: bool,
        cancel_on_disconnect: bool,
        modes: frozenset[str] | None,
    ) -> AsyncIterator[ServerSentEvent]:
        """The run's events as SSE; if the client goes away first and asked for it, the run is
        cancelled (`on_disconnect=cancel`, `cancel_on_disconnect=true`)."""
        finished = False
        run_id = subscriber.run_id
        try:
            async for event in streams.follow(self.db, self.executor.hub, subscriber):
                if modes is not None and event.event not in ("metadata", "error") and event.event.split("|")[0] not in modes:
                    continue
                yield ServerSentEvent(event=event.event, raw_data=event.data, id=str(event.seq) if resumable else None)
            finished = True
        finally:
            if not finished and cancel_on_disconnect:
                task = asyncio.create_task(self._cancel_quietly(thread_id, run_id))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _cancel_quietly(self, thread_id: str, run_id: str) -> None:
        with contextlib.suppress(ApiError):
            await self._cancel(queue.Selection(thread_id=thread_id, run_ids=(run_id,)), "interrupt")

    async def _cancel(self, selection: queue.Selection, action: str) -> None:
        try:
            async with self.db.write() as conn:
                cancelled = await queue.cancel_runs(conn, selection, action)
        except queue.NotFound as exc:
            raise ApiError(404, str(exc)) from None
        self.executor.interrupt(cancelled.running)

    async def _create(
        self,
        thread_id: str,
        body: models.RunCreateStateful | models.RunCreateStreamingStateful | models.RunCreateStreamingStateless,
        run_id: str | None = None,
    ) -> Any:
        now = utcnow()
        run_id = run_id or str(uuid.uuid4())
        # The spec's default is enqueue; LangGraph's server (and this one) rejects unless asked.
        strategy = "reject"
        if isinstance(body, models.RunCreateStateful) and "multitask_strategy" in body.model_fields_set:
            strategy = body.multitask_strategy.value
        # A stateless run makes its own thread.
        create_missing = not isinstance(body, models.RunCreateStateful) or (
            body.if_not_exists == models.RunCreateStatefulIfNotExists.create
        )
        after = unset_to_none(body.after_seconds) or 0.0
        try:
            async with self.db.write() as conn:
                assistant = await resolve_assistant(conn, body.assistant_id)
                cancelled = await queue.create_run(
                    conn,
                    {
                        "run_id": run_id,
                        "thread_id": thread_id,
                        "assistant_id": assistant.assistant_id,
                        "graph_id": assistant.graph_id,
                        "status": "pending",
                        "metadata": unset_to_none(body.metadata) or {},
                        "kwargs": body.model_dump(mode="json", exclude=RUN_FIELDS),
                        "multitask_strategy": strategy,
                        "created_at": now,
                        "updated_at": now,
                        "available_at": now + timedelta(seconds=max(after, 0.0)),
                        "attempts": 0,
                    },
                    create_missing_thread=create_missing,
                )
                row = (await conn.execute(sa.select(runs).where(runs.c.run_id == run_id))).one()
        except queue.NotFound as exc:
            raise ApiError(404, str(exc)) from None
        except queue.Conflict as exc:
            raise ApiError(409, str(exc)) from None
        self.executor.interrupt(cancelled.running)
        self.executor.notify()
        return row

    async def _join(self, thread_id: str, run_id: str) -> Any:
        """The thread's values once the run is done (LangGraph's `__error__` if it failed or timed out)."""
        row = await queue.wait_until_done(self.db, run_id, JOIN_POLL_SECONDS)
        if row is None:
            raise _not_found("Run", run_id)
        if row.status in ("error", "timeout"):
            return {"__error__": row.error or {"error": "Error", "message": f"run ended {row.status}"}}
        async with self.db.read() as conn:
            checkpoint = await queue.latest_checkpoint(conn, thread_id)
        return checkpoint.values if checkpoint is not None else {}

    async def _run_row(self, conn: AsyncConnection, thread_id: str, run_id: str) -> Any:
        row = (
            await conn.execute(sa.select(runs).where(runs.c.run_id == run_id, runs.c.thread_id == thread_id))
        ).first()
        if row is None:
            if not await queue.thread_exists(conn, thread_id):
                raise _not_found("Thread", thread_id)
            raise _not_found("Run", run_id)
        return row


class StatelessRuns(StatelessRunsApi):
    """`POST /runs/stream`: a run on a thread of its own, streamed; the thread is deleted after
    the run ends unless `on_completion` is `keep` (as LangGraph does)."""

    def __init__(self, runs_api: ThreadRuns) -> None:
        self.runs_api = runs_api

    def stream_run_stateless_runs_stream_post(self, *, body: models.RunCreateStreamingStateless) -> AsyncIterator[Any]:
        return self.runs_api.create_and_stream(str(uuid.uuid4()), body)
