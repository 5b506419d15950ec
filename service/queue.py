"""The run queue, kept in the store: create, claim, finish, cancel and recover runs.

A run is created `pending`, claimed FIFO by a worker process (`running`, one at a time per
thread) and ends `success`, `error`, `timeout` or `interrupted`, or is deleted by a rollback.
Each function here is one step inside a `Database.write()` transaction, so every transition is
atomic across processes (and, on PostgreSQL, across instances: each step locks the rows of the
threads it changes first). Cancelling a pending run finishes it at once; cancelling a running run
records `cancel_action` and notifies every instance (`cancel` on the channel), and the worker
executing it stops the work and finishes the run.

A claimed run carries a lease (`lease_expires_at`) that its worker renews while it executes; a
run whose lease lapsed, or whose worker is known dead, is finished or queued again by `recover`.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import (
    Database,
    checkpoints,
    lock_threads,
    notify,
    run_events,
    runs,
    threads,
    utcnow,
    workers,
)
from .streams import drop_events, encode, end_streams, stream_modes

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
    attempt: int = 1
    # The thread's values once the input is applied (what `values` streams first).
    values: dict[str, Any] = field(default_factory=dict)


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


async def create_thread(conn: AsyncConnection, thread_id: str, metadata: dict[str, Any], now: datetime) -> bool:
    """Insert the thread unless it exists (also when another instance inserts it concurrently);
    whether this call created it."""
    values = {"thread_id": thread_id, "metadata": metadata, "created_at": now, "updated_at": now}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        result = await conn.execute(insert(threads).values(**values).on_conflict_do_nothing())
        return bool(result.rowcount)
    if await thread_exists(conn, thread_id):
        return False
    await conn.execute(sa.insert(threads).values(**values))
    return True


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
    if not await lock_threads(conn, [thread_id]):
        if not create_missing_thread:
            raise NotFound(f"Thread {thread_id} not found")
        await create_thread(conn, thread_id, {}, now)
        await lock_threads(conn, [thread_id])
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
    await notify(conn, "queued")
    return cancelled


async def cancel_runs(conn: AsyncConnection, selection: Selection, action: str) -> Cancelled:
    """Cancel the pending and running runs `selection` matches.

    NotFound when the thread is unknown, when no run matches, or when none of the matches is
    pending or running.
    """
    query = sa.select(runs.c.run_id, runs.c.thread_id, runs.c.status, runs.c.worker_id).order_by(runs.c.seq)
    if selection.thread_id is not None:
        if not await lock_threads(conn, [selection.thread_id]):
            raise NotFound(f"Thread {selection.thread_id} not found")
        query = query.where(runs.c.thread_id == selection.thread_id)
    if selection.run_ids is not None:
        query = query.where(runs.c.run_id.in_(selection.run_ids))
    if selection.statuses is not None:
        query = query.where(runs.c.status.in_(selection.statuses))
    locked: set[str] | None = None
    if selection.thread_id is None:
        # Lock the threads of the runs matched now, then read the runs again under those locks
        # (runs of threads not locked, queued meanwhile, are left alone: touching them would
        # take locks out of order).
        candidates = (await conn.execute(query.with_only_columns(runs.c.thread_id).distinct().order_by(None))).scalars()
        locked = set(await lock_threads(conn, candidates))
    matched = [row for row in (await conn.execute(query)).all() if locked is None or row.thread_id in locked]
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
    await end_streams(conn, pending)
    if running:
        # A rollback asked after an interrupt still deletes the run; never the other way round.
        stronger = sa.case((runs.c.cancel_action == "rollback", "rollback"), else_=sa.literal(action))
        await conn.execute(
            sa.update(runs)
            .where(runs.c.run_id.in_(list(running)), runs.c.status == "running")
            .values(cancel_action=stronger)
        )
        await notify(conn, "cancel", sorted(running))
    await _touch_threads(conn, (row.thread_id for row in rows), now)
    return Cancelled(pending=pending, running=running)


async def _delete_runs(conn: AsyncConnection, run_ids: Sequence[str]) -> None:
    """Delete runs, their checkpoints (so their threads' state is what it was before them) and
    their events; their streams end (the caller ends those of runs it does not delete)."""
    await conn.execute(sa.delete(checkpoints).where(checkpoints.c.run_id.in_(run_ids)))
    await conn.execute(sa.delete(runs).where(runs.c.run_id.in_(run_ids)))
    await drop_events(conn, run_ids)


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


async def claim_next(conn: AsyncConnection, worker_id: str, lease_seconds: float) -> Claimed | None:
    """Take the oldest claimable run for `worker_id` and checkpoint its input; None if none.

    On PostgreSQL, instances claim at once without waiting on each other: a run another
    transaction holds (`FOR UPDATE SKIP LOCKED`), or whose thread it holds, is skipped, and the
    run is judged claimable again under its thread's lock, so a thread never has two running.
    """
    now = utcnow()
    skipped: set[str] = set()
    for _ in range(8):
        query = _claimable(now)
        if skipped:
            query = query.where(runs.c.thread_id.not_in(sorted(skipped)))
        row = (await conn.execute(query.with_for_update(skip_locked=True, of=runs))).first()
        if row is None:
            return None
        if conn.dialect.name == "postgresql":
            held = await conn.scalar(
                sa.select(threads.c.thread_id).where(threads.c.thread_id == row.thread_id).with_for_update(skip_locked=True)
            )
            if held is None or (await conn.execute(_claimable(now).where(runs.c.run_id == row.run_id))).first() is None:
                skipped.add(row.thread_id)
                continue
        break
    else:
        return None
    await conn.execute(
        sa.update(runs)
        .where(runs.c.run_id == row.run_id, runs.c.status == "pending")
        .values(
            status="running",
            worker_id=worker_id,
            attempts=runs.c.attempts + 1,
            updated_at=now,
            lease_expires_at=time.time() + lease_seconds,
        )
    )
    run_input = (row.kwargs or {}).get("input")
    values = await _checkpoint(conn, row.thread_id, row.run_id, run_input if isinstance(run_input, dict) else {}, "input", -1, now)
    return Claimed(
        run_id=row.run_id,
        thread_id=row.thread_id,
        assistant_id=row.assistant_id,
        graph_id=row.graph_id,
        kwargs=dict(row.kwargs or {}),
        attempt=row.attempts + 1,
        values=values,
    )


async def renew_leases(conn: AsyncConnection, worker_id: str, run_ids: Sequence[str], until: float) -> set[str]:
    """Extend `worker_id`'s leases on these running runs; the ids it still holds.

    Rows another transaction has locked (a cancel or a recovery in progress) are skipped rather
    than waited for: the next renewal reaches them, long before the lease lapses.
    """
    if not run_ids:
        return set()
    mine = (
        sa.select(runs.c.run_id)
        .where(runs.c.run_id.in_(sorted(run_ids)), runs.c.worker_id == worker_id, runs.c.status == "running")
        .with_for_update(skip_locked=True)
    )
    held = set((await conn.execute(mine)).scalars())
    if held:
        await conn.execute(sa.update(runs).where(runs.c.run_id.in_(sorted(held))).values(lease_expires_at=until))
    return held


async def _checkpoint(
    conn: AsyncConnection, thread_id: str, run_id: str, update: dict[str, Any], source: str, step: int, now: datetime
) -> dict[str, Any]:
    """A new checkpoint of the thread: the latest values updated with `update`; those values."""
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
    return values


async def finish_run(conn: AsyncConnection, run_id: str, worker_id: str, outcome: Outcome) -> str | None:
    """Record how `worker_id`'s execution of `run_id` ended; its final status, `deleted`, or None.

    A cancel recorded on the run wins over the execution's own outcome. None when the run is no
    longer this worker's to finish (deleted, or taken back from a worker thought dead).
    """
    select = sa.select(
        runs.c.thread_id, runs.c.graph_id, runs.c.status, runs.c.worker_id, runs.c.cancel_action, runs.c.kwargs
    ).where(runs.c.run_id == run_id)
    row = (await conn.execute(select)).first()
    if row is None or row.status != "running" or row.worker_id != worker_id:
        return None
    if conn.dialect.name == "postgresql":
        # Read again under the thread's lock: a cancel or a recovery may have changed it meanwhile.
        await lock_threads(conn, [row.thread_id])
        row = (await conn.execute(select)).first()
        if row is None or row.status != "running" or row.worker_id != worker_id:
            return None
    now = utcnow()
    # The thread may have runs waiting behind this one: instances look for work now.
    await notify(conn, "queued")
    if row.cancel_action == "rollback":
        await _delete_runs(conn, [run_id])
        await _touch_threads(conn, [row.thread_id], now, state=True)
        await end_streams(conn, [run_id])
        return "deleted"
    values: dict[str, Any] = {"updated_at": now, "worker_id": None, "lease_expires_at": None}
    modes = stream_modes(row.kwargs or {})
    # The run's last events, then the end of its streams, in the transaction that ends it.
    last: list[tuple[str, Any]] = []
    if row.cancel_action is not None or outcome.kind == "stopped":
        values["status"] = "interrupted"
    elif outcome.kind == "requeue":
        values["status"] = "pending"
    elif outcome.kind == "success":
        output = outcome.output
        update = output if isinstance(output, dict) else {"output": output}
        state = await _checkpoint(conn, row.thread_id, run_id, update, "loop", 0, now)
        values["status"] = "success"
        if "updates" in modes:
            last.append(("updates", {row.graph_id: update}))
        if "values" in modes:
            last.append(("values", state))
    else:
        values.update(status=outcome.kind, error=outcome.error)
        last.append(("error", outcome.error or {"error": outcome.kind, "message": f"run ended {outcome.kind}"}))
    await conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(**values))
    if values["status"] != "pending":
        await _events(conn, run_id, last)
        await end_streams(conn, [run_id])
    await _touch_threads(conn, [row.thread_id], now)
    return str(values["status"])


async def _events(conn: AsyncConnection, run_id: str, events: Sequence[tuple[str, Any]]) -> None:
    if events:
        now = utcnow()
        await conn.execute(
            sa.insert(run_events),
            [{"run_id": run_id, "event": event, "data": encode(data), "created_at": now} for event, data in events],
        )


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


async def recover(conn: AsyncConnection, dead: set[str], now_epoch: float | None = None) -> dict[str, str]:
    """Finish or re-queue the running runs of dead workers and those whose lease lapsed;
    {run_id: what became of it}.

    A run with a cancel pending is finished as that cancel asks; others go back to `pending`
    (ahead of newer runs, keeping their place) unless they have used up MAX_ATTEMPTS.
    """
    now_epoch = time.time() if now_epoch is None else now_epoch
    lost = sa.or_(runs.c.worker_id.in_(sorted(dead)), runs.c.lease_expires_at < now_epoch)
    candidates = sa.select(runs.c.thread_id).distinct().where(runs.c.status == "running", lost)
    thread_ids = list((await conn.execute(candidates)).scalars())
    if not thread_ids and not dead:
        return {}
    await lock_threads(conn, thread_ids)
    now = utcnow()
    rows = (
        await conn.execute(
            sa.select(runs.c.run_id, runs.c.thread_id, runs.c.worker_id, runs.c.cancel_action, runs.c.attempts).where(
                runs.c.status == "running", lost
            )
        )
    ).all()
    fate: dict[str, str] = {}
    for row in rows:
        if row.cancel_action == "rollback":
            await _delete_runs(conn, [row.run_id])
            fate[row.run_id] = "deleted"
            continue
        values: dict[str, Any] = {"worker_id": None, "lease_expires_at": None, "updated_at": now}
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
        # Streams of runs queued again go on (the next attempt streams too); the others end.
        await end_streams(conn, sorted(r for r, status in fate.items() if status != "pending"))
        # A worker that is alive after all (its lease lapsed while it stalled) stops these runs.
        await notify(conn, "cancel", sorted(fate))
        await notify(conn, "queued")
    if dead:
        await conn.execute(sa.delete(workers).where(workers.c.worker_id.in_(sorted(dead))))
    return fate


async def lapsed(conn: AsyncConnection, now_epoch: float) -> bool:
    """Whether a running run's lease has lapsed."""
    query = sa.select(runs.c.run_id).where(runs.c.status == "running", runs.c.lease_expires_at < now_epoch).limit(1)
    return (await conn.execute(query)).first() is not None


async def wait_until_done(db: Database, run_id: str, poll: float) -> sa.Row[Any] | None:
    """The run once it is neither pending nor running; None if it is (or gets) deleted."""
    while True:
        async with db.read() as conn:
            row = (await conn.execute(sa.select(runs).where(runs.c.run_id == run_id))).first()
        if row is None or row.status not in ACTIVE:
            return row
        await asyncio.sleep(poll)
