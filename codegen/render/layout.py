"""Code laid out as black lays it out, for the shapes of code the generator writes.

Generated files are written already formatted, so black only has to see the few statements
these helpers do not cover (`format.format_layout` finds them). The rules are black's own:
a statement that fits stays on one line; otherwise it splits at its last bracket, the
bracket's contents going on one indented line when they fit (literals with several items
always explode), else one item a line with a trailing comma, each item split the same way.
Tests check the output with black.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

LINE_LENGTH = 100
_ATOM = r"(?:\"(?:[^\"\\\n]++|\\.)*+\"|'(?:[^'\\\n]++|\\.)*+'|[A-Za-z_][\w.]*)"
# An item alone on its line that black cannot split however long: a string or (dotted) name,
# as an argument, a keyword argument, a dict entry or a parameter `name: type = default`.
_BARE_ITEM = re.compile(
    rf" +(?:[A-Za-z_]\w*=|{_ATOM}: )?{_ATOM},?\n|"
    rf" +[A-Za-z_]\w*: [A-Za-z_][\w.]*(?: = {_ATOM})?,?\n"
)


def bare_item(line: str) -> bool:
    """`line` is an item alone on its line that black cannot split however long."""
    return _BARE_ITEM.fullmatch(line) is not None




INDENT = "    "
_CLOSING = {"(": ")", "[": "]", "{": "}"}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A string literal, a (dotted) name or a number: an item black leaves as it is however long.
_UNSPLITTABLE = re.compile(r"\"(?:[^\"\\\n]++|\\.)*+\"|'(?:[^'\\\n]++|\\.)*+'|[\w.]+")


class Unlaid(Exception):
    """The layout is outside what these helpers reproduce; write one line and let black split it."""


@dataclass(frozen=True)
class Bracket:
    """`head` followed by a bracketed, comma-separated list of items.

    A call (`head` is the callee) or, with `literal`, a tuple, list, set or dict display
    (`head` is empty). Items are `(prefix, value)`: `("name=", ...)` for keyword arguments,
    `('"key": ', ...)` for dict entries, `("", ...)` otherwise.
    """

    head: str
    items: tuple[tuple[str, Expr], ...]
    opening: str = "("
    literal: bool = False
    magic: bool = False  # written with a trailing comma: black keeps it one item a line
    flat: str = field(init=False, repr=False, compare=False)  # on one line
    holds_exploded: bool = field(init=False, repr=False, compare=False)  # this or a bracket inside is

    def __post_init__(self) -> None:
        inner = ", ".join(prefix + flat(value) for prefix, value in self.items)
        comma = "," if self.one_tuple or self.exploded else ""
        object.__setattr__(self, "flat", f"{self.head}{self.opening}{inner}{comma}{self.closing}")
        nested = any(isinstance(v, Bracket) and v.holds_exploded for _, v in self.items)
        object.__setattr__(self, "holds_exploded", self.exploded or nested)

    @property
    def exploded(self) -> bool:
        """Always one item a line: a magic trailing comma (a one-tuple's comma is not magic)."""
        return self.magic and len(self.items) > (1 if self.literal and self.opening == "(" else 0)

    @property
    def closing(self) -> str:
        return _CLOSING[self.opening]

    @property
    def one_tuple(self) -> bool:
        return self.literal and self.opening == "(" and len(self.items) == 1


Expr = str | Bracket


def call(head: str, *args: Expr, **kwargs: Expr) -> Bracket:
    """`head(args..., name=value...)`."""
    return Bracket(head, (*(("", a) for a in args), *((f"{k}=", v) for k, v in kwargs.items())))


def keywords(head: str, pairs: Sequence[tuple[str, Expr]]) -> Bracket:
    """`head(name=value, ...)` in the given order."""
    return Bracket(head, tuple((f"{name}=", value) for name, value in pairs))


def literal(opening: str, items: Sequence[Expr], *, magic: bool = False) -> Bracket:
    """A tuple (`"("`), list (`"["`) or set (`"{"`) display; `magic` writes a trailing comma."""
    return Bracket("", tuple(("", item) for item in items), opening, literal=True, magic=magic)


def width(text: str) -> int:
    """Columns black counts for `text` (East Asian wide characters twice, combining ones not)."""
    if text.isascii():
        return len(text)
    from black.strings import char_width

    others = _NON_ASCII.findall(text)
    return len(text) - len(others) + sum(map(char_width, others))


def fits(line: str) -> bool:
    if len(line) > LINE_LENGTH and (line.isascii() or len(line.encode("ascii", "ignore")) > LINE_LENGTH):
        return False  # its ASCII characters alone take more columns (a long line is not measured)
    return width(line) <= LINE_LENGTH


def string(value: str) -> str:
    """A string literal in black's quotes (double, unless that needs more escapes)."""
    text = repr(value)
    if '"' not in value:  # repr escaped no quote: only the outer ones can change
        return text if text.startswith('"') else f'"{text[1:-1]}"'
    if value.count('"') > value.count("'"):
        return text  # single quotes (repr's choice here): double ones would need more escapes
    from black.strings import normalize_string_quotes

    return str(normalize_string_quotes(text))


def flat(expr: Expr) -> str:
    """`expr` on one line."""
    return expr if isinstance(expr, str) else expr.flat


def _exploded(expr: Expr) -> bool:
    return isinstance(expr, Bracket) and expr.holds_exploded


def lines(expr: Expr, depth: int = 0, prefix: str = "", suffix: str = "", *, item: bool = False) -> list[str]:
    """`prefix + expr + suffix` as a statement (or, with `item`, a bracket's item) at `depth`,
    as black lays it out.

    Raises Unlaid where black would do more: wrap a statement's atom that does not fit in
    parentheses (`x = "long string"`), or look for another split when a head does not fit.
    An item that does not fit and has no bracket stays as it is, as with black.
    """
    pad = INDENT * depth
    text = pad + prefix + flat(expr) + suffix
    if fits(text) and not _exploded(expr):
        return [text]
    if isinstance(expr, str):
        if item and _UNSPLITTABLE.fullmatch(expr):
            return [text]
        raise Unlaid(text)
    head = pad + prefix + expr.head + expr.opening
    if not fits(head) or not expr.items:
        raise Unlaid(text)
    tail = pad + expr.closing + suffix
    items = expr.items
    if len(items) == 1:
        item_prefix, value = items[0]
        body = lines(value, depth + 1, item_prefix, "," if expr.one_tuple or expr.exploded else "", item=True)
    else:
        one_line = INDENT * (depth + 1) + ", ".join(p + flat(v) for p, v in items)
        if not expr.literal and not _exploded(expr) and fits(one_line):
            body = [one_line]
        else:
            body = [line for p, v in items for line in lines(v, depth + 1, p, ",", item=True)]
    return [head, *body, tail]


def statement(expr: Expr, depth: int = 0, prefix: str = "", suffix: str = "") -> str:
    """`lines` joined; a statement outside what they reproduce stays on one line for black."""
    try:
        return "\n".join(lines(expr, depth, prefix, suffix))
    except Unlaid:
        return INDENT * depth + prefix + flat(expr) + suffix


def signature(head: str, parameters: Sequence[str], returns: str, depth: int = 0, *, magic: bool = False) -> str:
    """`def` (or `async def`) header `head(parameters) -> returns:` as black lays it out;
    `magic` writes it one parameter a line with a trailing comma (black keeps that)."""
    pad = INDENT * depth
    joined = ", ".join(parameters)
    text = f"{pad}{head}({joined}) -> {returns}:"
    if fits(text) and not (magic and parameters) or not parameters:
        return text  # (black splits the return annotation of a long header without parameters)
    inner = INDENT * (depth + 1)
    first, last = f"{pad}{head}(", f"{pad}) -> {returns}:"
    if magic:
        body = [inner + p + "," for p in parameters]
    elif len(parameters) == 1:
        body = [inner + parameters[0] + ","]  # black adds the comma to a lone parameter
    elif fits(inner + joined):
        body = [inner + joined]
    else:
        body = [inner + p + "," for p in parameters]
    if not all(fits(line) for line in (first, last)) or not all(fits(p) or _plain_parameter(p) for p in body):
        return text  # black parenthesizes long annotations; leave it to black
    return "\n".join([first, *body, last])


def _plain_parameter(line: str) -> bool:
    """`name: type = default,` of (dotted) names or strings: black leaves it however long."""
    return bare_item(line + "\n")


def import_from(module: str, names: Sequence[str]) -> str:
    """`from module import names` (one name a line when it does not fit)."""
    text = f"from {module} import {', '.join(names)}"
    if fits(text):
        return text
    return "\n".join([f"from {module} import (", *(f"{INDENT}{name}," for name in names), ")"])
