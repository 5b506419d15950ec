"""The service's store on both backends: its schema comes from the Alembic migrations (and
matches the code's tables), an old store is upgraded in place, workers on PostgreSQL claim
concurrently without breaking FIFO or one-running-run-per-thread, and a lost database answers
503 with the spec's error body, then serves again by itself."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import BACKENDS, ROOT, store_url
from sqlalchemy.engine import make_url

from service import queue
from service.db import Database, metadata, runs
from service.settings import async_database_url
from service.testing import ServerProcess, TcpProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_url(request.param) as url:
        yield url or f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(async_database_url(database_url))
    await database.open()
    yield database
    await database.close()


def _differences(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(context, metadata) if not (d[0] == "remove_table" and d[1].name == "alembic_version")]


async def test_the_migrations_build_the_tables_the_code_declares(db: Database) -> None:
    async with db.read() as conn:
        assert await conn.run_sync(_differences) == []
        assert await conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0003"


async def test_opening_twice_changes_nothing(db: Database) -> None:
    await db.open()
    async with db.read() as conn:
        assert await conn.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1


def _first_schema(path: Path) -> None:
    """The store as the service created it before migrations: 0001's tables, no alembic_version."""
    from alembic import command
    from alembic.config import Config

    from service.db import MIGRATIONS

    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql("DROP TABLE alembic_version")
        connection.exec_driver_sql(
            "INSERT INTO threads VALUES ('t1', '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00', NULL)"
        )
    engine.dispose()


async def test_a_store_made_before_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _first_schema(path)
    database = Database(async_database_url(f"sqlite:///{path}"))
    await database.open()
    try:
        async with database.read() as conn:
            assert await conn.run_sync(_differences) == []
            assert await conn.scalar(sa.text("SELECT thread_id FROM threads")) == "t1"
    finally:
        await database.close()


def test_make_migrate_brings_a_store_to_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"
    env = {"DATABASE_URL": f"sqlite:///{path}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "service.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "latest migration" in done.stdout
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)


def test_make_migrate_on_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "service.migrate"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("service: migrating failed:") and "Traceback" not in done.stderr


# --- claiming on PostgreSQL -------------------------------------------------------------------


def _run(thread_id: str, now: Any) -> dict[str, Any]:
    return {
        "run_id": str(uuid.uuid4()),
        "thread_id": thread_id,
        "assistant_id": "a",
        "graph_id": "sleep",
        "status": "pending",
        "metadata": {},
        "kwargs": {},
        "multitask_strategy": "enqueue",
        "created_at": now,
        "updated_at": now,
        "available_at": now,
        "attempts": 0,
    }


async def test_concurrent_workers_claim_each_run_once_fifo_one_per_thread(db: Database) -> None:
    """Eight workers with connections of their own race for 20 threads x 6 runs: every run is
    claimed once, each thread's runs in their order, and never two running on one thread."""
    now = queue.utcnow()
    order: dict[str, list[str]] = defaultdict(list)
    async with db.write() as conn:
        for t in range(20):
            thread_id = str(uuid.uuid4())
            for _ in range(6):
                run = _run(thread_id, now)
                await queue.create_run(conn, run, create_missing_thread=True)
                order[thread_id].append(run["run_id"])
    claimed: dict[str, list[str]] = defaultdict(list)
    overlaps: list[str] = []

    async def worker(name: str) -> None:
        while True:
            async with db.write() as conn:
                got = await queue.claim_next(conn, name, 30.0)
            if got is None:
                async with db.read() as conn:
                    if not await conn.scalar(sa.select(sa.func.count()).select_from(runs).where(runs.c.status.in_(queue.ACTIVE))):
                        return
                await asyncio.sleep(0.01)
                continue
            claimed[got.thread_id].append(got.run_id)
            async with db.read() as conn:
                running = await conn.scalar(
                    sa.select(sa.func.count()).select_from(runs).where(runs.c.thread_id == got.thread_id, runs.c.status == "running")
                )
            if running != 1:
                overlaps.append(got.thread_id)
            await asyncio.sleep(0.002)
            async with db.write() as conn:
                assert await queue.finish_run(conn, got.run_id, name, queue.Outcome("success")) == "success"

    await asyncio.wait_for(asyncio.gather(*(worker(f"w{i}") for i in range(8))), 120)
    assert overlaps == []
    assert dict(claimed) == dict(order)


