"""Worker processes for the stages of rendering that can run beside each other.

A worker is a fresh `python -m codegen.render.parallel` reading calls from stdin and writing
their results to stdout, as JSON: it starts small (its memory never adds to this process's) and
needs nothing from the program that started it (no `if __name__ == "__main__"` guard, unlike
multiprocessing's spawn). Only the functions of `_callable` run there; nothing is unpickled.
Each of at most `jobs` threads (lanes) drives one worker for all its calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import IO, Any, Self, TypeVar

T = TypeVar("T")
_SIZE = 8  # bytes of the length before each message


_Call = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class WorkerError(Exception):
    """A call failed in a worker process (its exception, as text)."""


def _callable() -> dict[str, Callable[..., Any]]:
    """What workers may run, by name."""
    from .format import format_batch
    from .models import generate_parts
    from .verify import check_runs

    return {f.__name__: f for f in (check_runs, format_batch, generate_parts, prepare)}


def prepare() -> None:
    """Import what the calls need; run first, while the caller still reads the spec."""
    import black.linegen  # noqa: F401
    import datamodel_code_generator._builtin_formatter
    import datamodel_code_generator.format
    import datamodel_code_generator.model.pydantic_v2
    import datamodel_code_generator.parser.openapi  # noqa: F401


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _send(stream: IO[bytes], value: object) -> None:
    data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    stream.write(len(data).to_bytes(_SIZE, "big") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    size = stream.read(_SIZE)
    if len(size) < _SIZE:
        raise EOFError
    return json.loads(stream.read(int.from_bytes(size, "big")).decode("utf-8"))


class _Worker:
    """One worker process."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if isinstance(p, str) and p)}
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the worker
        self.sent: tuple[str, list[Any]] | None = None  # a call sent ahead of its `call` (`send`)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codegen.render.parallel"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env=env,
        )

    def send(self, fn: Callable[..., Any], args: tuple[Any, ...] = ()) -> None:
        """Send a call whose answer the first `call` of the same function and arguments takes."""
        assert self.process.stdin is not None
        _send(self.process.stdin, [fn.__name__, list(args)])
        self.sent = (fn.__name__, list(args))

    def call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        assert self.process.stdin is not None and self.process.stdout is not None
        call = (fn.__name__, list(args))
        sent, self.sent = self.sent, None
        try:
            answer = _receive(self.process.stdout) if sent is not None else None
            if sent != call:  # not the call sent ahead: its answer (if any) is not this one's
                _send(self.process.stdin, list(call))
                answer = _receive(self.process.stdout)
        except (EOFError, OSError):
            self.process.wait()
            self.errors.seek(0)
            detail = self.errors.read().decode(errors="replace")[-2000:]
            raise WorkerError(f"worker process failed ({self.process.returncode}): {detail}") from None
        if "error" in answer:
            raise WorkerError(answer["error"])
        return answer["result"]  # type: ignore[no-any-return]

    def close(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()
        self.errors.close()


_early: _Worker | None = None  # see `start_early`


def start_early() -> None:
    """Start a worker process importing what the models need (`prepare`) before the command
    has imported its own modules: the first `Workers` to start one takes it. Only where
    workers run beside this process (two cores or more)."""
    global _early
    if _early is None and available_cores() > 1:
        try:
            worker = _Worker()
            worker.send(prepare)
        except OSError:
            return  # the run starts its workers itself
        _early = worker


def discard_early() -> None:
    """Stop the worker `start_early` started if no `Workers` took it (the cache served the
    package, or the spec is rendered in this process)."""
    global _early
    early, _early = _early, None
    if early is not None:
        early.close(kill=True)


class Workers:
    """Runs calls in worker processes, at most `jobs` at a time, or here, one after the other,
    when `jobs` is 1. Every call is a pure function of its arguments: both give the same results.

    Each worker has a lane: a thread feeding it calls, first those sent to that lane, then any
    other, whichever lane is free first, a lane whose worker has started before one whose has
    not. Lane 0's worker starts first and imports what the models need (`start`): a run that
    renders one part of the models sends it there rather than start another worker from
    nothing; a second worker starts when a call finds every started one busy."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs if jobs is not None else available_cores())
        self.local = threading.local()
        self.started: list[_Worker] = []
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)
        self.pinned: list[deque[_Call]] = [deque() for _ in range(self.jobs)]
        self.shared: deque[_Call] = deque()
        self.started_only: deque[_Call] = deque()  # calls for a worker that has started (`submit`)
        self.closing = False
        self.free_started = 0  # lanes waiting for calls whose worker has started
        self.lanes: list[threading.Thread] = []
        if self.jobs > 1:
            for lane in range(self.jobs):
                thread = threading.Thread(target=self._lane, args=(lane,), name=f"codegen-worker-{lane}", daemon=True)
                thread.start()
                self.lanes.append(thread)

    def _worker(self) -> _Worker:
        worker = getattr(self.local, "worker", None)
        if worker is None:
            global _early
            with self.lock:
                early, _early = _early, None
            worker = self.local.worker = early or _Worker()
            with self.lock:
                self.started.append(worker)
        return worker

    def _lane(self, lane: int) -> None:
        while True:
            with self.ready:
                while True:
                    started = getattr(self.local, "worker", None) is not None
                    # A lane whose worker has not started leaves a shared call to a lane whose
                    # worker has and is free: starting a process costs more than most calls.
                    if self.pinned[lane] or (self.shared and (started or not self.free_started)) or (started and self.started_only):
                        break
                    if self.closing and not self.shared and not (started and self.started_only):
                        self.ready.notify_all()  # lanes left waiting on this one look again
                        return  # nothing left
                    self.free_started += started
                    self.ready.wait()
                    self.free_started -= started
                future, fn, args = (self.pinned[lane] or (self.shared if self.shared and (started or not self.free_started) else self.started_only)).popleft()
                if self.shared:
                    self.ready.notify_all()  # the next may go to another lane, started or not
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._worker().call(fn, args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
                future.set_exception(exc)

    def submit(self, fn: Callable[..., T], *args: Any, lane: int | None = None, spawn: bool = True) -> Future[T]:
        """`fn(*args)` in a worker: in lane `lane`'s if given, else in the first that is free;
        without `spawn`, in a worker that has started only (a call shorter than starting one,
        which whoever waits for it may run itself: `wait`)."""
        future: Future[T] = Future()
        if self.lanes:
            with self.ready:
                queue = self.shared if spawn else self.started_only
                (queue if lane is None else self.pinned[lane % self.jobs]).append((future, fn, args))
                self.ready.notify_all()
            return future
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - handed to whoever asks for the result
            future.set_exception(exc)
        return future

    def wait(self, future: Future[T]) -> T:
        """`future`'s result; a call no worker has taken yet runs here, now (this process
        would only wait for it)."""
        found = None
        with self.ready:
            for queue in (*self.pinned, self.shared, self.started_only):
                found = next((call for call in queue if call[0] is future), None)
                if found is not None:
                    queue.remove(found)
                    break
        if found is not None and future.set_running_or_notify_cancel():
            _, fn, args = found
            try:
                future.set_result(fn(*args))
            except Exception as exc:  # noqa: BLE001 - raised by result() below
                future.set_exception(exc)
        return future.result()

    def start(self) -> None:
        """Start lane 0's worker process, importing what the first call (the models) needs meanwhile."""
        if self.lanes:
            self.submit(prepare, lane=0)

    def map(self, fn: Callable[[Any], T], items: Iterable[Any]) -> list[T]:
        return [future.result() for future in [self.submit(fn, item) for item in items]]

    def close(self, *, abort: bool = False) -> None:
        """Let the workers finish and exit; with `abort`, stop them now (the results are not wanted)."""
        with self.ready:
            self.closing = True
            if abort:
                for queue in (*self.pinned, self.shared, self.started_only):
                    while queue:
                        queue.popleft()[0].cancel()
            self.ready.notify_all()
        if not abort:
            for thread in self.lanes:
                thread.join()
        self.lanes = []
        with self.lock:
            started, self.started = self.started, []
        for worker in started:
            # Every call has returned: nothing is lost by not waiting for the worker's own
            # shutdown (tearing down its modules takes a good half second).
            worker.close(kill=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(abort=kind is not None)


def _serve() -> None:
    """Answer calls on stdin with {"result": ...} or {"error": "..."} on stdout until stdin closes."""
    from ..process import quiet_collector

    quiet_collector()
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever the calls print must not garble the answers
    functions = _callable()
    while True:
        try:
            name, args = _receive(requests)
        except EOFError:
            return
        try:
            answer = {"result": functions[name](*args)}
        except Exception as exc:  # noqa: BLE001 - raised again by the caller
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        _send(answers, answer)


if __name__ == "__main__":
    _serve()
