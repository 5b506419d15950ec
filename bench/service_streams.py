"""Streaming runs of the reference service through langgraph-sdk, on a real uvicorn, measured on
SQLite and PostgreSQL side by side. Prints its figures.

cancel:     a run streams (`ticker`, stream mode custom) and is cancelled, by thread and run ids,
            by status filter, single-run, or with action=rollback; from sending the cancel to the
            client seeing the stream end, N cancels, on one instance and across instances (the
            run executes in one, the stream is held by a second, the cancel goes to a third).
disconnect: on_disconnect=cancel; the client drops the stream; from the drop to the run being
            `interrupted` (its `updated_at`).
resume:     a resumable stream cut after a few events and joined again with Last-Event-ID:
            every event exactly once, in order.
concurrent: 200 streams at once on one instance, each expecting its ticks 1..n in order; the
            server's resident memory before, after a first round and after a second.

    python bench/service_streams.py [cancel|disconnect|resume|concurrent|all] [--store sqlite|postgresql|both]

Exits 1 when an invariant does not hold (the 100 ms and 1 s goals included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "generated"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx
from langgraph_sdk import get_client
from service_cluster import Cluster, _quantiles, cluster
from service_load import Report

ENDLESS = {"ticks": 1_000_000, "interval": 0.02}
KINDS = ("ids", "status", "single", "rollback")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def _stopped_at(c: Cluster, run_id: str, timeout: float = 10) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await c.query("SELECT status, updated_at FROM runs WHERE run_id = :run_id", run_id=run_id)
        if rows and rows[0][0] not in ("pending", "running"):
            stamp = rows[0][1]
            stamp = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
            return stamp.replace(tzinfo=UTC).timestamp()
        await asyncio.sleep(0.01)
    return None


# --- cancel while streaming ---------------------------------------------------------------------


async def _one_cancel(executing: Any, holding: Any, cancelling: Any, kind: str) -> tuple[float, str, int]:
    """A run streaming through `holding`, cancelled through `cancelling`; (seconds from sending
    the cancel to the stream's end, the run's status afterwards, events after the cancel)."""
    thread = await holding.threads.create()
    stream = holding.runs.stream(thread["thread_id"], "ticker", input=ENDLESS, stream_mode="custom").__aiter__()
    first = await stream.__anext__()
    run_id = first.data["run_id"]
    await stream.__anext__()  # running: a tick came
    ended = asyncio.get_running_loop().create_future()

    async def drain() -> int:
        after = 0
        async with contextlib.aclosing(stream):
            async for _ in stream:
                after += 1
        ended.set_result(time.perf_counter())
        return after

    draining = asyncio.create_task(drain())
    await asyncio.sleep(0.01)
    sent = time.perf_counter()
    if kind == "ids":
        await cancelling.runs.cancel_many(thread_id=thread["thread_id"], run_ids=[run_id])
    elif kind == "status":
        await cancelling.runs.cancel_many(status="running")
    elif kind == "single":
        await cancelling.runs.cancel(thread["thread_id"], run_id)
    else:
        await cancelling.runs.cancel(thread["thread_id"], run_id, action="rollback")
    after = await asyncio.wait_for(draining, 10)
    try:
        run_status = (await executing.runs.get(thread["thread_id"], run_id))["status"]
    except httpx.HTTPStatusError as exc:
        run_status = "gone" if exc.response.status_code == 404 else str(exc.response.status_code)
    return ended.result() - sent, run_status, after


async def cancel_while_streaming(kind: str, count: int) -> list[Report]:
    reports = []
    for layout, instances in (("one instance", 1), ("across instances", 3)):
        report = Report(f"cancel while streaming ({kind}, {layout}): {count} cancels, {count // 4} of each kind")
        # Across instances only the first executes runs: the stream is held by the second and the
        # cancel is sent to the third.
        async with cluster(kind, f"streams-{instances}", count=instances, jobs=10, jobs_of=lambda i: 10 if i == 0 else 0) as c:
            clients = [get_client(url=url, timeout=30) for url in c.urls]
            try:
                executing, holding, cancelling = clients[0], clients[-2] if instances > 1 else clients[0], clients[-1]
                samples: dict[str, list[float]] = {k: [] for k in KINDS}
                outcomes: Counter[str] = Counter()
                for number in range(count):
                    how = KINDS[number % 4]
                    seconds, run_status, _ = await _one_cancel(executing, holding, cancelling, how)
                    samples[how].append(seconds)
                    outcomes[f"{how}: {run_status}"] += 1
                    wanted = "gone" if how == "rollback" else "interrupted"
                    if run_status != wanted:
                        report.problems.append(f"{how}: run {run_status} after the cancel, not {wanted}")
            finally:
                for client in clients:
                    await client.aclose()
        everything = [s for values in samples.values() for s in values]
        for how, values in samples.items():
            report.figures[how] = _quantiles(values)
        report.figures["all"] = _quantiles(everything)
        report.figures["runs afterwards"] = dict(sorted(outcomes.items()))
        if max(everything) > 0.1:
            report.problems.append(f"worst {max(everything) * 1000:.1f} ms exceeds the 100 ms goal")
        reports.append(report)
    return reports


# --- on_disconnect=cancel -----------------------------------------------------------------------


async def disconnect(kind: str, count: int) -> Report:
    report = Report(f"on_disconnect=cancel ({kind}): {count} streams dropped by their client")
    async with cluster(kind, "disconnect", count=1) as c:
        client = get_client(url=c.urls[0], timeout=30)
        delays: list[float] = []
        try:
            for _ in range(count):
                thread = await client.threads.create()
                stream = client.runs.stream(
                    thread["thread_id"], "ticker", input=ENDLESS, stream_mode="custom", on_disconnect="cancel"
                )
                async with contextlib.aclosing(stream) as events:
                    async for part in events:
                        if part.event == "metadata":
                            run_id = part.data["run_id"]
                        elif part.event == "custom" and part.data["tick"] >= 3:
                            break
                dropped = time.time()
                stopped = await _stopped_at(c, run_id)
                if stopped is None:
                    report.problems.append(f"run {run_id} still running 10 s after its client left")
                    continue
                status = (await client.runs.get(thread["thread_id"], run_id))["status"]
                if status != "interrupted":
                    report.problems.append(f"run {run_id} ended {status}")
                delays.append(max(0.0, stopped - dropped))
        finally:
            await client.aclose()
    report.figures["from the drop to the run interrupted"] = _quantiles(delays)
    if delays and max(delays) > 1.0:
        report.problems.append(f"worst {max(delays):.2f} s exceeds the 1 s goal")
    return report


# --- resume ---------------------------------------------------------------------------------------


async def resume(kind: str, count: int) -> Report:
    report = Report(f"resume ({kind}): {count} resumable streams cut after 5 to 25 events and joined with Last-Event-ID")
    async with cluster(kind, "resume", count=1) as c:
        client = get_client(url=c.urls[0], timeout=30)
        exact = 0
        try:
            for number in range(count):
                thread = await client.threads.create()
                stream = client.runs.stream(
                    thread["thread_id"], "ticker", input={"ticks": 40, "interval": 0.005}, stream_mode="custom", stream_resumable=True
                )
                first: list[Any] = []
                async with contextlib.aclosing(stream) as events:
                    async for part in events:
                        first.append(part)
                        if len(first) >= 5 + number % 21:
                            break
                run_id = first[0].data["run_id"]
                rest = [p async for p in client.runs.join_stream(thread["thread_id"], run_id, last_event_id=first[-1].id)]
                ticks = [p.data["tick"] for p in first + rest if p.event == "custom"]
                if ticks == list(range(1, 41)):
                    exact += 1
                else:
                    report.problems.append(f"run {run_id}: ticks {ticks[:5]}... ({len(ticks)}) not 1..40 once each")
        finally:
            await client.aclose()
    report.figures["streams with every event exactly once"] = f"{exact} of {count}"
    return report


# --- 200 concurrent streams -------------------------------------------------------------------------


async def concurrent(kind: str, streams: int, ticks: int = 40) -> Report:
    report = Report(f"concurrent ({kind}): {streams} streams at once on one instance, {ticks} ticks each, two rounds")
    async with cluster(kind, "concurrent", count=1, jobs=streams) as c:
        pid = c.instances[0].process.pid if c.instances[0].process else 0
        rss = {"started": _rss_mb(pid)}
        # No keep-alive: a pooled connection uvicorn closes after 5 s idle would fail its next request.
        limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            from langgraph_sdk.client import LangGraphClient

            http.base_url = httpx.URL(c.urls[0])
            client = LangGraphClient(http)
            for round_number in (1, 2):
                statuses: Counter[str] = Counter()
                started = time.monotonic()

                async def one() -> list[int] | str:
                    try:
                        thread = await client.threads.create()
                        parts = [
                            p
                            async for p in client.runs.stream(
                                thread["thread_id"], "ticker", input={"ticks": ticks, "interval": 0.05}, stream_mode="custom"
                            )
                        ]
                        return [p.data["tick"] for p in parts if p.event == "custom"]
                    except httpx.HTTPStatusError as exc:
                        return f"HTTP {exc.response.status_code}"

                results = await asyncio.gather(*(one() for _ in range(streams)))
                seconds = time.monotonic() - started
                for result in results:
                    statuses["complete, in order" if result == list(range(1, ticks + 1)) else str(result)[:80]] += 1
                rss[f"after round {round_number}"] = _rss_mb(pid)
                report.figures[f"round {round_number}"] = {"streams": dict(statuses), "seconds": round(seconds, 2)}
                if statuses["complete, in order"] != streams:
                    report.problems.append(f"round {round_number}: {dict(statuses)}")
                await asyncio.sleep(1.0)
            rss["a second after round 2"] = _rss_mb(pid)
        report.figures["server resident memory, MB"] = rss
        if rss["a second after round 2"] > rss["after round 1"] * 1.2 + 10:
            report.problems.append(f"memory grew from round to round: {rss}")
        log = c.instances[0].log.read_text(errors="replace")
        if " 500 " in log or "Traceback" in log:
            report.problems.append("server errors in the log")
    return report


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", choices=["cancel", "disconnect", "resume", "concurrent", "all"], default="all")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--cancels", type=int, default=100)
    parser.add_argument("--streams", type=int, default=200)
    args = parser.parse_args(argv)
    kinds = ["postgresql", "sqlite"] if args.store == "both" else [args.store]
    reports: list[Report] = []

    def done(report: Report) -> None:
        report.print()
        sys.stdout.flush()
        reports.append(report)

    for kind in kinds:
        if args.which in ("cancel", "all"):
            for report in await cancel_while_streaming(kind, args.cancels):
                done(report)
        if args.which in ("disconnect", "all"):
            done(await disconnect(kind, 20))
        if args.which in ("resume", "all"):
            done(await resume(kind, 20))
        if args.which in ("concurrent", "all"):
            done(await concurrent(kind, args.streams))
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
