"""One formatting pass at the end: every generated Python file exactly as black lays it out.

Black is slow on megabytes of code, so it only runs on the statements whose layout it could
change: lines wider than the line length, docstrings that are not plainly stable and, in code
another formatter laid out (datamodel-code-generator's models), statements spread over several
lines. Every other line is already what black writes. Tests compare the result with black over
whole files (`format_source`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .parallel import Workers

LINE_LENGTH = 100
PARALLEL_THRESHOLD = 150_000  # characters given to black; below this a process pool costs more than it saves
_MARK = "# codegen-piece\n"
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
# `name = Callee(` exploded one argument a line with trailing commas: black keeps it as it is.
_EXPLODED_HEAD = re.compile(r"( *)[A-Za-z_]\w* = [A-Za-z_][\w.]*\(\n")
_BLOCKS = ("body", "orelse", "finalbody")
_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
)


def _mode() -> object:
    import black

    return black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH)


def format_source(source: str) -> str:
    """`source` formatted by black (Python 3.11 target, 100 columns)."""
    import black

    return black.format_str(source, mode=_mode())  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Piece:
    """Lines [start, end) of a statement, and the block headers that put it at its depth."""

    start: int
    end: int
    wrappers: tuple[str, ...]

    def source(self, lines: list[str]) -> str:
        heads = "".join("    " * depth + head + "\n" for depth, head in enumerate(self.wrappers))
        return heads + "".join(lines[self.start : self.end])


def _fits(line: str) -> bool:
    text = line.rstrip("\n")
    # Black counts East Asian wide characters twice; counting every non-ASCII one twice only
    # sends a few more lines to black.
    return (len(text) if text.isascii() else 2 * len(text)) <= LINE_LENGTH


def _header_end(node: ast.AST) -> int:
    """The last line of the expressions in a compound statement's header."""
    end = getattr(node, "lineno", 0)
    for name, value in ast.iter_fields(node):
        if name in (*_BLOCKS, "handlers", "cases", "decorator_list"):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                for sub in ast.walk(child):
                    end = max(end, getattr(sub, "end_lineno", None) or 0)
    return end


def _balanced(text: str) -> bool:
    text = _STRING.sub('""', text)
    if "#" in text or "'" in text or '"""' in text:
        return False
    depth = 0
    for char in text:
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            return False
    return depth == 0


class _Selector:
    """Finds the statements of a module black has to see."""

    def __init__(self, lines: list[str], relayout: bool) -> None:
        self.lines = lines
        self.relayout = relayout
        self.pieces: list[_Piece] = []

    def select(self, tree: ast.Module) -> list[_Piece]:
        self.block(tree.body, (), "module")
        return self.pieces

    def add(self, first: int, last: int, wrappers: tuple[str, ...]) -> None:
        self.pieces.append(_Piece(first - 1, last, wrappers))

    def block(self, body: list[ast.stmt], wrappers: tuple[str, ...], owner: str) -> None:
        for index, node in enumerate(body):
            if isinstance(node, _COMPOUND):
                self.compound(node, wrappers)
            elif self.needs_black(node, len(wrappers), docstring=index == 0 and owner in ("module", "class", "def")):
                self.add(node.lineno, node.end_lineno or node.lineno, wrappers)

    def compound(self, node: ast.stmt, wrappers: tuple[str, ...]) -> None:
        decorators = getattr(node, "decorator_list", [])
        first = min([node.lineno, *(d.lineno for d in decorators)])
        if not self.simple_headers(node):
            self.add(first, node.end_lineno or node.lineno, wrappers)
            return
        if isinstance(node, ast.ClassDef):
            self.block(node.body, (*wrappers, "class _:"), "class")
        elif isinstance(node, ast.FunctionDef):
            self.block(node.body, (*wrappers, "def _():"), "def")
        elif isinstance(node, ast.AsyncFunctionDef):
            self.block(node.body, (*wrappers, "async def _():"), "def")
        else:
            for body in self.blocks(node):
                self.block(body, (*wrappers, "if _:"), "block")

    @staticmethod
    def blocks(node: ast.AST) -> Iterator[list[ast.stmt]]:
        for name in _BLOCKS:
            body = getattr(node, name, None)
            if body:
                if name == "orelse" and isinstance(node, ast.If) and _Selector.is_elif(node):
                    yield from _Selector.blocks(body[0])
                else:
                    yield body
        for handler in getattr(node, "handlers", []):
            yield handler.body

    @staticmethod
    def is_elif(node: ast.If) -> bool:
        return len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) and node.orelse[0].col_offset == node.col_offset

    def simple_header(self, node: ast.AST, body: list[ast.stmt]) -> bool:
        line = self.lines[node.lineno - 1]  # type: ignore[attr-defined]
        return (
            _header_end(node) == node.lineno  # type: ignore[attr-defined]
            and line.rstrip().endswith(":")
            and _fits(line)
            and bool(body)
            and body[0].lineno > node.lineno  # type: ignore[attr-defined]
        )

    def simple_headers(self, node: ast.stmt) -> bool:
        """Every header line of `node` (decorators, `elif`s, `except`s) is one short line."""
        if isinstance(node, ast.Match):
            return False
        for decorator in getattr(node, "decorator_list", []):
            if decorator.end_lineno != decorator.lineno or not _fits(self.lines[decorator.lineno - 1]):
                return False
        if not self.simple_header(node, node.body):  # type: ignore[attr-defined]
            return False
        if isinstance(node, ast.If) and self.is_elif(node):
            return self.simple_headers(node.orelse[0])
        return all(self.simple_header(h, h.body) for h in getattr(node, "handlers", []))

    def needs_black(self, node: ast.stmt, depth: int, *, docstring: bool) -> bool:
        last = node.end_lineno or node.lineno
        span = self.lines[node.lineno - 1 : last]
        is_string = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        if is_string and docstring:
            return not self.stable_docstring(span, depth)
        if not all(_fits(line) for line in span):
            return True
        if len(span) == 1 or is_string or not self.relayout:
            return False
        return not self.exploded(span)

    @staticmethod
    def stable_docstring(span: list[str], depth: int) -> bool:
        """A docstring black leaves as it is: no escapes or tabs, no padding to strip, every
        line at the statement's indent, closing quotes on the first line or a line of their own."""
        indent = "    " * depth
        text = "".join(span).rstrip("\n")
        if "\\" in text or "\t" in text or not all(_fits(line) for line in span):
            return False
        if not text.startswith(indent + '"""') or not text.endswith('"""') or len(text) < len(indent) + 7:
            return False
        inner = text[len(indent) + 3 : -3]
        if '"""' in inner:
            return False
        lines = inner.split("\n")
        first, rest = lines[0], lines[1:]
        if first != first.strip() or first.startswith('"') or (not rest and (not first or first.endswith('"'))):
            return False
        if not rest:
            return True
        if rest[-1] != indent:
            return False
        body = [line for line in rest[:-1] if line]
        return (
            bool(body)
            and all(line.startswith(indent) and line == line.rstrip() for line in body)
            and min(len(line) - len(line.lstrip(" ")) for line in body) == len(indent)
        )

    @staticmethod
    def exploded(span: list[str]) -> bool:
        head = _EXPLODED_HEAD.fullmatch(span[0])
        if head is None or len(span) < 3 or span[-1] != head.group(1) + ")\n":
            return False
        inner = head.group(1) + "    "
        for line in span[1:-1]:
            element = line[len(inner) :].rstrip("\n")
            if not line.startswith(inner) or not element.endswith(",") or element[0] == " ":
                return False
            if not _balanced(element):
                return False
        return True


