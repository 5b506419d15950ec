"""The reference service as a cluster: three instances on one store, measured on PostgreSQL and
on SQLite side by side (PostgreSQL only where SQLite has no equivalent). Prints its figures.

scenarios: the SDK end-to-end suite against three instances, every call to a random one.
latency:   cancel latency across instances: a run executes in one instance, the cancel goes to
           another; from the cancel's answer to the worker having recorded the stop (the run's
           `updated_at`), over N cancels, half by thread and run ids, half by status filter.
load:      R runs over T threads, C concurrent cancellers, calls spread over three instances
           with distinct host names (so a dead one is found by its lapsed leases, as across
           machines); one instance is killed with SIGKILL midway and restarted. Every run ends
           in exactly one terminal state, none is lost, none runs again after it ended.
restart:   PostgreSQL restarted during a load (`pg_ctlcluster 15 main restart`, as root): no
           5xx but 503, no acknowledged run lost, instances serve again within 5 s.

    python bench/service_cluster.py [scenarios|latency|load|restart|all] [--store sqlite|postgresql|both]

Exits 1 when an invariant does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "generated"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx
import sqlalchemy as sa
from service_load import Report
from sqlalchemy.ext.asyncio import create_async_engine

from service.settings import async_database_url
from service.testing import ServerProcess, postgres_database, spread_client

TERMINAL = ("success", "error", "timeout", "interrupted")
LEASE_SECONDS = 5.0


# --- a cluster ----------------------------------------------------------------------------------


@dataclass
class Cluster:
    """N instances (uvicorn processes) on one store; `url` is its DATABASE_URL."""

    url: str
    folder: Path
    instances: list[ServerProcess]

    @property
    def urls(self) -> list[str]:
        return [instance.url for instance in self.instances]

    async def query(self, sql: str, **params: Any) -> list[Any]:
        engine = create_async_engine(async_database_url(self.url))
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(sa.text(sql), params)).all())
        finally:
            await engine.dispose()


@contextlib.contextmanager
def store(kind: str) -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix=f"service-cluster-{kind}-") as folder:
        if kind == "sqlite":
            yield f"sqlite:///{folder}/cluster.db", Path(folder)
        else:
            with postgres_database("codegen_bench") as url:
                yield url, Path(folder)


@contextlib.asynccontextmanager
async def cluster(
    kind: str,
    label: str,
    count: int = 3,
    jobs: int = 10,
    distinct_hosts: bool = False,
    jobs_of: Callable[[int], int] | None = None,
) -> AsyncIterator[Cluster]:
    with store(kind) as (url, folder):
        instances = [
            ServerProcess(
                database=folder / "unused.db",
                log=folder / f"instance-{index}.log",
                jobs_per_worker=jobs if jobs_of is None else jobs_of(index),
                database_url=url,
                env={"RUN_LEASE_SECS": str(LEASE_SECONDS), **({"SERVICE_HOSTNAME": f"machine-{index}"} if distinct_hosts else {})},
            )
            for index in range(count)
        ]
        try:
            # One after the other: the first applies the migrations, the others find them done.
            for instance in instances:
                await asyncio.to_thread(instance.start)
            yield Cluster(url, folder, instances)
        finally:
            for instance in instances:
                await asyncio.to_thread(instance.stop)
            # The instances' logs outlive the run: bench-results/service-cluster/.
            kept = ROOT / "bench-results" / "service-cluster"
            kept.mkdir(parents=True, exist_ok=True)
            for index, instance in enumerate(instances):
                if instance.log.exists():
                    shutil.copy(instance.log, kept / f"{kind}-{label}-instance-{index}.log")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median ms": _ms(statistics.median(ordered)),
        "p99 ms": _ms(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]),
        "worst ms": _ms(ordered[-1]),
    }


# --- scenarios ----------------------------------------------------------------------------------


def scenarios(kinds: list[str]) -> Report:
    """The SDK suite's three-instance deployments (tests/test_service_e2e.py)."""
    report = Report("scenarios: langgraph-sdk end-to-end suite on three instances, every call to a random one")
    for kind in kinds:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_service_e2e.py", "-k", f"{kind}-3-instances"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "CI": "true"},
        )
        summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        report.figures[kind] = f"{summary} ({round(time.monotonic() - started, 1)} s)"
        if done.returncode != 0:
            report.problems.append(f"{kind}: {summary}")
    return report


# --- cancel latency -----------------------------------------------------------------------------


