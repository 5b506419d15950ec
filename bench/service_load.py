"""Load and crash tests of the reference service, through langgraph-sdk; prints its figures.

load:  >= 1,000 runs over 100 threads while 50 concurrent cancellers mix status filters, ids and
       single-run cancels with both actions; afterwards every run is in exactly one terminal
       state or deleted (rollback), none stuck, none double-counted.
crash: kill -9 the server while runs are running, restart it on the same file; no run stays
       `running`, and the killed runs run again. Then kill -9 one of two worker processes: its
       sibling takes its runs back.

    python bench/service_load.py [load|crash|all] [--runs N] [--threads N] [--cancellers N] [--workers N]

Exits 1 when an invariant does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from service.testing import ServerProcess

TERMINAL = ("success", "error", "timeout", "interrupted")
Strategy = Literal["reject", "interrupt", "rollback", "enqueue"]
ENQUEUE: list[Strategy] = ["enqueue"] * 7
STRATEGIES: list[Strategy] = [*ENQUEUE, "interrupt", "rollback", "reject"]


@dataclass
class Report:
    """Figures of one test and the invariants it found broken (`problems`)."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def print(self) -> None:
        print(f"== {self.name}")
        for key, value in self.figures.items():
            print(f"  {key}: {value}")
        print(f"  invariants: {'all hold' if not self.problems else 'BROKEN'}")
        for problem in self.problems:
            print(f"    - {problem}")


async def _quiet(client: LangGraphClient, deadline: float) -> bool:
    """Wait until no thread is busy; False if `deadline` (monotonic) passes first."""
    while time.monotonic() < deadline:
        if not await client.threads.search(status="busy", limit=1):
            return True
        await asyncio.sleep(0.2)
    return False


# --- load -------------------------------------------------------------------------------------


async def _produce(
    client: LangGraphClient, thread_ids: list[str], per_thread: int, created: dict[str, str], calls: Counter[str], rng: random.Random
) -> None:
    queue = [t for t in thread_ids for _ in range(per_thread)]
    rng.shuffle(queue)

    async def producer() -> None:
        while queue:
            thread_id = queue.pop()
            strategy = rng.choice(STRATEGIES)
            try:
                run = await client.runs.create(
                    thread_id, "sleep", input={"seconds": round(rng.uniform(0.05, 1.0), 3)}, multitask_strategy=strategy
                )
            except httpx.HTTPStatusError as exc:
                calls[f"create {strategy} -> {exc.response.status_code}"] += 1
                if exc.response.status_code == 409:
                    queue.append(thread_id)  # rejected while the thread was busy: the slot is tried again
                continue
            created[run["run_id"]] = thread_id
            calls[f"create {strategy} -> 200"] += 1

    await asyncio.gather(*(producer() for _ in range(20)))


async def _cancel(client: LangGraphClient, created: dict[str, str], producing: asyncio.Task[None], calls: Counter[str], rng: random.Random) -> None:
    """Cancel, every 1 to 4 s while runs are being created, by a random kind and action."""
    while not producing.done():
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        action = rng.choice(["interrupt", "rollback"])
        kind = rng.choices(["status", "ids", "single"], weights=[1, 6, 5])[0]
        # The latest runs are the ones likely still pending or running.
        known = list(created.items())[-40:]
        try:
            if kind == "status" or not known:
                status = rng.choice(["pending", "running", "all"])
                kind = f"status={status}"
                await client.runs.cancel_many(status=status, action=action)  # type: ignore[arg-type]
            elif kind == "ids":
                thread_id = rng.choice(known)[1]
                run_ids = [r for r, t in known if t == thread_id]
                await client.runs.cancel_many(thread_id=thread_id, run_ids=rng.sample(run_ids, min(len(run_ids), 3)), action=action)  # type: ignore[arg-type]
            else:
                run_id, thread_id = rng.choice(known)
                wait = rng.random() < 0.5
                kind = f"single wait={int(wait)}"
                await client.runs.cancel(thread_id, run_id, wait=wait, action=action)  # type: ignore[arg-type]
            calls[f"cancel {kind} {action} -> 2xx"] += 1
        except httpx.HTTPStatusError as exc:
            calls[f"cancel {kind} {action} -> {exc.response.status_code}"] += 1


async def load_test(
    runs: int = 1000, threads: int = 100, cancellers: int = 50, workers: int = 2, jobs: int = 10, seed: int = 7
) -> Report:
    """Runs and concurrent cancellers against one server; checks every run's end."""
    report = Report(f"load: {runs} runs over {threads} threads, {cancellers} cancellers, {workers} worker processes x {jobs} jobs")
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="service-load-") as folder:
        server = ServerProcess(database=Path(folder) / "load.db", log=Path(folder) / "server.log", jobs_per_worker=jobs, workers=workers)
        server.start()
        try:
            async with get_client(url=server.url, timeout=120) as client:
                await _load(client, report, runs, threads, cancellers, rng)
        finally:
            server.stop()
            if report.problems:
                print(server.log_tail(80), file=sys.stderr)
    return report


