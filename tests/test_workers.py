"""The worker processes that render, format and compile: a short call (a compile) never
starts a worker of its own; one no worker has taken runs in the process that waits for it."""

from __future__ import annotations

import os

import pytest
from codegen.render import parallel
from codegen.render.parallel import Workers, prepare
from codegen.render.verify import check_runs


def here() -> int:
    """Not a call a worker may run (it would answer with an error): only this process runs it."""
    return os.getpid()


def test_a_call_no_started_worker_takes_runs_where_it_is_waited_for() -> None:
    with Workers(2) as workers:
        future = workers.submit(here, spawn=False)
        assert workers.wait(future) == os.getpid()
        assert workers.started == []  # no worker was started for it


def test_a_started_worker_that_is_free_takes_a_short_call() -> None:
    with Workers(2) as workers:
        workers.submit(prepare, lane=0).result()
        assert workers.submit(check_runs, "m.py", [(1, "x = (")], spawn=False).result() == "m.py:1 does not compile: '(' was never closed (m.py, line 1)"
        assert workers.submit(check_runs, "m.py", [(1, "x = 1\n")], spawn=False).result() is None
        assert len(workers.started) == 1


def test_a_call_waited_for_gives_the_same_result_wherever_it_runs() -> None:
    runs = [(1, "def f(:\n")]
    with Workers(2) as workers:
        taken = workers.submit(check_runs, "m.py", runs, spawn=False)
        local = workers.wait(taken)
    assert local == check_runs("m.py", runs)


def test_the_worker_started_early_is_the_first_a_run_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    parallel.start_early()
    early = parallel._early
    assert early is not None
    with Workers(2) as workers:
        workers.start()  # `prepare`, whose answer the early worker owes already
        assert workers.submit(check_runs, "m.py", [(1, "x = 1\n")], lane=0).result() is None
        assert workers.started == [early]
        assert parallel._early is None


def test_a_call_other_than_the_one_sent_ahead_gets_its_own_answer() -> None:
    worker = parallel._Worker()
    try:
        worker.send(prepare)
        assert worker.call(check_runs, ("m.py", [(1, "x = (")])) == "m.py:1 does not compile: '(' was never closed (m.py, line 1)"
        assert worker.call(check_runs, ("m.py", [(1, "x = 1\n")])) is None
    finally:
        worker.close(kill=True)


def test_a_worker_started_early_and_not_taken_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    parallel.start_early()
    early = parallel._early
    assert early is not None
    parallel.discard_early()
    assert parallel._early is None
    assert early.process.poll() is not None  # killed and reaped