async def _worker_pids(c: Cluster, run_id: str) -> int | None:
    rows = await c.query(
        "SELECT w.pid FROM runs r JOIN workers w ON w.worker_id = r.worker_id WHERE r.run_id = :run_id AND r.status = 'running'",
        run_id=run_id,
    )
    return rows[0][0] if rows else None


async def _running(client: Any, c: Cluster, thread_id: str, run_id: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = await _worker_pids(c, run_id)
        if pid is not None:
            return pid
        await asyncio.sleep(0.01)
    raise RuntimeError(f"run {run_id} did not start within {timeout}s")


async def _stopped_at(c: Cluster, run_id: str, timeout: float = 30) -> datetime:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await c.query("SELECT status, updated_at FROM runs WHERE run_id = :run_id", run_id=run_id)
        if rows and rows[0][0] in TERMINAL:
            stamp = rows[0][1]
            return datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
        await asyncio.sleep(0.02)
    raise RuntimeError(f"run {run_id} did not stop within {timeout}s")


async def latency(kind: str, cancels: int) -> Report:
    report = Report(f"cancel latency across instances ({kind}): {cancels} cancels, half by ids, half by status filter")
    async with cluster(kind, "latency") as c:
        pids = {instance.process.pid: index for index, instance in enumerate(c.instances) if instance.process}
        samples: dict[str, list[float]] = {"ids": [], "status": []}
        crossed = 0
        async with httpx.AsyncClient(timeout=30) as http:
            for number in range(cancels):
                thread = (await http.post(f"{c.urls[0]}/threads", json={})).json()
                run = (
                    await http.post(
                        f"{c.urls[number % 3]}/threads/{thread['thread_id']}/runs",
                        json={"assistant_id": "sleep", "input": {"seconds": 60}},
                    )
                ).json()
                pid = await _running(http, c, thread["thread_id"], run["run_id"])
                executing = pids.get(pid)
                # The cancel goes to an instance other than the one executing the run.
                other = c.urls[((executing if executing is not None else 0) + 1 + number % 2) % 3]
                crossed += executing is not None
                kind_of = "ids" if number % 2 == 0 else "status"
                body = {"thread_id": thread["thread_id"], "run_ids": [run["run_id"]]} if kind_of == "ids" else {"status": "running"}
                answer = await http.post(f"{other}/runs/cancel", json=body)
                answered = time.time()
                if answer.status_code != 204:
                    report.problems.append(f"cancel answered {answer.status_code}: {answer.text[:200]}")
                    continue
                stopped = await _stopped_at(c, run["run_id"])
                # Runs store naive UTC; both clocks are this machine's.
                samples[kind_of].append(max(0.0, stopped.replace(tzinfo=UTC).timestamp() - answered))
        for kind_of, values in samples.items():
            if values:
                report.figures[f"by {kind_of} ({len(values)})"] = _quantiles(values)
        everything = samples["ids"] + samples["status"]
        report.figures["all"] = _quantiles(everything)
        report.figures["cancels sent to another instance than the run's"] = f"{crossed} of {cancels}"
        if kind == "postgresql" and _quantiles(everything)["p99 ms"] > 100:
            report.problems.append(f"p99 {_quantiles(everything)['p99 ms']} ms exceeds the 100 ms goal")
    return report


# --- load, with an instance killed --------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients were told: runs acknowledged, runs a rollback was asked for, answers."""

    created: dict[str, str] = field(default_factory=dict)
    rolled_back: set[str] = field(default_factory=set)
    calls: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)
    # Requests in flight on an instance when it was killed: the connection is cut, no answer.
    cut: Counter[str] = field(default_factory=Counter)

    def answer(self, what: str, status: int) -> None:
        self.calls[f"{what} -> {status}"] += 1
        if status >= 500:
            self.server_errors[f"{what} -> {status}"] += 1


async def _produce(client: Any, thread_ids: list[str], per_thread: int, ledger: Ledger, rng: random.Random, producers: int = 20) -> None:
    pending = [t for t in thread_ids for _ in range(per_thread)]
    rng.shuffle(pending)

    async def producer() -> None:
        while pending:
            thread_id = pending.pop()
            strategy = rng.choice(["enqueue"] * 7 + ["interrupt", "reject"])
            try:
                run = await client.runs.create(
                    thread_id, "sleep", input={"seconds": round(rng.uniform(0.05, 1.0), 3)}, multitask_strategy=strategy
                )
            except httpx.HTTPStatusError as exc:
                ledger.answer(f"create {strategy}", exc.response.status_code)
                if exc.response.status_code in (409, 503):
                    pending.append(thread_id)  # busy thread, or the store was down: try the slot again
                    await asyncio.sleep(0.05)
                continue
            except httpx.TransportError as exc:
                ledger.cut[f"create: {type(exc).__name__}"] += 1
                pending.append(thread_id)
                continue
            ledger.created[run["run_id"]] = thread_id
            ledger.answer(f"create {strategy}", 200)

    await asyncio.gather(*(producer() for _ in range(producers)))


