"""Run streams: the events a run's worker emits, carried to whichever process holds a client's
connection, in LangGraph's shapes.

The worker appends each event to `run_events` (batched: one transaction per flush for every run
this process executes) and announces the runs that have new events (`events <ids>` on the
channel: NOTIFY on PostgreSQL, the local bus on SQLite). A stream reads the store when that
message arrives, not per event and not on a timer (a slow poll stays as a safety net, and a fast
one while the channel is down). A run's stream ends with its `done` control event, written in
the transaction that ends the run (finished, cancelled, deleted), so a stream never outlives its
run and sees every state event before the end.

Event ids are `run_events.seq`; a stream sends them when the run was created with
`stream_resumable=true`, and `Last-Event-ID` resumes after that event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import Database, notify, run_events, runs, utcnow

logger = logging.getLogger("service.streams")

CONTROL = "control"
DONE = "done"
# Events a stream reads from the store at once.
PAGE = 256
# How long a stream waits for a message before reading the store anyway (channel up / down).
SAFETY_POLL_SECONDS = 2.0
FALLBACK_POLL_SECONDS = 0.1
# How often a worker writes the events its runs emitted (and how many it holds at most).
FLUSH_SECONDS = 0.01
FLUSH_EVENTS = 500


def encode(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


async def end_streams(conn: AsyncConnection, run_ids: Sequence[str]) -> None:
    """Close the streams of these runs (in the transaction that ends them)."""
    if not run_ids:
        return
    now = utcnow()
    await conn.execute(
        sa.insert(run_events),
        [{"run_id": run_id, "event": CONTROL, "data": DONE, "created_at": now} for run_id in run_ids],
    )
    await notify(conn, "events", sorted(run_ids))


async def drop_events(conn: AsyncConnection, run_ids: Sequence[str]) -> None:
    """Forget what these runs emitted (they are deleted); their streams get `done` after."""
    if run_ids:
        await conn.execute(sa.delete(run_events).where(run_events.c.run_id.in_(list(run_ids))))


# --- the worker's side ------------------------------------------------------------------------


class EventWriter:
    """Appends the events of the runs this process executes, in order, a batch at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._flushed = asyncio.Condition()
        self._written = 0
        self._queued = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="service-event-writer")

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 5.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def emit(self, run_id: str, event: str, data: Any) -> None:
        self._pending.append({"run_id": run_id, "event": event, "data": encode(data), "created_at": utcnow()})
        self._queued += 1
        self._wake.set()

    async def flush(self) -> None:
        """Return once every event emitted so far is in the store."""
        target = self._queued
        self._wake.set()
        async with self._flushed:
            await self._flushed.wait_for(lambda: self._written >= target)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(FLUSH_SECONDS)  # gather what the other runs emit meanwhile
            while self._pending:
                batch, self._pending = self._pending[:FLUSH_EVENTS], self._pending[FLUSH_EVENTS:]
                await self._write(batch)
                async with self._flushed:
                    self._written += len(batch)
                    self._flushed.notify_all()

    async def _write(self, batch: list[dict[str, Any]]) -> None:
        delay = 0.05
        while True:
            try:
                async with self.db.write(background=True) as conn:
                    await conn.execute(sa.insert(run_events), batch)
                    await notify(conn, "events", sorted({row["run_id"] for row in batch}))
                return
            except Exception:  # retried: events are not dropped while the store is away
                logger.warning("writing %d run events failed; retrying", len(batch), exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)


@dataclass
class RunStream:
    """What a graph's `stream_writer()` sends to: the run's `custom` events, if asked for."""

    writer: EventWriter
    run_id: str
    modes: frozenset[str]

    def __call__(self, data: Any) -> None:
        if "custom" in self.modes:
            self.writer.emit(self.run_id, "custom", data)


current: ContextVar[RunStream | None] = ContextVar("service_run_stream", default=None)


def stream_modes(kwargs: dict[str, Any]) -> frozenset[str]:
    """The stream modes a run was created with (LangGraph's default: values)."""
    modes = kwargs.get("stream_mode") or ["values"]
    return frozenset([modes] if isinstance(modes, str) else modes)


# --- the client's side -------------------------------------------------------------------------


class StreamHub:
    """This process's open streams, woken by `events` messages for their runs."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self.channel_up = lambda: False

    def wake(self, run_ids: Iterable[str]) -> None:
        for run_id in run_ids:
            for waiter in self._waiters.get(run_id, ()):
                waiter.set()

    @contextlib.contextmanager
    def subscription(self, run_id: str) -> Any:
        waiter = asyncio.Event()
        self._waiters.setdefault(run_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(run_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[run_id]

    @property
    def open_streams(self) -> int:
        return sum(len(w) for w in self._waiters.values())


@dataclass(frozen=True)
class Event:
    seq: int
    event: str
    data: str


async def latest_seq(conn: AsyncConnection, run_id: str) -> int:
    return int(await conn.scalar(sa.select(sa.func.max(run_events.c.seq)).where(run_events.c.run_id == run_id)) or 0)


async def follow(
    db: Database, hub: StreamHub, run_id: str, after: int, waiter: asyncio.Event
) -> AsyncIterator[Event]:
    """The events of `run_id` after `after`, as they are written, until its `done`.

    Ends too if the run is gone without one (deleted by an older server, say). `waiter` is the
    stream's subscription, taken before the run was created or read.
    """
    while True:
        waiter.clear()
        async with db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(run_events.c.seq, run_events.c.event, run_events.c.data)
                    .where(run_events.c.run_id == run_id, run_events.c.seq > after)
                    .order_by(run_events.c.seq)
                    .limit(PAGE)
                )
            ).all()
        for seq, event, data in rows:
            if event == CONTROL:
                if data == DONE:
                    return
                continue
            after = seq
            yield Event(seq, event, data)
        if rows:
            after = max(after, rows[-1][0])
            continue
        timeout = SAFETY_POLL_SECONDS if hub.channel_up() else FALLBACK_POLL_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout)
        if not waiter.is_set():
            async with db.read() as conn:
                exists = await conn.scalar(sa.select(runs.c.run_id).where(runs.c.run_id == run_id))
            if exists is None and not await _has_done(db, run_id):
                return


async def _has_done(db: Database, run_id: str) -> bool:
    async with db.read() as conn:
        found = await conn.scalar(
            sa.select(run_events.c.seq).where(run_events.c.run_id == run_id, run_events.c.event == CONTROL).limit(1)
        )
    return found is not None
