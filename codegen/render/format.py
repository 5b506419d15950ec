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

from ..cache import text_digest
from .layout import _ATOM, _BARE_ITEM, LINE_LENGTH, width

if TYPE_CHECKING:
    from ..cache import Memo, Store
    from .parallel import Workers

PARALLEL_THRESHOLD = 150_000  # characters given to black; below this a process pool costs more than it saves
_MARK = "# codegen-piece\n"
_STRING = re.compile(r"\"(?:[^\"\\\n]++|\\.)*+\"|'(?:[^'\\\n]++|\\.)*+'")
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
    """Lines [start, end) of a statement, the block headers that put it at its depth, and the
    lines black needs around a lone block header (`lead` before an `elif`, `trail` a body)."""

    start: int
    end: int
    wrappers: tuple[str, ...]
    lead: tuple[str, ...] = ()
    trail: tuple[str, ...] = ()
    text: str | None = None  # black's layout, when known without black

    def around(self) -> tuple[list[str], list[str]]:
        """The lines black gets before and after the statement."""
        pad = "    " * len(self.wrappers)
        before = ["    " * depth + head for depth, head in enumerate(self.wrappers)] + [pad + line for line in self.lead]
        return before, [pad + line for line in self.trail]

    def source(self, lines: list[str]) -> str:
        before, after = self.around()
        return "".join(line + "\n" for line in before) + "".join(lines[self.start : self.end]) + "".join(
            line + "\n" for line in after
        )


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

    def laid_out(self, first: int, last: int) -> bool:
        """Lines `first`..`last` (1-based) are one line that fits or, in code we laid out
        ourselves, lines that each fit (or hold an item black cannot split)."""
        span = self.lines[first - 1 : last]
        if len(span) == 1:
            return _fits(span[0])
        return not self.relayout and all(_fits(line) or _BARE_ITEM.fullmatch(line) for line in span)

    def simple_header(self, node: ast.AST, body: list[ast.stmt]) -> bool:
        first: int = node.lineno  # type: ignore[attr-defined]
        last = body[0].lineno - 1 if body else 0
        return (
            first <= last
            and _header_end(node) <= last
            and self.lines[last - 1].rstrip().endswith(":")
            and self.laid_out(first, last)
        )

    def simple_headers(self, node: ast.stmt) -> bool:
        """Every header of `node` (decorators, `elif`s, `except`s) is laid out as black would."""
        if isinstance(node, ast.Match):
            return False
        for decorator in getattr(node, "decorator_list", []):
            if not self.laid_out(decorator.lineno, decorator.end_lineno or decorator.lineno):
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
        if is_string and "\\" not in "".join(span) and span[0].lstrip().startswith('"'):
            return False  # black never splits a string, nor touches one but a docstring
        if self.relayout and any("'" in line or "\\" in line for line in span):
            return True  # black may requote or unescape another formatter's strings
        long = [line for line in span if not _fits(line)]
        if long and (len(span) == 1 or self.relayout or not all(_BARE_ITEM.fullmatch(line) for line in long)):
            return not (self.relayout and self.relaid(node, span))
        if len(span) == 1 or not self.relayout:
            return False
        return not (self.exploded(span) or self.relaid(node, span))

    def relaid(self, node: ast.stmt, span: list[str]) -> bool:
        """Whether black's layout of `node` is known without black (a piece says so if it differs)."""
        layout = annotated_layout(span) if isinstance(node, ast.AnnAssign) else None
        if layout is not None and layout != span:
            self.pieces.append(_Piece(node.lineno - 1, node.lineno - 1 + len(span), (), text="".join(layout)))
        return layout is not None

    @staticmethod
    def stable_docstring(span: list[str], depth: int) -> bool:
        """A docstring black leaves as it is: no escapes or tabs, no padding to strip, every
        line at the statement's indent, closing quotes on the first line or a line of their own
        (black moves them only off a long last line of several)."""
        indent = "    " * depth
        text = "".join(span).rstrip("\n")
        if "\\" in text or "\t" in text:
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


_LEADS = {"elif": ("if _:", "    pass"), "except": ("try:", "    pass"), "except*": ("try:", "    pass")}


