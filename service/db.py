"""The store: SQLite (the default) or PostgreSQL, through SQLAlchemy 2's async engines.

One schema for both, created and upgraded by the Alembic migrations in `service/migrations`
(applied by `Database.open()` and by `make migrate`).

SQLite (aiosqlite, WAL mode): two engines share the file. `write()` transactions start with
`BEGIN IMMEDIATE`, so each takes SQLite's write lock up front (one writer connection per
process; other processes wait on `busy_timeout`), which makes read-then-write sequences atomic
across every worker process; `read()` transactions read one consistent snapshot.

PostgreSQL (asyncpg): one pool, READ COMMITTED writes and REPEATABLE READ reads. Writers take
row locks instead of a database lock: every transaction that changes a thread's runs first locks
that thread's row (`lock_threads`, in thread-id order, so two transactions never wait on each
other in a cycle), and workers claim with `FOR UPDATE SKIP LOCKED`. `notify()` sends a message on
the `codegen_runs` channel when the transaction commits; every instance's `Listener` receives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql.functions import FunctionElement

from .settings import database_file

logger = logging.getLogger("service.db")

BUSY_TIMEOUT_SECONDS = 60
# The channel every instance listens on (PostgreSQL only).
CHANNEL = "codegen_runs"
# Seconds to reach PostgreSQL before a request answers 503.
CONNECT_TIMEOUT_SECONDS = 5
# A key for pg_advisory_lock: one instance at a time applies the migrations.
MIGRATION_LOCK = 0x636F646567656E  # "codegen"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Where a transaction on SQLite keeps its messages until it commits (its connection's `info`).
OUTBOX = "service.outbox"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive (SQLite has no time zones)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


# JSON documents: JSONB on PostgreSQL (compared by value, indexable), JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class json_field_is(FunctionElement[bool]):
    """`json_field_is(document, key, value)`: the JSON object `document` has `key`, equal to the
    JSON value `value` (compared as JSON, so 1 and 1.0, or objects with keys in another order,
    are equal on PostgreSQL; SQLite compares their SQL forms)."""

    type = sa.Boolean()
    inherit_cache = True
    name = "json_field_is"


@compiles(json_field_is, "sqlite")
def _json_field_is_sqlite(element: json_field_is, compiler: Any, **kw: Any) -> str:
    document, key, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(json_extract({document}, '$.\"' || {key} || '\"') IS json_extract(json({value}), '$'))"


@compiles(json_field_is, "postgresql")
def _json_field_is_postgresql(element: json_field_is, compiler: Any, **kw: Any) -> str:
    document, key, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(({document}) -> CAST({key} AS TEXT) IS NOT DISTINCT FROM CAST({value} AS JSONB))"


def json_matches(document: Any, wanted: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    """Conditions: the JSON `document` has each key of `wanted` with an equal value."""
    return [
        json_field_is(document, sa.bindparam(None, key, type_=sa.String), sa.bindparam(None, value, type_=sa.JSON))
        for key, value in wanted.items()
    ]


metadata = sa.MetaData()

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("thread_id", sa.String(36), primary_key=True),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("state_updated_at", UtcDateTime),
)

runs = sa.Table(
    "runs",
    metadata,
    # `seq` orders the queue (FIFO); AUTOINCREMENT never reuses a number.
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), nullable=False, unique=True),
    sa.Column("thread_id", sa.String(36), nullable=False),
    sa.Column("assistant_id", sa.String(36), nullable=False),
    sa.Column("graph_id", sa.String, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("kwargs", Json, nullable=False),
    sa.Column("multitask_strategy", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("available_at", UtcDateTime, nullable=False),
    # The worker process executing the run, while it is `running`.
    sa.Column("worker_id", sa.String(32)),
    # A cancel asked of a running run (`interrupt` or `rollback`), carried out by its worker.
    sa.Column("cancel_action", sa.String(16)),
    # Seconds since the epoch until which the worker holds the run; it renews the lease while it
    # executes, and a live instance takes back a running run whose lease lapsed.
    sa.Column("lease_expires_at", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", Json),
    sa.Index("ix_runs_status_seq", "status", "seq"),
    sa.Index("ix_runs_thread_status", "thread_id", "status"),
    sqlite_autoincrement=True,
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("checkpoint_id", sa.String(36), nullable=False, unique=True),
    sa.Column("thread_id", sa.String(36), nullable=False, index=True),
    sa.Column("run_id", sa.String(36), index=True),
    sa.Column("parent_checkpoint_id", sa.String(36)),
    sa.Column("values", Json, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,
)

assistants = sa.Table(
    "assistants",
    metadata,
    sa.Column("assistant_id", sa.String(36), primary_key=True),
    sa.Column("graph_id", sa.String, nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("description", sa.String),
    sa.Column("config", Json, nullable=False),
    sa.Column("context", Json, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("worker_id", sa.String(32), primary_key=True),
    sa.Column("hostname", sa.String, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    # Seconds since the epoch of the worker's last sign of life.
    sa.Column("heartbeat", sa.Float, nullable=False),
)


run_events = sa.Table(
    "run_events",
    metadata,
    # The order of a run's events, and their ids on the wire (`id:`, `Last-Event-ID`).
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    # The SSE event name (`metadata`, `values`, `updates`, `custom`, `error`), or `control`.
    sa.Column("event", sa.String(32), nullable=False),
    # The event's data: JSON text, sent as it is.
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_run_events_run_seq", "run_id", "seq"),
    sqlite_autoincrement=True,
)


def _configure_sqlite(engine: AsyncEngine, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(begin)


def _postgresql_engine(url: URL, *, pool_size: int, max_overflow: int) -> AsyncEngine:
    # pool_pre_ping: a connection broken by a database restart is replaced, not used.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=30,
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )


def asyncpg_dsn(url: URL) -> str:
    """The libpq-style DSN of an SQLAlchemy PostgreSQL URL, for a connection of asyncpg's own."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """The store at `url` (`sqlite+aiosqlite://` or `postgresql+asyncpg://`).

    `open()` creates or upgrades the schema; `write()` and `read()` are transactions.
    """

    def __init__(self, url: URL) -> None:
        self.url = url
        self.postgresql = url.get_backend_name() == "postgresql"
        self.channel: Any = None
        if self.postgresql:
            self.writer = _postgresql_engine(url, pool_size=10, max_overflow=20)
            self.reader = self.writer.execution_options(isolation_level="REPEATABLE READ")
            # The executors' own pool (claims, heartbeats, leases, finishes): requests that
            # crowd the main pool never make a worker miss a lease renewal.
            self.background = _postgresql_engine(url, pool_size=4, max_overflow=16)
            self.background_reader = self.background.execution_options(isolation_level="REPEATABLE READ")
        else:
            # A pool named outright: SQLAlchemy 2.0 gives aiosqlite file databases no pool by default.
            pooled = {"poolclass": AsyncAdaptedQueuePool, "pool_timeout": 300, "connect_args": {"timeout": BUSY_TIMEOUT_SECONDS}}
            # One writer connection per process: writers of a process queue in the pool, not on the lock.
            self.writer = create_async_engine(url, pool_size=1, max_overflow=0, **pooled)
            self.reader = create_async_engine(url, pool_size=4, max_overflow=4, **pooled)
            _configure_sqlite(self.writer, "BEGIN IMMEDIATE")
            _configure_sqlite(self.reader, "BEGIN")
            self.background, self.background_reader = self.writer, self.reader

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgresql else "sqlite"

    async def open(self, *, attempts: int = 30) -> None:
        """Create or upgrade the schema to the latest migration; waits for a database that is
        still starting (up to `attempts` seconds), then gives up with the last error."""
        if not self.postgresql:
            database_file(self.url).parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(attempts):
            try:
                async with self.writer.connect() as conn:
                    await conn.run_sync(_upgrade, self.postgresql)
                    await conn.commit()
                return
            except Exception as exc:
                if not unavailable(exc) or attempt == attempts - 1:
                    raise
                logger.warning("database not reachable (%s); trying again", type(exc).__name__)
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        await self.writer.dispose()
        if self.postgresql:
            await self.background.dispose()
        else:
            await self.reader.dispose()

    def open_channel(self, handle: Callable[[str, list[str]], None], on_connect: Callable[[], None]) -> Any:
        """This process's end of the notification channel (not started): LISTEN/NOTIFY on
        PostgreSQL, the local bus beside the file on SQLite."""
        if self.postgresql:
            self.channel = Listener(self.url, handle, on_connect)
        else:
            from .bus import LocalBus, bus_folder

            self.channel = LocalBus(bus_folder(database_file(self.url).resolve()), handle)
        return self.channel

    @asynccontextmanager
    async def write(self, *, background: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write; commits on success (SQLite: holding the write lock).
        `background`: from the executors' own pool (PostgreSQL). The messages `notify()` queued
        in it go out once it has committed (PostgreSQL sends them at commit by itself)."""
        outbox: list[str] = []
        async with (self.background if background else self.writer).begin() as conn:
            conn.info[OUTBOX] = outbox
            try:
                yield conn
            finally:
                conn.info.pop(OUTBOX, None)
        if outbox and self.channel is not None:
            self.channel.publish(outbox)

    @asynccontextmanager
    async def read(self, *, background: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot."""
        async with (self.background_reader if background else self.reader).begin() as conn:
            yield conn


def _upgrade(connection: sa.Connection, postgresql: bool) -> None:
    """Apply the migrations not yet applied (one instance at a time on PostgreSQL)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    if postgresql:
        # Held until this connection's session ends: instances starting together queue here.
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    try:
        tables = set(sa.inspect(connection).get_table_names())
        if "runs" in tables and "alembic_version" not in tables:
            # A store created before migrations existed holds the first migration's schema.
            command.stamp(config, "0001")
        command.upgrade(config, "head")
    finally:
        if postgresql:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")


async def serialize(conn: AsyncConnection, name: str) -> None:
    """Hold a lock named `name` until this transaction ends (PostgreSQL: an advisory lock; SQLite's
    write transactions are serialized already)."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


async def lock_threads(conn: AsyncConnection, thread_ids: Iterable[str]) -> list[str]:
    """Lock these threads' rows until the transaction ends, in id order; the ids that exist.

    On PostgreSQL this serializes every change to a thread's runs (create, claim, cancel, finish,
    recover); on SQLite the write transaction already holds the whole database.
    """
    wanted = sorted(set(thread_ids))
    if not wanted:
        return []
    query = sa.select(threads.c.thread_id).where(threads.c.thread_id.in_(wanted)).order_by(threads.c.thread_id)
    return list((await conn.execute(query.with_for_update())).scalars())


async def notify(conn: AsyncConnection, kind: str, ids: Iterable[str] = ()) -> None:
    """Tell every process and instance `kind` (about `ids`) once this transaction commits.

    Messages are `kind` or `kind id,id,...`; nothing is sent if the transaction rolls back. On
    PostgreSQL they are NOTIFYs on the `codegen_runs` channel; on SQLite they wait in the
    transaction's outbox until `Database.write()` has committed, then go on the local bus.
    """
    from .bus import messages

    payloads = messages(kind, ids)
    if conn.dialect.name != "postgresql":
        outbox = conn.info.get(OUTBOX)
        if outbox is not None:
            outbox.extend(payloads)
        return
    for payload in payloads:
        await conn.execute(sa.select(sa.func.pg_notify(CHANNEL, payload)))


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached now (answered 503, retried later)."""
    import asyncpg

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa.exc.TimeoutError, OSError, ConnectionError, TimeoutError)):
            return True
        if isinstance(
            current,
            (
                asyncpg.exceptions.PostgresConnectionError,
                asyncpg.exceptions.CannotConnectNowError,
                asyncpg.exceptions.AdminShutdownError,
                asyncpg.exceptions.CrashShutdownError,
                asyncpg.exceptions.ConnectionDoesNotExistError,
            ),
        ):
            return True
        if isinstance(current, sa.exc.DBAPIError) and current.orig is not None:
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False


