"""Worker processes for the stages of rendering that can run beside each other."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Workers:
    """Runs calls in spawned worker processes, or here, one after the other, when `jobs` is 1.

    Every call is a pure function of its arguments, so both give the same results. Spawned
    (not forked) workers start small instead of copying this process's memory.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs if jobs is not None else available_cores())
        self.pool: ProcessPoolExecutor | None = None
        if self.jobs > 1:
            import multiprocessing

            self.pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        if self.pool is not None:
            return self.pool.submit(fn, *args)
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - handed to whoever asks for the result
            future.set_exception(exc)
        return future

    def map(self, fn: Callable[[Any], T], items: Iterable[Any]) -> list[T]:
        return [future.result() for future in [self.submit(fn, item) for item in items]]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
