"""The run queue, kept in the store: create, claim, finish, cancel and recover runs.

A run is created `pending`, claimed FIFO by a worker process (`running`, one at a time per
thread) and ends `success`, `error`, `timeout` or `interrupted`, or is deleted by a rollback.
Each function here is one step inside a `Database.write()` transaction, so every transition is
atomic across processes. Cancelling a pending run finishes it at once; cancelling a running run
records `cancel_action`, and the worker executing it stops the work and finishes the run.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import Database, checkpoints, runs, threads, utcnow, workers

ACTIVE = ("pending", "running")
TERMINAL = ("success", "error", "timeout", "interrupted")
ACTIONS = ("interrupt", "rollback")
# A run whose worker died this many times is given up (`error`) instead of queued again.
MAX_ATTEMPTS = 3
# A worker that has not shown a sign of life for this long is dead, wherever it runs.
WORKER_STALE_SECONDS = 30.0


class NotFound(Exception):
    """Nothing to act on (answers 404)."""


class Conflict(Exception):
    """The thread is busy and the run's multitask strategy is `reject` (answers 409)."""


@dataclass(frozen=True)
class Selection:
    """The runs a cancel addresses: by status, and/or by thread and run ids."""

    statuses: tuple[str, ...] | None = None
    thread_id: str | None = None
    run_ids: tuple[str, ...] | None = None


@dataclass
class Cancelled:
    """What a cancel did: pending runs it finished, running runs it asked to stop (by worker)."""

    pending: list[str] = field(default_factory=list)
    running: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Claimed:
    """A run a worker took: what it needs to execute it."""

    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: str
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """How an execution ended, as its worker saw it."""

    kind: Literal["success", "error", "timeout", "stopped", "requeue"]
    output: Any = None
    error: dict[str, Any] | None = None


async def thread_exists(conn: AsyncConnection, thread_id: str) -> bool:
    found = await conn.scalar(sa.select(threads.c.thread_id).where(threads.c.thread_id == thread_id))
    return found is not None


async def latest_checkpoint(conn: AsyncConnection, thread_id: str) -> sa.Row[Any] | None:
    result = await conn.execute(
        sa.select(checkpoints).where(checkpoints.c.thread_id == thread_id).order_by(checkpoints.c.seq.desc()).limit(1)
    )
    return result.first()


async def create_thread(conn: AsyncConnection, thread_id: str, metadata: dict[str, Any], now: datetime) -> None:
    await conn.execute(
        sa.insert(threads).values(thread_id=thread_id, metadata=metadata, created_at=now, updated_at=now)
    )


async def _touch_threads(conn: AsyncConnection, thread_ids: Iterable[str], now: datetime, *, state: bool = False) -> None:
    values: dict[str, Any] = {"updated_at": now}
    if state:
        values["state_updated_at"] = now
    await conn.execute(sa.update(threads).where(threads.c.thread_id.in_(sorted(set(thread_ids)))).values(**values))


async def create_run(conn: AsyncConnection, run: dict[str, Any], *, create_missing_thread: bool) -> Cancelled:
    """Queue `run` (its column values) on its thread, applying its multitask strategy.

    `reject` raises Conflict when the thread has a pending or running run; `interrupt` and
    `rollback` cancel those runs with that action; `enqueue` queues the run behind them.
    """
    thread_id = run["thread_id"]
    now = run["created_at"]
    if not await thread_exists(conn, thread_id):
        if not create_missing_thread:
            raise NotFound(f"Thread {thread_id} not found")
        await create_thread(conn, thread_id, {}, now)
    active = (
        await conn.execute(
            sa.select(runs.c.run_id, runs.c.thread_id, runs.c.status, runs.c.worker_id)
            .where(runs.c.thread_id == thread_id, runs.c.status.in_(ACTIVE))
            .order_by(runs.c.seq)
        )
    ).all()
    cancelled = Cancelled()
    strategy = run["multitask_strategy"]
    if active and strategy == "reject":
        raise Conflict(f"Thread {thread_id} is busy with run {active[0].run_id}; multitask_strategy is reject")
    if active and strategy in ACTIONS:
        cancelled = await _cancel(conn, active, strategy, now)
    await conn.execute(sa.insert(runs).values(**run))
    await _touch_threads(conn, [thread_id], now)
    return cancelled