async def _cancel(client: Any, ledger: Ledger, producing: asyncio.Task[None], rng: random.Random) -> None:
    """Cancel every 1 to 4 s while runs are created: by status filter (interrupt), by ids or one
    run (interrupt or rollback: the ids a rollback names are the only runs that may vanish)."""
    while not producing.done():
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        kind = rng.choices(["status", "ids", "single"], weights=[1, 6, 5])[0]
        action = "interrupt" if kind == "status" else rng.choice(["interrupt", "rollback"])
        known = list(ledger.created.items())[-40:]
        try:
            if kind == "status" or not known:
                kind = f"status={rng.choice(['pending', 'running', 'all'])}"
                await client.runs.cancel_many(status=kind.split("=")[1], action="interrupt")
            elif kind == "ids":
                thread_id = rng.choice(known)[1]
                run_ids = rng.sample([r for r, t in known if t == thread_id], min(len([r for r, t in known if t == thread_id]), 3))
                if action == "rollback":
                    ledger.rolled_back.update(run_ids)
                await client.runs.cancel_many(thread_id=thread_id, run_ids=run_ids, action=action)
            else:
                run_id, thread_id = rng.choice(known)
                if action == "rollback":
                    ledger.rolled_back.add(run_id)
                await client.runs.cancel(thread_id, run_id, wait=rng.random() < 0.5, action=action)
            ledger.answer(f"cancel {kind} {action}", 204)
        except httpx.HTTPStatusError as exc:
            ledger.answer(f"cancel {kind} {action}", exc.response.status_code)
        except httpx.TransportError as exc:
            ledger.cut[f"cancel: {type(exc).__name__}"] += 1