async def test_a_lapsed_lease_is_taken_back(db: Database) -> None:
    now = queue.utcnow()
    async with db.write() as conn:
        run = _run(str(uuid.uuid4()), now)
        await queue.create_run(conn, run, create_missing_thread=True)
        assert (await queue.claim_next(conn, "gone", 1.0)) is not None
    async with db.write() as conn:
        assert await queue.recover(conn, set(), time.time()) == {}
        assert await queue.recover(conn, set(), time.time() + 2.0) == {run["run_id"]: "pending"}
    async with db.write() as conn:
        # The worker that lost it cannot record an end any more.
        assert await queue.finish_run(conn, run["run_id"], "gone", queue.Outcome("success")) is None


async def test_a_live_worker_renews_its_leases(db: Database) -> None:
    now = queue.utcnow()
    async with db.write() as conn:
        run = _run(str(uuid.uuid4()), now)
        await queue.create_run(conn, run, create_missing_thread=True)
        await queue.claim_next(conn, "alive", 1.0)
    async with db.write() as conn:
        assert await queue.renew_leases(conn, "alive", [run["run_id"]], time.time() + 60) == {run["run_id"]}
        assert await queue.renew_leases(conn, "other", [run["run_id"]], time.time() + 60) == set()
    async with db.write() as conn:
        assert await queue.recover(conn, set(), time.time() + 2.0) == {}


# --- losing PostgreSQL ------------------------------------------------------------------------


async def test_a_lost_database_answers_503_then_serves_again(tmp_path: Path) -> None:
    with store_url("postgresql") as url:
        assert url is not None
        target = make_url(url)
        proxy = await TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
        through = target.set(port=proxy.listen_port).render_as_string(hide_password=False)
        server = ServerProcess(database=tmp_path / "unused.db", log=tmp_path / "server.log", database_url=through)
        await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                thread = (await http.post("/threads", json={"metadata": {"kept": True}})).json()
                proxy.cut()
                answers = [await http.post("/threads/search", json={}) for _ in range(3)]
                assert {a.status_code for a in answers} == {503}, [a.text for a in answers]
                assert set(answers[-1].json()) == {"detail"} and "database unavailable" in answers[-1].json()["detail"]
                assert answers[-1].headers["Retry-After"] == "1"
                proxy.restore()
                back = time.monotonic()
                while (await http.post("/threads/search", json={})).status_code != 200:
                    assert time.monotonic() - back < 5, "not serving again 5 s after the database came back"
                    await asyncio.sleep(0.05)
                found = (await http.get(f"/threads/{thread['thread_id']}")).json()
                assert found["metadata"] == {"kept": True}
            assert "Traceback" not in server.log.read_text()
        finally:
            await asyncio.to_thread(server.stop)
            await proxy.stop()


# --- the stream reader ------------------------------------------------------------------------


async def test_a_stream_that_joins_during_a_read_misses_nothing(db: Database) -> None:
    """One reader serves every stream of a process; a stream that subscribes while a read is
    under way, further back than that read's start, gets every event after its own position."""
    import contextlib

    from service.db import run_events
    from service.streams import StreamHub

    run_id = str(uuid.uuid4())
    async with db.write() as conn:
        await conn.execute(
            sa.insert(run_events),
            [{"run_id": run_id, "event": "custom", "data": str(n), "created_at": queue.utcnow()} for n in range(10)],
        )
        seqs = [row[0] for row in await conn.execute(sa.select(run_events.c.seq).where(run_events.c.run_id == run_id).order_by(run_events.c.seq))]
    hub = StreamHub()
    later: list[Any] = []

    class JoinsDuringTheRead:
        @contextlib.asynccontextmanager
        async def read(self) -> AsyncIterator[Any]:
            async with db.read() as conn:
                if not later:
                    later.append(stack.enter_context(hub.subscription(run_id, seqs[1])))
                yield conn

    hub.db = JoinsDuringTheRead()  # type: ignore[assignment]
    with contextlib.ExitStack() as stack, hub.subscription(run_id, seqs[5]) as first:
        hub.wake([run_id])
        await hub._read_dirty()
        assert [e.seq for e in first.buffer] == seqs[6:]
        assert [e.seq for e in later[0].buffer] == seqs[2:]