async def cancel_runs(conn: AsyncConnection, selection: Selection, action: str) -> Cancelled:
    """Cancel the pending and running runs `selection` matches.

    NotFound when the thread is unknown, when no run matches, or when none of the matches is
    pending or running.
    """
    query = sa.select(runs.c.run_id, runs.c.thread_id, runs.c.status, runs.c.worker_id).order_by(runs.c.seq)
    if selection.thread_id is not None:
        if not await thread_exists(conn, selection.thread_id):
            raise NotFound(f"Thread {selection.thread_id} not found")
        query = query.where(runs.c.thread_id == selection.thread_id)
    if selection.run_ids is not None:
        query = query.where(runs.c.run_id.in_(selection.run_ids))
    if selection.statuses is not None:
        query = query.where(runs.c.status.in_(selection.statuses))
    matched = (await conn.execute(query)).all()
    if not matched:
        raise NotFound("No run matched" if selection.statuses is None else "No pending or running run to cancel")
    active = [row for row in matched if row.status in ACTIVE]
    if not active:
        raise NotFound(f"No pending or running run among the {len(matched)} matched; nothing to cancel")
    return await _cancel(conn, active, action, utcnow())


async def _cancel(conn: AsyncConnection, rows: Sequence[Any], action: str, now: datetime) -> Cancelled:
    pending = [row.run_id for row in rows if row.status == "pending"]
    running = {row.run_id: row.worker_id for row in rows if row.status == "running"}
    if pending and action == "rollback":
        await _delete_runs(conn, pending)
    elif pending:
        await conn.execute(
            sa.update(runs)
            .where(runs.c.run_id.in_(pending), runs.c.status == "pending")
            .values(status="interrupted", updated_at=now)
        )
    if running:
        # A rollback asked after an interrupt still deletes the run; never the other way round.
        stronger = sa.case((runs.c.cancel_action == "rollback", "rollback"), else_=sa.literal(action))
        await conn.execute(
            sa.update(runs)
            .where(runs.c.run_id.in_(list(running)), runs.c.status == "running")
            .values(cancel_action=stronger)
        )
    await _touch_threads(conn, (row.thread_id for row in rows), now)
    return Cancelled(pending=pending, running=running)


async def _delete_runs(conn: AsyncConnection, run_ids: Sequence[str]) -> None:
    """Delete runs and their checkpoints, so their threads' state is what it was before them."""
    await conn.execute(sa.delete(checkpoints).where(checkpoints.c.run_id.in_(run_ids)))
    await conn.execute(sa.delete(runs).where(runs.c.run_id.in_(run_ids)))


def _claimable(now: datetime) -> sa.Select[Any]:
    """Pending runs ready to start, oldest first: none running on their thread, none older waiting."""
    busy = runs.alias("busy")
    earlier = runs.alias("earlier")
    return (
        sa.select(runs)
        .where(
            runs.c.status == "pending",
            runs.c.available_at <= now,
            ~sa.exists().where(busy.c.thread_id == runs.c.thread_id, busy.c.status == "running"),
            ~sa.exists().where(
                earlier.c.thread_id == runs.c.thread_id, earlier.c.status == "pending", earlier.c.seq < runs.c.seq
            ),
        )
        .order_by(runs.c.seq)
        .limit(1)
    )


async def has_claimable(conn: AsyncConnection) -> bool:
    return (await conn.execute(_claimable(utcnow()))).first() is not None


async def claim_next(conn: AsyncConnection, worker_id: str) -> Claimed | None:
    """Take the oldest claimable run for `worker_id` and checkpoint its input; None if none."""
    now = utcnow()
    row = (await conn.execute(_claimable(now))).first()
    if row is None:
        return None
    await conn.execute(
        sa.update(runs)
        .where(runs.c.run_id == row.run_id, runs.c.status == "pending")
        .values(status="running", worker_id=worker_id, attempts=runs.c.attempts + 1, updated_at=now)
    )
    run_input = (row.kwargs or {}).get("input")
    await _checkpoint(conn, row.thread_id, row.run_id, run_input if isinstance(run_input, dict) else {}, "input", -1, now)
    return Claimed(
        run_id=row.run_id,
        thread_id=row.thread_id,
        assistant_id=row.assistant_id,
        graph_id=row.graph_id,
        kwargs=dict(row.kwargs or {}),
    )


async def _checkpoint(
    conn: AsyncConnection, thread_id: str, run_id: str, update: dict[str, Any], source: str, step: int, now: datetime
) -> None:
    """A new checkpoint of the thread: the latest values updated with `update`."""
    parent = await latest_checkpoint(conn, thread_id)
    values = {**(parent.values if parent is not None else {}), **update}
    await conn.execute(
        sa.insert(checkpoints).values(
            checkpoint_id=str(uuid.uuid4()),
            thread_id=thread_id,
            run_id=run_id,
            parent_checkpoint_id=parent.checkpoint_id if parent is not None else None,
            values=values,
            metadata={"source": source, "step": step, "run_id": run_id},
            created_at=now,
        )
    )
    await _touch_threads(conn, [thread_id], now, state=True)