async def _settle(c: Cluster, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await c.query("SELECT count(*) FROM runs WHERE status IN ('pending', 'running')")
        if rows[0][0] == 0:
            return True
        await asyncio.sleep(0.25)
    return False


async def _judge(c: Cluster, ledger: Ledger, report: Report, *, allowed_5xx: set[int]) -> None:
    """The ledger against the store: one terminal state each, none lost, none ran after it ended."""
    rows = await c.query("SELECT run_id, status, attempts, updated_at FROM runs")
    final = {row[0]: row[1] for row in rows}
    ended = {row[0]: row[3] for row in rows}
    checkpoints = await c.query("SELECT run_id, metadata, created_at FROM checkpoints WHERE run_id IS NOT NULL")
    outputs: Counter[str] = Counter()
    after_end: set[str] = set()
    for run_id, meta, created_at in checkpoints:
        meta = meta if isinstance(meta, dict) else __import__("json").loads(meta)
        if meta.get("source") == "loop":
            outputs[run_id] += 1
        if run_id in ended and _stamp(created_at) > _stamp(ended[run_id]):
            after_end.add(run_id)
    statuses = Counter(final.get(run_id, "deleted") for run_id in ledger.created)
    lost = [run_id for run_id in ledger.created if run_id not in final and run_id not in ledger.rolled_back]
    report.figures["final states"] = dict(sorted(statuses.items()))
    report.figures["runs committed but answered with an error"] = len(set(final) - set(ledger.created))
    report.figures["answers"] = dict(sorted(ledger.calls.items()))
    report.figures["requests cut by the kill (no answer)"] = dict(ledger.cut)
    stuck = {r: s for r, s in final.items() if s not in TERMINAL}
    if stuck:
        report.problems.append(f"{len(stuck)} runs not in a terminal state: {dict(Counter(stuck.values()))}")
    if lost:
        report.problems.append(f"{len(lost)} acknowledged runs lost (neither in the store nor rolled back)")
    wrong = [r for r in final if outputs[r] != (1 if final[r] == "success" else 0)]
    if wrong:
        report.problems.append(f"{len(wrong)} runs whose output checkpoints disagree with their status")
    if after_end:
        report.problems.append(f"{len(after_end)} runs executed again after they ended")
    unexpected = {k: v for k, v in ledger.server_errors.items() if int(k.rsplit(" ", 1)[1]) not in allowed_5xx}
    if unexpected:
        report.problems.append(f"server errors: {unexpected}")
    errors = statuses["error"] + statuses["timeout"]
    if errors:
        report.problems.append(f"{errors} runs failed (error or timeout)")


def _stamp(value: Any) -> float:
    return (datetime.fromisoformat(value) if isinstance(value, str) else value).timestamp()


async def load(kind: str, runs: int, threads: int, cancellers: int, seed: int = 11) -> Report:
    report = Report(
        f"load ({kind}): {runs} runs over {threads} threads, {cancellers} cancellers, 3 instances x 10 jobs, "
        "one killed with SIGKILL midway and restarted"
    )
    rng = random.Random(seed)
    ledger = Ledger()
    async with cluster(kind, "load", distinct_hosts=True) as c:
        client = spread_client(c.urls, seed=seed)
        async with client:
            thread_ids = [(await client.threads.create())["thread_id"] for _ in range(threads)]
            started = time.monotonic()
            producing = asyncio.create_task(_produce(client, thread_ids, -(-runs // threads), ledger, rng))
            cancelling = [asyncio.create_task(_cancel(client, ledger, producing, rng)) for _ in range(cancellers)]
            # Midway: SIGKILL the instance executing the most runs, restart it 2 s later.
            while len(ledger.created) < runs // 2:
                await asyncio.sleep(0.05)
            held = await c.query(
                "SELECT w.pid, r.run_id, r.worker_id FROM runs r JOIN workers w ON w.worker_id = r.worker_id "
                "WHERE r.status = 'running'"
            )
            victim_pid = Counter(pid for pid, _, _ in held).most_common(1)[0][0] if held else c.instances[1].process.pid
            victim = next(i for i in c.instances if i.process and i.process.pid == victim_pid)
            await asyncio.to_thread(victim.kill)
            # The leases as the killed worker last renewed them.
            leases = await c.query(
                "SELECT r.run_id, r.lease_expires_at, r.worker_id FROM runs r JOIN workers w ON w.worker_id = r.worker_id "
                "WHERE r.status = 'running' AND w.pid = :pid",
                pid=victim_pid,
            )
            killed_runs = {run_id: lease for run_id, lease, _ in leases}
            killed_workers = {run_id: worker for run_id, _, worker in leases}
            killed_at = time.time()
            resumed: dict[str, float] = {}

            async def watch() -> None:
                while len(resumed) < len(killed_runs) and time.time() - killed_at < 60:
                    rows = await c.query("SELECT run_id, status, worker_id FROM runs")
                    now = time.time()
                    for run_id, status, worker_id in rows:
                        # Resumed: running under a live worker again, or ended (interrupted meanwhile).
                        moved = status == "running" and worker_id != killed_workers.get(run_id)
                        if run_id in killed_runs and run_id not in resumed and (moved or status in TERMINAL):
                            resumed[run_id] = now
                    for run_id in killed_runs:
                        if run_id not in resumed and run_id not in {r[0] for r in rows}:
                            resumed[run_id] = now  # deleted by a rollback meanwhile
                    await asyncio.sleep(0.1)

            watching = asyncio.create_task(watch())
            await asyncio.sleep(2.0)
            # Back as a new machine would be (another host name): the dead worker's runs come
            # back through their lapsed leases, not through its process id.
            victim.env["SERVICE_HOSTNAME"] += "-restarted"
            await asyncio.to_thread(victim.start)
            await producing
            await asyncio.gather(*cancelling)
            await watching
            load_seconds = time.monotonic() - started
            settled = await _settle(c, 180)
            total_seconds = time.monotonic() - started
        finished = await c.query("SELECT count(*) FROM runs WHERE status IN ('success', 'error', 'timeout', 'interrupted')")
        after_lapse = [resumed[r] - (lease or killed_at) for r, lease in killed_runs.items() if r in resumed]
        report.figures.update(
            {
                "runs acknowledged": len(ledger.created),
                "runs rolled back on request (ids named)": len(ledger.rolled_back & set(ledger.created)),
                "runs running in the killed instance": len(killed_runs),
                "lease (RUN_LEASE_SECS)": LEASE_SECONDS,
                "resumed elsewhere, seconds after the lease lapsed (median, worst)": (
                    (round(statistics.median(after_lapse), 2), round(max(after_lapse), 2)) if after_lapse else None
                ),
                "resumed elsewhere, seconds after the kill (worst)": round(max(resumed.values()) - killed_at, 2) if resumed else None,
                "runs created per second (load phase)": round(len(ledger.created) / load_seconds, 1),
                "runs finished per second (until the queue was empty)": round(finished[0][0] / total_seconds, 1),
                "seconds: load phase, until empty": (round(load_seconds, 1), round(total_seconds, 1)),
            }
        )
        if not settled:
            report.problems.append("runs still pending or running 180 s after the load")
        if len(resumed) < len(killed_runs):
            report.problems.append(f"{len(killed_runs) - len(resumed)} runs of the killed instance never taken back")
        if after_lapse and max(after_lapse) > 10:
            report.problems.append(f"a run of the killed instance was taken back {max(after_lapse):.1f} s after its lease lapsed")
        await _judge(c, ledger, report, allowed_5xx=set())
    return report


# --- PostgreSQL restarted during load -----------------------------------------------------------


def _restart_postgresql() -> float:
    """Restart the machine's PostgreSQL; seconds it took. pg_ctlcluster where Debian's tools are."""
    started = time.monotonic()
    if shutil.which("pg_ctlcluster"):
        subprocess.run(["pg_ctlcluster", "15", "main", "restart"], check=True, capture_output=True)
    else:
        subprocess.run(["service", "postgresql", "restart"], check=True, capture_output=True)
    return time.monotonic() - started


async def restart(runs: int, threads: int, cancellers: int, seed: int = 13) -> Report:
    report = Report(f"restart (postgresql): {runs} runs over {threads} threads, {cancellers} cancellers, 3 instances; PostgreSQL restarted midway")
    rng = random.Random(seed)
    ledger = Ledger()
    async with cluster("postgresql", "restart") as c:
        client = spread_client(c.urls, seed=seed)
        async with client:
            thread_ids = [(await client.threads.create())["thread_id"] for _ in range(threads)]
            producing = asyncio.create_task(_produce(client, thread_ids, -(-runs // threads), ledger, rng))
            cancelling = [asyncio.create_task(_cancel(client, ledger, producing, rng)) for _ in range(cancellers)]
            while len(ledger.created) < runs // 2:
                await asyncio.sleep(0.05)
            took = await asyncio.to_thread(_restart_postgresql)
            back_at = time.monotonic()
            serving: dict[str, float] = {}
            async with httpx.AsyncClient(timeout=10) as http:
                while len(serving) < len(c.urls) and time.monotonic() - back_at < 30:
                    for url in c.urls:
                        if url not in serving:
                            with contextlib.suppress(httpx.HTTPError):
                                if (await http.post(f"{url}/threads/search", json={"limit": 1})).status_code == 200:
                                    serving[url] = time.monotonic() - back_at
                    await asyncio.sleep(0.05)
            await producing
            await asyncio.gather(*cancelling)
            settled = await _settle(c, 180)
        report.figures.update(
            {
                "runs acknowledged": len(ledger.created),
                "seconds the restart took": round(took, 2),
                "seconds until each instance served again, after the database was back": sorted(round(v, 2) for v in serving.values()),
                "503 answers": sum(v for k, v in ledger.calls.items() if k.endswith("-> 503")),
            }
        )
        if len(serving) < len(c.urls) or max(serving.values()) > 5:
            report.problems.append(f"instances serving again after the restart: {serving}")
        if not settled:
            report.problems.append("runs still pending or running 180 s after the load")
        await _judge(c, ledger, report, allowed_5xx={503})
    return report


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", choices=["scenarios", "latency", "load", "restart", "all"], default="all")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cancels", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--cancellers", type=int, default=100)
    args = parser.parse_args(argv)
    kinds = ["postgresql", "sqlite"] if args.store == "both" else [args.store]
    reports: list[Report] = []

    def done(report: Report) -> None:
        report.print()
        reports.append(report)

    if args.which in ("scenarios", "all"):
        done(await asyncio.to_thread(scenarios, kinds))
    if args.which in ("latency", "all"):
        for kind in kinds:
            done(await latency(kind, args.cancels))
    if args.which in ("load", "all"):
        for kind in kinds:
            done(await load(kind, args.runs, args.threads, args.cancellers))
    if args.which in ("restart", "all") and "postgresql" in kinds:
        done(await restart(args.runs // 2, args.threads // 2, args.cancellers // 2))
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
