"""The service's pure pieces: settings from the environment, and when a worker counts as dead."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from service.queue import WORKER_STALE_SECONDS, worker_alive
from service.settings import Settings, SettingsError, async_database_url


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.database_url, settings.jobs_per_worker) == ("sqlite:///./.data/langsmith.db", 10)


@pytest.mark.parametrize(
    ("url", "driver_url"),
    [
        ("sqlite:///./.data/langsmith.db", "sqlite+aiosqlite:///./.data/langsmith.db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_url_maps_to_the_async_driver(url: str, driver_url: str) -> None:
    assert async_database_url(url).render_as_string() == driver_url


@pytest.mark.parametrize("url", ["mysql://h/db", "postgresql://h", "sqlite://", "sqlite:///:memory:", "::"])
def test_unusable_database_urls_are_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        async_database_url(url)


@pytest.mark.parametrize(("name", "text"), [("N_JOBS_PER_WORKER", "ten"), ("N_JOBS_PER_WORKER", "-1"), ("BG_JOB_TIMEOUT_SECS", "0"), ("RUN_LEASE_SECS", "0.5")])
def test_bad_numbers_are_refused(name: str, text: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: text})


def _worker(pid: int, heartbeat: float, hostname: str = "here") -> SimpleNamespace:
    return SimpleNamespace(worker_id="w", pid=pid, heartbeat=heartbeat, hostname=hostname)


def test_worker_liveness() -> None:
    now = 1000.0
    alive = {1234}.__contains__
    assert worker_alive(_worker(1234, now), me="me", hostname="here", now=now, alive=alive)
    assert not worker_alive(_worker(4321, now), me="me", hostname="here", now=now, alive=alive)
    assert not worker_alive(_worker(1234, now - WORKER_STALE_SECONDS - 1), me="me", hostname="here", now=now, alive=alive)
    assert worker_alive(_worker(4321, now, hostname="elsewhere"), me="me", hostname="here", now=now, alive=alive)
    assert not worker_alive(_worker(os.getpid(), now), me="me", hostname="here", now=now, alive=lambda pid: True)
    assert not worker_alive(None, me="me", hostname="here", now=now)
