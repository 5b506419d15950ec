"""The service as a real subprocess (`uvicorn service.app:app`), for tests and benchmarks, and
throwaway PostgreSQL databases for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The server the PostgreSQL tests and benchmarks create their databases on (a maintenance
# database of it; each test gets a database of its own, dropped afterwards).
POSTGRES_URL_ENV = "TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _run_apart(coroutine_function: Any) -> Any:
    """Run an async function to completion on an event loop of its own (in a thread), so that
    sync helpers work from async tests too."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result()


def postgres_admin_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def postgres_reachable(timeout: float = 3.0) -> str | None:
    """None if the PostgreSQL server of the tests answers; else why not."""
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(postgres_admin_url(), timeout=timeout)
        await conn.close()

    try:
        _run_apart(probe)
    except Exception as exc:  # noqa: BLE001 - the reason is reported, whatever it is
        return f"{postgres_admin_url()}: {type(exc).__name__}: {exc}"
    return None


@contextmanager
def postgres_database(prefix: str = "codegen_test") -> Iterator[str]:
    """A new, empty database on the tests' PostgreSQL server; its URL. Dropped on exit."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = postgres_admin_url()

    async def run(statement: str) -> None:
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    _run_apart(lambda: run(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _run_apart(lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One uvicorn server (with `workers` processes) over the SQLite file `database`, or over
    the store `database_url` names (a PostgreSQL database) when it is given."""

    database: Path
    log: Path
    jobs_per_worker: int = 1
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the server and return once GET /ok answers."""
        # Idle keep-alive connections outlive a test's pauses: uvicorn's 5 s default can close one
        # just as a client reuses it, which a client sees as a read error, not as the server's.
        command = [
            sys.executable, "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1", "--port", str(self.port),
            "--timeout-keep-alive", "60",
        ]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url or f"sqlite:///{self.database}",
            "N_JOBS_PER_WORKER": str(self.jobs_per_worker),
            **self.env,
        }
        with self.log.open("ab") as log:
            # Its own process group, so stop() and kill() reach every worker process.
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ok", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not answer /ok within {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (graceful: running runs go back to the queue), SIGKILL if that hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """kill -9 every process of the server, as a crash would."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        self.process.wait()

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class SpreadTransport(httpx.AsyncBaseTransport):
    """Sends each request to one of `urls` chosen at random, as a load balancer in front of
    several instances would; for langgraph-sdk's client (`spread_client`)."""

    def __init__(self, urls: list[str], seed: int | None = None) -> None:
        import random

        self.targets = [httpx.URL(url) for url in urls]
        self.rng = random.Random(seed)
        self.inner = httpx.AsyncHTTPTransport(retries=5)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # An instance that refuses connections (it is down) is passed over, as a load
        # balancer's health check would; a request it had already accepted fails as it would.
        targets = self.rng.sample(self.targets, len(self.targets))
        for number, target in enumerate(targets):
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            try:
                return await self.inner.handle_async_request(request)
            except httpx.ConnectError:
                if number == len(targets) - 1:
                    raise
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self.inner.aclose()


def spread_client(urls: list[str], seed: int | None = None, timeout: float = 300.0) -> Any:
    """langgraph-sdk's client, each of its calls going to a random one of `urls`."""
    from langgraph_sdk.client import LangGraphClient

    http = httpx.AsyncClient(base_url=urls[0], transport=SpreadTransport(urls, seed), timeout=timeout)
    return LangGraphClient(http)


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of a server (PostgreSQL, in tests), that can cut every
    connection and refuse new ones (`cut()`) and let them through again (`restore()`): a
    database outage without stopping the shared database server. Runs on the caller's loop."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.open = True
        self.listen_port = 0
        self._server: Any = None
        self._writers: set[Any] = set()

    async def start(self) -> TcpProxy:
        import asyncio

        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.listen_port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.open = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.open = True

    async def _accept(self, reader: Any, writer: Any) -> None:
        import asyncio

        if not self.open:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    async def _pipe(self, reader: Any, writer: Any) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, RuntimeError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
