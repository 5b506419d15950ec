"""The store: SQLite through SQLAlchemy 2 (async, aiosqlite), in WAL mode.

Two engines share the file: `write()` transactions start with `BEGIN IMMEDIATE`, so each takes
SQLite's write lock up front (one writer connection per process; other processes wait on
`busy_timeout`), which makes read-then-write sequences atomic across every worker process;
`read()` transactions read one consistent snapshot and never block writers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .settings import database_file

BUSY_TIMEOUT_SECONDS = 60


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


metadata = sa.MetaData()

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("thread_id", sa.String(36), primary_key=True),
    sa.Column("metadata", sa.JSON, nullable=False),
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
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("kwargs", sa.JSON, nullable=False),
    sa.Column("multitask_strategy", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("available_at", UtcDateTime, nullable=False),
    # The worker process executing the run, while it is `running`.
    sa.Column("worker_id", sa.String(32)),
    # A cancel asked of a running run (`interrupt` or `rollback`), carried out by its worker.
    sa.Column("cancel_action", sa.String(16)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.JSON),
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
    sa.Column("values", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
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
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
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


def _configure(engine: AsyncEngine, begin: str) -> None:
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


class Database:
    """The two engines over one SQLite file; `open()` creates the file and the schema."""

    def __init__(self, url: URL) -> None:
        self.url = url
        connect_args = {"timeout": BUSY_TIMEOUT_SECONDS}
        # One writer connection per process: writers of a process queue in the pool, not on the lock.
        self.writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=300, connect_args=connect_args)
        self.reader = create_async_engine(url, pool_size=4, max_overflow=4, pool_timeout=300, connect_args=connect_args)
        _configure(self.writer, "BEGIN IMMEDIATE")
        _configure(self.reader, "BEGIN")

    async def open(self) -> None:
        database_file(self.url).parent.mkdir(parents=True, exist_ok=True)
        async with self.write() as conn:
            await conn.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self.writer.dispose()
        await self.reader.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction holding the database's write lock; commits on success."""
        async with self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only snapshot."""
        async with self.reader.begin() as conn:
            yield conn
