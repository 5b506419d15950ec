"""Every generated module compiled (never run) before anything is written, so a package that
cannot import is never written; in runs of whole top-level definitions (memory stays low),
across workers."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

from ..errors import GeneratedCodeError

if TYPE_CHECKING:
    from .parallel import Workers

RUN = 200_000  # characters compiled at a time: compiling a module takes several times its size in memory
_DEFINITIONS = ("def ", "async def ", "class ", "@")


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
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if in_docstring:
            in_docstring = '"""' not in line
        elif stripped.startswith('"""'):
            in_docstring = stripped.count('"""') == 1
        elif size >= RUN and line.startswith(_DEFINITIONS):
            previous = next((p for p in reversed(lines[cuts[-1] : index]) if p.strip()), "")
            if not previous.startswith("@"):
                cuts.append(index)
                size = 0
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


def start(files: dict[str, str], workers: Workers) -> list[tuple[str, Future[str | None]]]:
    """Compile jobs for the `.py` files of `files`, a few runs each, started across `workers`."""
    jobs = []
    for name, text in sorted(files.items()):
        if name.endswith(".py"):
            parts = runs(text)
            for i in range(0, len(parts), 4):
                jobs.append((name, workers.submit(check_runs, name, parts[i : i + 4])))
    return jobs


def finish(jobs: list[tuple[str, Future[str | None]]], files: dict[str, str]) -> None:
    """GeneratedCodeError for the first file a job found not to compile (if it does not compile
    whole either: a run failing alone was only cut badly)."""
    for name, job in jobs:
        if job.result() is not None:
            error = compile_error(name, files[name])
            if error is not None:
                raise GeneratedCodeError(error)


def verify(files: dict[str, str]) -> None:
    """Compile every module of `files`, in runs; GeneratedCodeError for the first that fails
    (a run failing alone, if its module compiles whole, was only cut badly)."""
    for name, text in sorted(files.items()):
        if name.endswith(".py") and check_runs(name, runs(text)) is not None:
            error = compile_error(name, text)
            if error is not None:
                raise GeneratedCodeError(error)
