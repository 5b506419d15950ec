"""Problems found in a spec: values with a place (file, JSON pointer, line and column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote


def escape_token(token: str | int) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """Undo `escape_token`."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: str | int) -> str:
    """Build a JSON pointer from reference tokens: pointer("paths", "/a") == "/paths/~1a"."""
    return "".join("/" + escape_token(t) for t in tokens)


def split_pointer(ptr: str) -> list[str]:
    """Split a JSON pointer ("" or "/a/b") into unescaped tokens."""
    if ptr in ("", "#"):
        return []
    ptr = ptr.removeprefix("#")
    if not ptr.startswith("/"):
        raise ValueError(f"not a JSON pointer: {ptr!r}")
    return [unescape_token(t) for t in ptr[1:].split("/")]


def ref_pointer(ref: str) -> str:
    """The JSON pointer a local `$ref` names: its fragment, percent-decoded, since a `$ref` is a
    URI reference (RFC 3986; RFC 6901 section 6): "#/paths/~1a~1%7Bid%7D" -> "/paths/~1a~1{id}"."""
    return unquote(ref.partition("#")[2])


def schema_name(ref: Any) -> str | None:
    """The name of the component schema a `$ref` names ("#/components/schemas/Pet" -> "Pet"),
    or None when it names something else."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    try:
        tokens = split_pointer(ref_pointer(ref))
    except ValueError:
        return None
    return tokens[2] if len(tokens) == 3 and tokens[:2] == ["components", "schemas"] else None


def ref_to(ptr: str) -> str:
    """The local `$ref` naming the JSON pointer `ptr`; the inverse of `ref_pointer` (only `%`
    needs escaping for that)."""
    return "#" + ptr.replace("%", "%25")


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
