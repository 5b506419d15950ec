"""Small, safe text helpers for code generation: literals, docstrings, identifiers."""

from __future__ import annotations

import json
from typing import Any


def py(value: Any) -> str:
    """A Python literal for a JSON-like value (escaped, never executable beyond the value)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
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


def docstring(text: str, indent: int = 0) -> str:
    """A triple-quoted docstring holding `text` verbatim, whatever quotes or backslashes it has."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    text = "".join(_escape_char(c) for c in text)
    backslashes = len(text[:-1]) - len(text[:-1].rstrip("\\"))
    if text.endswith('"') and backslashes % 2 == 0:
        # An unescaped final quote would run into the closing quotes.
        text = text[:-1] + '\\"'
    lines = [line.rstrip() for line in text.split("\n")]
    if not lines or lines == [""]:
        return '""""""'
    pad = " " * indent
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    body = "\n".join(pad + line if line else "" for line in lines[1:])
    return f'"""{lines[0]}\n{body}\n{pad}"""'


def comment(text: str) -> str:
    """Text safe for a single `#` comment line."""
    return "".join(_escape_char(c) for c in " ".join(text.split()))


def json_literal(value: Any) -> str:
    """A Python string literal holding compact JSON (for embedding documents)."""
    return repr(json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False))