async def _load(client: LangGraphClient, report: Report, runs: int, threads: int, cancellers: int, rng: random.Random) -> None:
    thread_ids = [(await client.threads.create(metadata={"bench": "load"}))["thread_id"] for _ in range(threads)]
    created: dict[str, str] = {}
    calls: Counter[str] = Counter()
    started = time.monotonic()
    producing = asyncio.create_task(_produce(client, thread_ids, -(-runs // threads), created, calls, rng))
    cancelling = [asyncio.create_task(_cancel(client, created, producing, calls, rng)) for _ in range(cancellers)]
    await producing
    await asyncio.gather(*cancelling)
    load_seconds = time.monotonic() - started
    quiet = await _quiet(client, time.monotonic() + 180)
    settle_seconds = time.monotonic() - started - load_seconds

    statuses: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    success_outputs: Counter[str] = Counter()
    final: dict[str, str] = {}
    for thread_id in thread_ids:
        for run in await client.runs.list(thread_id, limit=10_000):
            listed[run["run_id"]] += 1
            final[run["run_id"]] = run["status"]
        for state in await client.threads.get_history(thread_id, limit=1000):
            checkpoint_metadata = state["metadata"] or {}
            if checkpoint_metadata.get("source") == "loop":
                success_outputs[checkpoint_metadata["run_id"]] += 1
    for run_id in created:
        statuses[final.get(run_id, "deleted")] += 1

    report.figures.update(
        {
            "runs created": len(created),
            "create calls": dict(sorted((k, v) for k, v in calls.items() if k.startswith("create"))),
            "cancel calls": sum(v for k, v in calls.items() if k.startswith("cancel")),
            "cancel answers": dict(sorted((k, v) for k, v in calls.items() if k.startswith("cancel"))),
            "final states": dict(sorted(statuses.items())),
            "load phase seconds": round(load_seconds, 2),
            "seconds until no thread busy after load": round(settle_seconds, 2),
            "runs created per second": round(len(created) / load_seconds, 1),
        }
    )
    if len(created) < runs:
        report.problems.append(f"only {len(created)} of {runs} runs were created")
    if not quiet:
        report.problems.append("threads still busy 180 s after the load")
    stuck = {r: s for r, s in final.items() if s not in TERMINAL}
    if stuck:
        report.problems.append(f"{len(stuck)} runs not in a terminal state: {dict(Counter(stuck.values()))}")
    doubles = [r for r, n in listed.items() if n > 1]
    if doubles:
        report.problems.append(f"{len(doubles)} runs listed more than once")
    strangers = set(listed) - set(created)
    if strangers:
        report.problems.append(f"{len(strangers)} listed runs were never created")
    if sum(statuses.values()) != len(created):
        report.problems.append("final states do not add up to the runs created")
    # A run's output is checkpointed exactly when it ended `success`: never both done and cancelled.
    wrong_output = [r for r in created if success_outputs[r] != (1 if final.get(r) == "success" else 0)]
    if wrong_output:
        report.problems.append(f"{len(wrong_output)} runs whose output checkpoints disagree with their status")
    errors = {k: v for k, v in calls.items() if k.rsplit("-> ", 1)[1] not in ("200", "2xx", "404", "409")}
    if errors:
        report.problems.append(f"unexpected answers: {errors}")
    if statuses["error"] or statuses["timeout"]:
        report.problems.append(f"runs failed: {statuses['error']} error, {statuses['timeout']} timeout")


# --- crash ------------------------------------------------------------------------------------


def _db_runs(database: Path) -> list[tuple[str, str, int, str | None]]:
    """(run_id, status, attempts, worker_id) of every run, read straight from the SQLite file."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT run_id, status, attempts, worker_id FROM runs").fetchall()


def _statuses(rows: list[tuple[str, str, int, str | None]]) -> dict[str, int]:
    return dict(sorted(Counter(status for _, status, _, _ in rows).items()))


async def _sleepers(client: LangGraphClient, database: Path, runs: int, seconds: float, running: int) -> list[Any]:
    """`runs` sleep runs, each on its own thread; returns once `running` of them run."""
    created = []
    for _ in range(runs):
        thread = await client.threads.create()
        created.append(await client.runs.create(thread["thread_id"], "sleep", input={"seconds": seconds}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _statuses(_db_runs(database)).get("running", 0) < running:
        await asyncio.sleep(0.05)
    return created


async def _final_statuses(client: LangGraphClient, created: list[Any]) -> Counter[str]:
    return Counter([(await client.runs.get(r["thread_id"], r["run_id"]))["status"] for r in created])


def _judge_crash(
    report: Report, killed: set[str], left: list[str], quiet: bool, final: Counter[str], at_end: list[tuple[str, str, int, str | None]]
) -> None:
    """The crash invariants: none left running by the dead process, each of its runs ran again, all succeeded."""
    rerun = [run_id for run_id, _, attempts, _ in at_end if run_id in killed and attempts >= 2]
    report.figures["killed runs executed again"] = f"{len(rerun)} of {len(killed)}"
    report.figures["final statuses"] = dict(final)
    if not killed:
        report.problems.append("the killed process was running no run")
    if left or not quiet:
        report.problems.append(f"runs left running by the killed process: {len(left)}; quiet: {quiet}")
    if len(rerun) != len(killed):
        report.problems.append(f"{len(killed)} runs were running in the killed process, {len(rerun)} ran again")
    if set(final) != {"success"}:
        report.problems.append(f"not every run ended success: {dict(final)}")


async def crash_test(runs: int = 20, jobs: int = 10, seconds: float = 3.0) -> Report:
    """kill -9 while runs are running, restart; nothing may stay `running`."""
    report = Report(f"crash: {runs} runs of {seconds}s, {jobs} jobs, kill -9 while running, restart")
    with tempfile.TemporaryDirectory(prefix="service-crash-") as folder:
        database = Path(folder) / "crash.db"
        server = ServerProcess(database=database, log=Path(folder) / "server.log", jobs_per_worker=jobs)
        server.start()
        try:
            async with get_client(url=server.url) as client:
                created = await _sleepers(client, database, runs, seconds, min(jobs, runs))
            server.kill()
            at_kill = _db_runs(database)
            killed = {run_id for run_id, status, _, _ in at_kill if status == "running"}
            dead_workers = {worker for _, status, _, worker in at_kill if status == "running"}
            started = time.monotonic()
            server.start()
            restart_seconds = time.monotonic() - started
            after_restart = _db_runs(database)
            async with get_client(url=server.url) as client:
                quiet = await _quiet(client, time.monotonic() + 60)
                final = await _final_statuses(client, created)
            at_end = _db_runs(database)
        finally:
            server.stop()
        left = [run_id for run_id, status, _, worker in after_restart if status == "running" and worker in dead_workers]
        report.figures.update(
            {
                "statuses at kill -9 (in the file)": _statuses(at_kill),
                "statuses once restarted and answering /ok (in the file)": _statuses(after_restart),
                "runs still running under the killed process after restart": len(left),
                "seconds to restart and answer /ok": round(restart_seconds, 2),
            }
        )
        _judge_crash(report, killed, left, quiet, final, at_end)
    return report


async def worker_crash_test(runs: int = 8, jobs: int = 2, seconds: float = 3.0) -> Report:
    """kill -9 one of two worker processes while it runs runs; its sibling takes them back."""
    report = Report(f"worker crash: {runs} runs of {seconds}s, 2 worker processes x {jobs} jobs, kill -9 one of them")
    with tempfile.TemporaryDirectory(prefix="service-worker-crash-") as folder:
        database = Path(folder) / "crash.db"
        server = ServerProcess(database=database, log=Path(folder) / "server.log", jobs_per_worker=jobs, workers=2)
        server.start()
        try:
            async with get_client(url=server.url) as client:
                created = await _sleepers(client, database, runs, seconds, 2 * jobs)
                at_kill = _db_runs(database)
                victim = next(worker for _, status, _, worker in at_kill if status == "running")
                killed = {run_id for run_id, status, _, worker in at_kill if status == "running" and worker == victim}
                with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
                    (pid,) = conn.execute("SELECT pid FROM workers WHERE worker_id = ?", (victim,)).fetchone()
                os.kill(pid, signal.SIGKILL)
                killed_at = time.monotonic()
                while time.monotonic() < killed_at + 60 and any(
                    status == "running" and worker == victim for _, status, _, worker in _db_runs(database)
                ):
                    await asyncio.sleep(0.05)
                taken_back_seconds = time.monotonic() - killed_at
                quiet = await _quiet(client, time.monotonic() + 60)
                final = await _final_statuses(client, created)
            at_end = _db_runs(database)
        finally:
            server.stop()
        left = [run_id for run_id, status, _, worker in at_end if status == "running" and worker == victim]
        report.figures.update(
            {
                "statuses at kill -9 (in the file)": _statuses(at_kill),
                "runs of the killed process": len(killed),
                "seconds until none is running under the killed process": round(taken_back_seconds, 2),
            }
        )
        _judge_crash(report, killed, left, quiet, final, at_end)
    return report


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", choices=["load", "crash", "all"], default="all")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--cancellers", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    reports = []
    if args.which in ("load", "all"):
        reports.append(await load_test(args.runs, args.threads, args.cancellers, args.workers))
        reports[-1].print()
    if args.which in ("crash", "all"):
        reports.append(await crash_test())
        reports[-1].print()
        reports.append(await worker_crash_test())
        reports[-1].print()
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