def _line_pieces(lines: list[str]) -> list[_Piece] | None:
    """The statements black has to see in code the generator laid out itself, found line by line.

    There, a line that does not fit (and is no item black cannot split, no comment, no
    docstring line: `text.docstring` writes those as black does) is a whole statement or a
    block's one-line header. None when a line breaks that rule: the syntax tree decides then.
    """
    pieces: list[_Piece] = []
    in_docstring = False
    # Only lines that may not fit and lines opening or closing docstrings matter.
    notable = [
        i
        for i, line in enumerate(lines)
        if len(line) > LINE_LENGTH // 2 and (len(line) > LINE_LENGTH or not line.isascii()) or '"""' in line
    ]
    for index in notable:
        line = lines[index]
        stripped = line.strip()
        if in_docstring:
            in_docstring = '"""' not in line
            continue
        if stripped.startswith('"""'):
            quotes = stripped.count('"""')
            in_docstring = quotes == 1
            if quotes > 2 or quotes == 2 and not stripped.endswith('"""'):
                return None
            continue
        if _fits(line) or stripped.startswith("#") or _BARE_ITEM.fullmatch(line):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent % 4 or stripped[0] in ")]}@" or stripped.endswith(("(", "[", "{", ",")):
            return None
        wrappers = ("if _:",) * (indent // 4)
        if not stripped.endswith(":"):
            if not _is_statement(stripped):
                return None  # a line inside brackets (wide characters count twice): ask the tree
            pieces.append(_Piece(index, index + 1, wrappers))
            continue
        following = next((ln for ln in lines[index + 1 :] if ln.strip()), "")
        if len(following) - len(following.lstrip(" ")) <= indent:
            return None
        lead = _LEADS.get(stripped.split(None, 1)[0], ())
        pieces.append(_Piece(index, index + 1, wrappers, lead, ("    pass",)))
    return pieces


def _is_statement(text: str) -> bool:
    """`text` is one whole simple statement."""
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


# `name: Annotated[...] = default` split by another formatter, in the three layouts black may
# give it; the default is an atom (a name, number or string).
_DEFAULT = rf"(?:{_ATOM}|-?[0-9][\w.]*)"
_SUBSCRIPT_HEAD = re.compile(r"( *)([A-Za-z_]\w*: [A-Za-z_][\w.]*\[)\n")
_SUBSCRIPT_TAIL = re.compile(rf"( *)(\] = {_DEFAULT})\n")
_PARENS_HEAD = re.compile(r"( *)([A-Za-z_]\w*: [A-Za-z_][\w.]*\[.*\] = )\(\n")


def annotated_layout(span: list[str]) -> list[str] | None:
    """Black's layout of `span`, an annotated assignment another formatter split, or None
    when it is not one of these: black splits `name: Sub[...] = default` (a default without
    brackets) after `= (`, the default alone between parentheses, when that first line fits;
    else inside `Sub[...]`, its items on one line, or one a line when written so with a
    trailing comma. Nothing that fits is split."""
    def short(line: str) -> bool:
        return width(line.rstrip("\n")) <= LINE_LENGTH

    if len(span) == 3 and (parens := _PARENS_HEAD.fullmatch(span[0])):
        indent, start = parens.groups()
        default = span[1].strip()
        annotation = start[start.index(": ") + 2 : -3]
        if (
            span[1] != indent + "    " + default + "\n"
            or re.fullmatch(_DEFAULT, default) is None
            or span[2] != indent + ")\n"
            or not _balanced(annotation)
            or ",]" in annotation
            or short(indent + start + default)
        ):
            return None
        return span if short(span[0]) else None
    head, tail = _SUBSCRIPT_HEAD.fullmatch(span[0]), _SUBSCRIPT_TAIL.fullmatch(span[-1])
    if head is None or tail is None or head.group(1) != tail.group(1) or len(span) < 3 or not short(span[-1]):
        return None
    indent, inner = head.group(1), head.group(1) + "    "
    items = [line[len(inner) :].rstrip("\n") for line in span[1:-1]]
    if not all(line.startswith(inner) and short(line) and _balanced(item) for line, item in zip(span[1:-1], items)):
        return None
    if len(items) > 1:
        return span if all(item.endswith(",") for item in items) else None  # the trailing comma keeps them apart
    body, default = items[0], tail.group(2)[len("] = ") :]
    if body.endswith(",") or short(indent + head.group(2) + body + tail.group(2)):
        return None
    first = indent + head.group(2) + body + "] = (\n"
    if not short(first):
        return span
    return [first, inner + default + "\n", indent + ")\n"]


def format_batch(sources: list[str]) -> list[str]:
    """Black over pieces joined into one module, split back apart (each piece alone if the
    boundaries moved)."""
    parts = format_source(_MARK.join(sources)).split(_MARK)
    return parts if len(parts) == len(sources) else [format_source(s) for s in sources]


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


def _formatted_pieces(sources: list[str], workers: Workers | None, memo: Memo | None) -> list[str]:
    """Black's output for each of `sources`: from `memo` (what black made of the same piece in an
    earlier run: an edit changes a module, seldom its pieces), else from black."""
    if memo is None:
        return _format_pieces(sources, workers)
    keys = [text_digest(source) for source in sources]
    known = {key: memo.get(key) for key in dict.fromkeys(keys)}
    missing = [source for source, key in zip(sources, keys, strict=True) if not isinstance(known[key], str)]
    missing = list(dict.fromkeys(missing))
    for source, text in zip(missing, _format_pieces(missing, workers) if missing else [], strict=True):
        key = text_digest(source)
        known[key] = text
        memo.put(key, text)
    return [known[key] for key in keys]


def _format_pieces(sources: list[str], workers: Workers | None) -> list[str]:
    if workers is None or workers.jobs == 1:
        return format_batch(sources)
    if sum(map(len, sources)) < PARALLEL_THRESHOLD:
        # One batch, in lane 0's worker: it imported black while the spec was read (a run
        # that finds most pieces in the memo would otherwise import black here for a few).
        return workers.submit(format_batch, sources, lane=0).result()
    return [part for parts in workers.map(format_batch, _batches(sources, workers.jobs)) for part in parts]


def _strip_piece(text: str, piece: _Piece) -> str:
    lines = text.strip("\n").split("\n")
    before, after = piece.around()
    middle = "\n".join(lines[len(before) : len(lines) - len(after)]).strip("\n")
    if lines[: len(before)] != before or lines[len(lines) - len(after) :] != after or not middle:
        raise ValueError("black changed the lines around a piece")
    return middle + "\n"  # without the blank lines black puts between a header and a def


@dataclass
class _Plan:
    """A module's lines and the pieces of it black has to see."""

    lines: list[str]
    pieces: list[_Piece]

    @classmethod
    def of(cls, source: str, relayout: bool) -> _Plan:
        source = source.rstrip() + "\n"  # black ends a module with exactly one newline
        lines = source.splitlines(keepends=True)
        pieces = None if relayout else _line_pieces(lines)
        if pieces is None:
            pieces = _Selector(lines, relayout).select(ast.parse(source))
        return cls(lines, pieces)

    def sources(self) -> list[str]:
        """What black has to format."""
        return [piece.source(self.lines) for piece in self.pieces if piece.text is None]

    def apply(self, texts: list[str]) -> str:
        """The module with black's output (`texts`, in the order of `sources`) in place."""
        out: list[str] = []
        position = 0
        formatted = iter(texts)
        for piece in self.pieces:
            out.extend(self.lines[position : piece.start])
            out.append(piece.text if piece.text is not None else _strip_piece(next(formatted), piece))
            position = piece.end
        out.extend(self.lines[position:])
        return "".join(out)


def format_layout(source: str, *, relayout: bool = False, workers: Workers | None = None) -> str:
    """`source` as black formats it, running black only on the statements that can change.

    `relayout=True` for code another formatter spread over lines: black sees every statement
    that is not on one line.
    """
    return format_files({"module.py": source}, workers, relayout=relayout)["module.py"]


def format_files(
    files: dict[str, str], workers: Workers | None = None, *, relayout: bool = False, store: Store | None = None
) -> dict[str, str]:
    """The `.py` files of `files` as black formats them (other files pass through unchanged),
    black running on the statements that can change only, in batches across `workers`. A
    module whose pieces do not come back whole goes through black entire. A module formatted
    before (per `store`) is not formatted again."""
    keys = {name: store.key("formatted", relayout, text) for name, text in files.items() if name.endswith(".py")} if store else {}
    known = {name: store.get(key, lambda v: isinstance(v, str) or v is True) for name, key in keys.items()} if store else {}
    # `True`: black leaves the module as it is (most are written laid out already).
    known = {name: files[name] if value is True else value for name, value in known.items()}
    if any(text is not None for text in known.values()):
        missing = {name: text for name, text in files.items() if known.get(name) is None}
        result = format_files(missing, workers, relayout=relayout, store=store)
        return {name: known.get(name) or result[name] for name in files}
    plans = {name: _Plan.of(text, relayout) for name, text in files.items() if name.endswith(".py")}
    sources = [source for plan in plans.values() for source in plan.sources()]
    texts = iter(_formatted_pieces(sources, workers, store.memo("black") if store is not None else None) if sources else [])
    result = dict(files)
    for name, plan in plans.items():
        mine = [next(texts) for piece in plan.pieces if piece.text is None]
        try:
            result[name] = plan.apply(mine)
        except ValueError:
            result[name] = format_source(files[name])
        if store is not None:
            store.put(keys[name], True if result[name] == files[name] else result[name])
    return result
