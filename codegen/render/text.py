"""Small, safe text helpers for code generation: literals, docstrings, identifiers."""

from __future__ import annotations

import json
import re
from typing import Any

from ..runtime.pointers import escape_token
from .layout import string


def py(value: Any) -> str:
    """A Python literal for a JSON-like value (escaped, never executable beyond the value), in
    black's quotes."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(py(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as a literal")


def _escape_char(c: str) -> str:
    if c in "\n\t" or c.isprintable():
        return c
    code = ord(c)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _expand_leading_tabs(line: str) -> str:
    stripped = line.lstrip()
    if not stripped or stripped == line:
        return line
    return line[: len(line) - len(stripped)].expandtabs(4) + stripped


def docstring(text: str, indent: int = 0) -> str:
    """A triple-quoted docstring holding `text`, whatever quotes or backslashes it has, as black
    writes it at `indent`: stripped, lines dedented together, padded off a quote at either end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if not text.replace("\n", "").replace("\t", "").isprintable():
        text = "".join(_escape_char(c) for c in text)
    lines = [_expand_leading_tabs(line).rstrip() for line in text.split("\n")]
    if lines == [""]:
        return '""""""'
    first, rest = lines[0], lines[1:]
    if first.startswith('"'):
        first = " " + first
    if not rest:
        return f'"""{first} """' if first.endswith('"') else f'"""{first}"""'
    common = min(len(line) - len(line.lstrip()) for line in rest if line)
    pad = " " * indent
    body = "\n".join(pad + line[common:] if line else "" for line in rest)
    return f'"""{first}\n{body}\n{pad}"""'


def comment(text: str) -> str:
    """Text safe for a single `#` comment line."""
    return "".join(_escape_char(c) for c in " ".join(text.split()))


def document_literal(document: dict[str, Any], texts: dict[str, str] | None = None) -> str:
    """An OpenAPI document as compact JSON in adjacent string literals, one line each: each
    path item, webhook and component on a line of its own (an edit of the spec changes the
    lines of what it edits, not one line holding the whole document), the rest between.
    `texts` may hold members as compact JSON already, by JSON pointer."""
    texts = texts or {}
    pieces: list[str] = []
    text = "{"
    for index, (key, value) in enumerate(document.items()):
        text += ("," if index else "") + _compact(key) + ":"
        if key == "components" and isinstance(value, dict):
            text += "{"
            for kind_index, (kind, members) in enumerate(value.items()):
                text += ("," if kind_index else "") + _compact(kind) + ":"
                text = _split_members(members, text, pieces, texts, f"/components/{escape_token(kind)}/")
            text += "}"
        elif key in ("paths", "webhooks"):
            text = _split_members(value, text, pieces, texts, f"/{key}/")
        else:
            text += _compact(value)
    pieces.append(text + "}")
    return "\n".join(string(piece) for piece in pieces if piece)


def _split_members(members: Any, text: str, pieces: list[str], texts: dict[str, str], at: str) -> str:
    """Append `members` (an object at pointer `at`) to `text`, each member closing the piece
    before it."""
    if not isinstance(members, dict) or not members:
        return text + _compact(members)
    text += "{"
    for index, (name, member) in enumerate(members.items()):
        pieces.append(text)
        known = texts.get(at + escape_token(name)) if texts else None
        text = ("," if index else "") + _compact(name) + ":" + (known if known is not None else _compact(member))
    return text + "}"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def drop_import(source: str, module: str, name: str) -> str:
    """`source` without `name` in its `from module import ...` (one line, or one name a line)."""

    source = re.sub(rf"^(from {re.escape(module)} import .*?)\b{name}, ", r"\1", source, count=1, flags=re.MULTILINE)
    source = re.sub(rf"^(from {re.escape(module)} import .*?), {name}\b", r"\1", source, count=1, flags=re.MULTILINE)
    return re.sub(rf"^    {name},\n", "", source, count=1, flags=re.MULTILINE)


def ruf022_sorted(names: list[str]) -> list[str]:
    """`__all__` in the order linters expect: SCREAMING_CASE, CamelCase, then the rest (natural)."""

    def key(name: str) -> tuple[int, list[Any]]:
        kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
        return kind, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]

    return sorted(names, key=key)


def isort_names(names: Any) -> list[str]:
    """Names in isort's order: CONSTANTS, then Classes, then the rest, case-insensitively."""

    def key(name: str) -> tuple[int, str, str]:
        kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
        return kind, name.lower(), name

    return sorted(names, key=key)