def _set_on_close(event: asyncio.Event, connection: Any) -> None:
    event.set()


class Listener:
    """This instance's end of the `codegen_runs` channel: a connection of its own that LISTENs,
    reconnecting by itself after the database restarts.

    `handle(kind, ids)` is called for each message; `on_connect()` after each (re)connection, so
    the caller can catch up on what it may have missed while disconnected. `connected` tells
    whether notifications flow now (the caller polls while they do not).
    """

    def __init__(
        self,
        url: URL,
        handle: Callable[[str, list[str]], None],
        on_connect: Callable[[], None],
        *,
        keepalive: float = 2.0,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.handle = handle
        self.on_connect = on_connect
        self.keepalive = keepalive
        self.connected = False
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 10.0) -> None:
        """Start listening; returns once the first connection listens (or after `timeout`)."""
        self._task = asyncio.create_task(self._run(), name="service-listener")
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.connected and asyncio.get_running_loop().time() < deadline and not self._task.done():
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def publish(self, messages: Iterable[str]) -> None:
        """Nothing to do: PostgreSQL sent the transaction's NOTIFYs when it committed."""

    def _message(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        kind, _, rest = payload.partition(" ")
        try:
            self.handle(kind, [i for i in rest.split(",") if i])
        except Exception:
            logger.exception("handling notification %r failed", payload[:200])

    async def _run(self) -> None:
        import asyncpg

        delay = 0.1
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_SECONDS)
                lost = asyncio.Event()
                connection.add_termination_listener(functools.partial(_set_on_close, lost))
                await connection.add_listener(CHANNEL, self._message)
                self.connected = True
                delay = 0.1
                self.on_connect()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.keepalive)
                    if not lost.is_set():
                        # An idle socket may not notice a vanished server: ask it something.
                        await connection.fetchval("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect
                if self.connected:
                    logger.warning("lost the notification connection (%s); reconnecting", type(exc).__name__)
            finally:
                self.connected = False
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 1.0)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
