"""The reference service end to end: `uvicorn service.app:app` as a subprocess, driven only
through the official client, langgraph-sdk.

With N_JOBS_PER_WORKER=1 one run executes at a time, so a second run on another thread waits
`pending`: that is what lets each test hold one run running and one pending. Waits are bounded
polls (liveness), never assertions on time.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, store_url
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from service.testing import ServerProcess, spread_client

pytestmark = pytest.mark.anyio

LONG = {"seconds": 60}
SHORT = {"seconds": 0.05}
FINISHED = {"success", "error", "timeout", "interrupted"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Tests that start servers of their own run on both stores: an SQLite file, and PostgreSQL."""
    return str(request.param)


# One instance on each store, and three instances on one store (a file, or a database) with every call of
# the client going to a random one of them (as behind a load balancer). The tests hold one run
# running and one pending, so only the first of the three executes runs (one job slot); the
# other two answer calls, cancels included, which reach that worker across instances.
DEPLOYMENTS = {
    "sqlite": ("sqlite", 1),
    "sqlite-3-instances": ("sqlite", 3),
    "postgresql": ("postgresql", 1),
    "postgresql-3-instances": ("postgresql", 3),
}


@pytest.fixture(scope="module", params=sorted(DEPLOYMENTS))
def instances(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    store, count = DEPLOYMENTS[request.param]
    folder = tmp_path_factory.mktemp(f"service-{request.param}")
    with store_url(store) as url:
        started: list[ServerProcess] = []
        try:
            for index in range(count):
                started.append(
                    ServerProcess(
                        database=folder / "langsmith.db",
                        log=folder / f"server-{index}.log",
                        jobs_per_worker=1 if index == 0 else 0,
                        database_url=url,
                    ).start()
                )
            yield started
        finally:
            for process in started:
                process.stop()


@pytest.fixture
def server(instances: list[ServerProcess]) -> ServerProcess:
    return instances[0]


@pytest.fixture
async def client(instances: list[ServerProcess]) -> AsyncIterator[LangGraphClient]:
    async with spread_client([process.url for process in instances], seed=len(instances)) as client:
        yield client
        # Leave nothing queued or running for the next test: status filters reach every thread.
        try:
            await client.runs.cancel_many(status="all")
        except NotFoundError:
            pass
        await until(lambda: _no_busy_thread(client))


async def _no_busy_thread(client: LangGraphClient) -> bool:
    return not await client.threads.search(status="busy", limit=1)


async def until(condition: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Poll `condition` until it is truthy; fail after `timeout` seconds."""
    import anyio

    with anyio.move_on_after(timeout):
        while True:
            if result := await condition():
                return result
            await anyio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


async def status(client: LangGraphClient, run: dict[str, Any]) -> str:
    run_now = await client.runs.get(run["thread_id"], run["run_id"])
    return str(run_now["status"])


async def reaches(client: LangGraphClient, run: dict[str, Any], wanted: str | set[str]) -> str:
    wanted = {wanted} if isinstance(wanted, str) else wanted
    return str(await until(lambda: _status_in(client, run, wanted)))


async def _status_in(client: LangGraphClient, run: dict[str, Any], wanted: set[str]) -> str | None:
    current = await status(client, run)
    return current if current in wanted else None


async def gone(client: LangGraphClient, run: dict[str, Any]) -> bool:
    try:
        await client.runs.get(run["thread_id"], run["run_id"])
    except NotFoundError:
        return True
    return False


async def start(client: LangGraphClient, seconds_input: dict[str, Any] = LONG, **kwargs: Any) -> dict[str, Any]:
    """A run of `sleep` on a new thread."""
    thread = await client.threads.create()
    return dict(await client.runs.create(thread["thread_id"], "sleep", input=seconds_input, **kwargs))


async def running_and_pending(client: LangGraphClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """One long run running, and one on another thread pending behind it (one job slot)."""
    first = await start(client)
    await reaches(client, first, "running")
    second = await start(client)
    assert await status(client, second) == "pending"
    return first, second


# --- cancel by thread and run ids -------------------------------------------------------------


async def test_cancel_by_ids_interrupts_only_that_run(client: LangGraphClient) -> None:
    first, second = await running_and_pending(client)
    await client.runs.cancel_many(thread_id=first["thread_id"], run_ids=[first["run_id"]])
    assert await reaches(client, first, FINISHED) == "interrupted"
    # The slot it held is free again: its work really stopped, and the other run starts.
    assert await reaches(client, second, "running") == "running"
    # As LangGraph's server: a thread whose last run was interrupted is `interrupted`.
    assert (await client.threads.get(first["thread_id"]))["status"] == "interrupted"
    assert (await client.threads.get(second["thread_id"]))["status"] == "busy"


async def test_cancel_by_ids_of_a_pending_run_interrupts_it_at_once(client: LangGraphClient) -> None:
    first, second = await running_and_pending(client)
    await client.runs.cancel_many(thread_id=second["thread_id"], run_ids=[second["run_id"]])
    assert await status(client, second) == "interrupted"
    assert await status(client, first) == "running"


async def test_cancelling_only_a_finished_run_is_404_and_it_stays_success(client: LangGraphClient) -> None:
    run = await start(client, SHORT)
    await client.runs.join(run["thread_id"], run["run_id"])
    assert await status(client, run) == "success"
    with pytest.raises(NotFoundError):
        await client.runs.cancel_many(thread_id=run["thread_id"], run_ids=[run["run_id"]])
    with pytest.raises(NotFoundError):
        await client.runs.cancel(run["thread_id"], run["run_id"])
    assert await status(client, run) == "success"


async def test_unknown_thread_or_run_is_404(client: LangGraphClient) -> None:
    run = await start(client, SHORT)
    with pytest.raises(NotFoundError):
        await client.runs.cancel_many(thread_id=str(uuid.uuid4()), run_ids=[run["run_id"]])
    with pytest.raises(NotFoundError):
        await client.runs.cancel_many(thread_id=run["thread_id"], run_ids=[str(uuid.uuid4())])
    with pytest.raises(NotFoundError):
        await client.runs.cancel(run["thread_id"], str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await client.runs.cancel(str(uuid.uuid4()), run["run_id"])


async def test_empty_cancel_many_is_422(client: LangGraphClient) -> None:
    with pytest.raises(UnprocessableEntityError):
        await client.runs.cancel_many()


async def test_unknown_action_is_422(client: LangGraphClient) -> None:
    run = await start(client)
    with pytest.raises(UnprocessableEntityError):
        await client.runs.cancel_many(status="all", action="bogus")  # type: ignore[arg-type]
    with pytest.raises(UnprocessableEntityError):
        await client.runs.cancel(run["thread_id"], run["run_id"], action="bogus")  # type: ignore[arg-type]
    assert await status(client, run) in ("pending", "running")


# --- cancel by status filter ------------------------------------------------------------------


async def test_status_pending_cancels_pending_not_running(client: LangGraphClient) -> None:
    first, second = await running_and_pending(client)
    await client.runs.cancel_many(status="pending")
    assert await status(client, second) == "interrupted"
    assert await status(client, first) == "running"


async def test_status_running_cancels_running_not_pending(client: LangGraphClient) -> None:
    first, second = await running_and_pending(client)
    await client.runs.cancel_many(status="running")
    assert await reaches(client, first, FINISHED) == "interrupted"
    # Not cancelled, and started once the cancelled run's work stopped.
    assert await reaches(client, second, "running") == "running"


async def test_status_all_cancels_both(client: LangGraphClient) -> None:
    first, second = await running_and_pending(client)
    await client.runs.cancel_many(status="all")
    assert await reaches(client, first, FINISHED) == "interrupted"
    assert await status(client, second) == "interrupted"


async def test_status_filter_with_nothing_pending_or_running_is_404(client: LangGraphClient) -> None:
    run = await start(client, SHORT)
    await client.runs.join(run["thread_id"], run["run_id"])
    for filter_ in ("pending", "running", "all"):
        with pytest.raises(NotFoundError):
            await client.runs.cancel_many(status=filter_)


# --- rollback ---------------------------------------------------------------------------------


async def test_rollback_deletes_the_runs_and_their_checkpoints(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    done = await client.runs.create(thread["thread_id"], "sleep", input={"seconds": 0.01})
    await client.runs.join(thread["thread_id"], done["run_id"])
    before = (await client.threads.get_state(thread["thread_id"]))["values"]
    assert before == {"seconds": 0.01, "slept": 0.01}
    first: dict[str, Any] = dict(await client.runs.create(thread["thread_id"], "sleep", input={"seconds": 60}))
    await reaches(client, first, "running")
    second = await start(client)
    await client.runs.cancel_many(status="pending", action="rollback")
    assert await gone(client, second)
    assert await status(client, first) == "running"
    await client.runs.cancel_many(thread_id=first["thread_id"], run_ids=[first["run_id"]], action="rollback")
    await until(lambda: gone(client, first))
    assert (await client.threads.get_state(thread["thread_id"]))["values"] == before
    assert [r["run_id"] for r in await client.runs.list(thread["thread_id"])] == [done["run_id"]]


async def test_interrupt_keeps_the_run_and_its_checkpoints(client: LangGraphClient) -> None:
    run = await start(client, {"seconds": 60, "tag": "kept"})
    await reaches(client, run, "running")
    await client.runs.cancel(run["thread_id"], run["run_id"], wait=True)
    assert (await client.threads.get_state(run["thread_id"]))["values"] == {"seconds": 60, "tag": "kept"}


# --- the single-run endpoint ------------------------------------------------------------------


async def test_runs_cancel_without_wait_interrupts(client: LangGraphClient) -> None:
    run = await start(client)
    await reaches(client, run, "running")
    answer = await client.runs.cancel(run["thread_id"], run["run_id"])  # type: ignore[func-returns-value]
    assert answer is None
    assert await reaches(client, run, FINISHED) == "interrupted"


async def test_runs_cancel_with_wait_answers_once_stopped(client: LangGraphClient) -> None:
    run = await start(client)
    await reaches(client, run, "running")
    await client.runs.cancel(run["thread_id"], run["run_id"], wait=True)
    assert await status(client, run) == "interrupted"


async def test_runs_cancel_with_wait_and_rollback_deletes(client: LangGraphClient) -> None:
    run = await start(client)
    await reaches(client, run, "running")
    await client.runs.cancel(run["thread_id"], run["run_id"], wait=True, action="rollback")
    assert await gone(client, run)


async def test_runs_list_shows_the_interrupted_run(client: LangGraphClient) -> None:
    run = await start(client)
    await reaches(client, run, "running")
    await client.runs.cancel(run["thread_id"], run["run_id"], wait=True)
    listed = await client.runs.list(run["thread_id"])
    assert [(r["run_id"], r["status"]) for r in listed] == [(run["run_id"], "interrupted")]
    assert [r["run_id"] for r in await client.runs.list(run["thread_id"], status="interrupted")] == [run["run_id"]]


# --- runs, threads and assistants -------------------------------------------------------------


async def test_multitask_strategies(client: LangGraphClient) -> None:
    first = await start(client)
    thread_id = first["thread_id"]
    await reaches(client, first, "running")
    with pytest.raises(ConflictError):
        await client.runs.create(thread_id, "sleep", input=SHORT)
    queued = await client.runs.create(thread_id, "sleep", input=SHORT, multitask_strategy="enqueue")
    assert queued["status"] == "pending" and queued["multitask_strategy"] == "enqueue"
    interrupting = await client.runs.create(thread_id, "sleep", input=LONG, multitask_strategy="interrupt")
    assert await reaches(client, first, FINISHED) == "interrupted"
    assert await status(client, dict(queued)) == "interrupted"
    await reaches(client, dict(interrupting), "running")
    rolling = await client.runs.create(thread_id, "sleep", input=SHORT, multitask_strategy="rollback")
    await until(lambda: gone(client, dict(interrupting)))
    assert await reaches(client, dict(rolling), FINISHED) == "success"
    assert (await client.threads.get(thread_id))["status"] == "idle"


async def test_runs_execute_fifo_and_report_their_outcome(client: LangGraphClient) -> None:
    thread = await client.threads.create(metadata={"suite": "fifo"})
    assert thread["status"] == "idle"
    runs = [await client.runs.create(thread["thread_id"], "sleep", input=SHORT, multitask_strategy="enqueue") for _ in range(3)]
    assert (await client.threads.get(thread["thread_id"]))["status"] == "busy"
    assert await client.runs.join(thread["thread_id"], runs[-1]["run_id"]) == {"seconds": 0.05, "slept": 0.05}
    listed = await client.runs.list(thread["thread_id"])
    assert [r["run_id"] for r in listed] == [r["run_id"] for r in reversed(runs)]
    assert {r["status"] for r in listed} == {"success"}
    assert [t["thread_id"] for t in await client.threads.search(metadata={"suite": "fifo"})] == [thread["thread_id"]]


async def test_a_failing_graph_ends_in_error(client: LangGraphClient) -> None:
    run = await start(client, {"no": "seconds"})
    result = await client.runs.join(run["thread_id"], run["run_id"])
    assert result["__error__"]["error"] == "KeyError"
    assert await status(client, run) == "error"
    assert (await client.threads.get(run["thread_id"]))["status"] == "error"


async def test_graph_id_and_assistant_id_name_the_same_assistant(client: LangGraphClient) -> None:
    (assistant,) = await client.assistants.search(graph_id="sleep")
    assert (await client.assistants.get(assistant["assistant_id"]))["graph_id"] == "sleep"
    run = await start(client, SHORT)
    assert run["assistant_id"] == assistant["assistant_id"]
    thread = await client.threads.create()
    by_id = await client.runs.create(thread["thread_id"], assistant["assistant_id"], input=SHORT)
    assert await client.runs.join(thread["thread_id"], by_id["run_id"]) == {"seconds": 0.05, "slept": 0.05}
    with pytest.raises(NotFoundError):
        await client.runs.create(thread["thread_id"], "no-such-graph", input=SHORT)
    with pytest.raises(NotFoundError):
        await client.runs.create(str(uuid.uuid4()), "sleep", input=SHORT)


# --- two worker processes on one store --------------------------------------------------------


async def test_cancel_reaches_runs_executing_in_another_process(backend: str, tmp_path: Path) -> None:
    with store_url(backend) as url:
        process = ServerProcess(
            database=tmp_path / "shared.db", log=tmp_path / "server.log", jobs_per_worker=1, workers=2, database_url=url
        )
        await _cancel_reaches_the_other_process(process.start())


async def _cancel_reaches_the_other_process(process: ServerProcess) -> None:
    try:
        async with get_client(url=process.url) as client:
            long_runs = [await start(client) for _ in range(2)]
            # One job slot per process: both running means each process executes one of them.
            for run in long_runs:
                await reaches(client, run, "running")
            queued = [await start(client, SHORT) for _ in range(2)]
            # One request, handled by one process, cancels both; one run is necessarily the other's.
            await client.runs.cancel_many(status="running")
            for run in long_runs:
                assert await reaches(client, run, FINISHED) == "interrupted"
            # Both slots were freed: the work stopped in both processes.
            for run in queued:
                assert await reaches(client, run, FINISHED) == "success"
    finally:
        process.stop()


async def test_a_run_past_bg_job_timeout_secs_ends_in_timeout(backend: str, tmp_path: Path) -> None:
    with store_url(backend) as url:
        process = ServerProcess(
            database=tmp_path / "timeout.db", log=tmp_path / "server.log", env={"BG_JOB_TIMEOUT_SECS": "0.5"}, database_url=url
        )
        await _times_out(process.start())


async def _times_out(process: ServerProcess) -> None:
    try:
        async with get_client(url=process.url) as client:
            run = await start(client)
            result = await client.runs.join(run["thread_id"], run["run_id"])
            assert result["__error__"]["error"] == "TimeoutError"
            assert await status(client, run) == "timeout"
            assert (await client.threads.get(run["thread_id"]))["status"] == "error"
    finally:
        process.stop()


# --- statuses on the wire (the client hides them) ---------------------------------------------


async def test_cancel_answers_the_statuses_the_spec_declares(client: LangGraphClient, server: ServerProcess) -> None:
    import httpx

    # LangGraph's own server answers an undocumented 202 on a single-run cancel; the spec says 200.
    run = await start(client)
    await reaches(client, run, "running")
    async with httpx.AsyncClient(base_url=server.url) as http:
        single = await http.post(f"/threads/{run['thread_id']}/runs/{run['run_id']}/cancel")
        assert single.status_code == 200, single.text
        assert await reaches(client, run, FINISHED) == "interrupted"
        run = await start(client)
        await reaches(client, run, "running")
        many = await http.post("/runs/cancel", json={"status": "running"})
        assert (many.status_code, many.content) == (204, b"")
        assert await reaches(client, run, FINISHED) == "interrupted"
        bogus = await http.post("/runs/cancel?action=bogus", json={"status": "running"})
        assert bogus.status_code == 422 and set(bogus.json()) == {"detail"}


# --- streams ----------------------------------------------------------------------------------
# Streams go through whichever instance the client picks; with three instances the run executes
# in the first, so events and cancels cross instances.

TICKS = {"ticks": 6, "interval": 0.02}
ENDLESS = {"ticks": 100_000, "interval": 0.02}


async def _parts(stream: Any, limit: int | None = None) -> list[Any]:
    """The stream's parts (all, or the first `limit`, closing the connection after them)."""
    parts = []
    async with contextlib.aclosing(stream) as events:
        async for part in events:
            parts.append(part)
            if limit is not None and len(parts) >= limit:
                break
    return parts


async def test_stream_sends_langgraph_events_in_each_mode_and_ends_with_the_run(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    parts = await _parts(
        client.runs.stream(thread["thread_id"], "ticker", input=TICKS, stream_mode=["values", "updates", "custom"])
    )
    events = [(p.event, p.data) for p in parts]
    assert events[0][0] == "metadata" and events[0][1]["attempt"] == 1
    run_id = events[0][1]["run_id"]
    assert events[1:] == [
        ("values", TICKS),
        *[("custom", {"tick": n}) for n in range(1, 7)],
        ("updates", {"ticker": {"ticks": 6}}),
        ("values", {**TICKS, "ticks": 6}),
    ]
    assert await status(client, {"thread_id": thread["thread_id"], "run_id": run_id}) == "success"


async def test_stream_in_one_mode_sends_only_that_mode(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    parts = await _parts(client.runs.stream(thread["thread_id"], "ticker", input=TICKS, stream_mode="custom"))
    assert [p.event for p in parts] == ["metadata"] + ["custom"] * 6


async def test_a_failing_run_streams_its_error(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    parts = await _parts(client.runs.stream(thread["thread_id"], "sleep", input={"seconds": "soon"}))
    assert [p.event for p in parts] == ["metadata", "values", "error"]
    assert parts[-1].data["error"] == "ValueError"


async def test_join_stream_follows_a_background_run(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "ticker", input=TICKS, stream_mode=["custom"], stream_resumable=True)
    parts = await _parts(client.runs.join_stream(thread["thread_id"], run["run_id"]))
    # Resumable: the join replays from the run's first event.
    assert [p.event for p in parts] == ["metadata"] + ["custom"] * 6
    # A join of a run that has ended ends at once.
    plain = await client.runs.create(thread["thread_id"], "sleep", input=SHORT, multitask_strategy="enqueue")
    await reaches(client, dict(plain), FINISHED)
    assert await _parts(client.runs.join_stream(thread["thread_id"], plain["run_id"])) == []


@pytest.mark.parametrize("cut", [4, 9, 17])
async def test_a_resumable_stream_cut_and_rejoined_yields_every_event_once(client: LangGraphClient, cut: int) -> None:
    # Events every 5 ms: the join lands while the run is writing, where a race would show.
    thread = await client.threads.create()
    first = await _parts(
        client.runs.stream(
            thread["thread_id"], "ticker", input={"ticks": 30, "interval": 0.005}, stream_mode="custom", stream_resumable=True
        ),
        limit=cut,
    )
    run_id = first[0].data["run_id"]
    assert all(p.id for p in first)
    rest = await _parts(client.runs.join_stream(thread["thread_id"], run_id, last_event_id=first[-1].id))
    ticks = [p.data["tick"] for p in first + rest if p.event == "custom"]
    assert ticks == list(range(1, 31))
    ids = [int(p.id) for p in first + rest]
    assert ids == sorted(set(ids))


async def test_stateless_stream_runs_on_a_thread_of_its_own_deleted_after(client: LangGraphClient) -> None:
    parts = await _parts(client.runs.stream(None, "ticker", input={"ticks": 2, "interval": 0.01}, stream_mode=["custom"]))
    assert [p.event for p in parts] == ["metadata", "custom", "custom"]
    run_id = parts[0].data["run_id"]
    assert not [t for t in await client.threads.search(limit=100) if t["thread_id"] == run_id]


async def _streaming(client: LangGraphClient) -> tuple[Any, dict[str, Any], Any]:
    """An endless ticker streaming; (the open stream, the run, its first parts)."""
    thread = await client.threads.create()
    stream = client.runs.stream(thread["thread_id"], "ticker", input=ENDLESS, stream_mode="custom").__aiter__()
    head = [await stream.__anext__() for _ in range(3)]
    return stream, {"thread_id": thread["thread_id"], "run_id": head[0].data["run_id"]}, head


@pytest.mark.parametrize("how", ["ids", "status", "single", "rollback"])
async def test_cancel_while_streaming_ends_the_stream(client: LangGraphClient, how: str) -> None:
    stream, run, _ = await _streaming(client)
    if how == "ids":
        await client.runs.cancel_many(thread_id=run["thread_id"], run_ids=[run["run_id"]])
    elif how == "status":
        await client.runs.cancel_many(status="running")
    elif how == "single":
        await client.runs.cancel(run["thread_id"], run["run_id"])
    else:
        await client.runs.cancel(run["thread_id"], run["run_id"], action="rollback")
    rest = await _parts(stream)
    assert all(p.event == "custom" for p in rest)
    if how == "rollback":
        assert await gone(client, run)
        assert (await client.threads.get(run["thread_id"]))["status"] == "idle"
    else:
        assert await status(client, run) == "interrupted"
        assert (await client.threads.get(run["thread_id"]))["status"] == "interrupted"


async def test_on_disconnect_cancel_interrupts_the_run_when_the_client_goes(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    stream = client.runs.stream(thread["thread_id"], "ticker", input=ENDLESS, stream_mode="custom", on_disconnect="cancel")
    head = await _parts(stream, limit=3)
    run = {"thread_id": thread["thread_id"], "run_id": head[0].data["run_id"]}
    assert await reaches(client, run, FINISHED) == "interrupted"


async def test_leaving_a_stream_lets_the_run_go_on_by_default(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    head = await _parts(
        client.runs.stream(thread["thread_id"], "ticker", input={"ticks": 10, "interval": 0.02}, stream_mode="custom"), limit=2
    )
    run = {"thread_id": thread["thread_id"], "run_id": head[0].data["run_id"]}
    assert await reaches(client, run, FINISHED) == "success"


async def test_a_join_with_cancel_on_disconnect_interrupts_the_run_when_the_client_goes(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    run = dict(await client.runs.create(thread["thread_id"], "ticker", input=ENDLESS, stream_mode=["custom"]))
    await reaches(client, run, "running")
    await _parts(client.runs.join_stream(thread["thread_id"], run["run_id"], cancel_on_disconnect=True), limit=2)
    assert await reaches(client, run, FINISHED) == "interrupted"
