"""Every generated module compiled (never run) before anything is written, so a package that
cannot import is never written; in runs of whole top-level definitions (memory stays low),
across workers. Runs are cut where the text says (content-defined), so an edit changes the runs
around it only, and a run compiled before (in the store) is not compiled again."""

from __future__ import annotations

import zlib
from concurrent.futures import Future
from typing import TYPE_CHECKING

from ..errors import GeneratedCodeError

if TYPE_CHECKING:
    from ..cache import Store
    from .parallel import Workers

RUN = 200_000  # characters compiled at a time at most: compiling a module takes several times its size in memory
CUT = 16_000  # the least characters of a run cut where the text says (1 definition in 16)
_DEFINITIONS = ("def ", "async def ", "class ")


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
    """`text` cut before top-level definitions (outside docstrings) into runs of about `RUN`
    characters: (first line, text) each."""
    lines = text.splitlines(keepends=True)
    cuts = [0]
    size = 0
    in_docstring = False
    decorators: int | None = None  # the first line of the decorators read since the last definition
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if in_docstring:
            in_docstring = '"""' not in line
        elif stripped.startswith('"""'):
            in_docstring = stripped.count('"""') == 1
        elif line.startswith("@"):
            decorators = index if decorators is None else decorators
        elif line.startswith(_DEFINITIONS):
            # Cut by the definition's own line, before its first decorator: never between a
            # decorator (of one line or many) and what it decorates.
            cut = index if decorators is None else decorators
            if cut > cuts[-1] and (size >= RUN or (size >= CUT and zlib.crc32(line.encode("utf-8")) % 16 == 0)):
                cuts.append(cut)
                size = sum(len(line) for line in lines[cut:index])
            decorators = None
        size += len(line)
    bounds = zip(cuts, [*cuts[1:], len(lines)], strict=True)
    return [(start + 1, "".join(lines[start:end])) for start, end in bounds]


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
            jobs.append((name, workers.submit(check_runs, name, [run for _, run in batch]), keys))
    return jobs


def finish(jobs: list[Job], files: dict[str, str], store: Store | None = None) -> None:
    """GeneratedCodeError for the first file a job found not to compile (if it does not compile
    whole either: a run failing alone was only cut badly); what compiled goes to `store`."""
    compiled: list[str] = []
    for name, job, keys in jobs:
        if job.result() is None:
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
