"""How deeply a request value may nest, wherever it comes from (JSON bodies and parts, JSON
parameters, XML, deepObject keys).

An explicit limit rather than Python's recursion limit: what parses then stays far from that
limit in every check and model that recurses over the value, in any thread, whatever the
recursion limit is set to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_NESTING = 128  # levels of arrays and objects (serde_json's default)


class TooDeep(ValueError):
    """A value nested more than MAX_NESTING levels."""

    def __init__(self) -> None:
        super().__init__(f"nested more than {MAX_NESTING} levels")


def nests_deeper(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether arrays and objects in `value` nest more than `limit` levels (no recursion)."""
    level = [value]
    depth = 0
    while level:
        containers = [v for v in level if isinstance(v, (dict, list))]
        if not containers:
            return False
        depth += 1
        if depth > limit:
            return True
        level = [item for v in containers for item in (v.values() if isinstance(v, dict) else v)]
    return False


def loads(text: str | bytes, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """`json.loads`, raising TooDeep for a value nested more than MAX_NESTING levels."""
    try:
        value = json.loads(text, parse_constant=parse_constant)
    except RecursionError:
        raise TooDeep from None
    if (text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")) > MAX_NESTING and nests_deeper(value):
        raise TooDeep
    return value