def _format_batch(sources: list[str]) -> list[str]:
    """Black over pieces joined into one module, split back apart."""
    text = format_source(_MARK.join(sources))
    parts = text.split(_MARK)
    if len(parts) != len(sources):
        raise ValueError("black moved a piece boundary")
    return parts


def _batches(sources: list[str], count: int) -> list[list[str]]:
    """`sources` in `count` runs of about the same size, in order."""
    size = -(-sum(map(len, sources)) // count)
    batches: list[list[str]] = [[]]
    filled = 0
    for source in sources:
        if filled >= size * len(batches):
            batches.append([])
        batches[-1].append(source)
        filled += len(source)
    return batches


def _format_pieces(sources: list[str], workers: Workers | None) -> list[str]:
    if workers is None or workers.jobs == 1 or sum(map(len, sources)) < PARALLEL_THRESHOLD:
        return _format_batch(sources)
    return [part for parts in workers.map(_format_batch, _batches(sources, workers.jobs)) for part in parts]


def _strip_piece(text: str, wrappers: tuple[str, ...]) -> str:
    lines = text.strip("\n").split("\n")
    expected = ["    " * depth + head for depth, head in enumerate(wrappers)]
    if lines[: len(wrappers)] != expected:
        raise ValueError("black changed a piece's wrapper")
    return "\n".join(lines[len(wrappers) :]) + "\n"


def format_layout(source: str, *, relayout: bool = False, workers: Workers | None = None) -> str:
    """`source` as black formats it, running black only on the statements that can change.

    `relayout=True` for code another formatter spread over lines: black sees every statement
    that is not on one line. Falls back to black over the whole module when pieces do not
    come back whole.
    """
    source = source.rstrip() + "\n"  # black ends a module with exactly one newline
    lines = source.splitlines(keepends=True)
    pieces = _Selector(lines, relayout).select(ast.parse(source))
    if not pieces:
        return source
    try:
        texts = _format_pieces([p.source(lines) for p in pieces], workers)
        formatted = [_strip_piece(text, p.wrappers) for p, text in zip(pieces, texts, strict=True)]
    except ValueError:
        return format_source(source)
    out: list[str] = []
    position = 0
    for piece, text in zip(pieces, formatted, strict=True):
        out.extend(lines[position : piece.start])
        out.append(text)
        position = piece.end
    out.extend(lines[position:])
    return "".join(out)


def format_files(files: dict[str, str], workers: Workers | None = None) -> dict[str, str]:
    """Black over the `.py` files of `files` (other files pass through unchanged)."""
    names = sorted((n for n in files if n.endswith(".py")), key=lambda n: -len(files[n]))  # largest first
    texts = [files[n] for n in names]
    formatted = workers.map(format_source, texts) if workers is not None else [format_source(t) for t in texts]
    return {**files, **dict(zip(names, formatted, strict=True))}
