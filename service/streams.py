"""Run streams: the events a run's worker emits, carried to whichever process holds a client's
connection, in LangGraph's shapes.

The worker appends each event to `run_events` (batched: one transaction per flush for every run
this process executes) and announces the runs that have new events (`events <ids>` on the
channel: NOTIFY on PostgreSQL, the local bus on SQLite). When that message arrives, the process
holding streams reads the new events of all their runs in one query (not per event, not per
stream, not on a timer: a slow poll stays as a safety net, and a fast one while the channel is
down). A run's stream ends with its `done` control event, written in
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
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import Database, notify, run_events, runs, utcnow

logger = logging.getLogger("service.streams")

CONTROL = "control"
DONE = "done"
# Events read from the store at once, for all the streams of a process.
READ_EVENTS = 2000
# Events a stream holds for a client that has not taken them yet.
BUFFER_EVENTS = 500
# How long a stream waits for a message before reading the store anyway (channel up / down).
SAFETY_POLL_SECONDS = 5.0
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


@dataclass(frozen=True)
class Event:
    seq: int
    event: str
    data: str


class Subscriber:
    """One open stream of a run: the events read for it and not yet sent."""

    def __init__(self, run_id: str, after: int = 0) -> None:
        self.run_id = run_id
        # The last event read for this stream (the join point, until events arrive).
        self.after = after
        self.buffer: deque[Event] = deque()
        self.ready = asyncio.Event()

    @property
    def full(self) -> bool:
        return len(self.buffer) >= BUFFER_EVENTS


class StreamHub:
    """This process's open streams. One reader serves them all: when runs have new events (an
    `events` message, or a stream asking), it reads them for every such run in one query and
    hands each stream what it has not seen; a stream whose client is slow is not read for until
    it has sent most of what it holds (back-pressure reaches the store, not this process's memory).
    """

    def __init__(self) -> None:
        self.db: Database | None = None
        self.channel_up: Callable[[], bool] = lambda: False
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    def start(self, db: Database) -> None:
        self.db = db
        self._reader = asyncio.create_task(self._read(), name="service-stream-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def wake(self, run_ids: Iterable[str]) -> None:
        """These runs may have new events: read them for their streams."""
        for run_id in run_ids:
            if run_id in self._subscribers:
                self._dirty.add(run_id)
        if self._dirty:
            self._wake.set()

    @contextlib.contextmanager
    def subscription(self, run_id: str, after: int = 0) -> Iterator[Subscriber]:
        """A stream of `run_id` from the event after `after`, registered until the block ends
        (its `after` is fixed from here on: the reader may fill it at once)."""
        subscriber = Subscriber(run_id, after)
        self._subscribers.setdefault(run_id, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            subscribers = self._subscribers.get(run_id)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._subscribers[run_id]

    async def _read(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._read_dirty()
            except Exception:  # the store is away: the streams' own timers ask again
                logger.warning("reading run events failed", exc_info=True)
                await asyncio.sleep(0.2)

    async def _read_dirty(self) -> None:
        assert self.db is not None
        while self._dirty:
            cursors: dict[str, int] = {}
            for run_id in sorted(self._dirty):
                hungry = [s for s in self._subscribers.get(run_id, ()) if not s.full]
                if hungry:
                    cursors[run_id] = min(s.after for s in hungry)
            self._dirty.clear()
            if not cursors:
                return
            condition = sa.or_(
                *(sa.and_(run_events.c.run_id == run_id, run_events.c.seq > after) for run_id, after in cursors.items())
            )
            async with self.db.read() as conn:
                rows = (
                    await conn.execute(
                        sa.select(run_events.c.seq, run_events.c.run_id, run_events.c.event, run_events.c.data)
                        .where(condition)
                        .order_by(run_events.c.seq)
                        .limit(READ_EVENTS)
                    )
                ).all()
            touched: set[Subscriber] = set()
            for seq, run_id, event, data in rows:
                for subscriber in self._subscribers.get(run_id, ()):
                    # Only to streams this read covers from their position on: one that joined
                    # during the read, further back, would miss what lies between.
                    if subscriber.after < cursors[run_id]:
                        if not subscriber.full:
                            self._dirty.add(run_id)
                    elif seq > subscriber.after and not subscriber.full:
                        subscriber.buffer.append(Event(seq, event, data))
                        subscriber.after = seq
                        touched.add(subscriber)
            for subscriber in touched:
                subscriber.ready.set()
            if len(rows) == READ_EVENTS:
                self._dirty.update(cursors)


async def latest_seq(conn: AsyncConnection, run_id: str) -> int:
    return int(await conn.scalar(sa.select(sa.func.max(run_events.c.seq)).where(run_events.c.run_id == run_id)) or 0)


async def follow(db: Database, hub: StreamHub, subscriber: Subscriber) -> AsyncIterator[Event]:
    """The events of the subscriber's run after `subscriber.after`, as they are written, until
    its `done`. Ends too if the run is gone without one.

    The subscription is taken before the run was created or read, so nothing written after that
    is missed; the first read happens here.
    """
    hub.wake([subscriber.run_id])
    while True:
        while subscriber.buffer:
            event = subscriber.buffer.popleft()
            if len(subscriber.buffer) == BUFFER_EVENTS // 2:
                hub.wake([subscriber.run_id])  # room again: read on
            if event.event == CONTROL:
                if event.data == DONE:
                    return
                continue
            yield event
        subscriber.ready.clear()
        timeout = SAFETY_POLL_SECONDS if hub.channel_up() else FALLBACK_POLL_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscriber.ready.wait(), timeout)
        if not subscriber.ready.is_set():
            # Nothing came for a while: read anyway (a message may have been lost), and end a
            # stream whose run vanished without a `done`.
            hub.wake([subscriber.run_id])
            async with db.read() as conn:
                exists = await conn.scalar(sa.select(runs.c.run_id).where(runs.c.run_id == subscriber.run_id))
                ended = await conn.scalar(
                    sa.select(run_events.c.seq)
                    .where(run_events.c.run_id == subscriber.run_id, run_events.c.event == CONTROL)
                    .limit(1)
                )
            if exists is None and ended is None:
                return
