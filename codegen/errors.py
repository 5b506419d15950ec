"""Problems found in a spec: values with a place (file, JSON pointer, line and column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .runtime.pointers import (  # noqa: F401 - the generator's pointer helpers live with the runtime
    escape_token,
    pointer,
    ref_pointer,
    ref_to,
    schema_name,
    split_pointer,
    unescape_token,
)


@dataclass
class SpecError(Exception):
    """One problem in a spec, located by file and JSON pointer."""

    message: str
    file: Path | None = None
    pointer: str = ""
    hint: str = ""
    line: int | None = None
    column: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def located(self, root: Path | None = None) -> str:
        """The place as `file:line:column #/pointer`, file relative to `root` when inside it."""
        return _place(self.file, self.line, self.column, self.pointer, root)

    def render(self, root: Path | None = None) -> str:
        """A short paragraph for the terminal: place, problem, what to do."""
        text = f"{self.located(root)}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass
class SpecWarning:
    """A rule of OpenAPI the spec breaks and `--lenient` works around: what is wrong and what
    was done instead, located like a SpecError."""

    message: str
    file: Path | None = None
    pointer: str = ""
    line: int | None = None
    column: int | None = None

    def located(self, root: Path | None = None) -> str:
        return _place(self.file, self.line, self.column, self.pointer, root)

    def render(self, root: Path | None = None) -> str:
        return f"{self.located(root)}: {self.message}"


# Either kind of located problem (functions that locate one give back its kind).
Problem = TypeVar("Problem", SpecError, SpecWarning)


def _place(file: Path | None, line: int | None, column: int | None, ptr: str, root: Path | None) -> str:
    where = ""
    if file is not None:
        shown = file
        if root is not None:
            try:
                shown = file.resolve().relative_to(root.resolve())
            except ValueError:
                shown = file
        where = str(shown)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
    return f"{where} #{ptr}" if where else f"#{ptr}"


@dataclass
class SpecErrors(Exception):
    """Several problems found at once; the CLI prints them all and exits 2."""

    errors: list[SpecError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__("; ".join(e.message for e in self.errors))


class UsageError(Exception):
    """Bad command-line usage or configuration (exit 2)."""


class GeneratedCodeError(Exception):
    """The generator produced a file Python cannot compile (a bug of codegen, never written)."""
