"""Every generated module compiled (never run) before anything is written, so a package that
cannot import is never written; in runs of whole top-level definitions (memory stays low),
across workers. Runs are cut where the text says (content-defined), so an edit changes the runs
around it only, and a run compiled before (in the store) is not compiled again."""

from __future__ import annotations

import re
import zlib
from concurrent.futures import Future
from typing import TYPE_CHECKING

from ..errors import GeneratedCodeError

if TYPE_CHECKING:
    from ..cache import Store
    from .parallel import Workers

RUN = 200_000  # characters compiled at a time at most: compiling a module takes several times its size in memory
CUT = 16_000  # the least characters of a run cut where the text says (1 definition in 16)
# The lines `runs` may cut before (searched for after a newline: much faster than `^`).
_DEFINITION_LINES = re.compile(r"\n(@|async def |def |class )")


def compile_error(name: str, text: str, first_line: int = 1) -> str | None:
    """Why `text` (lines of module `name` from `first_line` on) does not compile, or None."""
    try:
        compile(text, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            return f"{name} does not compile: {exc}"
        line += first_line - 1
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        return f"{name}:{line} does not compile: {message} ({name}, line {line})"
    return None


def runs(text: str) -> list[tuple[int, str]]:
    """`text` cut before top-level definitions (outside triple-quoted strings) into runs of
    about `RUN` characters: (first line, text) each."""
    cuts = [0]  # offsets in `text`
    quotes = counted = 0  # triple quotes before `counted`
    decorators: int | None = None  # where the decorators read since the last definition start
    for match in _DEFINITION_LINES.finditer("\n" + text):
        start = match.start()  # of the line in `text` (one newline ahead in the searched text)
        quotes += text.count('"""', counted, start)
        counted = start
        if quotes % 2:  # inside a docstring
            continue
        if match.group(1) == "@":
            decorators = start if decorators is None else decorators
            continue
        # Cut by the definition's own line, before its first decorator: never between a
        # decorator (of one line or many) and what it decorates.
        cut = start if decorators is None else decorators
        decorators = None
        size = start - cuts[-1]
        if cut > cuts[-1] and (size >= RUN or (size >= CUT and zlib.crc32(text[start : start + 200].encode("utf-8", "surrogatepass")) % 16 == 0)):
            cuts.append(cut)
    found = []
    line_number = 1
    for start, end in zip(cuts, [*cuts[1:], len(text)], strict=True):
        found.append((line_number, text[start:end]))
        line_number += text.count("\n", start, end)
    return found


def check_runs(name: str, parts: list[tuple[int, str]]) -> str | None:
    """The first compile error of the runs of module `name`, or None."""
    for first_line, text in parts:
        error = compile_error(name, text, first_line)
        if error is not None:
            return error
    return None


Job = tuple[str, Future[str | None], list[str]]  # module, its compile job, store keys of what it compiles


def start(files: dict[str, str], workers: Workers, store: Store | None = None) -> list[Job]:
    """Compile jobs for the `.py` files of `files`, for the runs not compiled before (per
    `store`), a few runs a job, started across `workers`."""
    jobs: list[Job] = []
    for name, text in sorted(files.items()):
        if not name.endswith(".py"):
            continue
        whole = store.key("compiled", text) if store is not None else ""
        if store is not None and store.get(whole) is True:
            continue
        pending = []
        for first_line, run in runs(text):
            key = store.key("compiled", run) if store is not None else ""
            if store is None or store.get(key) is not True:
                pending.append((key, (first_line, run)))
        if not pending and store is not None:
            store.put(whole, True)
        for i in range(0, len(pending), 4):
            batch = pending[i : i + 4]
            keys = [key for key, _ in batch] + ([whole] if i + 4 >= len(pending) else [])
            # In a worker already started (starting one costs more than a few runs' compile),
            # or here, if none has taken it by the time `finish` wants its result.
            jobs.append((name, workers.submit(check_runs, name, [run for _, run in batch], spawn=False), keys))
    return jobs


def finish(jobs: list[Job], files: dict[str, str], workers: Workers, store: Store | None = None) -> None:
    """GeneratedCodeError for the first file a job found not to compile (if it does not compile
    whole either: a run failing alone was only cut badly); what compiled goes to `store`."""
    compiled: list[str] = []
    for name, job, keys in jobs:
        if workers.wait(job) is None:
            compiled += keys
            continue
        error = compile_error(name, files[name])
        if error is not None:
            raise GeneratedCodeError(error)
    if store is not None:
        for key in compiled:
            store.put(key, True)


def verify(files: dict[str, str]) -> None:
    """Compile every module of `files`, in runs; GeneratedCodeError for the first that fails
    (a run failing alone, if its module compiles whole, was only cut badly)."""
    for name, text in sorted(files.items()):
        if name.endswith(".py") and check_runs(name, runs(text)) is not None:
            error = compile_error(name, text)
            if error is not None:
                raise GeneratedCodeError(error)
