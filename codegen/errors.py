"""Problems found in a spec: values with a place (file, JSON pointer, line and column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
        where = ""
        if self.file is not None:
            shown = self.file
            if root is not None:
                try:
                    shown = self.file.resolve().relative_to(root.resolve())
                except ValueError:
                    shown = self.file
            where = str(shown)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
        return f"{where} #{self.pointer}" if where else f"#{self.pointer}"

    def render(self, root: Path | None = None) -> str:
        """A short paragraph for the terminal: place, problem, what to do."""
        text = f"{self.located(root)}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


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
