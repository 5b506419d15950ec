"""The runs one process executes: its share of the queue, stopped on cancel from any process.

Each process registers as a worker, claims pending runs FIFO while it has a free job slot
(N_JOBS_PER_WORKER), and executes each as an asyncio task, renewing the lease of each run it
holds. A cancel answered in this process stops its tasks at once. A cancel answered by another
process or instance arrives: on PostgreSQL, as a notification on the `codegen_runs` channel (no
polling on that path; a reconciliation every few seconds catches anything a notification could
not carry); on SQLite, or while the notification connection is down, from a monitor that polls
the store. The monitor also keeps the worker's heartbeat and finishes or re-queues the runs of
workers that died or whose lease lapsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import queue
from .db import Database, runs, unavailable, utcnow, workers
from .graphs import Graph
from .settings import Settings
from .streams import EventWriter, RunStream, StreamHub, current, stream_modes

logger = logging.getLogger("service.executor")

HEARTBEAT_SECONDS = 1.0
RECOVER_SECONDS = 2.0
# While notifications flow, the store is still read this often for runs to stop (a safety net).
RECONCILE_SECONDS = 5.0
# How long a worker keeps trying to record a run's end while the store is unreachable.
FINISH_RETRY_SECONDS = 120.0


def _log_failure(what: str, exc: Exception) -> None:
    """One line while the store is unreachable (it will be retried), a traceback otherwise."""
    if unavailable(exc):
        logger.warning("%s: store unreachable (%s)", what, type(exc).__name__)
    else:
        logger.exception("%s failed", what)


class Executor:
    """Claims and executes runs in this process; `start()` and `stop()` bracket its life."""

    def __init__(self, db: Database, settings: Settings, graphs: dict[str, Graph]) -> None:
        self.db = db
        self.settings = settings
        self.graphs = graphs
        self.worker_id = uuid.uuid4().hex
        self.hostname = settings.hostname or socket.gethostname()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping: set[str] = set()
        self._shutting_down = False
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._finishing: set[asyncio.Task[None]] = set()
        self._reconcile = asyncio.Event()
        self.channel = db.open_channel(self._notified, self._reconcile.set)
        self.hub = StreamHub()
        self.hub.channel_up = lambda: bool(self.channel.connected)
        self.events = EventWriter(db)

    async def start(self) -> None:
        """Register this worker, take back the runs of dead ones, then start claiming."""
        async with self.db.write(background=True) as conn:
            await self._register(conn)
        await self.recover()
        await self.channel.start()
        self.events.start()
        self.hub.start(self.db)
        self._loops = [
            asyncio.create_task(self._dispatch(), name="service-dispatch"),
            asyncio.create_task(self._monitor(), name="service-monitor"),
        ]

    async def stop(self) -> None:
        """Stop claiming; runs still executing go back to `pending` for another worker."""
        self._shutting_down = True
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._finishing, return_exceptions=True)
        await self.events.stop()
        await self.hub.stop()
        async with self.db.write(background=True) as conn:
            await conn.execute(sa.delete(workers).where(workers.c.worker_id == self.worker_id))
        await self.channel.stop()

    def notify(self) -> None:
        """A run was queued: look for work now rather than at the next poll."""
        self._wake.set()

    def interrupt(self, run_ids: Iterable[str]) -> None:
        """Stop the executions of these runs that this process holds (their cancel is recorded)."""
        for run_id in run_ids:
            task = self.tasks.get(run_id)
            if task is not None and run_id not in self._stopping:
                self._stopping.add(run_id)
                task.cancel()

    def _notified(self, kind: str, ids: list[str]) -> None:
        """A message on the channel: runs to stop (`cancel`), runs to claim (`queued`), or runs
        with new events for the streams open here (`events`)."""
        if kind == "events":
            self.hub.wake(ids)
        elif kind == "cancel":
            # Committed before it was sent: finishing the run reads what the cancel asked.
            self.interrupt(run_id for run_id in ids if run_id in self.tasks)
        elif kind == "queued":
            self.notify()

    async def recover(self) -> dict[str, str]:
        """Finish or re-queue the running runs of workers that died or whose lease lapsed."""
        async with self.db.read(background=True) as conn:
            dead = await queue.dead_workers(conn, me=self.worker_id, hostname=self.hostname, now=time.time())
            lapsed = await queue.lapsed(conn, time.time())
        if not dead and not lapsed:
            return {}
        async with self.db.write(background=True) as conn:
            # Judged again in the writing transaction, so a worker's last-moment heartbeat counts.
            dead = await queue.dead_workers(conn, me=self.worker_id, hostname=self.hostname, now=time.time())
            fate = await queue.recover(conn, dead, time.time())
        if fate:
            logger.warning("recovered %d runs of dead workers: %s", len(fate), fate)
            self.notify()
        return fate

    async def _dispatch(self) -> None:
        while True:
            try:
                claimed = await self._claim() if len(self.tasks) < self.settings.jobs_per_worker else None
            except Exception as exc:  # noqa: BLE001 - logged; the loop claims again
                _log_failure("claiming a run", exc)
                claimed = None
            if claimed is not None:
                self._spawn(claimed)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    async def _claim(self) -> queue.Claimed | None:
        async with self.db.read(background=True) as conn:
            if not await queue.has_claimable(conn):
                return None
        async with self.db.write(background=True) as conn:
            return await queue.claim_next(conn, self.worker_id, self.settings.lease_seconds)

    def _spawn(self, claimed: queue.Claimed) -> None:
        task = asyncio.create_task(self._execute(claimed), name=f"run-{claimed.run_id}")
        self.tasks[claimed.run_id] = task
        task.add_done_callback(functools.partial(self._done, claimed.run_id))

    async def _execute(self, claimed: queue.Claimed) -> None:
        outcome = await self._run_graph(claimed)
        # What the run emitted is in the store before the transaction that ends its streams.
        await self.events.flush()
        await self._finish(claimed.run_id, outcome)

    def _done(self, run_id: str, task: asyncio.Task[None]) -> None:
        self.tasks.pop(run_id, None)
        self._stopping.discard(run_id)
        self.notify()
        if task.cancelled():
            # Cancelled before it started, or while recording its end: record it now.
            outcome = queue.Outcome("requeue" if self._shutting_down else "stopped")
            finishing = asyncio.create_task(self._finish(run_id, outcome))
            self._finishing.add(finishing)
            finishing.add_done_callback(self._finishing.discard)

    async def _finish(self, run_id: str, outcome: queue.Outcome) -> None:
        deadline = time.monotonic() + FINISH_RETRY_SECONDS
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.db.write(background=True) as conn:
                    await queue.finish_run(conn, run_id, self.worker_id, outcome)
                return
            except Exception as exc:
                # Unrecorded, the run would stay `running` until its lease lapses: retry while
                # the store is unreachable (a restart), a few times for anything else.
                if time.monotonic() > deadline or (attempt >= 5 and not unavailable(exc)):
                    logger.exception("recording the end of run %s failed; giving up after %d attempts", run_id, attempt)
                    return
                if unavailable(exc):
                    logger.warning("recording the end of run %s: store unreachable (%s)", run_id, type(exc).__name__)
                else:
                    logger.exception("recording the end of run %s failed (attempt %d)", run_id, attempt)
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))

    async def _run_graph(self, claimed: queue.Claimed) -> queue.Outcome:
        modes = stream_modes(claimed.kwargs)
        self.events.emit(claimed.run_id, "metadata", {"run_id": claimed.run_id, "attempt": claimed.attempt})
        if "values" in modes:
            self.events.emit(claimed.run_id, "values", claimed.values)
        graph = self.graphs.get(claimed.graph_id)
        if graph is None:
            return queue.Outcome("error", error={"error": "GraphNotFound", "message": f"no graph {claimed.graph_id!r}"})
        config = dict(claimed.kwargs.get("config") or {})
        config["configurable"] = {
            **(config.get("configurable") or {}),
            "run_id": claimed.run_id,
            "thread_id": claimed.thread_id,
            "graph_id": claimed.graph_id,
            "assistant_id": claimed.assistant_id,
        }
        # What the graph gets from `stream_writer()`: this run's `custom` events.
        current.set(RunStream(self.events, claimed.run_id, modes))
        try:
            async with asyncio.timeout(self.settings.run_timeout):
                output = await graph(claimed.kwargs.get("input"), config)
        except asyncio.CancelledError:
            # Stopped on purpose (cancel or shutdown); recording that must not be cancelled too.
            if (task := asyncio.current_task()) is not None:
                task.uncancel()
            return queue.Outcome("requeue" if self._shutting_down else "stopped")
        except TimeoutError:
            return queue.Outcome(
                "timeout", error={"error": "TimeoutError", "message": f"run exceeded {self.settings.run_timeout}s"}
            )
        except Exception as exc:  # noqa: BLE001 - a graph's failure is the run's `error`
            logger.info("run %s failed: %s", claimed.run_id, "".join(traceback.format_exception_only(exc)).strip())
            return queue.Outcome("error", error={"error": type(exc).__name__, "message": str(exc)})
        return queue.Outcome("success", output=output)

    async def _monitor(self) -> None:
        last_heartbeat = last_recover = last_reconcile = 0.0
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                now = time.monotonic()
                listening = bool(self.channel.connected)
                if not listening or self._reconcile.is_set() or now - last_reconcile >= RECONCILE_SECONDS:
                    # Polled only without notifications, and after (re)connecting, when some may be lost.
                    self._reconcile.clear()
                    await self._stop_cancelled()
                    last_reconcile = now
                if now - last_heartbeat >= HEARTBEAT_SECONDS:
                    await self._heartbeat()
                    last_heartbeat = now
                if now - last_recover >= RECOVER_SECONDS:
                    await self.recover()
                    last_recover = now
            except Exception as exc:  # noqa: BLE001 - logged; the loop goes on
                _log_failure("monitoring runs", exc)

    async def _stop_cancelled(self) -> None:
        """Stop executions whose run was cancelled, deleted or taken back through any process."""
        held = list(self.tasks)
        if not held:
            return
        async with self.db.read(background=True) as conn:
            rows: dict[str, Any] = {
                row.run_id: row
                for row in await conn.execute(
                    sa.select(runs.c.run_id, runs.c.status, runs.c.worker_id, runs.c.cancel_action).where(
                        runs.c.run_id.in_(held)
                    )
                )
            }
        self.interrupt(
            run_id
            for run_id in held
            if (row := rows.get(run_id)) is None
            or row.status != "running"
            or row.worker_id != self.worker_id
            or row.cancel_action is not None
        )

    async def _heartbeat(self) -> None:
        """The worker's sign of life, and the leases of the runs it executes, renewed."""
        async with self.db.write(background=True) as conn:
            updated = await conn.execute(
                sa.update(workers).where(workers.c.worker_id == self.worker_id).values(heartbeat=time.time())
            )
            if updated.rowcount == 0:
                # Judged dead while stalled; its runs were taken back, so it may simply register again.
                await self._register(conn)
            await queue.renew_leases(conn, self.worker_id, sorted(self.tasks), time.time() + self.settings.lease_seconds)

    async def _register(self, conn: AsyncConnection) -> None:
        await conn.execute(
            sa.insert(workers).values(
                worker_id=self.worker_id,
                hostname=self.hostname,
                pid=os.getpid(),
                started_at=utcnow(),
                heartbeat=time.time(),
            )
        )
