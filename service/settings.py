"""What the service reads from its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import URL, make_url

DEFAULT_DATABASE_URL = "sqlite:///./.data/langsmith.db"


class SettingsError(ValueError):
    """An environment variable the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """DATABASE_URL, N_JOBS_PER_WORKER, BG_JOB_TIMEOUT_SECS and RUN_LEASE_SECS, with their defaults."""

    database_url: str = DEFAULT_DATABASE_URL
    jobs_per_worker: int = 10
    run_timeout: float = 3600.0
    poll_interval: float = 0.2
    # How long a worker holds a running run without renewing its lease (RUN_LEASE_SECS).
    lease_seconds: float = 10.0
    # The name this instance's workers give for their machine (SERVICE_HOSTNAME; default: the
    # machine's). Workers on one machine judge each other dead by process id at once; across
    # machines, by heartbeat and lease.
    hostname: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            jobs_per_worker=_number(environ, "N_JOBS_PER_WORKER", 10, int, minimum=0),
            run_timeout=_number(environ, "BG_JOB_TIMEOUT_SECS", 3600.0, float, minimum=0.001),
            lease_seconds=_number(environ, "RUN_LEASE_SECS", 10.0, float, minimum=1.0),
            hostname=environ.get("SERVICE_HOSTNAME", ""),
        )


N = TypeVar("N", int, float)


def _number(environ: Mapping[str, str], name: str, default: N, kind: type[N], *, minimum: N) -> N:
    text = environ.get(name)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r}: not a number") from None
    if value < minimum:
        raise SettingsError(f"{name}={text!r}: must be at least {minimum}")
    return value


def async_database_url(url: str) -> URL:
    """The SQLAlchemy async URL for DATABASE_URL.

    `sqlite:///x.db` -> `sqlite+aiosqlite:///x.db` (a file: every worker process shares it);
    `postgresql://user@host/db` (or `postgres://`, or with a driver named) -> `postgresql+asyncpg://...`.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
        raise SettingsError(f"DATABASE_URL={url!r}: {exc}") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if not parsed.database:
            raise SettingsError(f"DATABASE_URL={url!r}: names no database")
        return parsed.set(drivername="postgresql+asyncpg")
    if backend != "sqlite":
        raise SettingsError(f"DATABASE_URL={url!r}: only sqlite:/// and postgresql:// URLs are supported")
    if not parsed.database or parsed.database == ":memory:":
        raise SettingsError(f"DATABASE_URL={url!r}: needs a file, shared by every worker process")
    return parsed.set(drivername="sqlite+aiosqlite")


def database_file(url: URL) -> Path:
    """The SQLite file of `url`."""
    return Path(url.database or "")