async def finish_run(conn: AsyncConnection, run_id: str, worker_id: str, outcome: Outcome) -> str | None:
    """Record how `worker_id`'s execution of `run_id` ended; its final status, `deleted`, or None.

    A cancel recorded on the run wins over the execution's own outcome. None when the run is no
    longer this worker's to finish (deleted, or taken back from a worker thought dead).
    """
    row = (
        await conn.execute(
            sa.select(runs.c.thread_id, runs.c.status, runs.c.worker_id, runs.c.cancel_action).where(
                runs.c.run_id == run_id
            )
        )
    ).first()
    if row is None or row.status != "running" or row.worker_id != worker_id:
        return None
    now = utcnow()
    if row.cancel_action == "rollback":
        await _delete_runs(conn, [run_id])
        await _touch_threads(conn, [row.thread_id], now, state=True)
        return "deleted"
    values: dict[str, Any] = {"updated_at": now, "worker_id": None}
    if row.cancel_action is not None or outcome.kind == "stopped":
        values["status"] = "interrupted"
    elif outcome.kind == "requeue":
        values["status"] = "pending"
    elif outcome.kind == "success":
        output = outcome.output
        await _checkpoint(conn, row.thread_id, run_id, output if isinstance(output, dict) else {"output": output}, "loop", 0, now)
        values["status"] = "success"
    else:
        values.update(status=outcome.kind, error=outcome.error)
    await conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(**values))
    await _touch_threads(conn, [row.thread_id], now)
    return str(values["status"])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_alive(
    worker: Any, *, me: str, hostname: str, now: float, alive: Callable[[int], bool] = pid_alive
) -> bool:
    """Whether a `workers` row stands for a live process (a missing row is a dead one)."""
    if worker is None:
        return False
    if worker.worker_id == me:
        return True
    if now - worker.heartbeat > WORKER_STALE_SECONDS:
        return False
    if worker.hostname == hostname:
        # Same machine: a process that is gone (or whose pid is now ours) is dead at once.
        return worker.pid != os.getpid() and alive(worker.pid)
    return True


async def dead_workers(conn: AsyncConnection, *, me: str, hostname: str, now: float) -> set[str]:
    """Workers holding `running` runs, or registered, that are no longer alive."""
    owners = set(
        (
            await conn.execute(
                sa.select(runs.c.worker_id).distinct().where(runs.c.status == "running", runs.c.worker_id.is_not(None))
            )
        ).scalars()
    )
    known = {row.worker_id: row for row in (await conn.execute(sa.select(workers))).all()}
    return {
        worker_id
        for worker_id in owners | set(known)
        if not worker_alive(known.get(worker_id), me=me, hostname=hostname, now=now)
    }


async def recover(conn: AsyncConnection, dead: set[str]) -> dict[str, str]:
    """Finish or re-queue the running runs of dead workers; {run_id: what became of it}.

    A run with a cancel pending is finished as that cancel asks; others go back to `pending`
    (ahead of newer runs, keeping their place) unless they have used up MAX_ATTEMPTS.
    """
    if not dead:
        return {}
    now = utcnow()
    rows = (
        await conn.execute(
            sa.select(runs.c.run_id, runs.c.thread_id, runs.c.cancel_action, runs.c.attempts).where(
                runs.c.status == "running", runs.c.worker_id.in_(sorted(dead))
            )
        )
    ).all()
    fate: dict[str, str] = {}
    for row in rows:
        if row.cancel_action == "rollback":
            await _delete_runs(conn, [row.run_id])
            fate[row.run_id] = "deleted"
            continue
        values: dict[str, Any] = {"worker_id": None, "updated_at": now}
        if row.cancel_action == "interrupt":
            values["status"] = "interrupted"
        elif row.attempts >= MAX_ATTEMPTS:
            values["status"] = "error"
            values["error"] = {"error": "WorkerLost", "message": f"the worker process died {row.attempts} times running it"}
        else:
            values["status"] = "pending"
        await conn.execute(sa.update(runs).where(runs.c.run_id == row.run_id).values(**values))
        fate[row.run_id] = values["status"]
    if rows:
        await _touch_threads(conn, (row.thread_id for row in rows), now)
    await conn.execute(sa.delete(workers).where(workers.c.worker_id.in_(sorted(dead))))
    return fate


async def wait_until_done(db: Database, run_id: str, poll: float) -> sa.Row[Any] | None:
    """The run once it is neither pending nor running; None if it is (or gets) deleted."""
    while True:
        async with db.read() as conn:
            row = (await conn.execute(sa.select(runs).where(runs.c.run_id == run_id))).first()
        if row is None or row.status not in ACTIVE:
            return row
        await asyncio.sleep(poll)
